package main

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/testenv"
)

// The secrets of these tests: no output of a tool may show them.
const (
	toolUser     = "deployer"
	toolPassword = "tool-pw-51c9e0"
	toolToken    = "4d6c2b1a-8e7f-4a3b-9c2d-1e0f9a8b7c6d"
)

var toolBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte(toolUser+":"+toolPassword))

// assertNoSecrets fails when out shows the password, its Basic header or
// the Consul token.
func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, secret := range []string{toolPassword, strings.TrimPrefix(toolBasic, "Basic "), toolToken} {
		if strings.Contains(out, secret) {
			t.Errorf("%s show a secret (%.4s...):\n%s", what, secret, out)
		}
	}
}

// authRequest is one request a fake scheduler received.
type authRequest struct {
	method, path, auth string
}

// authScheduler is a stand-in for serve with --http_credentials: every
// request needs toolUser:toolPassword (401 with WWW-Authenticate
// otherwise). It knows the apps in apps, creates apps and restarts them.
type authScheduler struct {
	srv  *httptest.Server
	apps map[string]bool

	mu   sync.Mutex
	reqs []authRequest
}

func newAuthScheduler(t *testing.T, tls bool, apps ...string) *authScheduler {
	s := &authScheduler{apps: map[string]bool{}}
	for _, a := range apps {
		s.apps[a] = true
	}
	if tls {
		s.srv = httptest.NewTLSServer(s)
	} else {
		s.srv = httptest.NewServer(s)
	}
	t.Cleanup(s.srv.Close)
	return s
}

func (s *authScheduler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, authRequest{r.Method, r.URL.Path, r.Header.Get("Authorization")})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != toolBasic {
		w.Header().Set("WWW-Authenticate", `Basic realm="Mesosphere Marathon"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Invalid username or password."}`)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v2/apps")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/apps":
		w.Header().Set("Marathon-Deployment-Id", "d-create")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"/created","version":"2026-12-07T20:00:00.000Z","deployments":[{"id":"d-create"}]}`)
	case r.Method == http.MethodPost && strings.HasSuffix(id, "/restart"):
		fmt.Fprint(w, `{"deploymentId":"d-restart","version":"2026-12-07T20:00:00.000Z"}`)
	case r.Method == http.MethodGet && s.apps[id]:
		fmt.Fprintf(w, `{"app":{"id":%q,"cmd":"sleep 1","instances":1,"version":"2026-12-07T19:00:00.000Z","tasks":[],"deployments":[]}}`, id)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"App '%s' does not exist"}`, id)
	}
}

func (s *authScheduler) requests() []authRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]authRequest(nil), s.reqs...)
}

// caFile writes the PEM certificate of a TLS test server.
func caFile(t *testing.T, srv *httptest.Server) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeSecretFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func withUser(u, user, pass string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	return scheme + "://" + user + ":" + pass + "@" + rest
}

