package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/httpserver/httpservertest"
	"github.com/stadionhq/stadion/internal/testenv"
)

// routes lists every route the API registers, read from framework/api's
// registrations ("GET /v2/apps", "DELETE /v2/groups/{id...}"), with each
// wildcard filled in: a route added there is checked here without a
// change to this test.
func routes(t *testing.T) [][2]string {
	t.Helper()
	src, err := os.ReadFile("../api/api.go")
	if err != nil {
		t.Fatal(err)
	}
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	var out [][2]string
	for _, m := range regexp.MustCompile(`"(GET|POST|PUT|PATCH|DELETE) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, [2]string{m[1], wildcard.ReplaceAllString(m[2], "x")})
	}
	// The /v2/apps/{rest...} catch-all dispatches by method and suffix;
	// paths that no route serves need credentials too.
	for _, method := range []string{"GET", "PUT", "PATCH", "DELETE", "POST"} {
		for _, path := range []string{"/v2/apps/x/restart", "/v2/apps/x/tasks", "/v2/apps/x/tasks/y", "/v2/apps/x/versions/v", "/v2/apps/g/*", "/", "/v2/unknown"} {
			out = append(out, [2]string{method, path})
		}
	}
	// The UI's event stream is /v2/events under another path.
	out = append(out, [2]string{"GET", "/ui/events"})
	if len(out) < 55 {
		t.Fatalf("found %d routes in ../api/api.go; has the registration changed shape?", len(out))
	}
	return out
}

// call sends one request with optional Basic credentials ("user:pass")
// and JSON body.
func call(t *testing.T, client *http.Client, method, url, creds, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user, pass, ok := strings.Cut(creds, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// formPost posts body as a page of another site does: its own Content-Type
// and Origin.
func formPost(t *testing.T, url, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", "https://evil.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestEveryEndpointNeedsCredentials(t *testing.T) {
	cfg := testConfig(t)
	cfg.LocalAgents = 1
	cfg.HTTPCredentials = "ci:s3cret"
	cfg.HTTPRealm = "stadion-test"
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c := http.DefaultClient
	for _, r := range routes(t) {
		method, path := r[0], r[1]
		for _, creds := range []string{"", "ci:wrong", "root:s3cret", "ci:s3cret "} {
			res, body := call(t, c, method, srv.URL()+path, creds, `{}`)
			if path == "/ping" {
				if res.StatusCode != http.StatusOK {
					t.Errorf("%s %s with %q: %d, want /ping open", method, path, creds, res.StatusCode)
				}
				continue
			}
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401; body %s", method, path, creds, res.StatusCode, body)
				continue
			}
			if got := res.Header.Get("WWW-Authenticate"); got != `Basic realm="stadion-test", charset="UTF-8"` {
				t.Errorf("%s %s: WWW-Authenticate %q", method, path, got)
			}
			var msg struct{ Message string }
			if err := json.Unmarshal(body, &msg); err != nil || msg.Message != "Not Authenticated" {
				t.Errorf("%s %s: body %s, want Marathon's message", method, path, body)
			}
		}
	}
	for _, path := range []string{"/v2/apps", "/v2/info", "/metrics", "/metrics/prometheus"} {
		if res, body := call(t, c, "GET", srv.URL()+path, "ci:s3cret", ""); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the credentials: %d %s", path, res.StatusCode, body)
		}
	}
	if res, body := call(t, c, "POST", srv.URL()+"/v2/apps", "ci:s3cret", `{"id":"/auth","cmd":"sleep 60","cpus":0.1,"mem":16,"instances":0}`); res.StatusCode != http.StatusCreated {
		t.Errorf("POST /v2/apps with the credentials: %d %s", res.StatusCode, body)
	}
}

func TestHTTPSOnly(t *testing.T) {
	cert := httpservertest.NewCert(t)
	// A port that the disabled HTTP listener would have taken.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpPort := probe.Addr().(*net.TCPAddr).Port
	probe.Close()

	cfg := testConfig(t)
	cfg.LocalAgents = 1
	cfg.HTTPPort = httpPort
	cfg.DisableHTTP = true
	cfg.SSLCertFile, cfg.SSLKeyFile = cert.CertFile, cert.KeyFile
	cfg.HTTPCredentials = "ci:s3cret"
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") || srv.URL() != srv.HTTPSURL() {
		t.Fatalf("URL %q, HTTPSURL %q: want the HTTPS listener only", srv.URL(), srv.HTTPSURL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}
	res, body := call(t, client, "GET", srv.URL()+"/v2/info", "ci:s3cret", "")
	if res.StatusCode != http.StatusOK || res.TLS == nil {
		t.Fatalf("GET /v2/info over TLS: %d %s", res.StatusCode, body)
	}
	var info struct {
		HTTPConfig struct {
			HTTPPort  int `json:"http_port"`
			HTTPSPort int `json:"https_port"`
		} `json:"http_config"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	if want := srv.URL()[strings.LastIndex(srv.URL(), ":")+1:]; strconv.Itoa(info.HTTPConfig.HTTPSPort) != want || info.HTTPConfig.HTTPPort != 0 {
		t.Fatalf("http_config %+v, want https_port %s and no http_port", info.HTTPConfig, want)
	}
	if res, _ := call(t, client, "GET", srv.URL()+"/v2/info", "", ""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/info over TLS without credentials: %d, want 401", res.StatusCode)
	}
	// Nothing listens for plain HTTP.
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))); err == nil {
		c.Close()
		t.Fatalf("port %d of --http_port accepts connections with --disable_http", httpPort)
	}
	// A client that does not trust the certificate gets no answer.
	if _, err := http.Get(srv.URL() + "/ping"); err == nil {
		t.Fatal("a client without the certificate in its roots connected")
	}
}

