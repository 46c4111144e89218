package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// TestCheckpointFollowsTask checks the checkpoint of a command task: written
// with the process's pid, start time and boot id once it runs, and removed
// once its terminal update is acknowledged; the agent id is kept too.
func TestCheckpointFollowsTask(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	run(t, a, shellTask("t1", "sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	running := m.expectAck(t, a, "t1", mesos.TaskRunning)
	path := a.taskPath(taskKey{framework: testFramework, task: "t1"})
	var ck taskCheckpoint
	waitFor(t, "the checkpoint of the running task", func() bool {
		data, err := os.ReadFile(path)
		ck = taskCheckpoint{}
		return err == nil && json.Unmarshal(data, &ck) == nil && ck.Latest.State == mesos.TaskRunning && len(ck.Pending) == 0
	})
	pid := int(running.ContainerStatus.ExecutorPID)
	if ck.PID != pid || ck.StartTime != procStartTime(pid) || ck.BootID != bootID() || ck.Containerizer != ContainerizerMesos ||
		ck.FrameworkID.Value != testFramework || ck.Task.TaskID.Value != "t1" || !ck.KillingState {
		t.Errorf("checkpoint %+v, want pid %d with its start time, this boot, framework %s, task t1", ck, pid, testFramework)
	}
	var ack agentCheckpoint
	if data, err := os.ReadFile(a.metaPath(agentFile)); err != nil || json.Unmarshal(data, &ack) != nil || ack.AgentID != "agent-1" {
		t.Errorf("agent checkpoint %+v (%v), want agent-1", ack, err)
	}
	kill(t, a, "t1", 0)
	m.expectAck(t, a, "t1", mesos.TaskKilling)
	m.expectAck(t, a, "t1", mesos.TaskKilled)
	waitFor(t, "the checkpoint removed", func() bool {
		_, err := os.Stat(path)
		return errors.Is(err, fs.ErrNotExist)
	})
}

// TestRecoverFromCheckpoint starts an agent on a work dir that a previous
// run left with one task, whose process is in the state each case sets up.
func TestRecoverFromCheckpoint(t *testing.T) {
	tests := []struct {
		name    string
		recover string
		// proc is the task's process at the restart: running, ended,
		// reused (a live process with the task's pid but another start
		// time), unrecorded (running, its pid not checkpointed).
		proc string
		// state is the terminal update the task gets; "" when the agent
		// re-attaches to it.
		state   mesos.TaskState
		message string
		// alive is whether the process lives after the restart.
		alive   bool
		agentID string
	}{
		{name: "reconnect to running", recover: RecoverReconnect, proc: "running", alive: true, agentID: "agent-7"},
		{name: "reconnect ended", recover: RecoverReconnect, proc: "ended", state: mesos.TaskFailed,
			message: "Command ended while the agent was down; its exit status is unknown", agentID: "agent-7"},
		{name: "reconnect pid reused", recover: RecoverReconnect, proc: "reused", state: mesos.TaskFailed,
			message: "Command ended while the agent was down; its exit status is unknown", alive: true, agentID: "agent-7"},
		{name: "reconnect launch cut", recover: RecoverReconnect, proc: "unrecorded", state: mesos.TaskFailed,
			message: msgLaunchCut, agentID: "agent-7"},
		{name: "cleanup", recover: RecoverCleanup, proc: "running", agentID: ""},
		{name: "cleanup launch cut", recover: RecoverCleanup, proc: "unrecorded", agentID: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			workDir := t.TempDir()
			sandbox := filepath.Join(workDir, "slaves", "agent-7", "frameworks", testFramework, "executors", "t1", "runs", "c1")
			if err := os.MkdirAll(sandbox, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sleep", "60")
			cmd.Dir = sandbox
			cmd.Env = []string{"MESOS_DIRECTORY=" + sandbox}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := cmd.Process.Pid
			start := procStartTime(pid)
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL); <-exited })

			info := shellTask("t1", "sleep 60")
			ck := taskCheckpoint{
				FrameworkID: mesos.FrameworkID{Value: testFramework}, Task: info, Containerizer: ContainerizerMesos,
				ContainerID: "c1", Sandbox: sandbox, GraceNanos: int64(DefaultKillGracePeriod),
				PID: pid, StartTime: start, BootID: bootID(),
				Latest: mesos.TaskStatus{TaskID: info.TaskID, State: mesos.TaskRunning, UUID: newUUID()},
			}
			switch tc.proc {
			case "ended":
				syscall.Kill(-pid, syscall.SIGKILL)
				<-exited
			case "reused":
				ck.StartTime = start + 1
			case "unrecorded":
				ck.PID, ck.StartTime = 0, 0
				ck.Latest.State = mesos.TaskStarting
			}
			writeJSON(t, filepath.Join(workDir, metaDir, agentFile), agentCheckpoint{AgentID: "agent-7"})
			writeJSON(t, filepath.Join(workDir, metaDir, tasksDir, testFramework, "t1.json"), ck)

			m := newFakeMaster(t)
			a := startAgent(t, m, func(c *Config) { c.WorkDir, c.Recover = workDir, tc.recover })
			reg := m.nextRegister(t)
			if reg.AgentID != tc.agentID {
				t.Errorf("registered with agent id %q, want %q", reg.AgentID, tc.agentID)
			}
			if alive := procAlive(pid, start); alive != tc.alive {
				t.Errorf("process alive %t after the restart, want %t", alive, tc.alive)
			}
			if tc.recover == RecoverCleanup {
				if len(reg.Tasks) != 0 {
					t.Errorf("registered with tasks %+v after cleanup", reg.Tasks)
				}
				if _, err := os.Stat(filepath.Join(workDir, metaDir, tasksDir)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("task checkpoints left after cleanup: %v", err)
				}
				return
			}
			want := tc.state
			if want == "" {
				want = mesos.TaskRunning
			}
			if len(reg.Tasks) != 1 || reg.Tasks[0].Status.State != want || reg.Tasks[0].Info.TaskID.Value != "t1" {
				t.Fatalf("registered with tasks %+v, want t1 %s", reg.Tasks, want)
			}
			if tc.state == "" {
				if got := a.State().Tasks; len(got) != 1 || got[0].State != mesos.TaskRunning {
					t.Errorf("agent state %+v, want t1 running", got)
				}
				kill(t, a, "t1", 0)
				tc.state, tc.message = mesos.TaskKilled, "Command ended after it was signalled to stop"
			}
			st := m.expectAck(t, a, "t1", tc.state)
			if st.Message != tc.message {
				t.Errorf("message %q, want %q", st.Message, tc.message)
			}
			if tc.state == mesos.TaskFailed && (st.Reason != mesos.ReasonExecutorTerminated || st.Source != mesos.SourceAgent) {
				t.Errorf("update from %s with reason %s, want from the agent with %s", st.Source, st.Reason, mesos.ReasonExecutorTerminated)
			}
			waitFor(t, "the task forgotten and its checkpoint removed", func() bool {
				_, err := os.Stat(a.taskPath(taskKey{framework: testFramework, task: "t1"}))
				return len(a.State().Tasks) == 0 && errors.Is(err, fs.ErrNotExist)
			})
			if alive := procAlive(pid, start); alive != (tc.proc == "reused") {
				t.Errorf("process alive %t at the end, want %t", alive, tc.proc == "reused")
			}
		})
	}
}