func TestDeployCredentials(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "service.json")
	if err := os.WriteFile(tmpl, []byte(workerTemplate("true")), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := newAuthScheduler(t, false)
	tlsSrv := newAuthScheduler(t, true)
	other := newAuthScheduler(t, false)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.srv.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	credFile := writeSecretFile(t, toolUser+":"+toolPassword+"\n")

	cases := []struct {
		name       string
		env        string // MARATHON_CREDENTIALS
		args       []string
		wantCode   int
		wantOut    string
		wantErr    string
		wantAuthOn *authScheduler // the scheduler that must have seen the right credentials
	}{
		{name: "from MARATHON_CREDENTIALS", env: toolUser + ":" + toolPassword, args: []string{"--dry-run", "--marathon", plain.srv.URL},
			wantOut: "does not exist; deploy would create it", wantAuthOn: plain},
		{name: "from the credentials file", args: []string{"--dry-run", "--marathon", plain.srv.URL, "--marathon-credentials-file", credFile},
			wantOut: "does not exist; deploy would create it", wantAuthOn: plain},
		{name: "the file over a wrong MARATHON_CREDENTIALS", env: toolUser + ":wrong", args: []string{"--dry-run", "--marathon", plain.srv.URL, "--marathon-credentials-file", credFile},
			wantOut: "does not exist; deploy would create it", wantAuthOn: plain},
		{name: "from the URL, deployed", args: []string{"--wait=false", "--marathon", withUser(plain.srv.URL, toolUser, toolPassword)},
			wantOut: "Marathon at " + plain.srv.URL, wantAuthOn: plain},
		{name: "none", args: []string{"--dry-run", "--marathon", plain.srv.URL},
			wantCode: exitError, wantErr: "Marathon wants credentials"},
		{name: "wrong password", env: toolUser + ":not-" + toolPassword, args: []string{"--wait=false", "--marathon", plain.srv.URL},
			wantCode: exitError, wantErr: "401"},
		{name: "a redirect to another host gets none", env: toolUser + ":" + toolPassword, args: []string{"--dry-run", "--marathon", redirector.URL},
			wantCode: exitError, wantErr: "Marathon wants credentials"},
		{name: "https with a private CA", env: toolUser + ":" + toolPassword, args: []string{"--dry-run", "--marathon", tlsSrv.srv.URL, "--marathon-cacert", caFile(t, tlsSrv.srv)},
			wantOut: "does not exist; deploy would create it", wantAuthOn: tlsSrv},
		{name: "https without the CA", env: toolUser + ":" + toolPassword, args: []string{"--dry-run", "--marathon", tlsSrv.srv.URL},
			wantCode: exitError, wantErr: "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MARATHON_CREDENTIALS", tc.env)
			var before int
			if tc.wantAuthOn != nil {
				before = len(tc.wantAuthOn.requests())
			}
			args := append([]string{"deploy", "--tag", "v1"}, tc.args...)
			code, stdout, stderr := stadion(t, append(args, tmpl, "staging")...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
			if !strings.Contains(stdout, tc.wantOut) {
				t.Errorf("stdout without %q", tc.wantOut)
			}
			if !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("stderr without %q", tc.wantErr)
			}
			assertNoSecrets(t, "stdout and stderr", stdout+stderr)
			if tc.wantAuthOn != nil {
				reqs := tc.wantAuthOn.requests()[before:]
				if len(reqs) == 0 {
					t.Fatal("no request reached the scheduler")
				}
				for _, r := range reqs {
					if r.auth != toolBasic {
						t.Errorf("%s %s without the credentials", r.method, r.path)
					}
				}
			}
		})
	}
	for _, r := range other.requests() {
		if r.auth != "" {
			t.Errorf("the host redirected to received Authorization on %s %s", r.method, r.path)
		}
	}
	if len(other.requests()) == 0 {
		t.Error("the redirect was not followed")
	}

	t.Run("help hides the password of MARATHON_URL", func(t *testing.T) {
		t.Setenv("MARATHON_URL", withUser(plain.srv.URL, toolUser, toolPassword))
		_, stdout, stderr := stadion(t, "deploy", "--help")
		if !strings.Contains(stdout+stderr, "marathon-credentials-file") {
			t.Fatalf("no help printed")
		}
		assertNoSecrets(t, "deploy --help", stdout+stderr)
	})
}

func TestRegistratorCredentialsUsage(t *testing.T) {
	t.Setenv("STADION_REGISTRATOR_MARATHON", withUser("http://127.0.0.1:1", toolUser, toolPassword))
	_, stdout, stderr := stadion(t, "registrator", "--help")
	if !strings.Contains(stdout+stderr, "marathon-credentials-file") {
		t.Fatalf("no help printed")
	}
	assertNoSecrets(t, "registrator --help", stdout+stderr)

	t.Setenv("MARATHON_CREDENTIALS", toolPassword)
	code, stdout, stderr := stadion(t, "registrator")
	if code != exitUsage || !strings.Contains(stderr, "MARATHON_CREDENTIALS: want user:password") {
		t.Errorf("exit code %d, stderr %q: want a usage error naming MARATHON_CREDENTIALS", code, stderr)
	}
	assertNoSecrets(t, "the usage error", stdout+stderr)
}

