package agent

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Messages of the terminal updates a restarted agent makes for the tasks it
// finds ended.
const (
	msgEndedWhileDown = "%s ended while the agent was down; its exit status is unknown"
	msgEndedAdopted   = "%s ended; its exit status is unknown: the agent restarted since it launched the task"
	msgLaunchCut      = "Agent restarted while launching the task"
)

// Bounds of recovery.
const (
	// adoptedPollInterval is how often the agent looks in /proc for the
	// end of a process it did not start itself where pidfds are not
	// available, and for the end of killed process groups.
	adoptedPollInterval = 100 * time.Millisecond
	// cleanupWait bounds the wait for killed tasks to end in cleanup.
	cleanupWait = 10 * time.Second
)

// recoverTasks reads the checkpoints of a previous run in the work dir and
// deals with its tasks as Config.Recover says. It runs in Start, before the
// agent serves or registers.
//
// reconnect: the agent takes the old agent id, re-attaches to every task
// whose process or container still runs (same pid and start time, same
// boot; or the container, by id), and reports the others ended: TASK_FAILED
// (TASK_KILLED when a kill was under way) with REASON_EXECUTOR_TERMINATED
// from the agent. A command task's exit status is unknown then: its process
// was not the restarted agent's child, and nothing recorded the status.
// Updates the previous run had not had acknowledged are sent again.
//
// cleanup: the agent kills every task of the checkpoint (its process
// group, or its container), waits for them to end, drops the checkpoint and
// registers as a new agent.
func (a *Agent) recoverTasks() error {
	id, cks, err := a.loadCheckpoints()
	if err != nil {
		return err
	}
	if id == "" && len(cks) == 0 {
		return nil
	}
	if a.cfg.Recover == RecoverCleanup {
		a.cleanupTasks(cks)
		if err := os.RemoveAll(a.metaPath()); err != nil {
			return fmt.Errorf("remove checkpoint: %w", err)
		}
		a.log.Info("cleaned up the tasks of the previous run", "old_agent_id", id, "tasks", len(cks))
		return nil
	}
	a.mu.Lock()
	a.id, a.savedID = id, id
	var kills []func()
	adopted, ended := 0, 0
	for _, ck := range cks {
		t, kill := a.adoptLocked(ck)
		switch {
		case kill != nil:
			kills = append(kills, kill)
			adopted++
		case t.container != nil && !t.terminal:
			adopted++
		default:
			ended++
		}
	}
	all := make([]*task, 0, len(a.tasks))
	for _, t := range a.tasks {
		all = append(all, t)
	}
	a.mu.Unlock()
	for _, t := range all {
		a.saveTask(t)
	}
	for _, kill := range kills {
		kill()
	}
	a.log.Info("recovered the tasks of the previous run", "agent_id", id, "running", adopted, "ended", ended)
	return nil
}

// adoptLocked takes over a checkpointed task: it re-attaches to its
// container when it still runs, or generates its terminal update. kill,
// when not nil, carries on a kill the previous run had begun.
func (a *Agent) adoptLocked(ck taskCheckpoint) (*task, func()) {
	key := taskKey{framework: ck.FrameworkID.Value, task: ck.Task.TaskID.Value}
	t := &task{
		key:           key,
		frameworkID:   ck.FrameworkID,
		info:          ck.Task,
		containerID:   ck.ContainerID,
		sandbox:       ck.Sandbox,
		user:          ck.User,
		subject:       "Command",
		grace:         ck.grace(),
		killingState:  ck.KillingState,
		principal:     ck.Principal,
		killing:       ck.Killing,
		healthKill:    ck.HealthKill,
		launched:      true,
		containerizer: ck.Containerizer,
		pid:           ck.PID,
		startTime:     ck.StartTime,
		bootID:        ck.BootID,
		dockerID:      ck.DockerID,
	}
	if ck.Containerizer == ContainerizerDocker {
		t.subject = "Container"
	}
	t.latest = ck.Latest
	t.pending = ck.Pending
	a.tasks[key] = t
	log := a.log.With("task_id", key.task, "framework_id", key.framework)
	if t.latest.State.Terminal() {
		// Ended before the crash: only its updates are left to deliver.
		t.terminal = true
		return t, nil
	}
	a.running.Add(1) // done by finishLocked
	exited := func(e Exit) { a.exited(t, e) }
	var ctr Container
	var gone *Exit
	switch ck.Containerizer {
	case ContainerizerDocker:
		ctr, gone = a.recoverContainer(ck, exited)
	default:
		ctr, gone = a.recoverProcess(ck, exited)
	}
	if gone != nil {
		log.Info("task ended while the agent was down", "message", gone.describe(t.subject))
		a.finishLocked(t, *gone)
		return t, nil
	}
	t.container = ctr
	log.Info("reconnected to task", "pid", ctr.PID(), "container_id", t.containerID)
	if t.killing {
		return t, func() { ctr.Kill(t.grace) }
	}
	if t.latest.State != mesos.TaskRunning {
		// The previous run died between the start and its TASK_RUNNING.
		a.enqueueLocked(t, a.statusLocked(t, mesos.TaskRunning, "", "", mesos.SourceExecutor))
	}
	a.startHealthLocked(t)
	return t, nil
}

