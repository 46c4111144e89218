package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/testenv"
)

// record copies GET /v2/events into a buffer until the test ends.
func (e *env) record() *testenv.Buffer {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/v2/events", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	buf := &testenv.Buffer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(buf, res.Body)
	}()
	e.t.Cleanup(func() {
		cancel()
		res.Body.Close()
		<-done
	})
	return buf
}

func randomValue(t *testing.T, prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// TestSecrets runs an app whose env refers to a secret in Consul KV and
// one in a file under --secrets_dir: the task sees both values, and no API
// answer, event, log line or the state store shows either.
func TestSecrets(t *testing.T) {
	consul := testenv.StartConsul(t)
	kv, err := api.NewClient(&api.Config{Address: consul.HTTPAddr})
	if err != nil {
		t.Fatal(err)
	}
	dbPassword, apiToken, later := randomValue(t, "db-"), randomValue(t, "tok-"), randomValue(t, "later-")
	if _, err := kv.KV().Put(&api.KVPair{Key: "apps/db/password", Value: []byte(dbPassword)}, nil); err != nil {
		t.Fatal(err)
	}
	secretsDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(secretsDir, "api"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secretsDir, "api", "token"), []byte(apiToken), 0o600); err != nil {
		t.Fatal(err)
	}

	logs := &testenv.Buffer{}
	cfg := testConfig(t)
	cfg.SecretsDir, cfg.SecretsConsulAddr = secretsDir, consul.HTTPAddr
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	e := &env{t: t, srv: srv, url: srv.URL()}
	events := e.record()

	var answers []string
	get := func(path string) {
		answers = append(answers, path+": "+string(e.want(e.do(http.MethodGet, path, ""), http.StatusOK).body))
	}
	body := `{"id": "/secret/app", "cmd": "echo \"db=$DB_PASSWORD tok=$API_TOKEN\"; sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1,
		"env": {"PLAIN": "x", "DB_PASSWORD": {"secret": "db"}, "API_TOKEN": {"secret": "tok"}},
		"secrets": {"db": {"source": "consul:apps/db/password"}, "tok": {"source": "file:api/token"}}}`
	answers = append(answers, string(e.want(e.do(http.MethodPost, "/v2/apps", body), http.StatusCreated).body))
	a := e.running("/secret/app", 1)
	e.eventually("the task prints its secrets", func() error {
		want := "db=" + dbPassword + " tok=" + apiToken + "\n"
		if got := e.taskStdout(cfg.DataDir, a.Tasks[0].ID); got != want {
			return fmt.Errorf("stdout %q, want %q", got, want)
		}
		return nil
	})

	// A secret that is not there yet: the instance waits, then launches
	// once the key exists.
	body = `{"id": "/secret/later", "cmd": "echo \"v=$V\"; sleep 1000", "cpus": 0.1, "mem": 16, "instances": 1,
		"env": {"V": {"secret": "v"}}, "secrets": {"v": {"source": "consul:apps/later"}}}`
	e.want(e.do(http.MethodPost, "/v2/apps", body), http.StatusCreated)
	e.eventually("the fetch of the missing key failed", func() error {
		if !strings.Contains(logs.String(), "cannot resolve secret") {
			return fmt.Errorf("no failure logged yet")
		}
		return nil
	})
	if got := e.getApp("/secret/later"); got.TasksRunning+got.TasksStaged != 0 {
		t.Fatalf("app launched without its secret: %+v", got)
	}
	if _, err := kv.KV().Put(&api.KVPair{Key: "apps/later", Value: []byte(later)}, nil); err != nil {
		t.Fatal(err)
	}
	l := e.running("/secret/later", 1)
	e.eventually("the later task prints its secret", func() error {
		if got := e.taskStdout(cfg.DataDir, l.Tasks[0].ID); got != "v="+later+"\n" {
			return fmt.Errorf("stdout %q", got)
		}
		return nil
	})

	for _, p := range []string{
		"/v2/apps", "/v2/apps/secret/app", "/v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure&embed=apps.deployments",
		"/v2/apps/secret/app/versions", "/v2/apps/secret/app/versions/" + a.Version, "/v2/apps/secret/app/tasks",
		"/v2/tasks", "/v2/groups?embed=group.apps.tasks", "/v2/deployments", "/v2/queue", "/v2/info",
	} {
		get(p)
	}
	// The built-in master's and agents' state endpoints.
	cluster := srv.Cluster()
	urls := []string{cluster.URL() + "/master/state"}
	for _, a := range cluster.Agents {
		urls = append(urls, a.URL()+"/state")
	}
	for _, u := range urls {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
		}
		answers = append(answers, u+": "+string(b))
	}
	if !strings.Contains(answers[2], `"DB_PASSWORD":{"secret":"db"}`) || !strings.Contains(answers[2], `"source":"consul:apps/db/password"`) {
		t.Errorf("the app does not show its secret reference: %s", answers[2])
	}
	db, err := os.ReadFile(filepath.Join(cfg.DataDir, "stadion.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []string{dbPassword, apiToken, later} {
		for _, ans := range answers {
			if strings.Contains(ans, value) {
				t.Errorf("an API answer shows a secret value: %s", ans)
			}
		}
		if strings.Contains(events.String(), value) {
			t.Errorf("the event stream shows a secret value")
		}
		if strings.Contains(logs.String(), value) {
			t.Errorf("the logs show a secret value")
		}
		if bytes.Contains(db, []byte(value)) {
			t.Errorf("the state store holds a secret value")
		}
	}
	if !strings.Contains(events.String(), "status_update_event") {
		t.Errorf("the recorded event stream has no status updates: %.300s", events.String())
	}
}

func TestFileSecretsNeedSecretsDir(t *testing.T) {
	e := start(t)
	body := `{"id": "/f", "cmd": "sleep 1000", "env": {"P": {"secret": "p"}}, "secrets": {"p": {"source": "file:p"}}}`
	var msg struct {
		Message string `json:"message"`
		Details []struct {
			Path   string   `json:"path"`
			Errors []string `json:"errors"`
		} `json:"details"`
	}
	e.wantJSON(e.do(http.MethodPost, "/v2/apps", body), http.StatusUnprocessableEntity, &msg)
	if len(msg.Details) != 1 || msg.Details[0].Path != "/secrets/p/source" || !strings.Contains(strings.Join(msg.Details[0].Errors, ""), "--secrets_dir") {
		t.Errorf("422 body %+v", msg)
	}
}
