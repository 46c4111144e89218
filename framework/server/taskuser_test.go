package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/server"
)

// startShared starts serve with cfg edited, on a data dir other users can
// traverse (t.TempDir is 0700), as a task user must reach its sandbox.
func startShared(t *testing.T, edit func(*server.Config)) *env {
	t.Helper()
	cfg := testConfig(t)
	for _, d := range []string{filepath.Dir(cfg.DataDir), cfg.DataDir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	edit(&cfg)
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &env{t: t, srv: srv, url: srv.URL()}
}

// taskStdout is the stdout of the task in the built-in agents' sandboxes.
func (e *env) taskStdout(dataDir, taskID string) string {
	e.t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "mesos", "agent-*", "slaves", "*", "frameworks", "*", "executors", taskID, "runs", "*", "stdout"))
	if err != nil || len(files) != 1 {
		e.t.Fatalf("stdout of %s: %v %v", taskID, files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func TestTaskUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching the task user needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("user nobody: %v", err)
	}
	var dataDir string
	e := startShared(t, func(c *server.Config) { c.MesosUser, dataDir = "nobody", c.DataDir })
	for _, tc := range []struct {
		name string
		user string // the app's; "" runs as --mesos_user
	}{
		{name: "app user", user: "nobody"},
		{name: "mesos-user default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "/" + strings.ReplaceAll(tc.name, " ", "-")
			body := fmt.Sprintf(`{"id": %q, "cmd": "id -u; echo $HOME; sleep 1000", "user": %q, "cpus": 0.1, "mem": 16, "instances": 1}`, id, tc.user)
			e.want(e.do(http.MethodPost, "/v2/apps", body), http.StatusCreated)
			a := e.running(id, 1)
			want := nobody.Uid + "\n" + nobody.HomeDir + "\n"
			e.eventually("the task prints its uid", func() error {
				if got := e.taskStdout(dataDir, a.Tasks[0].ID); got != want {
					return fmt.Errorf("stdout %q, want %q", got, want)
				}
				return nil
			})
		})
	}
}

func TestTaskOfMissingUserFails(t *testing.T) {
	e := start(t)
	body := `{"id": "/ghost", "cmd": "sleep 1000", "user": "stadion-no-such-user", "cpus": 0.1, "mem": 16, "instances": 1}`
	e.want(e.do(http.MethodPost, "/v2/apps", body), http.StatusCreated)
	e.eventually("the task fails naming its user", func() error {
		var got struct {
			App struct {
				LastTaskFailure *struct {
					State   string `json:"state"`
					Message string `json:"message"`
				} `json:"lastTaskFailure"`
			} `json:"app"`
		}
		r := e.want(e.do(http.MethodGet, "/v2/apps/ghost", ""), http.StatusOK)
		if err := json.Unmarshal(r.body, &got); err != nil {
			return err
		}
		f := got.App.LastTaskFailure
		if f == nil {
			return fmt.Errorf("no lastTaskFailure")
		}
		if f.State != "TASK_FAILED" || !strings.Contains(f.Message, "'stadion-no-such-user'") {
			return fmt.Errorf("lastTaskFailure %+v", *f)
		}
		return nil
	})
}
