package agent

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// postAs sends a cluster message with the Authorization header auth ("" for
// none) and returns the status code.
func postAs(t *testing.T, a *Agent, path, auth string, body any) int {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.URL()+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAgentRefusesCallsNotFromItsMaster: a process that reaches the agent's
// port but lacks the token the agent gave its master can neither run, kill
// nor acknowledge.
func TestAgentRefusesCallsNotFromItsMaster(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	marker := filepath.Join(t.TempDir(), "pwned")
	cmd := "touch " + marker
	run := cluster.Run{
		FrameworkID:   mesos.FrameworkID{Value: testFramework},
		FrameworkInfo: mesos.FrameworkInfo{User: "root", Name: "attacker"},
		Task:          shellTask("evil", cmd),
	}
	calls := []struct {
		path string
		body any
	}{
		{path: cluster.PathRun, body: run},
		{path: cluster.PathKill, body: cluster.Kill{FrameworkID: run.FrameworkID, TaskID: mesos.TaskID{Value: "evil"}}},
		{path: cluster.PathAck, body: cluster.Ack{FrameworkID: run.FrameworkID, TaskID: mesos.TaskID{Value: "evil"}, UUID: make([]byte, 16)}},
		{path: cluster.PathAcks, body: cluster.Acks{Acks: []cluster.Ack{{FrameworkID: run.FrameworkID, TaskID: mesos.TaskID{Value: "evil"}, UUID: make([]byte, 16)}}}},
		{path: cluster.PathShutdown, body: cluster.Shutdown{FrameworkID: run.FrameworkID}},
		{path: cluster.PathPing, body: cluster.Ping{AgentID: a.ID()}},
	}
	for _, c := range calls {
		for _, auth := range []string{"", "Bearer guessed", "Basic " + a.token} {
			if code := postAs(t, a, c.path, auth, c.body); code != http.StatusUnauthorized {
				t.Errorf("%s with Authorization %q: %d, want 401", c.path, auth, code)
			}
		}
	}
	// The master's own launch goes through; the attacker's never ran.
	run2 := run
	run2.Task = shellTask("legit", "sleep 5")
	run2.FrameworkInfo.Principal = "stadion"
	if code := postAs(t, a, cluster.PathRun, "Bearer "+a.token, run2); code != http.StatusAccepted {
		t.Fatalf("run with the token: %d", code)
	}
	m.expect(t, "legit", mesos.TaskStarting)
	// The framework's principal is kept with the task, for a restarted
	// master to learn who owns it.
	a.mu.Lock()
	legit := a.tasks[taskKey{framework: testFramework, task: "legit"}]
	var reported []cluster.Task
	if legit != nil {
		reported = append(reported, cluster.Task{Principal: legit.principal})
	}
	a.mu.Unlock()
	if len(reported) != 1 || reported[0].Principal != "stadion" {
		t.Errorf("task principal %+v, want stadion", reported)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the refused task ran: %v", err)
	}
	a.mu.Lock()
	_, evil := a.tasks[taskKey{framework: testFramework, task: "evil"}]
	a.mu.Unlock()
	if evil {
		t.Error("the refused task is known to the agent")
	}
}

// TestAgentRefusesInvalidIDs: ids are checked again at the agent, before a
// path is built from them, even when the call comes from the master.
func TestAgentRefusesInvalidIDs(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	tests := []struct {
		name        string
		frameworkID string
		taskID      string
		executor    string
	}{
		{name: "task id climbs out", frameworkID: testFramework, taskID: "../../../../escape"},
		{name: "task id is ..", frameworkID: testFramework, taskID: ".."},
		{name: "framework id climbs out", frameworkID: "../../x", taskID: "t1"},
		{name: "task id with NUL", frameworkID: testFramework, taskID: "a\x00b"},
		{name: "executor id climbs out", frameworkID: testFramework, taskID: "t2", executor: `{"executor_id":{"value":"../e"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := shellTask(tc.taskID, "true")
			if tc.executor != "" {
				info.Executor = json.RawMessage(tc.executor)
			}
			run := cluster.Run{
				FrameworkID:   mesos.FrameworkID{Value: tc.frameworkID},
				FrameworkInfo: mesos.FrameworkInfo{User: "root", Name: "test"},
				Task:          info,
			}
			if code := postAs(t, a, cluster.PathRun, "Bearer "+a.token, run); code != http.StatusBadRequest {
				t.Errorf("run: %d, want 400", code)
			}
		})
	}
	// Nothing was created outside slaves/ in the work dir, nor above it.
	entries, err := os.ReadDir(a.cfg.WorkDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "slaves" && e.Name() != metaDir {
			t.Errorf("work dir holds %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(a.cfg.WorkDir), "escape")); !os.IsNotExist(err) {
		t.Errorf("a sandbox escaped the work dir: %v", err)
	}
	select {
	case u := <-m.updates:
		t.Errorf("update for a refused task: %+v", u)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSandboxWithin(t *testing.T) {
	tests := []struct {
		name    string
		sandbox string
		want    bool
	}{
		{name: "regular", sandbox: "/w/slaves/a/frameworks/f/executors/t/runs/c", want: true},
		{name: "parent task id", sandbox: "/w/slaves/a/frameworks/f/executors/../runs/c", want: false},
		{name: "outside", sandbox: "/w/slaves/a/frameworks/../../../../etc/runs/c", want: false},
		{name: "deeper", sandbox: "/w/slaves/a/frameworks/f/executors/t/x/runs/c", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sandboxWithin("/w/slaves", filepath.Clean(tc.sandbox)); got != tc.want {
				t.Errorf("sandboxWithin(%s) = %v, want %v", tc.sandbox, got, tc.want)
			}
		})
	}
}
