package agent

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

func TestRegister(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.Attributes = "rack:r1;zone:a" })
	reg := m.nextRegister(t)
	if reg.AgentID != "" {
		t.Errorf("first registration has agent id %q", reg.AgentID)
	}
	if reg.URL != a.URL() || reg.Hostname != "127.0.0.1" || reg.Port == 0 {
		t.Errorf("registration url %q hostname %q port %d, agent url %q", reg.URL, reg.Hostname, reg.Port, a.URL())
	}
	res := mesos.Resources(reg.Resources)
	if res.Scalar("cpus") != 4 || res.Scalar("mem") != 4096 || len(res.Ranges("ports")) != 1 {
		t.Errorf("resources = %s", res)
	}
	if len(reg.Attributes) != 2 || reg.Attributes[0].Name != "rack" {
		t.Errorf("attributes = %+v", reg.Attributes)
	}
	if a.ID() != "agent-1" {
		t.Errorf("ID() = %q", a.ID())
	}
}

func TestDerivedResources(t *testing.T) {
	res, err := agentResources("cpus:2", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res.Scalar("cpus") != 2 || res.Scalar("mem") < 256 || res.Scalar("disk") <= 0 {
		t.Errorf("resources = %s", res)
	}
	if r := res.Ranges("ports"); len(r) != 1 || r[0].Begin != 31000 || r[0].End != 32000 {
		t.Errorf("ports = %v", r)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "ok", cfg: Config{Master: "127.0.0.1:5050", WorkDir: "/tmp/x"}},
		{name: "zk", cfg: Config{Master: "zk://127.0.0.1:2181/mesos", WorkDir: "/tmp/x"}},
		{name: "no master", cfg: Config{WorkDir: "/tmp/x"}, wantErr: "master is required"},
		{name: "no work dir", cfg: Config{Master: "http://m:5050"}, wantErr: "work_dir is required"},
		{name: "bad containerizer", cfg: Config{Master: "m:5050", WorkDir: "/x", Containerizers: []string{"lxc"}}, wantErr: "unknown containerizer"},
		{name: "mesos and simulated", cfg: Config{Master: "m:5050", WorkDir: "/x", Containerizers: []string{"mesos", "simulated"}}, wantErr: "exclude each other"},
		{name: "bad resources", cfg: Config{Master: "m:5050", WorkDir: "/x", Resources: "cpus:x"}, wantErr: "cpus"},
		{name: "bad master", cfg: Config{Master: "ftp://m", WorkDir: "/x"}, wantErr: "want host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestPing(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	for _, tc := range []struct {
		name  string
		agent string
		want  int
	}{
		{name: "ours", agent: a.ID(), want: http.StatusOK},
		{name: "empty", agent: "", want: http.StatusOK},
		{name: "other", agent: "agent-9", want: http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(t, a, cluster.PathPing, cluster.Ping{MasterID: "master-1", AgentID: tc.agent}); got != tc.want {
				t.Errorf("ping answered %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReregisterWithTasksWhenPingsStop(t *testing.T) {
	m := newFakeMaster(t)
	m.pingTimeout = 0.05 // no ping for 0.25s: the master is gone
	a := startAgent(t, m, nil)
	m.nextRegister(t)
	run(t, a, shellTask("t1", "sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	for {
		reg := m.nextRegister(t)
		if reg.AgentID != "agent-1" {
			t.Fatalf("reregistration with agent id %q", reg.AgentID)
		}
		if len(reg.Tasks) == 1 && reg.Tasks[0].Status.State == mesos.TaskRunning {
			if reg.Tasks[0].FrameworkID.Value != testFramework || reg.Tasks[0].Info.TaskID.Value != "t1" {
				t.Fatalf("reregistered task = %+v", reg.Tasks[0])
			}
			return
		}
	}
}

func TestReregisterOnStatus404(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.StatusRetryMin = 50 * time.Millisecond })
	m.nextRegister(t)
	m.statusAnswer.Store(http.StatusNotFound)
	run(t, a, shellTask("t1", "sleep 30"))
	reg := m.nextRegister(t)
	if reg.AgentID != "agent-1" || len(reg.Tasks) != 1 {
		t.Fatalf("reregistration = %+v", reg)
	}
	// The refused update is delivered after the reregistration.
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expect(t, "t1", mesos.TaskRunning)
}

func TestUpdatesHeldUntilAckAndResent(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) {
		c.StatusRetryMin = 20 * time.Millisecond
		c.StatusRetryMax = 40 * time.Millisecond
	})
	run(t, a, shellTask("t1", "sleep 30"))
	st := m.expect(t, "t1", mesos.TaskStarting)
	if len(st.UUID) != 16 || st.Source != mesos.SourceExecutor || st.AgentID.Value != "agent-1" || st.ExecutorID.Value != "t1" || st.Timestamp == 0 {
		t.Fatalf("STARTING = %+v", st)
	}
	// Unacknowledged, the update comes again, and again; TASK_RUNNING waits.
	for range 3 {
		select {
		case u := <-m.resends:
			if string(u.Status.UUID) != string(st.UUID) {
				t.Fatalf("resent %s, want STARTING again", u.Status.State)
			}
		case <-time.After(wait):
			t.Fatal("STARTING was not resent")
		}
	}
	select {
	case u := <-m.updates:
		t.Fatalf("%s sent before STARTING was acknowledged", u.Status.State)
	default:
	}
	other := st
	other.UUID = newUUID()
	if code := ack(t, a, other); code != http.StatusConflict {
		t.Errorf("ack with a wrong uuid answered %d, want 409", code)
	}
	if code := ack(t, a, st); code != http.StatusAccepted {
		t.Fatalf("ack answered %d", code)
	}
	run := m.expect(t, "t1", mesos.TaskRunning)
	cs := run.ContainerStatus
	if cs == nil || cs.ContainerID == nil || cs.ContainerID.Value == "" || cs.ExecutorPID == 0 ||
		len(cs.NetworkInfos) != 1 || cs.NetworkInfos[0].IPAddresses[0].IPAddress != "127.0.0.1" {
		t.Fatalf("RUNNING container status = %+v", cs)
	}
}

// TestBatchedAcks checks /acks: each acknowledgement is taken as /ack takes
// it, those of unknown tasks or other uuids are ignored, and a batch over
// the bound is refused.
func TestBatchedAcks(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	run(t, a, shellTask("t1", "sleep 30"))
	st := m.expect(t, "t1", mesos.TaskStarting)
	fw := mesos.FrameworkID{Value: testFramework}
	batch := cluster.Acks{Acks: []cluster.Ack{
		{FrameworkID: fw, TaskID: mesos.TaskID{Value: "ghost"}, UUID: newUUID()},
		{FrameworkID: fw, TaskID: st.TaskID, UUID: newUUID()},
		{FrameworkID: fw, TaskID: st.TaskID, UUID: st.UUID},
	}}
	if code := post(t, a, cluster.PathAcks, batch); code != http.StatusAccepted {
		t.Fatalf("acks answered %d, want 202", code)
	}
	m.expect(t, "t1", mesos.TaskRunning)

	tooMany := cluster.Acks{Acks: make([]cluster.Ack, cluster.MaxAcks+1)}
	if code := post(t, a, cluster.PathAcks, tooMany); code != http.StatusBadRequest {
		t.Errorf("%d acks answered %d, want 400", len(tooMany.Acks), code)
	}
}

func TestCommandExit(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string
		state   mesos.TaskState
		message string
	}{
		{name: "true", cmd: "true", state: mesos.TaskFinished, message: "Command exited with status 0"},
		{name: "exit 3", cmd: "exit 3", state: mesos.TaskFailed, message: "Command exited with status 3"},
		{name: "not found", cmd: "no-such-command-here", state: mesos.TaskFailed, message: "Command exited with status 127"},
	}
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			run(t, a, shellTask(id, tc.cmd))
			m.expectAck(t, a, id, mesos.TaskStarting)
			m.expectAck(t, a, id, mesos.TaskRunning)
			st := m.expectAck(t, a, id, tc.state)
			if st.Message != tc.message {
				t.Errorf("message = %q, want %q", st.Message, tc.message)
			}
			waitFor(t, "the task to be forgotten", func() bool { return len(a.State().Tasks) == 0 })
		})
	}
}

