package agent

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newHTTPServer serves h on a loopback port and returns its base URL.
func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
