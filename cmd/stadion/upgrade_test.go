package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stadionhq/stadion/internal/testenv"
)

// upgradeTask is a task of /v2/apps/{id}?embed=app.tasks with its health.
type upgradeTask struct {
	ID                 string `json:"id"`
	Version            string `json:"version"`
	HealthCheckResults []struct {
		Alive bool `json:"alive"`
	} `json:"healthCheckResults"`
}

func (t upgradeTask) healthy() bool {
	return len(t.HealthCheckResults) > 0 && !slices.ContainsFunc(t.HealthCheckResults, func(r struct {
		Alive bool `json:"alive"`
	}) bool {
		return !r.Alive
	})
}

type upgradeApp struct {
	App struct {
		Version     string                `json:"version"`
		Tasks       []upgradeTask         `json:"tasks"`
		Deployments []struct{ ID string } `json:"deployments"`
	} `json:"app"`
}

// TestServeRestartMidDeployment kills `stadion serve` with SIGKILL in the
// middle of a rolling upgrade of tasks with HTTP health checks and starts
// it again on the same data dir: the stored health results show at once
// (the tasks it knew healthy do not turn unknown), and the upgrade
// completes with every task of the new version healthy.
func TestServeRestartMidDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	bin := testenv.TestServer(t)
	dir := t.TempDir()
	masterPort := testenv.FreePort(t)
	master := "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--work_dir", filepath.Join(dir, "master"), "--allocation_interval", "100ms")
	waitHTTP(t, "http://"+master+"/health")
	startStadion(t, "agent", "mesos", "agent", "--master", master, "--ip", "127.0.0.1",
		"--port", strconv.Itoa(testenv.FreePort(t)), "--work_dir", filepath.Join(dir, "agent"),
		"--resources", "cpus:4;mem:2048;disk:1024;ports:[29000-29199]")
	httpPort := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	args := []string{"serve", "--master", master, "--http_address", "127.0.0.1", "--http_port", strconv.Itoa(httpPort),
		"--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"), "--reconciliation_initial_delay", "500"}
	serve := startStadion(t, "serve", args...)
	waitHTTP(t, api+"/ping")

	app := func(release string) map[string]any {
		return map[string]any{
			"id": "/web", "cmd": bin, "cpus": 0.05, "mem": 16, "instances": 4,
			"env":             map[string]string{"RELEASE": release},
			"portDefinitions": []map[string]any{{"port": 0}},
			"healthChecks": []map[string]any{{"protocol": "HTTP", "path": "/healthcheck", "portIndex": 0,
				"gracePeriodSeconds": 10, "intervalSeconds": 2, "timeoutSeconds": 1, "delaySeconds": 0, "maxConsecutiveFailures": 3}},
			"upgradeStrategy": map[string]any{"minimumHealthCapacity": 0.75, "maximumOverCapacity": 0},
		}
	}
	get := func() upgradeApp {
		var a upgradeApp
		getJSON(t, api+"/v2/apps/web?embed=app.tasks", &a)
		return a
	}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app("1")); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	poll(t, "4 healthy tasks of release 1", func() error {
		a := get()
		if n := countHealthy(a); n != 4 || len(a.App.Tasks) != 4 || len(a.App.Deployments) != 0 {
			return fmt.Errorf("%d tasks, %d healthy, deployments %v", len(a.App.Tasks), n, a.App.Deployments)
		}
		return nil
	})

	code, body := doJSON(t, http.MethodPut, api+"/v2/apps/web", app("2"))
	if code != http.StatusOK {
		t.Fatalf("PUT /v2/apps/web: %d %s", code, body)
	}
	// 0.75/0 replaces one task at a time: wait until one new task is
	// healthy while old ones still run, then kill.
	var before upgradeApp
	poll(t, "the upgrade half done", func() error {
		before = get()
		newHealthy, old := 0, 0
		for _, task := range before.App.Tasks {
			switch {
			case task.Version != before.App.Version:
				old++
			case task.healthy():
				newHealthy++
			}
		}
		if newHealthy == 0 || old == 0 {
			return fmt.Errorf("%d new healthy, %d old", newHealthy, old)
		}
		return nil
	})
	if err := serve.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-serve.done
	startStadion(t, "serve again", args...)
	waitHTTP(t, api+"/ping")

	// The first answer already shows the health the tasks had.
	after := get()
	if len(after.App.Deployments) != 1 {
		t.Fatalf("deployments after the restart %v, want the upgrade still running", after.App.Deployments)
	}
	for _, task := range before.App.Tasks {
		if !task.healthy() {
			continue
		}
		i := slices.IndexFunc(after.App.Tasks, func(a upgradeTask) bool { return a.ID == task.ID })
		if i >= 0 && !after.App.Tasks[i].healthy() {
			t.Errorf("task %s was healthy before the kill and shows %+v right after the restart", task.ID, after.App.Tasks[i].HealthCheckResults)
		}
	}

	poll(t, "the upgrade done after the restart", func() error {
		a := get()
		for _, task := range a.App.Tasks {
			if task.Version != a.App.Version {
				return fmt.Errorf("task %s still runs %s", task.ID, task.Version)
			}
		}
		if n := countHealthy(a); n != 4 || len(a.App.Tasks) != 4 || len(a.App.Deployments) != 0 {
			return fmt.Errorf("%d tasks, %d healthy, deployments %v", len(a.App.Tasks), n, a.App.Deployments)
		}
		return nil
	})
}

func countHealthy(a upgradeApp) int {
	n := 0
	for _, task := range a.App.Tasks {
		if task.healthy() {
			n++
		}
	}
	return n
}