func TestExecutableNotFound(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "")
	info.Command = &mesos.CommandInfo{Shell: new(false), Value: new("no-such-binary"), Arguments: []string{"no-such-binary"}}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	st := m.expect(t, "t1", mesos.TaskFailed)
	if st.Reason != mesos.ReasonContainerLaunchFailed || !strings.Contains(st.Message, "not found") {
		t.Errorf("FAILED reason %s message %q", st.Reason, st.Message)
	}
}

func TestExecWithoutShell(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "")
	info.Command = &mesos.CommandInfo{Shell: new(false), Value: new("sh"), Arguments: []string{"sh", "-c", "exit 4"}}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	if st := m.expect(t, "t1", mesos.TaskFailed); st.Message != "Command exited with status 4" {
		t.Errorf("message = %q", st.Message)
	}
}

func TestKill(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	run(t, a, shellTask("t1", "sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	running := m.expectAck(t, a, "t1", mesos.TaskRunning)
	kill(t, a, "t1", 0)
	m.expectAck(t, a, "t1", mesos.TaskKilling)
	st := m.expectAck(t, a, "t1", mesos.TaskKilled)
	if st.Message != "Command terminated with signal Terminated" {
		t.Errorf("message = %q", st.Message)
	}
	if err := syscall.Kill(int(running.ContainerStatus.ExecutorPID), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("task process still exists: %v", err)
	}
}

// TestKillWithoutTaskKillingState checks that a framework without
// TASK_KILLING_STATE gets no TASK_KILLING: the kill goes from TASK_RUNNING
// straight to TASK_KILLED, as with Mesos's executors.
func TestKillWithoutTaskKillingState(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	runFor(t, a, shellTask("t1", "sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	kill(t, a, "t1", 0)
	if st := m.next(t); st.Status.State != mesos.TaskKilled {
		t.Fatalf("update after the kill is %s, want %s", st.Status.State, mesos.TaskKilled)
	}
}

func TestKillEscalatesToSIGKILL(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	run(t, a, shellTask("t1", "trap '' TERM; echo ready; sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	sandbox := a.State().Tasks[0].Sandbox
	waitFor(t, "the trap to be set", func() bool {
		out, _ := os.ReadFile(filepath.Join(sandbox, "stdout"))
		return strings.Contains(string(out), "ready")
	})
	start := time.Now()
	kill(t, a, "t1", 300*time.Millisecond)
	m.expectAck(t, a, "t1", mesos.TaskKilling)
	st := m.expectAck(t, a, "t1", mesos.TaskKilled)
	if st.Message != "Command terminated with signal Killed" {
		t.Errorf("message = %q", st.Message)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("killed after %v, before the grace period", d)
	}
}

func TestKillUnknownTask(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	kill(t, a, "nope", 0)
}

func TestShutdownKillsFrameworkTasks(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	for _, id := range []string{"t1", "t2"} {
		run(t, a, shellTask(id, "sleep 30"))
	}
	other := cluster.Run{FrameworkID: mesos.FrameworkID{Value: "fw-2"}, Task: shellTask("o1", "sleep 30")}
	if code := post(t, a, cluster.PathRun, other); code != http.StatusAccepted {
		t.Fatalf("run answered %d", code)
	}
	waitFor(t, "the tasks to run", func() bool {
		n := 0
		for _, ts := range a.State().Tasks {
			if ts.State == mesos.TaskRunning {
				n++
			}
		}
		return n == 3
	})
	if code := post(t, a, cluster.PathShutdown, cluster.Shutdown{FrameworkID: mesos.FrameworkID{Value: testFramework}}); code != http.StatusAccepted {
		t.Fatalf("shutdown answered %d", code)
	}
	// Nobody acknowledges a removed framework's updates: its tasks are
	// killed and forgotten, the other framework's task keeps running.
	waitFor(t, "fw-1's tasks to be killed and forgotten", func() bool {
		states := map[string]mesos.TaskState{}
		for _, ts := range a.State().Tasks {
			states[ts.ID] = ts.State
		}
		_, t1 := states["t1"]
		_, t2 := states["t2"]
		return !t1 && !t2 && states["o1"] == mesos.TaskRunning
	})
	for {
		select {
		case u := <-m.updates:
			if u.FrameworkID.Value == testFramework && u.Status.State.Terminal() {
				t.Errorf("%s's %s reached the master after the shutdown", u.Status.TaskID.Value, u.Status.State)
			}
			continue
		default:
		}
		break
	}
}

func TestEnvironmentAndSandbox(t *testing.T) {
	t.Setenv("STADION_AGENT_ONLY", "leaked")
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", `echo "task=$MESOS_TASK_ID fw=$MESOS_FRAMEWORK_ID exec=$MESOS_EXECUTOR_ID foo=$FOO leak=$STADION_AGENT_ONLY"; echo "sandbox=$MESOS_SANDBOX dir=$MESOS_DIRECTORY endpoint=$MESOS_AGENT_ENDPOINT"; pwd; echo oops >&2`)
	info.Command.Environment = &mesos.Environment{Variables: []mesos.Variable{{Name: "FOO", Value: new("bar")}}}
	run(t, a, info)
	st := m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	m.expectAck(t, a, "t1", mesos.TaskFinished)
	sandbox := filepath.Join(a.cfg.WorkDir, "slaves", "agent-1", "frameworks", testFramework, "executors", "t1", "runs", st.ContainerStatus.ContainerID.Value)
	out, err := os.ReadFile(filepath.Join(sandbox, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	endpoint := strings.TrimPrefix(a.URL(), "http://")
	want := "task=t1 fw=fw-1 exec=t1 foo=bar leak=\n" +
		"sandbox=" + sandbox + " dir=" + sandbox + " endpoint=" + endpoint + "\n" +
		sandbox + "\n"
	if string(out) != want {
		t.Errorf("stdout =\n%s\nwant\n%s", out, want)
	}
	if errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr")); string(errOut) != "oops\n" {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestFetchURI(t *testing.T) {
	files := http.NewServeMux()
	files.HandleFunc("/dl/hello.sh", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("#!/bin/sh\necho fetched\n"))
	})
	srv := newHTTPServer(t, files)
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "./hello.sh")
	info.Command.URIs = []mesos.CommandURI{{Value: srv + "/dl/hello.sh", Executable: new(true)}}
	run(t, a, info)
	st := m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	m.expectAck(t, a, "t1", mesos.TaskFinished)
	sandbox := filepath.Join(a.cfg.WorkDir, "slaves", "agent-1", "frameworks", testFramework, "executors", "t1", "runs", st.ContainerStatus.ContainerID.Value)
	if out, _ := os.ReadFile(filepath.Join(sandbox, "stdout")); string(out) != "fetched\n" {
		t.Errorf("stdout = %q", out)
	}
}

func TestFetchFailure(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "true")
	info.Command.URIs = []mesos.CommandURI{{Value: "/no/such/file.txt"}}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	st := m.expect(t, "t1", mesos.TaskFailed)
	if st.Reason != mesos.ReasonContainerLaunchFailed || !strings.Contains(st.Message, "/no/such/file.txt") {
		t.Errorf("FAILED reason %s message %q", st.Reason, st.Message)
	}
}

func TestStopKillsTasks(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	run(t, a, shellTask("t1", "sleep 30 & sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	running := m.expectAck(t, a, "t1", mesos.TaskRunning)
	pgid := int(running.ContainerStatus.ExecutorPID)
	a.Stop()
	select {
	case <-a.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	// The background sleep, killed too, may stay a zombie for a moment
	// until init reaps it.
	waitFor(t, "the task's process group to end", func() bool {
		return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
	})
}

func TestDockerTaskWithoutDocker(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.Containerizers = []string{ContainerizerSimulated} })
	info := shellTask("d1", "")
	info.Command = &mesos.CommandInfo{Shell: new(false)}
	info.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker, Docker: &mesos.DockerInfo{Image: "busybox"}}
	run(t, a, info)
	st := m.expectAck(t, a, "d1", mesos.TaskFailed)
	if st.Reason != mesos.ReasonContainerLaunchFailed || st.Message != "docker containerizer not enabled" || st.Source != mesos.SourceAgent {
		t.Errorf("FAILED = %s %s %q", st.Source, st.Reason, st.Message)
	}
	waitFor(t, "the task to be forgotten", func() bool { return len(a.State().Tasks) == 0 })
}

func TestSimulated(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.Containerizers = []string{ContainerizerSimulated} })
	info := shellTask("s1", "exit 1")
	info.HealthCheck = &mesos.HealthCheck{Type: mesos.HealthCheckTCP, TCP: &mesos.TCPCheckInfo{Port: 1}}
	run(t, a, info)
	m.expectAck(t, a, "s1", mesos.TaskStarting)
	if st := m.expectAck(t, a, "s1", mesos.TaskRunning); st.ContainerStatus.ExecutorPID != 0 {
		t.Errorf("simulated task has pid %d", st.ContainerStatus.ExecutorPID)
	}
	if st := m.expectAck(t, a, "s1", mesos.TaskRunning); st.Healthy == nil || !*st.Healthy || st.Reason != mesos.ReasonTaskHealthCheckStatusUpdated {
		t.Errorf("health update = %+v", st)
	}
	kill(t, a, "s1", 0)
	m.expectAck(t, a, "s1", mesos.TaskKilling)
	if st := m.expectAck(t, a, "s1", mesos.TaskKilled); st.Message != "Command terminated with signal Terminated" {
		t.Errorf("message = %q", st.Message)
	}
}

func TestSimulatedMany(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.Containerizers = []string{ContainerizerSimulated} })
	const n = 1000
	for i := range n {
		run(t, a, shellTask("s"+strconv.Itoa(i), "sleep 1"))
	}
	running := 0
	for running < n {
		u := m.next(t)
		if code := ack(t, a, u.Status); code != http.StatusAccepted {
			t.Fatalf("ack answered %d", code)
		}
		if u.Status.State == mesos.TaskRunning {
			running++
		}
	}
}

// TestRunWhileFirstRegistrationInFlight covers the master offering a new
// agent before the agent has read the answer to its registration: the
// launch waits for the registration instead of being refused.
func TestRunWhileFirstRegistrationInFlight(t *testing.T) {
	m := newFakeMaster(t)
	m.holdRegister = make(chan struct{})
	release := sync.OnceFunc(func() { close(m.holdRegister) })
	t.Cleanup(release) // before the fake master closes, so that it can
	a := startAgentUnregistered(t, m, nil)
	m.nextRegister(t)

	info := shellTask("early", "sleep 30")
	info.AgentID = mesos.AgentID{Value: "agent-1"}
	answered := make(chan int, 1)
	go func() {
		answered <- post(t, a, cluster.PathRun, cluster.Run{FrameworkID: mesos.FrameworkID{Value: testFramework}, Task: info})
	}()
	// Nothing may answer while the registration is held (without the
	// wait, a 404 comes back at once).
	select {
	case code := <-answered:
		t.Fatalf("run answered %d before the agent knew its id", code)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	if code := <-answered; code != http.StatusAccepted {
		t.Fatalf("run during registration answered %d, want 202", code)
	}
	m.expect(t, "early", mesos.TaskStarting)
}
