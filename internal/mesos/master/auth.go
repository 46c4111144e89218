package master

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Realm is the HTTP authentication realm of the scheduler API, Mesos's
// DEFAULT_HTTP_FRAMEWORK_AUTHENTICATION_REALM.
const Realm = "mesos-master-scheduler"

// agentRealm is the realm of agent registration with AuthenticateAgents.
const agentRealm = "mesos-master-agent"

// Credential is one principal and its secret, an entry of Mesos's
// credentials file.
type Credential struct {
	Principal string `json:"principal"`
	Secret    string `json:"secret"`
}

// ReadCredentials reads Mesos's JSON credentials file,
// {"credentials": [{"principal": "..", "secret": ".."}]}. path may be
// written file:///path, as Mesos's --credentials takes it. warning is set
// when the file is readable by others (Mesos warns too); it names the file,
// never a secret.
func ReadCredentials(path string) (creds []Credential, warning string, err error) {
	path = strings.TrimPrefix(path, "file://")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read credentials file: %w", err)
	}
	var file struct {
		Credentials []Credential `json:"credentials"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		// The decoder's message may quote the file; keep only its kind.
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, "", fmt.Errorf("credentials file %s: invalid JSON at byte %d", path, syn.Offset)
		}
		return nil, "", fmt.Errorf("credentials file %s: want {\"credentials\": [{\"principal\": ..., \"secret\": ...}]}", path)
	}
	seen := map[string]bool{}
	for i, c := range file.Credentials {
		if c.Principal == "" {
			return nil, "", fmt.Errorf("credentials file %s: credential %d has no principal", path, i)
		}
		if c.Secret == "" {
			return nil, "", fmt.Errorf("credentials file %s: principal %q has an empty secret", path, c.Principal)
		}
		if seen[c.Principal] {
			return nil, "", fmt.Errorf("credentials file %s: principal %q appears twice", path, c.Principal)
		}
		seen[c.Principal] = true
	}
	return file.Credentials, permissionWarning(path), nil
}

// ReadCredential reads one credential, {"principal": "..", "secret": ".."},
// as Mesos's agent --credential takes it (path or file:///path). warning is
// as ReadCredentials'.
func ReadCredential(path string) (cred Credential, warning string, err error) {
	path = strings.TrimPrefix(path, "file://")
	data, err := os.ReadFile(path)
	if err != nil {
		return Credential{}, "", fmt.Errorf("read credential file: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cred); err != nil || cred.Principal == "" || cred.Secret == "" {
		return Credential{}, "", fmt.Errorf("credential file %s: want {\"principal\": ..., \"secret\": ...} with both set", path)
	}
	return cred, permissionWarning(path), nil
}

// permissionWarning says when the file at path is accessible by others.
func permissionWarning(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o007 != 0 {
		return "credentials file " + path + " is accessible by others; chmod o-rwx it"
	}
	return ""
}

// authenticator checks HTTP Basic credentials against a fixed set.
type authenticator struct {
	// secrets maps a principal to the SHA-256 of its secret: comparing
	// digests of equal length keeps the comparison constant-time whatever
	// the lengths of the secrets.
	secrets map[string][32]byte
}

func newAuthenticator(creds []Credential) *authenticator {
	a := &authenticator{secrets: make(map[string][32]byte, len(creds))}
	for _, c := range creds {
		a.secrets[c.Principal] = sha256.Sum256([]byte(c.Secret))
	}
	return a
}

// principal returns the principal r authenticates as with HTTP Basic, or
// false when it carries no credentials or wrong ones.
func (a *authenticator) principal(r *http.Request) (string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	want, known := a.secrets[user]
	got := sha256.Sum256([]byte(pass))
	// Compare even for an unknown principal, so that timing does not
	// tell which principals exist.
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if !known || !match {
		return "", false
	}
	return user, true
}

// unauthorized answers 401 with the challenge of realm, as libprocess's
// basic authenticator does: an empty body.
func unauthorized(w http.ResponseWriter, realm string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
	w.WriteHeader(http.StatusUnauthorized)
}