// kvPutToken writes a key with an ACL token.
func kvPutToken(t *testing.T, consul *testenv.Consul, key, value string) {
	t.Helper()
	client, err := api.NewClient(&api.Config{Address: consul.HTTPAddr, Token: consul.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestWrapCredentials runs stadion wrap against a scheduler that wants
// Basic credentials and a Consul with ACLs: with both it reads the KV and
// asks for the restart with the credentials; without them it says why;
// its output holds no secret.
func TestWrapCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	consul := testenv.StartConsulWith(t, testenv.ConsulConfig{ManagementToken: toolToken})
	kvPutToken(t, consul, "svc/greeting", "hello-v1")
	child := testenv.GoBuild(t, "wrapper/testdata/testchild")
	sched := newAuthScheduler(t, false, "/svc")
	flags := []string{"--wait", "0", "--retry-max", "200ms", "--cache-file", filepath.Join(t.TempDir(), "cache.json")}
	restarts := func() (n int, bad []authRequest) {
		for _, r := range sched.requests() {
			if r.method == http.MethodPost && r.path == "/v2/apps/svc/restart" {
				if r.auth == toolBasic {
					n++
				} else {
					bad = append(bad, r)
				}
			}
		}
		return n, bad
	}
	stop := func(p *wrapProc) {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.exitCode(t)
		t.Logf("stadion wrap output:\n%s", p.out.String())
	}

	t.Run("with credentials and token", func(t *testing.T) {
		t.Setenv("MARATHON_CREDENTIALS", toolUser+":"+toolPassword)
		t.Setenv("CONSUL_HTTP_TOKEN", toolToken)
		addr := freeAddr(t)
		p := startWrap(t, nil, append(flags, "--log-level", "debug", sched.srv.URL, consul.HTTPAddr, "svc", child, "serve", "-addr", addr)...)
		if got := childEnv(t, addr)["greeting"]; got != "hello-v1" {
			t.Fatalf("child has greeting=%q, want hello-v1", got)
		}
		wrapPoll(t, "the scheduler check", func() error {
			if !strings.Contains(p.out.String(), "scheduler knows the app") {
				return fmt.Errorf("output:\n%s", p.out.String())
			}
			return nil
		})
		kvPutToken(t, consul, "svc/greeting", "hello-v2")
		wrapPoll(t, "the restart", func() error {
			if n, bad := restarts(); n != 1 || len(bad) > 0 {
				return fmt.Errorf("%d restarts with the credentials, %v without", n, bad)
			}
			return nil
		})
		stop(p)
		assertNoSecrets(t, "the output", p.out.String())
	})
	t.Run("credentials in the URL", func(t *testing.T) {
		t.Setenv("MARATHON_CREDENTIALS", "")
		t.Setenv("CONSUL_HTTP_TOKEN", "")
		t.Setenv("CONSUL_HTTP_TOKEN_FILE", writeSecretFile(t, toolToken+"\n"))
		addr := freeAddr(t)
		p := startWrap(t, nil, append(flags, withUser(sched.srv.URL, toolUser, toolPassword), consul.HTTPAddr, "svc", child, "serve", "-addr", addr)...)
		if got := childEnv(t, addr)["greeting"]; got != "hello-v2" {
			t.Fatalf("child has greeting=%q, want hello-v2", got)
		}
		wrapPoll(t, "the scheduler check", func() error {
			if !strings.Contains(p.out.String(), "scheduler knows the app") {
				return fmt.Errorf("output:\n%s", p.out.String())
			}
			return nil
		})
		stop(p)
		assertNoSecrets(t, "the output", p.out.String())
	})
	t.Run("without scheduler credentials", func(t *testing.T) {
		t.Setenv("MARATHON_CREDENTIALS", "")
		t.Setenv("CONSUL_HTTP_TOKEN", toolToken)
		p := startWrap(t, nil, append(flags, sched.srv.URL, consul.HTTPAddr, "svc", child, "serve", "-addr", freeAddr(t))...)
		wrapPoll(t, "the refusal in the log", func() error {
			out := p.out.String()
			if !strings.Contains(out, "scheduler refused the credentials") || !strings.Contains(out, "401") {
				return fmt.Errorf("output:\n%s", out)
			}
			return nil
		})
		stop(p)
		assertNoSecrets(t, "the output", p.out.String())
	})
	t.Run("without the consul token", func(t *testing.T) {
		t.Setenv("MARATHON_CREDENTIALS", toolUser+":"+toolPassword)
		t.Setenv("CONSUL_HTTP_TOKEN", "")
		t.Setenv("CONSUL_HTTP_TOKEN_FILE", "")
		p := startWrap(t, nil, append(flags, sched.srv.URL, consul.HTTPAddr, "svc", child, "serve", "-addr", freeAddr(t))...)
		wrapPoll(t, "the refusal in the log", func() error {
			out := p.out.String()
			if !strings.Contains(out, "no ACL token set") {
				return fmt.Errorf("output:\n%s", out)
			}
			return nil
		})
		if strings.Contains(p.out.String(), "command started") {
			t.Error("the command started without the keys the token may not read")
		}
		stop(p)
		assertNoSecrets(t, "the output", p.out.String())
	})
}
