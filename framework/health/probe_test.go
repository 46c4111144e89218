package health

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

// handler answers /<code> with that status; /hang waits for the client.
func handler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/hang" {
		<-r.Context().Done()
		return
	}
	code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
	if err != nil {
		code = http.StatusOK
	}
	if code >= 300 && code < 400 {
		w.Header().Set("Location", "/500")
	}
	w.WriteHeader(code)
}

func hostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), port
}

// closedPort returns a loopback port with no listener.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func withPath(p string) func(*marathon.HealthCheck) {
	return func(hc *marathon.HealthCheck) { hc.Path = p }
}

func protocol(p marathon.HealthCheckProtocol) func(*marathon.HealthCheck) {
	return func(hc *marathon.HealthCheck) { hc.Protocol = p }
}

func timeout(s int) func(*marathon.HealthCheck) {
	return func(hc *marathon.HealthCheck) { hc.TimeoutSeconds = s }
}

func ignore1xx(hc *marathon.HealthCheck) { hc.IgnoreHTTP1xx = true }

func TestProbe(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(handler))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(handler))
	t.Cleanup(secure.Close)
	plainHost, plainPort := hostPort(t, plain.URL)
	secureHost, securePort := hostPort(t, secure.URL)
	closed := closedPort(t)

	tests := []struct {
		name      string
		hc        marathon.HealthCheck
		host      string
		port      int
		wantOK    bool
		wantCause string // substring
	}{
		{name: "http 200", hc: check(withPath("/200")), host: plainHost, port: plainPort, wantOK: true},
		{name: "http path without slash", hc: check(withPath("204")), host: plainHost, port: plainPort, wantOK: true},
		{name: "http empty path", hc: check(), host: plainHost, port: plainPort, wantOK: true},
		{name: "http 302 is not followed", hc: check(withPath("/302")), host: plainHost, port: plainPort, wantOK: true},
		{name: "http 399", hc: check(withPath("/399")), host: plainHost, port: plainPort, wantOK: true},
		{name: "http 400", hc: check(withPath("/400")), host: plainHost, port: plainPort, wantCause: "400 Bad Request"},
		{name: "http 503", hc: check(withPath("/503")), host: plainHost, port: plainPort, wantCause: "503 Service Unavailable"},
		{name: "http 101 fails", hc: check(withPath("/101")), host: plainHost, port: plainPort, wantCause: "101"},
		{name: "http 101 ignored", hc: check(withPath("/101"), ignore1xx), host: plainHost, port: plainPort, wantCause: IgnoredCause},
		{name: "http timeout", hc: check(withPath("/hang"), timeout(1)), host: plainHost, port: plainPort, wantCause: "deadline exceeded"},
		{name: "http closed port", hc: check(), host: "127.0.0.1", port: closed, wantCause: "connection refused"},
		{name: "https self-signed 200", hc: check(protocol(marathon.ProtocolHTTPS), withPath("/200")), host: secureHost, port: securePort, wantOK: true},
		{name: "https 500", hc: check(protocol(marathon.ProtocolHTTPS), withPath("/500")), host: secureHost, port: securePort, wantCause: "500 Internal Server Error"},
		{name: "https against plain http", hc: check(protocol(marathon.ProtocolHTTPS)), host: plainHost, port: plainPort, wantCause: "http"},
		{name: "tcp open", hc: check(protocol(marathon.ProtocolTCP)), host: plainHost, port: plainPort, wantOK: true},
		{name: "tcp closed port", hc: check(protocol(marathon.ProtocolTCP)), host: "127.0.0.1", port: closed, wantCause: "connection refused"},
		{name: "command is not run", hc: check(protocol(marathon.ProtocolCommand)), host: plainHost, port: plainPort, wantCause: "unsupported protocol COMMAND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, cause := Probe(context.Background(), tc.hc, tc.host, tc.port)
			if ok != tc.wantOK || !strings.Contains(cause, tc.wantCause) || (ok && cause != "") {
				t.Errorf("Probe = %v, %q; want %v, cause containing %q", ok, cause, tc.wantOK, tc.wantCause)
			}
		})
	}
}
