package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestDockerApp deploys a DOCKER app in BRIDGE mode through /v2/apps with a
// Mesos-native HTTP health check: both tasks run in containers, turn
// healthy, and answer on the host ports the API reports.
func TestDockerApp(t *testing.T) {
	t.Parallel()
	image := testenv.WebServerImage(t)
	cfg := testConfig(t)
	cfg.LocalContainerizers = []string{"mesos", "docker"}
	srv, err := server.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	e := &env{t: t, srv: srv, url: srv.URL()}

	body := fmt.Sprintf(`{
	  "id": "/docker/web",
	  "instances": 2, "cpus": 0.1, "mem": 32,
	  "env": {"LISTEN_PORT": "8080"},
	  "container": {"type": "DOCKER", "docker": {"image": %q},
	                "portMappings": [{"containerPort": 8080, "hostPort": 0, "name": "http"}]},
	  "networks": [{"mode": "container/bridge"}],
	  "healthChecks": [{"protocol": "MESOS_HTTP", "path": "/", "portIndex": 0,
	                    "gracePeriodSeconds": 10, "intervalSeconds": 1, "timeoutSeconds": 2, "delaySeconds": 0}]
	}`, image)
	if r := e.want(e.do(http.MethodPost, "/v2/apps", body), http.StatusCreated); r.header.Get("Marathon-Deployment-Id") == "" {
		t.Fatalf("no Marathon-Deployment-Id on the create")
	}
	a := e.running("/docker/web", 2)

	e.eventually("both tasks healthy", func() error {
		var out struct {
			App struct {
				TasksHealthy int `json:"tasksHealthy"`
			} `json:"app"`
		}
		e.wantJSON(e.do(http.MethodGet, "/v2/apps/docker/web", ""), http.StatusOK, &out)
		if out.App.TasksHealthy != 2 {
			return fmt.Errorf("tasksHealthy %d", out.App.TasksHealthy)
		}
		return nil
	})
	for _, task := range a.Tasks {
		if len(task.Ports) != 1 || task.Ports[0] == 0 {
			t.Fatalf("task %s has host ports %v", task.ID, task.Ports)
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/", task.Ports[0])
		res, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "ok ") {
			t.Fatalf("GET %s: %d %q", url, res.StatusCode, b)
		}
	}

	// Deleting the app stops the containers.
	e.deployed(e.do(http.MethodDelete, "/v2/apps/docker/web", ""), http.StatusOK)
	e.idle()
	for _, task := range a.Tasks {
		url := fmt.Sprintf("http://127.0.0.1:%d/", task.Ports[0])
		e.eventually("the container on "+url+" to stop", func() error {
			if res, err := http.Get(url); err == nil {
				res.Body.Close()
				return fmt.Errorf("still answering")
			}
			return nil
		})
	}
}
