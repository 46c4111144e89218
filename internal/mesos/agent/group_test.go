package agent

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

const testExecutor = "instance-web.u1"

// runGroup launches tasks as one LAUNCH_GROUP under a DEFAULT executor, one
// Run per task as the master sends them.
func runGroup(t *testing.T, a *Agent, tasks ...mesos.TaskInfo) {
	t.Helper()
	fw := mesos.FrameworkInfo{ID: &mesos.FrameworkID{Value: testFramework}, User: "root", Name: "test",
		Capabilities: []mesos.Capability{{Type: mesos.CapabilityTaskKillingState}}}
	exec := mesos.ExecutorInfo{Type: mesos.ExecutorDefault, ExecutorID: mesos.ExecutorID{Value: testExecutor},
		FrameworkID: &mesos.FrameworkID{Value: testFramework}, Container: &mesos.ContainerInfo{Type: mesos.ContainerMesos}}
	var ids []mesos.TaskID
	for _, ti := range tasks {
		ids = append(ids, ti.TaskID)
	}
	for _, ti := range tasks {
		r := cluster.Run{FrameworkID: mesos.FrameworkID{Value: testFramework}, FrameworkInfo: fw, Task: ti, Executor: &exec, Group: ids}
		if code := post(t, a, cluster.PathRun, r); code != http.StatusAccepted {
			t.Fatalf("run of %s answered %d", ti.TaskID.Value, code)
		}
	}
}

// withVolume mounts the group's ephemeral volume "shared" at path.
func withVolume(ti mesos.TaskInfo, path string) mesos.TaskInfo {
	src, _ := json.Marshal(mesos.VolumeSource{Type: mesos.VolumeSourceSandboxPath,
		SandboxPath: &mesos.SandboxPathSource{Type: mesos.SandboxPathParent, Path: "volumes/shared"}})
	ti.Container = &mesos.ContainerInfo{Type: mesos.ContainerMesos, Volumes: []mesos.Volume{{ContainerPath: path, Mode: "RW", Source: src}}}
	return ti
}

// awaitStates acknowledges the updates of the group's tasks, in whatever
// order they come, until each task has reached its wanted state, and
// returns the statuses by task and state.
func awaitStates(t *testing.T, m *fakeMaster, a *Agent, want map[string]mesos.TaskState) map[string]map[mesos.TaskState]mesos.TaskStatus {
	t.Helper()
	seen := map[string]map[mesos.TaskState]mesos.TaskStatus{}
	done := func() bool {
		for id, st := range want {
			if _, ok := seen[id][st]; !ok {
				return false
			}
		}
		return true
	}
	for !done() {
		u := m.next(t)
		id := u.Status.TaskID.Value
		if seen[id] == nil {
			seen[id] = map[mesos.TaskState]mesos.TaskStatus{}
		}
		seen[id][u.Status.State] = u.Status
		if u.Status.State.Terminal() && u.Status.State != want[id] {
			t.Fatalf("%s ended %s (%q), want %s", id, u.Status.State, u.Status.Message, want[id])
		}
		ack(t, a, u.Status)
	}
	return seen
}

func TestTaskGroupSharesSandboxAndVolume(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	writer := withVolume(shellTask("web.server", `echo "exec=$MESOS_EXECUTOR_ID" > data/msg; sleep 30`), "data")
	reader := withVolume(shellTask("web.sidecar", `until [ -s in/msg ]; do sleep 0.05; done; cat in/msg`), "in")
	runGroup(t, a, writer, reader)
	seen := awaitStates(t, m, a, map[string]mesos.TaskState{"web.server": mesos.TaskRunning, "web.sidecar": mesos.TaskFinished})
	running := seen["web.server"][mesos.TaskRunning]
	if running.ExecutorID.Value != testExecutor {
		t.Errorf("executor id of the status = %q, want %q", running.ExecutorID.Value, testExecutor)
	}
	// A task that finishes leaves the others running.
	if _, ok := seen["web.server"][mesos.TaskKilled]; ok {
		t.Fatal("the server was killed when the sidecar finished")
	}
	runs := filepath.Join(a.cfg.WorkDir, "slaves", "agent-1", "frameworks", testFramework, "executors", testExecutor, "runs")
	entries, err := os.ReadDir(runs)
	if err != nil || len(entries) != 1 {
		t.Fatalf("executor runs: %v %v", entries, err)
	}
	exec := filepath.Join(runs, entries[0].Name())
	out, err := os.ReadFile(filepath.Join(exec, "tasks", "web.sidecar", "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "exec="+testExecutor+"\n" {
		t.Errorf("sidecar read %q through the shared volume", out)
	}
	if _, err := os.Stat(filepath.Join(exec, "volumes", "shared", "msg")); err != nil {
		t.Errorf("the volume is not in the executor's sandbox: %v", err)
	}
	kill(t, a, "web.server", 0)
	awaitStates(t, m, a, map[string]mesos.TaskState{"web.server": mesos.TaskKilled})
}

func TestTaskGroupKilledTogether(t *testing.T) {
	tests := []struct {
		name string
		// second is the second task's command; killFirst kills the first
		// task once both run.
		second    string
		killFirst bool
		want      map[string]mesos.TaskState
		message   string
	}{
		{name: "failing container", second: "sleep 0.3; exit 3",
			want: map[string]mesos.TaskState{"g.a": mesos.TaskKilled, "g.b": mesos.TaskFailed}, message: "Command exited with status 3"},
		{name: "killed container", second: "sleep 30", killFirst: true,
			want: map[string]mesos.TaskState{"g.a": mesos.TaskKilled, "g.b": mesos.TaskKilled}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeMaster(t)
			a := startAgent(t, m, nil)
			runGroup(t, a, shellTask("g.a", "sleep 30"), shellTask("g.b", tc.second))
			awaitStates(t, m, a, map[string]mesos.TaskState{"g.a": mesos.TaskRunning, "g.b": mesos.TaskRunning})
			if tc.killFirst {
				kill(t, a, "g.a", 0)
			}
			seen := awaitStates(t, m, a, tc.want)
			if tc.message != "" && seen["g.b"][mesos.TaskFailed].Message != tc.message {
				t.Errorf("failure message %q", seen["g.b"][mesos.TaskFailed].Message)
			}
			waitFor(t, "the group to be forgotten", func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				return len(a.groups) == 0 && len(a.tasks) == 0
			})
		})
	}
}

func TestTaskGroupAbsoluteVolume(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	runGroup(t, a, shellTask("g.a", "sleep 30"), withVolume(shellTask("g.b", "true"), "/data"))
	seen := awaitStates(t, m, a, map[string]mesos.TaskState{"g.a": mesos.TaskKilled, "g.b": mesos.TaskFailed})
	if msg := seen["g.b"][mesos.TaskFailed].Message; !strings.Contains(msg, "an absolute container path needs a container image") {
		t.Errorf("message %q", msg)
	}
}
