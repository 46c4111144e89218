package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// TestServeReplacesUnreachableTasks kills an agent process with -9 under
// `stadion serve`: its tasks turn TASK_UNREACHABLE and, with the default
// unreachable strategy (0/0), the app is made whole again on the agent that
// is left.
func TestServeReplacesUnreachableTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	masterPort := testenv.FreePort(t)
	master := "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--agent_ping_timeout", "200ms", "--max_agent_ping_timeouts", "3", "--allocation_interval", "100ms")
	waitHTTP(t, "http://"+master+"/health")
	agents := map[int]*process{}
	for i := range 2 {
		port := testenv.FreePort(t)
		agents[port] = startStadion(t, fmt.Sprintf("agent%d", i), "mesos", "agent", "--master", master, "--ip", "127.0.0.1",
			"--port", strconv.Itoa(port), "--work_dir", filepath.Join(dir, fmt.Sprintf("agent%d", i)),
			"--resources", "cpus:2;mem:1024;disk:512;ports:[31000-31100]")
	}
	apiPort := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(apiPort)
	startStadion(t, "serve", "serve", "--master", master, "--http_address", "127.0.0.1", "--http_port", strconv.Itoa(apiPort),
		"--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"), "--max_instances_per_offer", "1")
	waitHTTP(t, api+"/ping")

	sleep := fmt.Sprintf("sleep 301.%d", apiPort)
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })
	app := map[string]any{"id": "/spread", "cmd": sleep, "cpus": 0.01, "mem": 8, "instances": 4}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	type task struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		SlaveID string `json:"slaveId"`
	}
	tasks := func() []task {
		var out struct {
			App struct {
				Tasks       []task `json:"tasks"`
				Deployments []any  `json:"deployments"`
			} `json:"app"`
		}
		getJSON(t, api+"/v2/apps/spread", &out)
		if len(out.App.Deployments) > 0 {
			return nil
		}
		return out.App.Tasks
	}
	var before []task
	poll(t, "4 tasks running", func() error {
		before = tasks()
		if n := countRunning(before, func(task) bool { return true }, func(x task) string { return x.State }); n != 4 {
			return fmt.Errorf("%d running", n)
		}
		return nil
	})

	// Kill the agent of the first task with -9.
	victim := before[0].SlaveID
	var st struct {
		Slaves []struct {
			ID  string `json:"id"`
			PID string `json:"pid"`
		} `json:"slaves"`
	}
	getJSON(t, "http://"+master+"/master/state", &st)
	var victimPort int
	for _, s := range st.Slaves {
		if s.ID == victim {
			victimPort, _ = strconv.Atoi(s.PID[strings.LastIndex(s.PID, ":")+1:])
		}
	}
	p := agents[victimPort]
	if p == nil {
		t.Fatalf("no agent process for %s (port %d)", victim, victimPort)
	}
	var lost []string
	for _, x := range before {
		if x.SlaveID == victim {
			lost = append(lost, x.ID)
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The dead agent's tasks keep running as orphans, as on a real
	// partitioned host; end them with the test.
	t.Cleanup(func() { killTaskProcesses(sleep) })

	poll(t, "4 tasks running on the agent that is left", func() error {
		now := tasks()
		if n := countRunning(now, func(x task) bool { return x.SlaveID != victim }, func(x task) string { return x.State }); n != 4 || len(now) != 4 {
			return fmt.Errorf("%d of %d tasks running elsewhere: %+v", n, len(now), now)
		}
		for _, x := range now {
			if slices.Contains(lost, x.ID) {
				return fmt.Errorf("unreachable task %s still listed", x.ID)
			}
		}
		return nil
	})
}

func countRunning[T any](ts []T, keep func(T) bool, state func(T) string) int {
	n := 0
	for _, x := range ts {
		if keep(x) && state(x) == "TASK_RUNNING" {
			n++
		}
	}
	return n
}

// poll calls check until it passes or 30 s pass.
func poll(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
