package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent/health"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

type taskKey struct {
	framework string
	task      string
}

// task is one task the agent runs or has not yet forgotten: its container
// and its stream of status updates. Every field but ckMu and ckLast is
// guarded by Agent.mu.
type task struct {
	key         taskKey
	frameworkID mesos.FrameworkID
	info        mesos.TaskInfo
	containerID string
	sandbox     string
	simulated   bool
	subject     string // "Command" or "Container", for exit messages
	// user is the user the task runs as; "" when the agent does not
	// switch users.
	user  string
	grace time.Duration
	// killingState is whether the framework had TASK_KILLING_STATE at the
	// launch: only then does a kill report TASK_KILLING, as Mesos's
	// executors do.
	killingState bool
	// principal is the framework's principal at the launch, reported at
	// reregistration so that a restarted master knows who owns the task.
	principal string

	// group is the task group of a LAUNCH_GROUP task; nil otherwise.
	group *taskGroup

	container Container
	launched  bool  // the launch has finished, well or not
	exit      *Exit // an exit that came before the launch finished
	killing   bool  // a kill was requested
	// healthKill explains a kill by the health checker.
	healthKill   string
	cancelHealth context.CancelFunc
	terminal     bool // the terminal update is generated

	// What a restarted agent needs to find the container again
	// (taskCheckpoint).
	containerizer string // ContainerizerMesos, ContainerizerDocker, ContainerizerSimulated
	pid           int
	startTime     uint64
	bootID        string
	dockerID      string

	// ckMu serialises the writes of the task's checkpoint; ckLast, guarded
	// by ckMu, is the last one written.
	ckMu   sync.Mutex
	ckLast []byte

	stream
}

// handleRun launches a task: it answers 202 at once and reports progress
// through status updates.
// firstRegistrationWait bounds how long a launch waits for the agent's first
// registration to complete.
const firstRegistrationWait = 5 * time.Second

