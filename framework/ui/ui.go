package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Prefix is where the UI is served.
const Prefix = "/ui/"

// contentSecurityPolicy lets the UI's pages load only the UI's own files
// and talk only to this origin: no inline scripts, no frames.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"

// Config configures the UI's handler.
type Config struct {
	// Files serves a task's sandbox; nil answers 404 to /ui/tasks/.
	Files *Files
}

// New returns the handler of every path under Prefix.
func New(cfg Config) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(sub))
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix, files)
	if cfg.Files != nil {
		mux.Handle("GET "+Prefix+"tasks/{task}/files/{op}", cfg.Files)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		// The files change with the binary; revalidating is cheap and
		// an upgrade never leaves a browser on old modules.
		h.Set("Cache-Control", "no-cache")
		mux.ServeHTTP(w, r)
	})
}

// IsStatic reports whether path is one of the UI's own files, which any
// instance serves itself; the task files go to the leader, which knows
// where tasks run.
func IsStatic(path string) bool {
	return strings.HasPrefix(path, Prefix) && !strings.HasPrefix(path, Prefix+"tasks/")
}

// Redirect sends GET / to the UI, as Marathon does.
func Redirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix, http.StatusFound)
}
