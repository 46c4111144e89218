package clientauth

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// EnvCredentials is the environment variable of the scheduler's
// credentials, "user:password".
const EnvCredentials = "MARATHON_CREDENTIALS"

// Credentials are HTTP Basic credentials. Their String never shows the
// password, so that printing them by mistake leaks nothing.
type Credentials struct {
	User     string
	Password string
}

// IsZero reports whether no credentials are set.
func (c Credentials) IsZero() bool { return c.User == "" && c.Password == "" }

// String shows the user only.
func (c Credentials) String() string {
	if c.IsZero() {
		return "none"
	}
	return c.User + ":***"
}

// GoString keeps %#v from printing the password too.
func (c Credentials) GoString() string { return "clientauth.Credentials{" + c.String() + "}" }

// ErrBadCredentials is returned for credentials that are not
// "user:password" with a non-empty user. Its messages never quote the
// value.
var ErrBadCredentials = errors.New("want user:password with a non-empty user")

// Parse reads "user:password". The password may contain ':'.
func Parse(s string) (Credentials, error) {
	user, pass, ok := strings.Cut(s, ":")
	if !ok || user == "" {
		return Credentials{}, ErrBadCredentials
	}
	return Credentials{User: user, Password: pass}, nil
}

// ReadFile reads a file holding one "user:password" line (a trailing
// newline is ignored). Errors name the file, never its contents.
func ReadFile(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if strings.ContainsAny(s, "\r\n") {
		return Credentials{}, fmt.Errorf("credentials file %s: want one user:password line", path)
	}
	c, err := Parse(s)
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

// FromURL returns the user info of u as credentials.
func FromURL(u *url.URL) Credentials {
	if u == nil || u.User == nil {
		return Credentials{}
	}
	pass, _ := u.User.Password()
	return Credentials{User: u.User.Username(), Password: pass}
}

// Source lists where a tool may find the scheduler's credentials.
type Source struct {
	// File is the path of the credentials file (--marathon-credentials-file).
	File string
	// Env is the value of MARATHON_CREDENTIALS; empty when unset.
	Env string
	// URLs are the scheduler URLs given, which may carry user:password@.
	URLs []*url.URL
}

// Resolve picks the credentials with the documented precedence: the file,
// else MARATHON_CREDENTIALS, else the user info of the URLs (all URLs that
// carry one must carry the same). The dedicated settings win over the URL
// because a URL is often shared or printed; the flag wins over the
// environment as everywhere else. No credentials at all is not an error.
func Resolve(s Source) (Credentials, error) {
	if s.File != "" {
		return ReadFile(s.File)
	}
	if s.Env != "" {
		c, err := Parse(s.Env)
		if err != nil {
			return Credentials{}, fmt.Errorf("%s: %w", EnvCredentials, err)
		}
		return c, nil
	}
	var found Credentials
	for _, u := range s.URLs {
		c := FromURL(u)
		if c.IsZero() {
			continue
		}
		if !found.IsZero() && c != found {
			return Credentials{}, errors.New("the scheduler URLs carry different credentials: give them once with " + EnvCredentials + " or a credentials file")
		}
		found = c
	}
	return found, nil
}

// StripUser returns a copy of u without user info.
func StripUser(u *url.URL) *url.URL {
	out := *u
	out.User = nil
	return &out
}

// Redact returns s, a URL as text, with its password hidden. Text that is
// not a URL with a scheme (host:port) has no password and is returned as
// it is; an unparsable URL is not shown at all.
func Redact(s string) string {
	if !strings.Contains(s, "://") {
		if strings.Contains(s, "@") {
			return "<URL hidden: it may hold a password>"
		}
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

// RedactList redacts each URL of a comma list.
func RedactList(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = Redact(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}
