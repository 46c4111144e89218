package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// TestServeLocalAgentsAsMachines runs `stadion serve --master local` with
// two agents and --local_resources: the agents stand in for two machines,
// so an app with hostname:UNIQUE places both instances, one on each
// agent's own address, and the task ports come from each agent's share of
// the --local_resources ports (what the offers carried).
func TestServeLocalAgentsAsMachines(t *testing.T) {
	lo, _ := testenv.TaskPorts(t, 20)
	hi := lo + 19
	port := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(port)
	startStadion(t, "serve", "serve", "--master", "local", "--local_agents", "2", "--local_containerizers", "simulated",
		"--local_resources", fmt.Sprintf("cpus:1;mem:256;disk:64;ports:[%d-%d]", lo, hi),
		"--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port), "--data_dir", filepath.Join(t.TempDir(), "serve"))
	waitHTTP(t, api+"/ping")

	app := map[string]any{
		"id": "/spread", "cmd": "sleep 600", "cpus": 0.5, "mem": 32, "instances": 2,
		"constraints":     [][]string{{"hostname", "UNIQUE"}},
		"portDefinitions": []map[string]any{{"port": 0}},
	}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("create app: %d %s", code, body)
	}
	type task struct {
		Host  string `json:"host"`
		State string `json:"state"`
		Ports []int  `json:"ports"`
	}
	var tasks []task
	deadline := time.Now().Add(30 * time.Second)
	for {
		var body struct {
			App struct {
				Tasks []task `json:"tasks"`
			} `json:"app"`
		}
		getJSON(t, api+"/v2/apps/spread", &body)
		tasks = body.App.Tasks
		running := 0
		for _, tk := range tasks {
			if tk.State == "TASK_RUNNING" {
				running++
			}
		}
		if running == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/spread has tasks %+v; want 2 running, one per agent", tasks)
		}
		time.Sleep(100 * time.Millisecond) // poll until the deadline
	}
	// Agent i has address 127.0.0.(i+2) and the i-th half of the ports.
	shares := map[string][2]int{"127.0.0.2": {lo, lo + 9}, "127.0.0.3": {lo + 10, hi}}
	var hosts []string
	for _, tk := range tasks {
		hosts = append(hosts, tk.Host)
		share, ok := shares[tk.Host]
		if !ok || len(tk.Ports) != 1 || tk.Ports[0] < share[0] || tk.Ports[0] > share[1] {
			t.Errorf("task on %q with ports %v; want one port in that agent's share %v of --local_resources", tk.Host, tk.Ports, share)
		}
	}
	slices.Sort(hosts)
	if !slices.Equal(hosts, []string{"127.0.0.2", "127.0.0.3"}) {
		t.Errorf("tasks on hosts %v, want one on 127.0.0.2 and one on 127.0.0.3", hosts)
	}
}
