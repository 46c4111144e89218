package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// DefaultRealm is Chronos's --http_realm.
const DefaultRealm = "Chronos"

// guard is the API's front door: HTTP Basic authentication with
// --http_credentials (every path but /ping), as Chronos's chaos
// HttpConf, and JSON bodies only on POST, as Chronos's Jersey resources
// (@Consumes JSON). The second also keeps another site's page from
// creating jobs: a browser sends a JSON body only after a CORS preflight,
// which this API does not grant.
type guard struct {
	next       http.Handler
	user, pass [sha256.Size]byte
	auth       bool
	realm      string
	log        *slog.Logger
}

// ParseCredentials splits --http_credentials "user:password" at the
// first colon.
func ParseCredentials(s string) (user, password string, err error) {
	user, password, ok := strings.Cut(s, ":")
	if !ok || user == "" || password == "" {
		return "", "", errors.New("want user:password, both non-empty")
	}
	return user, password, nil
}

func newGuard(next http.Handler, credentials, realm string, log *slog.Logger) *guard {
	g := &guard{next: next, realm: realm, log: log}
	if g.realm == "" {
		g.realm = DefaultRealm
	}
	if user, pass, err := ParseCredentials(credentials); err == nil {
		g.user, g.pass, g.auth = sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass)), true
	}
	return g
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.auth && r.URL.Path != "/ping" && !g.authenticated(r) {
		g.log.Debug("request unauthenticated", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(g.realm, `"`, `'`)+`"`)
		writeError(w, http.StatusUnauthorized, "Unauthorized", "authentication required")
		return
	}
	if r.Method == http.MethodPost || (r.Method == http.MethodPut && r.ContentLength != 0 && r.Header.Get("Content-Type") != "") {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type",
				fmt.Sprintf("Content-Type %q: want application/json", r.Header.Get("Content-Type")))
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// authenticated compares the request's Basic credentials in constant time.
func (g *guard) authenticated(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(u[:], g.user[:])&subtle.ConstantTimeCompare(p[:], g.pass[:]) == 1
}

// writeError writes Chronos's error body.
func writeError(w http.ResponseWriter, code int, status, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{\"message\":%q,\"status\":%q}\n", message, status)
}
