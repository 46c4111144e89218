package clientauth

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Transport adds HTTP Basic credentials to the requests whose scheme, host
// and port are those of one of Origins, and to no other: a redirect to
// another host, port or scheme (a standby's redirect to a leader not
// named, an https URL downgraded to http) is sent without them. The
// requests' own Authorization header, when set, is kept.
type Transport struct {
	// Base sends the requests; nil is http.DefaultTransport.
	Base http.RoundTripper
	// Credentials are sent when not zero.
	Credentials Credentials
	// Origins are the URLs the credentials were given for; only their
	// scheme, host and port count.
	Origins []*url.URL
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Credentials.IsZero() || req.Header.Get("Authorization") != "" || !t.allowed(req.URL) {
		return base.RoundTrip(req)
	}
	// A RoundTripper must not change the request it was given.
	r := req.Clone(req.Context())
	r.SetBasicAuth(t.Credentials.User, t.Credentials.Password)
	return base.RoundTrip(r)
}

func (t *Transport) allowed(u *url.URL) bool {
	o := origin(u)
	for _, a := range t.Origins {
		if origin(a) == o {
			return true
		}
	}
	return false
}

// origin is scheme://host:port, lower-cased, with the scheme's default
// port filled in.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// TLSConfig returns the client TLS configuration for a private CA
// (caFile, PEM; empty: the system's CAs) and for skipping verification;
// nil when neither is asked for.
func TLSConfig(caFile string, skipVerify bool) (*tls.Config, error) {
	if caFile == "" && !skipVerify {
		return nil, nil
	}
	tc := &tls.Config{InsecureSkipVerify: skipVerify} //nolint:gosec // asked for by the user
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read CA file %s: no PEM certificate", caFile)
		}
	}
	return tc, nil
}

// Config is what NewTransport needs.
type Config struct {
	// Credentials are sent to Origins only.
	Credentials Credentials
	Origins     []*url.URL
	// CAFile is a PEM file of the CAs of the servers' certificates; empty
	// uses the system's.
	CAFile string
	// TLSSkipVerify accepts any certificate.
	TLSSkipVerify bool
	// Base, when not nil, is cloned for the connections; nil clones
	// http.DefaultTransport.
	Base *http.Transport
}

// NewTransport returns a Transport over a clone of cfg.Base with cfg's
// TLS settings.
func NewTransport(cfg Config) (*Transport, error) {
	base := cfg.Base
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	tr := base.Clone()
	tc, err := TLSConfig(cfg.CAFile, cfg.TLSSkipVerify)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		tr.TLSClientConfig = tc
	}
	return &Transport{Base: tr, Credentials: cfg.Credentials, Origins: stripAll(cfg.Origins)}, nil
}

// Client returns a copy of hc (nil: a client without timeout) whose
// transport adds cfg's credentials and TLS settings to hc's own. TLS
// settings need hc's transport to be nil or an *http.Transport.
func Client(hc *http.Client, cfg Config) (*http.Client, error) {
	var out http.Client
	if hc != nil {
		out = *hc
	}
	switch base := out.Transport.(type) {
	case nil:
	case *http.Transport:
		cfg.Base = base
	default:
		if cfg.CAFile != "" || cfg.TLSSkipVerify {
			return nil, fmt.Errorf("TLS settings need an *http.Transport, have %T", base)
		}
		out.Transport = &Transport{Base: base, Credentials: cfg.Credentials, Origins: stripAll(cfg.Origins)}
		return &out, nil
	}
	tr, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	out.Transport = tr
	return &out, nil
}

func stripAll(us []*url.URL) []*url.URL {
	out := make([]*url.URL, len(us))
	for i, u := range us {
		out[i] = StripUser(u)
	}
	return out
}
