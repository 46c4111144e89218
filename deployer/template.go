package deployer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/stadionhq/stadion/internal/clientauth"
)

// maxTemplateSize bounds what Load reads: an app definition is a few KB.
const maxTemplateSize = 4 << 20

// ErrTemplateTooLarge is returned by Load for a template over 4 MB.
var ErrTemplateTooLarge = errors.New("template larger than 4 MB")

// Load reads a template from an http:// or https:// URL (with client; nil
// means http.DefaultClient), a file:// URL or a local path.
func Load(ctx context.Context, source string, client *http.Client) ([]byte, error) {
	switch {
	case hasScheme(source, "http"), hasScheme(source, "https"):
		return fetch(ctx, source, client)
	case hasScheme(source, "file"):
		u, err := url.Parse(source)
		if err != nil {
			return nil, fmt.Errorf("read template: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("read template %s: file:// URL names host %q; want file:///path", source, u.Host)
		}
		return readFile(u.Path)
	}
	return readFile(source)
}

func hasScheme(s, scheme string) bool {
	return len(s) > len(scheme)+3 && strings.EqualFold(s[:len(scheme)+3], scheme+"://")
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	defer f.Close()
	return readLimited(f, path)
}

func fetch(ctx context.Context, source string, client *http.Client) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch template: %w", err)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch template: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(res.Body, maxTemplateSize))
		return nil, fmt.Errorf("fetch template %s: %s", redact(source), res.Status)
	}
	return readLimited(res.Body, redact(source))
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTemplateSize+1))
	if err != nil {
		return nil, fmt.Errorf("read template %s: %w", name, err)
	}
	if len(b) > maxTemplateSize {
		return nil, fmt.Errorf("read template %s: %w", name, ErrTemplateTooLarge)
	}
	return b, nil
}

// redact drops the password of a URL, for messages and logs.
func redact(raw string) string { return clientauth.Redact(raw) }