// TestReadProcStat reads this process's /proc stat and tells it from a
// reused pid.
func TestReadProcStat(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.start == 0 || st.pgid != syscall.Getpgrp() || !strings.ContainsRune("RS", rune(st.state)) {
		t.Errorf("stat %+v, want a start time, pgid %d and a live state", st, syscall.Getpgrp())
	}
	tests := []struct {
		name  string
		pid   int
		start uint64
		alive bool
	}{
		{name: "this process", pid: os.Getpid(), start: st.start, alive: true},
		{name: "reused pid", pid: os.Getpid(), start: st.start + 1, alive: false},
		{name: "no start time", pid: os.Getpid(), start: 0, alive: false},
		{name: "no such pid", pid: 1 << 30, start: st.start, alive: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := procAlive(tc.pid, tc.start); got != tc.alive {
				t.Errorf("procAlive = %t, want %t", got, tc.alive)
			}
		})
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		t.Fatal(err)
	}
}

// TestWaitExit waits for the end of a process through its pidfd: with a
// poll interval of an hour, only the pidfd can see the end in time.
func TestWaitExit(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	reaped := make(chan struct{})
	go func() { cmd.Wait(); close(reaped) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-reaped })
	start := procStartTime(pid)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := waitExit(ctx, pid, start, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waitExit of a live process = %v, want the context's deadline", err)
	}

	done := make(chan error, 1)
	go func() { done <- waitExit(t.Context(), pid, start, time.Hour) }()
	cmd.Process.Kill()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("waitExit = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("waitExit did not see the end of the process")
	}
}
