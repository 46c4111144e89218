package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/internal/marathon"
)

// DefaultRealm is Marathon's --http_realm.
const DefaultRealm = "Mesosphere"

// Headers a browser of a configured origin may send, and the methods it
// may use, in answer to a CORS preflight.
const (
	corsAllowHeaders = "Accept, Authorization, Content-Type"
	corsAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	corsMaxAge       = "86400"
)

// guard is the API's front door, in front of the leader proxy (so that a
// standby checks credentials before it proxies, and forwards them): CORS
// for the configured origins, HTTP Basic authentication when credentials
// are set (every path but /ping), and, on writes, the checks that keep a
// browser on another site from changing anything: the body must be JSON
// and a browser's Origin must be this server's or a configured one.
type guard struct {
	next http.Handler
	// creds are --http_credentials and the principals of
	// --http_credentials_file, none: no authentication. Their SHA-256
	// digests are what requests are compared with, in constant time.
	creds        []digested
	authenticate bool
	realm        string
	// origins are --access_control_allow_origin; "*" allows any.
	origins []string
	log     *slog.Logger
}

// Credentials splits Marathon's --http_credentials "user:password" at
// the first colon (the user may not contain one, the password may).
func Credentials(s string) (user, password string, err error) {
	user, password, ok := strings.Cut(s, ":")
	if !ok || user == "" || password == "" {
		return "", "", errors.New("want user:password, both non-empty")
	}
	return user, password, nil
}

// newGuard returns next behind cfg's authentication, CSRF and CORS rules.
// cfg must be valid.
func newGuard(next http.Handler, cfg Config, log *slog.Logger) *guard {
	g := &guard{next: next, realm: cfg.HTTPRealm, origins: cfg.AccessControlAllowOrigin, log: log}
	if g.realm == "" {
		g.realm = DefaultRealm
	}
	creds := slices.Clone(cfg.HTTPCredentialsList)
	if cfg.HTTPCredentials != "" {
		user, password, _ := Credentials(cfg.HTTPCredentials)
		creds = append(creds, auth.Credential{Principal: user, Secret: password})
	}
	for _, c := range creds {
		g.creds = append(g.creds, digested{name: c.Principal, user: sha256.Sum256([]byte(c.Principal)), password: sha256.Sum256([]byte(c.Secret))})
	}
	g.authenticate = len(g.creds) > 0
	return g
}

// digested is one principal's credentials as the guard compares them.
type digested struct {
	name           string
	user, password [sha256.Size]byte
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := g.originAllowed(origin)
	if allowed {
		g.corsHeaders(w, origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			// A preflight carries no credentials.
			w.Header().Set("Access-Control-Allow-Methods", corsAllowMethods)
			w.Header().Set("Access-Control-Allow-Headers", corsAllowHeaders)
			w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if r.URL.Path == "/ping" {
		g.next.ServeHTTP(w, r)
		return
	}
	if g.authenticate {
		p, ok := g.principal(r)
		if !ok {
			g.log.Debug("request unauthenticated", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(g.realm, `"`, `'`)+`", charset="UTF-8"`)
			writeMarathonError(w, marathon.Unauthorized())
			return
		}
		r = r.WithContext(auth.NewContext(r.Context(), p))
	}
	if err := g.checkWrite(r, allowed); err != nil {
		g.log.Debug("write refused", "method", r.Method, "path", r.URL.Path, "status", err.Status, "err", err)
		writeMarathonError(w, err)
		return
	}
	g.next.ServeHTTP(w, r)
}

// principal checks the request's Basic credentials.
func (g *guard) principal(r *http.Request) (auth.Principal, bool) {
	user, password, ok := r.BasicAuth()
	if !ok {
		return auth.Principal{}, false
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	// Every entry compared, user and password both, whatever the first
	// ones give.
	found := -1
	for i, c := range g.creds {
		if subtle.ConstantTimeCompare(u[:], c.user[:])&subtle.ConstantTimeCompare(p[:], c.password[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return auth.Principal{}, false
	}
	return auth.Principal{Name: g.creds[found].name}, true
}

// checkWrite refuses a write (any method but GET, HEAD and OPTIONS) that a
// page on another site could have sent: a body that is not declared JSON
// (an HTML form posts application/x-www-form-urlencoded, multipart/form-data
// or text/plain; fetch may send a body without a type) is 415, as Marathon
// answers, and a browser request from an origin that is neither this
// server nor a configured one is 403. A write without a body and without a
// Content-Type (curl -X POST .../restart, DELETE) passes, as on Marathon.
func (g *guard) checkWrite(r *http.Request, originAllowed bool) *marathon.Error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return marathon.UnsupportedMediaType()
		}
	} else if r.ContentLength != 0 {
		return marathon.UnsupportedMediaType()
	}
	if origin := r.Header.Get("Origin"); origin != "" && !originAllowed && !sameOrigin(origin, r.Host) {
		return &marathon.Error{Status: http.StatusForbidden, Message: "Cross-origin write refused: origin " + origin + " is not in --access_control_allow_origin"}
	}
	return nil
}

// originAllowed reports whether origin is one of --access_control_allow_origin.
func (g *guard) originAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	return slices.Contains(g.origins, "*") || slices.Contains(g.origins, origin)
}

func (g *guard) corsHeaders(w http.ResponseWriter, origin string) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if slices.Contains(g.origins, origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		return
	}
	// "*": browsers send no credentials to a wildcard origin.
	h.Set("Access-Control-Allow-Origin", "*")
}

// sameOrigin reports whether a browser's Origin header names the host the
// request was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null" and garbage
	}
	return strings.EqualFold(u.Host, host)
}

// writeMarathonError writes e's status and Marathon's body.
func writeMarathonError(w http.ResponseWriter, e *marathon.Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}