// recoverProcess re-attaches to a command task's process, or returns how
// it ended.
func (a *Agent) recoverProcess(ck taskCheckpoint, exited func(Exit)) (Container, *Exit) {
	switch {
	case ck.PID == 0:
		// The previous run died between the checkpoint and the start, or
		// before it could record the pid: whatever was started is found
		// by its sandbox.
		killSandboxProcs(ck.Sandbox)
		return nil, &Exit{Code: -1, Message: msgLaunchCut, Reason: mesos.ReasonExecutorTerminated}
	case ck.BootID != a.bootID || !procAlive(ck.PID, ck.StartTime):
		if ck.BootID == a.bootID {
			signalGroup(ck.PID, ck.StartTime, syscall.SIGKILL) // what is left of its group
		}
		return nil, &Exit{Code: -1, Message: fmt.Sprintf(msgEndedWhileDown, "Command"), Reason: mesos.ReasonExecutorTerminated}
	}
	spec := Spec{
		Task:          ck.Task,
		FrameworkID:   ck.FrameworkID.Value,
		AgentID:       a.id,
		ContainerID:   ck.ContainerID,
		Sandbox:       ck.Sandbox,
		AgentEndpoint: a.endpoint,
	}
	p := &adoptedProcess{pid: ck.PID, start: ck.StartTime, sandbox: ck.Sandbox}
	if ck.User != "" {
		// Health checks run as the task's user; one that is gone by now
		// fails them rather than run them as the agent's.
		spec.account, p.accountErr = lookupAccount(ck.User)
	}
	p.env = baseEnv(spec)
	if ck.Task.Command != nil {
		p.env = mergeEnv(p.env, ck.Task.Command.Environment)
	}
	p.account = spec.account
	go p.watch(a.ctx, exited)
	return p, nil
}

// recoverContainer re-attaches to a DOCKER task's container, or returns
// how it ended.
func (a *Agent) recoverContainer(ck taskCheckpoint, exited func(Exit)) (Container, *Exit) {
	name := "mesos-" + ck.ContainerID
	if a.docker == nil {
		a.log.Error("cannot recover a docker task: docker containerizer not enabled", "task_id", ck.Task.TaskID.Value, "container", name)
		return nil, &Exit{Code: -1, Message: "Container " + name + " cannot be recovered: docker containerizer not enabled", Reason: mesos.ReasonExecutorTerminated}
	}
	if ck.DockerID == "" {
		// Cut short before the container was created, or before its id
		// was recorded: remove it by name.
		a.docker.removeByName(name)
		return nil, &Exit{Code: -1, Message: msgLaunchCut, Reason: mesos.ReasonExecutorTerminated}
	}
	ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
	defer cancel()
	ctr, exit, err := a.docker.reattach(ctx, ck.DockerID, name, ck.Sandbox, a.ctx, exited)
	if err != nil {
		return nil, &Exit{Code: -1, Message: "Container " + name + " cannot be recovered: " + err.Error(), Reason: mesos.ReasonExecutorTerminated}
	}
	if exit != nil {
		exit.Reason = mesos.ReasonExecutorTerminated
		if exit.Message == "" {
			exit.Message = fmt.Sprintf("Container ended while the agent was down with status %d", exit.Code)
		}
		return nil, exit
	}
	return ctr, nil
}

