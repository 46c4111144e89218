package server

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/auth"
)

// guarded serves a guard in front of a handler that records the calls it
// lets through and the principal they carry.
func guarded(t *testing.T, cfg Config) (url string, seen *[]string) {
	t.Helper()
	var calls []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		calls = append(calls, r.Method+" "+r.URL.Path+" principal="+p.Name)
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(newGuard(next, cfg, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}

func send(t *testing.T, method, url, body string, headers map[string]string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestGuardWrites(t *testing.T) {
	url, seen := guarded(t, Config{AccessControlAllowOrigin: []string{"https://ui.example"}})
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		status  int
	}{
		{name: "json write", method: "POST", path: "/v2/apps", body: `{}`, headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, status: 200},
		{name: "form post", method: "POST", path: "/v2/apps", body: `id=x`, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415},
		{name: "text plain post", method: "POST", path: "/v2/apps", body: `{"id":"/x"}`, headers: map[string]string{"Content-Type": "text/plain"}, status: 415},
		{name: "multipart post", method: "POST", path: "/v2/groups", body: "--b--", headers: map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, status: 415},
		{name: "form post without body", method: "POST", path: "/v2/apps/x/restart", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415},
		{name: "body without type", method: "PUT", path: "/v2/apps/x", body: `{}`, status: 415},
		{name: "restart without body or type, as curl -X POST", method: "POST", path: "/v2/apps/x/restart", status: 200},
		{name: "delete without body", method: "DELETE", path: "/v2/apps/x", status: 200},
		{name: "cross-site json write", method: "POST", path: "/v2/apps", body: `{}`, headers: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, status: 403},
		{name: "cross-site bodiless write", method: "POST", path: "/v2/apps/x/restart", headers: map[string]string{"Origin": "https://evil.example"}, status: 403},
		{name: "sandboxed origin null", method: "DELETE", path: "/v2/apps/x", headers: map[string]string{"Origin": "null"}, status: 403},
		{name: "configured origin writes", method: "POST", path: "/v2/apps", body: `{}`, headers: map[string]string{"Content-Type": "application/json", "Origin": "https://ui.example"}, status: 200},
		{name: "same origin writes", method: "DELETE", path: "/v2/apps/x", headers: map[string]string{"Origin": "http://stadion.example:8080", "Host": "stadion.example:8080"}, status: 200},
		{name: "cross-site read passes, CORS hides the answer", method: "GET", path: "/v2/apps", headers: map[string]string{"Origin": "https://evil.example"}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(*seen)
			res := send(t, tc.method, url+tc.path, tc.body, tc.headers)
			if res.StatusCode != tc.status {
				t.Fatalf("%s %s = %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
			}
			if passed := len(*seen) > before; passed != (tc.status == 200) {
				t.Fatalf("reached the API: %v, want %v", passed, tc.status == 200)
			}
		})
	}
}

func TestGuardCORS(t *testing.T) {
	tests := []struct {
		name      string
		origins   []string
		method    string
		headers   map[string]string
		status    int
		allow     string // Access-Control-Allow-Origin
		withCreds bool
	}{
		{name: "preflight of a configured origin", origins: []string{"https://a.example", "https://ui.example"}, method: "OPTIONS",
			headers: map[string]string{"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"}, status: 204, allow: "https://ui.example", withCreds: true},
		{name: "read of a configured origin", origins: []string{"https://ui.example"}, method: "GET",
			headers: map[string]string{"Origin": "https://ui.example"}, status: 200, allow: "https://ui.example", withCreds: true},
		{name: "preflight of another origin", origins: []string{"https://ui.example"}, method: "OPTIONS",
			headers: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, status: 200, allow: ""},
		{name: "read of another origin", origins: []string{"https://ui.example"}, method: "GET",
			headers: map[string]string{"Origin": "https://evil.example"}, status: 200, allow: ""},
		{name: "no origins configured", method: "GET", headers: map[string]string{"Origin": "https://ui.example"}, status: 200, allow: ""},
		{name: "wildcard without credentials", origins: []string{"*"}, method: "GET",
			headers: map[string]string{"Origin": "https://any.example"}, status: 200, allow: "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := guarded(t, Config{AccessControlAllowOrigin: tc.origins})
			res := send(t, tc.method, url+"/v2/apps", "", tc.headers)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tc.allow {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.allow)
			}
			if got := res.Header.Get("Access-Control-Allow-Credentials") == "true"; got != tc.withCreds {
				t.Fatalf("Access-Control-Allow-Credentials %v, want %v", got, tc.withCreds)
			}
			if tc.status == 204 && !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Fatalf("preflight allows methods %q", res.Header.Get("Access-Control-Allow-Methods"))
			}
		})
	}
}

func TestGuardAuthentication(t *testing.T) {
	url, seen := guarded(t, Config{HTTPCredentials: "ci:pa:ss"})
	tests := []struct {
		name       string
		path       string
		user, pass string
		status     int
	}{
		{name: "ping is open", path: "/ping", status: 200},
		{name: "no credentials", path: "/v2/apps", status: 401},
		{name: "wrong password", path: "/v2/apps", user: "ci", pass: "pa", status: 401},
		{name: "wrong user", path: "/v2/apps", user: "cj", pass: "pa:ss", status: 401},
		{name: "password with a colon", path: "/v2/apps", user: "ci", pass: "pa:ss", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", url+tc.path, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.status == 401 {
				if got := res.Header.Get("WWW-Authenticate"); got != `Basic realm="Mesosphere", charset="UTF-8"` {
					t.Fatalf("WWW-Authenticate %q", got)
				}
				if !bytes.Equal(bytes.TrimSpace(body), []byte(`{"message":"Not Authenticated"}`)) {
					t.Fatalf("body %s", body)
				}
			}
		})
	}
	if last := (*seen)[len(*seen)-1]; last != "GET /v2/apps principal=ci" {
		t.Fatalf("the API saw %q, want the principal ci", last)
	}
}

func TestListenLoopbackByDefault(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		loopback bool
		warns    bool
	}{
		{name: "local master", cfg: Config{Master: MasterLocal}, loopback: true},
		{name: "local master, every address asked for", cfg: Config{Master: MasterLocal, HTTPAddress: "0.0.0.0"}, warns: true},
		{name: "remote master, as Marathon", cfg: Config{Master: "zk://127.0.0.1:2181/mesos"}, warns: true},
		{name: "remote master with credentials", cfg: Config{Master: "127.0.0.1:5050", HTTPCredentials: "u:p"}},
		{name: "remote master on loopback", cfg: Config{Master: "127.0.0.1:5050", HTTPAddress: "127.0.0.1"}, loopback: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := listen(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ls.close()
			if got := ls.http.Addr().(*net.TCPAddr).IP.IsLoopback(); got != tc.loopback {
				t.Fatalf("listens on %s: loopback %v, want %v", ls.http.Addr(), got, tc.loopback)
			}
			var logs bytes.Buffer
			warnOpen(tc.cfg, ls, slog.New(slog.NewTextHandler(&logs, nil)))
			if got := strings.Contains(logs.String(), "without credentials"); got != tc.warns {
				t.Fatalf("warned %v, want %v: %s", got, tc.warns, logs.String())
			}
		})
	}
}