func TestCrossSiteFormsChangeNothing(t *testing.T) {
	cfg := testConfig(t)
	cfg.LocalAgents = 1
	cfg.AccessControlAllowOrigin = []string{"https://ui.example"}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	e := &env{t: t, srv: srv, url: srv.URL()}
	def := `{"id":"/csrf","cmd":"sleep 60","cpus":0.1,"mem":16,"instances":0}`
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=xyz", "text/plain;charset=UTF-8"} {
		for _, path := range []string{"/v2/apps", "/v2/groups"} {
			res, body := formPost(t, srv.URL()+path, ct, def)
			var msg struct{ Message string }
			if res.StatusCode != http.StatusUnsupportedMediaType || json.Unmarshal(body, &msg) != nil || msg.Message != "Unsupported Media Type" {
				t.Fatalf("POST %s as %s: %d %s, want 415", path, ct, res.StatusCode, body)
			}
		}
	}
	// JSON from a page of another site is refused too (a preflight would
	// stop the browser, but the server does not count on it).
	e.want(e.do("POST", "/v2/apps", def, "Origin: https://evil.example"), http.StatusForbidden)
	var apps struct{ Apps []app }
	e.wantJSON(e.do("GET", "/v2/apps", ""), http.StatusOK, &apps)
	if len(apps.Apps) != 0 {
		t.Fatalf("apps after cross-site posts: %+v", apps.Apps)
	}

	// The configured origin gets CORS answers and may write; others get none.
	pre := e.want(e.do("OPTIONS", "/v2/apps", "", "Origin: https://ui.example", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type"), http.StatusNoContent)
	if pre.header.Get("Access-Control-Allow-Origin") != "https://ui.example" || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight headers %v", pre.header)
	}
	if r := e.do("OPTIONS", "/v2/apps", "", "Origin: https://evil.example", "Access-Control-Request-Method: POST"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight of another origin answered with CORS headers %v", r.header)
	}
	if r := e.do("GET", "/v2/apps", "", "Origin: https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("read of another origin answered with CORS headers %v", r.header)
	}
	r := e.want(e.do("POST", "/v2/apps", def, "Origin: https://ui.example"), http.StatusCreated)
	if r.header.Get("Access-Control-Allow-Origin") != "https://ui.example" {
		t.Fatalf("write of the configured origin: CORS headers %v", r.header)
	}
}