// cleanupTasks kills every checkpointed task and waits, within cleanupWait,
// for them to end.
func (a *Agent) cleanupTasks(cks []taskCheckpoint) {
	var groups []int
	for _, ck := range cks {
		log := a.log.With("task_id", ck.Task.TaskID.Value, "framework_id", ck.FrameworkID.Value)
		switch {
		case ck.Latest.State.Terminal():
		case ck.Containerizer == ContainerizerDocker:
			name := "mesos-" + ck.ContainerID
			if a.docker == nil {
				log.Error("cannot remove the container of a docker task: docker containerizer not enabled", "container", name)
				continue
			}
			a.docker.removeByName(name)
			log.Info("removed container of the previous run", "container", name)
		case ck.PID == 0:
			killSandboxProcs(ck.Sandbox)
		case ck.BootID == a.bootID:
			signalGroup(ck.PID, ck.StartTime, syscall.SIGKILL)
			groups = append(groups, ck.PID)
			log.Info("killed task of the previous run", "pid", ck.PID)
		}
	}
	deadline := time.Now().Add(cleanupWait)
	for _, pgid := range groups {
		for groupAlive(pgid) {
			if time.Now().After(deadline) {
				a.log.Error("task process group outlived its kill", "pgid", pgid)
				break
			}
			time.Sleep(adoptedPollInterval)
		}
	}
}

// killSandboxProcs kills every process started for the sandbox, as its
// environment tells.
func killSandboxProcs(sandbox string) {
	for _, pid := range procsWithEnv("MESOS_DIRECTORY=" + sandbox) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// adoptedProcess is the process of a command task launched by a previous
// run of the agent. It is not the agent's child: its end is seen through a
// pidfd (or /proc), and its exit status is unknown.
type adoptedProcess struct {
	pid     int
	start   uint64
	env     []string
	sandbox string
	// account is the task's user (nil: the agent's); accountErr says why
	// it could not be resolved again.
	account    *account
	accountErr error

	mu     sync.Mutex
	done   bool
	killed bool
	escal  *time.Timer
}

var _ Container = (*adoptedProcess)(nil)

func (p *adoptedProcess) PID() int   { return p.pid }
func (p *adoptedProcess) IP() string { return "" }

// watch waits for the process to end (or the agent to stop), then kills
// what is left of its group and reports the end.
func (p *adoptedProcess) watch(ctx context.Context, exited func(Exit)) {
	if waitExit(ctx, p.pid, p.start, adoptedPollInterval) != nil {
		return
	}
	p.mu.Lock()
	p.done = true
	if p.escal != nil {
		p.escal.Stop()
	}
	killed := p.killed
	p.mu.Unlock()
	signalGroup(p.pid, p.start, syscall.SIGKILL)
	if killed {
		exited(Exit{Code: -1, Message: "Command ended after it was signalled to stop"})
		return
	}
	exited(Exit{Code: -1, Message: fmt.Sprintf(msgEndedAdopted, "Command"), Reason: mesos.ReasonExecutorTerminated})
}

// Kill sends SIGTERM to the process group and SIGKILL after grace.
func (p *adoptedProcess) Kill(grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	if !p.killed {
		p.killed = true
		signalGroup(p.pid, p.start, syscall.SIGTERM)
	}
	if grace <= 0 {
		signalGroup(p.pid, p.start, syscall.SIGKILL)
		return
	}
	if p.escal == nil {
		p.escal = time.AfterFunc(grace, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !p.done {
				signalGroup(p.pid, p.start, syscall.SIGKILL)
			}
		})
	}
}

// Exec runs a health-check command in the sandbox with the task's
// environment.
func (p *adoptedProcess) Exec(ctx context.Context, ci *mesos.CommandInfo) error {
	if p.accountErr != nil {
		return p.accountErr
	}
	return runCheckCommand(ctx, ci, p.sandbox, p.env, p.account)
}