func (a *Agent) handleRun(w http.ResponseWriter, r *http.Request) {
	var run cluster.Run
	if !cluster.Decode(w, r, &run) {
		return
	}
	info := run.Task
	key := taskKey{framework: run.FrameworkID.Value, task: info.TaskID.Value}
	log := a.log.With("task_id", key.task, "framework_id", key.framework)
	// Mesos's id rules, checked again here before any path is built from
	// the ids: the master checks them too, but the agent trusts no one
	// with its file system.
	for what, id := range map[string]string{"task id": key.task, "framework id": key.framework, "agent id": info.AgentID.Value} {
		if what == "agent id" && id == "" {
			continue
		}
		if msg := cluster.ValidateID(id); msg != "" {
			log.Warn("task refused: invalid id", "id", what, "error", msg)
			http.Error(w, "run: invalid "+what+": "+msg, http.StatusBadRequest)
			return
		}
	}
	if id, ok := executorID(info.Executor); ok {
		if msg := cluster.ValidateID(id); msg != "" {
			log.Warn("task refused: invalid id", "id", "executor id", "error", msg)
			http.Error(w, "run: invalid executor id: "+msg, http.StatusBadRequest)
			return
		}
	}
	// The master may offer this agent before the agent has read the
	// answer to its first registration: wait for it briefly rather than
	// refuse a task that is meant for us.
	select {
	case <-a.registered:
	case <-r.Context().Done():
		return
	case <-time.After(firstRegistrationWait):
	}
	a.mu.Lock()
	switch {
	case a.stopping:
		a.mu.Unlock()
		http.Error(w, "agent is stopping", http.StatusServiceUnavailable)
		return
	case a.id == "" || (info.AgentID.Value != "" && info.AgentID.Value != a.id):
		a.mu.Unlock()
		http.Error(w, "task is for agent "+info.AgentID.Value+", not this one", http.StatusNotFound)
		return
	case a.tasks[key] != nil:
		a.mu.Unlock()
		http.Error(w, "task "+key.task+" already exists", http.StatusConflict)
		return
	}
	t := &task{
		key:         key,
		frameworkID: run.FrameworkID,
		info:        info,
		containerID: newUUIDString(),
		subject:     "Command",
		grace:       gracePeriod(nil, info.KillPolicy),

		killingState: run.FrameworkInfo.HasCapability(mesos.CapabilityTaskKillingState),
		principal:    run.FrameworkInfo.Principal,
	}
	if !a.cfg.DisableSwitchUser {
		t.user = taskUser(&info, run.FrameworkInfo)
	}
	// The ids were checked above; the path is checked again so that no
	// id, whatever it holds, puts a sandbox outside the work dir.
	slaves := filepath.Join(a.cfg.WorkDir, "slaves")
	t.sandbox = filepath.Join(slaves, a.id, "frameworks", key.framework,
		"executors", key.task, "runs", t.containerID)
	if run.Executor != nil {
		g, err := a.joinGroupLocked(&run)
		if err != nil {
			a.mu.Unlock()
			log.Warn("task refused", "error", err)
			http.Error(w, "run: "+err.Error(), http.StatusBadRequest)
			return
		}
		var ok bool
		if t.sandbox, ok = g.taskSandbox(key.task); !ok {
			a.mu.Unlock()
			log.Warn("task refused: its sandbox leaves the executor's")
			http.Error(w, "run: the task's sandbox would leave the executor's", http.StatusBadRequest)
			return
		}
		t.group = g
	} else if !sandboxWithin(slaves, t.sandbox) {
		delete(a.tasks, key)
		a.mu.Unlock()
		log.Warn("task refused: its sandbox leaves the work dir")
		http.Error(w, "run: the task's sandbox would leave the work dir", http.StatusBadRequest)
		return
	}
	a.tasks[key] = t
	c, err := a.containerizerFor(&info)
	if _, docker := c.(*dockerContainerizer); err == nil && docker && t.group != nil {
		err = errors.New("the tasks of a task group run in MESOS containers, not DOCKER")
	}
	if err != nil {
		// Nothing started: the agent itself fails the task.
		t.launched, t.terminal = true, true
		a.enqueueLocked(t, a.statusLocked(t, mesos.TaskFailed, err.Error(), mesos.ReasonContainerLaunchFailed, mesos.SourceAgent))
		kills := a.killGroupLocked(t, mesos.TaskFailed)
		a.mu.Unlock()
		runKills(kills)
		log.Warn("cannot launch task", "error", err)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	_, t.simulated = c.(simulatedContainerizer)
	switch c.(type) {
	case *dockerContainerizer:
		t.subject = "Container"
		t.containerizer = ContainerizerDocker
	case simulatedContainerizer:
		t.containerizer = ContainerizerSimulated
	default:
		t.containerizer = ContainerizerMesos
	}
	a.running.Add(1)
	a.enqueueLocked(t, a.statusLocked(t, mesos.TaskStarting, "", "", mesos.SourceExecutor))
	a.mu.Unlock()
	log.Debug("launching task", "container_id", t.containerID)
	w.WriteHeader(http.StatusAccepted)
	if t.simulated {
		a.launch(t, c)
		return
	}
	go a.launch(t, c)
}

// sandboxWithin reports whether sandbox is
// <slaves>/<agent_id>/frameworks/<framework_id>/executors/<task_id>/runs/<container_id>
// once cleaned: inside slaves, seven names deep, no id swallowed by "..".
func sandboxWithin(slaves, sandbox string) bool {
	if !within(slaves, sandbox) {
		return false
	}
	rel, err := filepath.Rel(slaves, sandbox)
	return err == nil && len(strings.Split(rel, string(filepath.Separator))) == 7
}

// executorID returns the executor_id of a task's raw ExecutorInfo, if any.
func executorID(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var e struct {
		ExecutorID *mesos.ExecutorID `json:"executor_id"`
	}
	if json.Unmarshal(raw, &e) != nil || e.ExecutorID == nil {
		return "", false
	}
	return e.ExecutorID.Value, true
}

// containerizerFor picks the containerizer of a task, or says why none fits.
func (a *Agent) containerizerFor(info *mesos.TaskInfo) (Containerizer, error) {
	if len(info.Executor) > 0 && string(info.Executor) != "null" {
		return nil, errors.New("custom executors are not supported by this agent")
	}
	if err := checkSecrets(info.Command); err != nil {
		return nil, err
	}
	if info.Container != nil && info.Container.Type == mesos.ContainerDocker {
		if a.docker == nil {
			return nil, errors.New("docker containerizer not enabled")
		}
		if info.Container.Docker == nil || info.Container.Docker.Image == "" {
			return nil, errors.New("DOCKER container without docker.image")
		}
		return a.docker, nil
	}
	if info.Command == nil {
		return nil, errors.New("task has neither a command nor a DOCKER container")
	}
	if info.Container != nil && len(info.Container.Mesos) > 0 {
		return nil, errors.New("MESOS containers with an image are not supported by this agent")
	}
	switch {
	case a.cfg.enabled(ContainerizerMesos):
		return processContainerizer{}, nil
	case a.cfg.enabled(ContainerizerSimulated):
		return simulatedContainerizer{}, nil
	}
	return nil, errors.New("mesos containerizer not enabled")
}

// launch prepares the sandbox and starts the container, then reports
// TASK_RUNNING or the failure.
func (a *Agent) launch(t *task, c Containerizer) {
	spec := Spec{
		Task:          t.info,
		FrameworkID:   t.key.framework,
		ContainerID:   t.containerID,
		Sandbox:       t.sandbox,
		AgentEndpoint: a.endpoint,
		AgentID:       t.info.AgentID.Value,
		User:          t.user,
	}
	if t.group != nil {
		spec.ExecutorID = t.group.executorID
	}
	if spec.AgentID == "" {
		spec.AgentID = a.ID()
	}
	// The checkpoint exists before anything is started: a restart finds
	// what a launch cut short by the task's sandbox.
	a.saveTask(t)
	var ctr Container
	var err error
	if t.user != "" && t.containerizer == ContainerizerMesos {
		spec.account, err = lookupAccount(t.user)
		if err != nil {
			err = &LaunchError{Err: err}
		}
	}
	if err == nil {
		err = a.prepareSandbox(t, spec.account)
	}
	if err == nil {
		ctr, err = c.Launch(a.ctx, spec, func(e Exit) { a.exited(t, e) })
	}
	if err != nil {
		a.launchFailed(t, err)
		return
	}
	a.mu.Lock()
	t.container, t.launched = ctr, true
	switch ctr := ctr.(type) {
	case *process:
		t.pid, t.startTime, t.bootID = ctr.pid, ctr.start, a.bootID
	case *dockerContainer:
		t.pid, t.dockerID = ctr.pid, ctr.id
	}
	kill := t.killing
	if !kill {
		// A task killed during its launch goes from TASK_KILLING to
		// TASK_KILLED without TASK_RUNNING in between.
		a.enqueueLocked(t, a.statusLocked(t, mesos.TaskRunning, "", "", mesos.SourceExecutor))
	}
	if t.exit != nil {
		a.finishLocked(t, *t.exit)
	} else if !kill {
		a.startHealthLocked(t)
	}
	grace := t.grace
	a.mu.Unlock()
	a.saveTask(t)
	a.log.Debug("task running", "task_id", t.key.task, "framework_id", t.key.framework, "container_id", t.containerID, "pid", ctr.PID())
	if kill {
		ctr.Kill(grace)
	}
}

// prepareSandbox creates the sandbox and fetches the command's URIs into
// it; with acct, the sandbox with its stdout, stderr and fetched files
// belongs to that user. Simulated tasks get no directory.
func (a *Agent) prepareSandbox(t *task, acct *account) error {
	if t.simulated {
		return nil
	}
	if err := os.MkdirAll(t.sandbox, 0o755); err != nil {
		return &LaunchError{Err: fmt.Errorf("create sandbox: %w", err)}
	}
	if t.group != nil {
		if err := prepareGroupVolumes(t.group, t.sandbox, t.info.Container); err != nil {
			return &LaunchError{Err: err}
		}
	}
	if t.info.Command != nil && len(t.info.Command.URIs) > 0 {
		ctx, cancel := context.WithTimeout(a.ctx, 10*time.Minute)
		defer cancel()
		if err := fetchURIs(ctx, t.info.Command.URIs, t.sandbox); err != nil {
			return &LaunchError{Err: err}
		}
	}
	if acct != nil {
		for _, name := range []string{"stdout", "stderr"} {
			f, err := os.OpenFile(filepath.Join(t.sandbox, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				return &LaunchError{Err: fmt.Errorf("create %s: %w", name, err)}
			}
			f.Close()
		}
		if err := acct.chownTree(t.sandbox); err != nil {
			return &LaunchError{Err: err}
		}
	}
	return nil
}

// launchFailed reports a failed launch: TASK_FAILED with
// REASON_CONTAINER_LAUNCH_FAILED, or TASK_KILLED when a kill came first.
func (a *Agent) launchFailed(t *task, err error) {
	a.log.Warn("task launch failed", "task_id", t.key.task, "framework_id", t.key.framework, "error", err)
	a.mu.Lock()
	t.launched, t.terminal = true, true
	state := mesos.TaskFailed
	if t.killing {
		state = mesos.TaskKilled
		a.enqueueLocked(t, a.statusLocked(t, mesos.TaskKilled, "Task killed during launch: "+err.Error(), mesos.ReasonTaskKilledDuringLaunch, mesos.SourceExecutor))
	} else {
		a.enqueueLocked(t, a.statusLocked(t, mesos.TaskFailed, "Failed to launch container: "+err.Error(), mesos.ReasonContainerLaunchFailed, mesos.SourceExecutor))
	}
	kills := a.killGroupLocked(t, state)
	a.running.Done()
	a.mu.Unlock()
	runKills(kills)
}

// exited is the containerizers' callback when a container ends.
func (a *Agent) exited(t *task, e Exit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !t.launched {
		// launch reports TASK_RUNNING first, then this exit.
		t.exit = &e
		return
	}
	a.finishLocked(t, e)
}

// finishLocked generates the terminal update of an ended container.
func (a *Agent) finishLocked(t *task, e Exit) {
	if t.terminal {
		return
	}
	t.terminal = true
	if t.cancelHealth != nil {
		t.cancelHealth()
	}
	var st mesos.TaskStatus
	source := mesos.SourceExecutor
	if e.Reason != "" {
		source = mesos.SourceAgent
	}
	switch {
	case t.healthKill != "":
		st = a.statusLocked(t, mesos.TaskKilled, t.healthKill, e.Reason, source)
		st.Healthy = new(false)
	case t.killing:
		st = a.statusLocked(t, mesos.TaskKilled, e.describe(t.subject), e.Reason, source)
	case e.success():
		st = a.statusLocked(t, mesos.TaskFinished, e.describe(t.subject), "", source)
	default:
		st = a.statusLocked(t, mesos.TaskFailed, e.describe(t.subject), e.Reason, source)
	}
	a.enqueueLocked(t, st)
	a.log.Debug("task ended", "task_id", t.key.task, "framework_id", t.key.framework, "state", st.State, "message", st.Message)
	// The siblings' containers are signalled outside the lock the caller
	// holds.
	if kills := a.killGroupLocked(t, st.State); len(kills) > 0 {
		go runKills(kills)
	}
	a.running.Done()
}

// handleKill kills a task: TASK_KILLING (if the framework has
// TASK_KILLING_STATE), SIGTERM, SIGKILL after the grace period, TASK_KILLED.
// An unknown task is ignored.
func (a *Agent) handleKill(w http.ResponseWriter, r *http.Request) {
	var k cluster.Kill
	if !cluster.Decode(w, r, &k) {
		return
	}
	key := taskKey{framework: k.FrameworkID.Value, task: k.TaskID.Value}
	a.mu.Lock()
	t := a.tasks[key]
	var kill func()
	if t != nil {
		kill = a.killLocked(t, gracePeriod(k.KillPolicy, t.info.KillPolicy), "")
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	if t == nil {
		a.log.Info("kill of unknown task ignored", "task_id", key.task, "framework_id", key.framework)
		return
	}
	a.saveTask(t)
	if kill != nil {
		kill()
	}
}

// handleShutdown kills every task of a framework.
func (a *Agent) handleShutdown(w http.ResponseWriter, r *http.Request) {
	var s cluster.Shutdown
	if !cluster.Decode(w, r, &s) {
		return
	}
	a.mu.Lock()
	a.shutdown[s.FrameworkID.Value] = true
	var kills []func()
	for key, t := range a.tasks {
		if key.framework == s.FrameworkID.Value {
			a.dropUpdatesLocked(t)
			if t.terminal {
				a.forgetLocked(t)
				continue
			}
			if kill := a.killLocked(t, t.grace, ""); kill != nil {
				kills = append(kills, kill)
			}
		}
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	a.log.Info("shutting down framework", "framework_id", s.FrameworkID.Value, "tasks", len(kills))
	for _, kill := range kills {
		kill()
	}
}

// killLocked marks t killed, queues TASK_KILLING once (for a framework with
// TASK_KILLING_STATE), and returns the call that signals its container, to be
// made without the lock; nil when there is nothing to signal (yet). why, when
// set, is a health-check kill's message.
func (a *Agent) killLocked(t *task, grace time.Duration, why string) func() {
	if t.terminal {
		return nil
	}
	if !t.killing {
		t.killing = true
		t.grace = grace
		if why != "" {
			t.healthKill = why
		}
		if t.killingState {
			st := a.statusLocked(t, mesos.TaskKilling, "", "", mesos.SourceExecutor)
			if why != "" {
				st.Healthy = new(false)
			}
			a.enqueueLocked(t, st)
		}
		if t.cancelHealth != nil {
			t.cancelHealth()
		}
	}
	ctr := t.container
	if ctr == nil {
		return nil // launch kills it when it is up
	}
	return func() { ctr.Kill(grace) }
}

// gracePeriod is the kill's policy, else the task's, else the default.
func gracePeriod(kill, task *mesos.KillPolicy) time.Duration {
	for _, p := range []*mesos.KillPolicy{kill, task} {
		if p != nil && p.GracePeriod != nil {
			return max(time.Duration(p.GracePeriod.Nanoseconds), 0)
		}
	}
	return DefaultKillGracePeriod
}

// startHealthLocked starts the task's health checks, if it has any.
// Simulated tasks report healthy once and run no checks.
func (a *Agent) startHealthLocked(t *task) {
	hc := t.info.HealthCheck
	if hc == nil {
		return
	}
	if t.simulated {
		st := a.statusLocked(t, mesos.TaskRunning, "", mesos.ReasonTaskHealthCheckStatusUpdated, mesos.SourceExecutor)
		st.Healthy = new(true)
		a.enqueueLocked(t, st)
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	t.cancelHealth = cancel
	host := "127.0.0.1"
	if ip := t.container.IP(); ip != "" {
		host = ip
	}
	ctr := t.container
	cfg := health.Config{
		Check:  *hc,
		Host:   host,
		Exec:   ctr.Exec,
		Logger: a.log.With("task_id", t.key.task, "framework_id", t.key.framework),
	}
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		health.Run(ctx, cfg, func(r health.Result) { a.healthResult(t, r) })
	}()
}

// healthResult reports a change of health and kills the task after too
// many consecutive failures.
func (a *Agent) healthResult(t *task, r health.Result) {
	a.mu.Lock()
	if t.terminal || t.killing {
		a.mu.Unlock()
		return
	}
	if r.Changed {
		st := a.statusLocked(t, mesos.TaskRunning, r.Message, mesos.ReasonTaskHealthCheckStatusUpdated, mesos.SourceExecutor)
		st.Healthy = new(r.Healthy)
		a.enqueueLocked(t, st)
	}
	var kill func()
	if r.Kill {
		kill = a.killLocked(t, t.grace, "Task killed after failing its health check: "+r.Message)
	}
	a.mu.Unlock()
	if r.Kill {
		a.log.Info("killing unhealthy task", "task_id", t.key.task, "framework_id", t.key.framework, "reason", r.Message)
	}
	if kill != nil {
		kill()
	}
}

// statusLocked builds a status update of t with a fresh uuid.
func (a *Agent) statusLocked(t *task, state mesos.TaskState, msg string, reason mesos.Reason, source mesos.Source) mesos.TaskStatus {
	st := mesos.TaskStatus{
		TaskID:     t.info.TaskID,
		State:      state,
		Message:    msg,
		Source:     source,
		Reason:     reason,
		AgentID:    &mesos.AgentID{Value: a.id},
		ExecutorID: &mesos.ExecutorID{Value: t.executorID()},
		Timestamp:  now(),
		UUID:       newUUID(),
	}
	if source == mesos.SourceAgent {
		return st
	}
	ip := a.advertIP
	pid := 0
	if t.container != nil {
		if cip := t.container.IP(); cip != "" {
			ip = cip
		}
		pid = t.container.PID()
	}
	st.ContainerStatus = &mesos.ContainerStatus{
		ContainerID:  &mesos.ContainerID{Value: t.containerID},
		NetworkInfos: []mesos.NetworkInfo{{IPAddresses: []mesos.IPAddress{{Protocol: "IPv4", IPAddress: ip}}}},
		ExecutorPID:  uint32(pid),
	}
	return st
}

// executorID is the id of the task's executor: its group's DEFAULT
// executor, or the task's own command executor (named after the task).
func (t *task) executorID() string {
	if t.group != nil {
		return t.group.executorID
	}
	return t.info.TaskID.Value
}

// runKills makes the kill calls killLocked returned.
func runKills(kills []func()) {
	for _, kill := range kills {
		kill()
	}
}
