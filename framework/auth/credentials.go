package auth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Credential is a principal and its secret (password).
type Credential struct {
	Principal string `json:"principal"`
	Secret    string `json:"secret"`
}

// LoadCredentials reads a credentials file in either of the formats Mesos's
// --credentials takes: JSON, {"credentials": [{"principal": "..", "secret":
// ".."}]}, or text, one "principal secret" pair a line. Errors name the
// file and the entry, never a secret.
func LoadCredentials(path string) ([]Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	creds, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return creds, nil
}

// ParseCredentials parses the contents of a credentials file
// (LoadCredentials).
func ParseCredentials(data []byte) ([]Credential, error) {
	var creds []Credential
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		var file struct {
			Credentials []Credential `json:"credentials"`
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			// The decoder's text may quote the input: say where only.
			var syn *json.SyntaxError
			switch {
			case errors.As(err, &syn):
				return nil, fmt.Errorf("not valid JSON at byte %d", syn.Offset)
			case errors.Is(err, io.ErrUnexpectedEOF):
				return nil, errors.New("not valid JSON: cut short")
			}
			return nil, errors.New("not a Mesos credentials object {\"credentials\": [{\"principal\": ..., \"secret\": ...}]}")
		}
		creds = file.Credentials
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Fields(line)
			if len(f) != 2 {
				return nil, fmt.Errorf("line %d: want \"principal secret\"", n)
			}
			creds = append(creds, Credential{Principal: f[0], Secret: f[1]})
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for i, c := range creds {
		switch {
		case c.Principal == "" || c.Secret == "":
			return nil, fmt.Errorf("entry %d: principal and secret must not be empty", i+1)
		case strings.Contains(c.Principal, ":"):
			return nil, fmt.Errorf("entry %d (%s): a principal may not contain ':' (HTTP Basic)", i+1, c.Principal)
		case seen[c.Principal]:
			return nil, fmt.Errorf("entry %d: principal %s is listed twice", i+1, c.Principal)
		}
		seen[c.Principal] = true
	}
	if len(creds) == 0 {
		return nil, errors.New("no credentials")
	}
	return creds, nil
}