// TestStandbyChecksCredentials runs two instances sharing ZooKeeper: the
// standby refuses a request without credentials itself (no
// X-Marathon-Leader, nothing sent to the leader) and proxies one with
// them, forwarding them to the leader, which checks them again.
func TestStandbyChecksCredentials(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	var srvs []*server.Server
	for range 2 {
		cfg := testConfig(t)
		cfg.LocalAgents = 1
		cfg.Hostname = "127.0.0.1"
		cfg.ZK = zk.URL("/stadion")
		cfg.HTTPCredentials = "ci:s3cret"
		srv, err := server.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		srvs = append(srvs, srv)
	}
	e := &env{t: t}
	var leader, standby *server.Server
	e.eventually("one instance leads", func() error {
		leader, standby = nil, nil
		for _, s := range srvs {
			if s.Elected() {
				leader = s
			} else {
				standby = s
			}
		}
		if leader == nil || standby == nil {
			return fmt.Errorf("no leader and standby yet")
		}
		if res, body := call(t, http.DefaultClient, "GET", standby.URL()+"/v2/leader", "ci:s3cret", ""); res.StatusCode != http.StatusOK || !strings.Contains(string(body), strings.TrimPrefix(leader.URL(), "http://")) {
			return fmt.Errorf("standby names the leader: %d %s", res.StatusCode, body)
		}
		return nil
	})
	for _, creds := range []string{"", "ci:wrong"} {
		res, body := call(t, http.DefaultClient, "POST", standby.URL()+"/v2/apps", creds, `{"id":"/standby","cmd":"sleep 60","cpus":0.1,"mem":16,"instances":0}`)
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("X-Marathon-Leader") != "" {
			t.Fatalf("POST through the standby with %q: %d (X-Marathon-Leader %q) %s, want 401 from the standby itself",
				creds, res.StatusCode, res.Header.Get("X-Marathon-Leader"), body)
		}
	}
	res, body := call(t, http.DefaultClient, "POST", standby.URL()+"/v2/apps", "ci:s3cret", `{"id":"/standby","cmd":"sleep 60","cpus":0.1,"mem":16,"instances":0}`)
	if res.StatusCode != http.StatusCreated || res.Header.Get("X-Marathon-Leader") != leader.URL() {
		t.Fatalf("POST through the standby with the credentials: %d (X-Marathon-Leader %q) %s, want 201 from %s",
			res.StatusCode, res.Header.Get("X-Marathon-Leader"), body, leader.URL())
	}
	if res, body := call(t, http.DefaultClient, "GET", leader.URL()+"/v2/apps/standby", "ci:s3cret", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("the app posted through the standby is not on the leader: %d %s", res.StatusCode, body)
	}
}

// TestCredentialsAndACL: principals of a credentials file, each with its
// rights in an ACL file, over real HTTP Basic authentication: a view-only
// principal reads (env values redacted) and is refused every write; a
// principal limited to /team-a cannot touch /team-b nor see it.
func TestCredentialsAndACL(t *testing.T) {
	rules, err := acl.Parse([]byte(`
principals:
  - principal: admin
    permissions:
      - allowed: ["*"]
        on: /
  - principal: viewer
    permissions:
      - allowed: [view]
        on: /
  - principal: alice
    permissions:
      - allowed: ["*"]
        on: /team-a
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.LocalAgents = 1
	cfg.HTTPCredentialsList = []auth.Credential{{Principal: "admin", Secret: "a"}, {Principal: "viewer", Secret: "v"}, {Principal: "alice", Secret: "al"}}
	cfg.ACL = func() *acl.ACL { return rules }
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c := http.DefaultClient
	app := func(id string) string {
		return `{"id":"` + id + `","cmd":"sleep 600","cpus":0.01,"mem":8,"instances":0,"env":{"DB_PASSWORD":"hunter2"}}`
	}
	status := func(creds, method, path, body string, want int) []byte {
		t.Helper()
		res, b := call(t, c, method, srv.URL()+path, creds, body)
		if res.StatusCode != want {
			t.Fatalf("%s %s as %q: %d %s, want %d", method, path, creds, res.StatusCode, b, want)
		}
		return b
	}

	status("admin:a", "POST", "/v2/apps", app("/team-b/db"), http.StatusCreated)
	status("alice:al", "POST", "/v2/apps", app("/team-a/web"), http.StatusCreated)
	status("alice:al", "POST", "/v2/apps", app("/team-b/web"), http.StatusForbidden)
	status("alice:al", "DELETE", "/v2/apps/team-b/db", "", http.StatusForbidden)
	status("viewer:v", "POST", "/v2/apps", app("/team-c/web"), http.StatusForbidden)
	status("viewer:v", "DELETE", "/v2/apps/team-a/web", "", http.StatusForbidden)
	status("alice:wrong", "GET", "/v2/apps", "", http.StatusUnauthorized)

	var list struct {
		Apps []struct {
			ID  string            `json:"id"`
			Env map[string]string `json:"env"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(status("alice:al", "GET", "/v2/apps", "", http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Apps) != 1 || list.Apps[0].ID != "/team-a/web" || list.Apps[0].Env["DB_PASSWORD"] != "hunter2" {
		t.Errorf("alice sees %+v, want /team-a/web alone with its env", list.Apps)
	}
	body := status("viewer:v", "GET", "/v2/apps", "", http.StatusOK)
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Apps) != 2 || strings.Contains(string(body), "hunter2") {
		t.Errorf("viewer sees %s, want both apps with env values redacted", body)
	}
}
