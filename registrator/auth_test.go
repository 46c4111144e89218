package registrator

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/clientauth"
	"github.com/stadionhq/stadion/internal/testenv"
)

const (
	authUser     = "ops"
	authPassword = "sched-pw-7d41c2"
	authToken    = "9b1e5c7a-2f3d-4e8a-b6c0-d1e2f3a4b5c6"
)

var authCreds = clientauth.Credentials{User: authUser, Password: authPassword}

// noSecrets fails when out holds the scheduler's password, its Basic
// header or the Consul token.
func noSecrets(t *testing.T, what, out string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPassword))
	for _, secret := range []string{authPassword, basic, authToken} {
		if strings.Contains(out, secret) {
			t.Errorf("%s show a secret (%.4s...):\n%s", what, secret, out)
		}
	}
}

func debugLogger(logs *testenv.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestRunWithCredentials: against a scheduler that wants Basic credentials
// and a Consul with ACLs, the registrator works with both and says why it
// does not without them; no log line holds a secret.
func TestRunWithCredentials(t *testing.T) {
	consul := testenv.StartConsulWith(t, testenv.ConsulConfig{ManagementToken: authToken})
	client, err := NewConsulClient(ConsulConfig{Address: "http://" + consul.HTTPAddr, Token: authToken})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeMarathon(t)
	f.requireAuth(authUser, authPassword)
	f.setApps(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000))))
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(authToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONSUL_HTTP_TOKEN", "")
	config := func(logs *testenv.Buffer) Config {
		return Config{
			Schedulers:           []string{f.url()},
			SchedulerCredentials: authCreds,
			Consul:               ConsulConfig{Address: "http://" + consul.HTTPAddr},
			Mode:                 ModeCatalog,
			RetryMin:             20 * time.Millisecond,
			RetryMax:             200 * time.Millisecond,
			Logger:               debugLogger(logs),
		}
	}
	waitLogs := func(t *testing.T, logs *testenv.Buffer, want ...string) {
		t.Helper()
		eventually(t, consulTimeout, fmt.Sprintf("logs with %q", want), func() error {
			for _, w := range want {
				if !strings.Contains(logs.String(), w) {
					return fmt.Errorf("no %q in\n%s", w, logs.String())
				}
			}
			return nil
		})
	}

	t.Run("with credentials and the token from CONSUL_HTTP_TOKEN_FILE", func(t *testing.T) {
		t.Setenv("CONSUL_HTTP_TOKEN_FILE", tokenFile)
		var logs testenv.Buffer
		stop := runRegistrator(t, config(&logs))
		eventually(t, consulTimeout, "web registered", func() error {
			entries, _, err := client.Catalog().Service("web", DefaultOwner, nil)
			if err != nil {
				return err
			}
			if len(entries) != 1 {
				return fmt.Errorf("%d entries, want 1", len(entries))
			}
			return nil
		})
		eventually(t, consulTimeout, "the event stream", func() error {
			if f.openStreams() == 0 {
				return fmt.Errorf("no stream open")
			}
			return nil
		})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "the logs", logs.String())
		if err := client.Agent().ServiceDeregister("web.1:10000"); err != nil {
			t.Logf("cleanup: %v", err)
		}
		if _, err := client.Catalog().Deregister(&api.CatalogDeregistration{Node: "stadion-h1"}, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("without scheduler credentials", func(t *testing.T) {
		t.Setenv("CONSUL_HTTP_TOKEN_FILE", tokenFile)
		var logs testenv.Buffer
		cfg := config(&logs)
		cfg.SchedulerCredentials = clientauth.Credentials{}
		stop := runRegistrator(t, cfg)
		waitLogs(t, &logs, "reading the scheduler failed", "401 Unauthorized", "credentials missing or refused", "event stream lost")
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "the logs", logs.String())
	})
	t.Run("wrong scheduler password in the URL", func(t *testing.T) {
		t.Setenv("CONSUL_HTTP_TOKEN_FILE", tokenFile)
		var logs testenv.Buffer
		cfg := config(&logs)
		cfg.SchedulerCredentials = clientauth.Credentials{}
		cfg.Schedulers = []string{strings.Replace(f.url(), "http://", "http://"+authUser+":"+authToken+"@", 1)}
		stop := runRegistrator(t, cfg)
		waitLogs(t, &logs, "401 Unauthorized")
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// The token stands in for a wrong password here: it must not show.
		noSecrets(t, "the logs", logs.String())
	})
	t.Run("without the consul token", func(t *testing.T) {
		var logs testenv.Buffer
		stop := runRegistrator(t, config(&logs))
		waitLogs(t, &logs, "updating consul failed", "403")
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "the logs", logs.String())
		entries, _, err := client.Catalog().Service("web", DefaultOwner, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("registered without a token: %v", entries)
		}
	})
}

// TestClientRedirectCredentials: a standby's redirect to a leader among
// the URLs given keeps the credentials; to any other host it drops them.
func TestClientRedirectCredentials(t *testing.T) {
	leader := newFakeMarathon(t)
	leader.requireAuth(authUser, authPassword)
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, leader.url()+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(standby.Close)
	newClient := func(t *testing.T, logs *testenv.Buffer, urls ...string) *Client {
		c, err := NewClient(ClientConfig{URLs: urls, Credentials: authCreds, RequestTimeout: 5 * time.Second,
			IdleTimeout: 5 * time.Second, RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, Logger: debugLogger(logs)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("to a host not given", func(t *testing.T) {
		var logs testenv.Buffer
		before := len(leader.authorizations())
		c := newClient(t, &logs, standby.URL)
		_, err := c.Apps(t.Context())
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("error %v, want a 401", err)
		}
		ch := follow(t, c)
		eventually(t, consulTimeout, "a refused stream", func() error {
			if !strings.Contains(logs.String(), "event stream lost") {
				return fmt.Errorf("logs:\n%s", logs.String())
			}
			return nil
		})
		select {
		case n := <-ch:
			t.Errorf("notice %+v from a stream that needs credentials", n)
		default:
		}
		got := leader.authorizations()[before:]
		if len(got) < 2 {
			t.Fatalf("the leader saw %d requests, want the redirected read and stream", len(got))
		}
		for _, a := range got {
			if a != "" {
				t.Errorf("the leader, not given, received Authorization %q", a)
			}
		}
		noSecrets(t, "the error", err.Error())
		noSecrets(t, "the logs", logs.String())
	})
	t.Run("to a host given", func(t *testing.T) {
		var logs testenv.Buffer
		c := newClient(t, &logs, standby.URL, leader.url())
		if _, err := c.Apps(t.Context()); err != nil {
			t.Fatal(err)
		}
		ch := follow(t, c)
		if n := next(t, ch); !n.Connected || !strings.HasPrefix(n.URL, leader.url()) {
			t.Errorf("notice %+v, want a connection to the leader", n)
		}
		noSecrets(t, "the logs", logs.String())
	})
}
