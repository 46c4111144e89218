package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestMesosAgentRecoversTasks kills `stadion mesos agent` with -9 while it
// runs command tasks and starts it again on the same work dir (issue 14,
// point 5). With --recover=reconnect it comes back under its agent id, keeps
// the very task processes, which the master can still kill, and reports a
// task that ended while it was down. With --recover=cleanup no process of
// the old tasks, nor of their process groups, survives.
func TestMesosAgentRecoversTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Run("reconnect", testAgentReconnect)
	t.Run("cleanup", testAgentCleanup)
	t.Run("docker", testAgentDocker)
}

func testAgentReconnect(t *testing.T) {
	r := startRecoverRig(t, fmt.Sprintf("sleep 311.%d", os.Getpid()))
	r.launch("keep", r.sleep)
	r.launch("kill-later", r.sleep)
	r.launch("dies", r.sleep)
	pids := map[string]int{}
	for _, id := range []string{"keep", "kill-later", "dies"} {
		pids[id] = r.runningPID(id)
	}
	oldID := r.agentID(t)

	r.kill9Agent()
	// A task ends while its agent is down.
	syscall.Kill(-pids["dies"], syscall.SIGKILL)
	poll(t, "the process of task dies gone", func() error {
		if processAlive(pids["dies"]) {
			return fmt.Errorf("pid %d alive", pids["dies"])
		}
		return nil
	})
	// The master, which pings every 200ms, gives the agent up first.
	unreachable := map[string]bool{}
	r.sched.next("the tasks unreachable", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventUpdate && ev.Update.Status.State == mesos.TaskUnreachable {
			unreachable[ev.Update.Status.TaskID.Value] = true
		}
		return len(unreachable) == 3
	})
	r.startAgent("--recover", "reconnect")

	// As with Mesos, the tasks come back running once their agent has
	// reregistered, and the agent reports the one that ended.
	back := map[string]bool{}
	var ended mesos.TaskStatus
	r.sched.next("the surviving tasks back and the end of task dies", func(ev mesos.Event) bool {
		if ev.Type != mesos.EventUpdate {
			return false
		}
		switch st := ev.Update.Status; {
		case st.State == mesos.TaskRunning && len(st.UUID) == 0:
			// From the master (the agent may also resend a TASK_RUNNING
			// whose acknowledgement the kill cut off).
			if st.Reason != mesos.ReasonAgentReregistered {
				t.Errorf("task %s back with reason %q, want %s", st.TaskID.Value, st.Reason, mesos.ReasonAgentReregistered)
			}
			back[st.TaskID.Value] = true
		case st.TaskID.Value == "dies" && st.State.Terminal() && len(st.UUID) > 0:
			ended = st // from the agent, not the master's echo
		}
		return back["keep"] && back["kill-later"] && ended.State != ""
	})
	if ended.State != mesos.TaskFailed || ended.Reason != mesos.ReasonExecutorTerminated || ended.Source != mesos.SourceAgent ||
		!strings.Contains(ended.Message, "while the agent was down") {
		t.Errorf("task dies ended with %s %s %s %q; want TASK_FAILED REASON_EXECUTOR_TERMINATED from the agent, saying the agent was down",
			ended.State, ended.Reason, ended.Source, ended.Message)
	}
	if id := r.agentID(t); id != oldID {
		t.Errorf("restarted agent has id %q, want %q", id, oldID)
	}
	for _, id := range []string{"keep", "kill-later"} {
		if !processAlive(pids[id]) {
			t.Errorf("the process %d of task %s did not survive the agent's restart", pids[id], id)
		}
	}
	// Reconciliation finds the surviving tasks running on the same agent.
	r.sched.reconcile(t)
	running := map[string]bool{}
	r.sched.next("reconciled running tasks", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventUpdate && ev.Update.Status.State == mesos.TaskRunning && ev.Update.Status.AgentID.Value == oldID {
			running[ev.Update.Status.TaskID.Value] = true
		}
		return running["keep"] && running["kill-later"]
	})

	// The adopted task is killed through the master.
	if err := r.sched.client.Kill(r.sched.ctx, mesos.TaskID{Value: "kill-later"}, &mesos.AgentID{Value: oldID}, nil); err != nil {
		t.Fatal(err)
	}
	r.sched.next("TASK_KILLED of kill-later", func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == "kill-later" && ev.Update.Status.State == mesos.TaskKilled
	})
	poll(t, "the process of kill-later gone", func() error {
		if processAlive(pids["kill-later"]) {
			return fmt.Errorf("pid %d alive", pids["kill-later"])
		}
		return nil
	})
	// Nothing runs twice: the task processes left are those of the
	// original process group of task keep.
	left := taskProcesses(r.sleep)
	if !slices.Contains(left, pids["keep"]) {
		t.Errorf("task processes %v lack the original %d of task keep", left, pids["keep"])
	}
	for _, pid := range left {
		if !slices.Contains(groupMembers(pids["keep"]), pid) {
			t.Errorf("task process %d is not of the process group %d of task keep", pid, pids["keep"])
		}
	}
	live := r.masterLiveTasks(t)
	if len(live) != 1 || live["keep"] != "TASK_RUNNING" {
		t.Errorf("master shows live tasks %v, want only keep running", live)
	}
}

func testAgentCleanup(t *testing.T) {
	r := startRecoverRig(t, fmt.Sprintf("sleep 312.%d", os.Getpid()))
	// Each task's process group has a second process.
	cmd := r.sleep + " & " + r.sleep + "; wait"
	r.launch("a", cmd)
	r.launch("b", cmd)
	pids := []int{r.runningPID("a"), r.runningPID("b")}
	poll(t, "four task processes", func() error {
		if n := len(taskProcesses(r.sleep)); n != 4 {
			return fmt.Errorf("%d task processes", n)
		}
		return nil
	})
	oldID := r.agentID(t)

	r.kill9Agent()
	if n := len(taskProcesses(r.sleep)); n != 4 {
		t.Fatalf("%d task processes after kill -9 of the agent, want the 4 orphans", n)
	}
	r.startAgent("--recover", "cleanup")
	if id := r.agentID(t); id == oldID || id == "" {
		t.Errorf("agent after cleanup has id %q, want a new one (old %q)", id, oldID)
	}
	// The agent kills before it registers: nothing is left by now.
	if left := taskProcesses(r.sleep); len(left) > 0 {
		t.Errorf("task processes %v survived the cleanup", left)
	}
	// The master takes the new agent at the old one's address for its
	// restart: the old tasks are gone at once.
	gone := map[string]bool{}
	r.sched.next("TASK_GONE of both tasks", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventUpdate && ev.Update.Status.State == mesos.TaskGone {
			gone[ev.Update.Status.TaskID.Value] = true
		}
		return gone["a"] && gone["b"]
	})
	if live := r.masterLiveTasks(t); len(live) > 0 {
		t.Errorf("master shows live tasks %v after the cleanup", live)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("task process %d survived the cleanup", pid)
		}
		if members := groupMembers(pid); len(members) > 0 {
			t.Errorf("process group %d still has %v", pid, members)
		}
	}
}

// recoverRig is a `stadion mesos master`, one `stadion mesos agent` that
// the test kills and restarts, and a scheduler.
type recoverRig struct {
	t         *testing.T
	dir       string
	master    string // host:port
	agentArgs []string
	agentURL  string
	agent     *process
	sched     *testScheduler
	sleep     string // the tasks' command, unique to the test
	offer     *mesos.Offer
}

func startRecoverRig(t *testing.T, sleep string, agentArgs ...string) *recoverRig {
	t.Helper()
	r := &recoverRig{t: t, dir: t.TempDir(), sleep: sleep}
	// Registered first, this runs last: after the agent, stopped, has
	// killed its tasks.
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })
	masterPort := testenv.FreePort(t)
	r.master = "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--work_dir", filepath.Join(r.dir, "master"), "--agent_ping_timeout", "200ms", "--max_agent_ping_timeouts", "5",
		"--allocation_interval", "100ms")
	waitHTTP(t, "http://"+r.master+"/health")
	lo, hi := testenv.TaskPorts(t, 10)
	agentPort := testenv.FreePort(t)
	r.agentURL = "http://127.0.0.1:" + strconv.Itoa(agentPort)
	r.agentArgs = []string{"mesos", "agent", "--master", r.master, "--ip", "127.0.0.1", "--port", strconv.Itoa(agentPort),
		"--work_dir", filepath.Join(r.dir, "agent"), "--resources", fmt.Sprintf("cpus:4;mem:1024;disk:512;ports:[%d-%d]", lo, hi)}
	r.agentArgs = append(r.agentArgs, agentArgs...)
	r.startAgent()
	r.sched = startTestScheduler(t, r.master)
	return r
}

// startAgent starts the agent with its arguments and extra, and waits for
// its registration.
func (r *recoverRig) startAgent(extra ...string) {
	r.t.Helper()
	r.agent = startStadion(r.t, "agent", append(slices.Clone(r.agentArgs), extra...)...)
	poll(r.t, "agent registered", func() error {
		if r.agentID(r.t) == "" {
			return fmt.Errorf("no agent id yet")
		}
		return nil
	})
}

// kill9Agent kills the agent with SIGKILL and waits for its end.
func (r *recoverRig) kill9Agent() {
	r.t.Helper()
	if err := r.agent.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatalf("kill -9 the agent: %v", err)
	}
	<-r.agent.done
}

// agentID is the agent's id from its /state, "" before it registered or
// while it is down.
func (r *recoverRig) agentID(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(r.agentURL + "/state")
	if err != nil {
		return ""
	}
	resp.Body.Close()
	var st struct {
		ID string `json:"id"`
	}
	getJSON(t, r.agentURL+"/state", &st)
	return st.ID
}

// launch launches a task running cmd on the next offer and waits for its
// TASK_RUNNING.
func (r *recoverRig) launch(id, cmd string) {
	r.t.Helper()
	r.launchTask(id, func(task *mesos.TaskInfo) { task.Command = &mesos.CommandInfo{Value: &cmd} })
}

// launchTask launches a task edit makes on the next offer and waits for its
// TASK_RUNNING.
func (r *recoverRig) launchTask(id string, edit func(*mesos.TaskInfo)) {
	r.t.Helper()
	if len(r.sched.offers) == 0 {
		r.sched.next("an offer", func(ev mesos.Event) bool { return len(r.sched.offers) > 0 })
	}
	o := r.sched.offers[0]
	r.sched.offers = r.sched.offers[1:]
	task := taskOn(o, id)
	edit(&task)
	// No filter: the rest of the offer comes back at the next allocation.
	refuse := 0.0
	if err := r.sched.client.Launch(r.sched.ctx, []mesos.OfferID{o.ID}, []mesos.TaskInfo{task}, &mesos.Filters{RefuseSeconds: &refuse}); err != nil {
		r.t.Fatalf("launch %s: %v", id, err)
	}
	st := r.sched.next(id+" running", func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == id && ev.Update.Status.State == mesos.TaskRunning
	}).Update.Status
	r.sched.running[id] = st
}

// runningPID is the pid the TASK_RUNNING of task id reported.
func (r *recoverRig) runningPID(id string) int {
	r.t.Helper()
	st := r.sched.running[id]
	if st.ContainerStatus == nil || st.ContainerStatus.ExecutorPID == 0 {
		r.t.Fatalf("TASK_RUNNING of %s has no executor_pid: %+v", id, st.ContainerStatus)
	}
	return int(st.ContainerStatus.ExecutorPID)
}

// masterLiveTasks is the state of every task the master shows that is not
// terminal.
func (r *recoverRig) masterLiveTasks(t *testing.T) map[string]string {
	t.Helper()
	var st masterState
	getJSON(t, "http://"+r.master+"/master/state", &st)
	return st.liveTasks()
}

// testScheduler is a partition-aware framework subscribed to a master; it
// acknowledges every update it reads.
type testScheduler struct {
	t       *testing.T
	client  *mesos.Client
	ctx     context.Context
	events  chan mesos.Event
	done    chan error
	running map[string]mesos.TaskStatus
	// offers are the outstanding offers the scheduler has read.
	offers []mesos.Offer
}

func startTestScheduler(t *testing.T, master string) *testScheduler {
	t.Helper()
	det, err := mesos.StaticDetector(master)
	if err != nil {
		t.Fatal(err)
	}
	failover := 600.0
	client, err := mesos.New(mesos.Config{
		Detector: det,
		Framework: mesos.FrameworkInfo{User: "root", Name: "recover-test", FailoverTimeout: &failover,
			Capabilities: []mesos.Capability{{Type: mesos.CapabilityPartitionAware}, {Type: mesos.CapabilityTaskKillingState}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testScheduler{t: t, client: client, ctx: ctx, events: make(chan mesos.Event, 256), done: make(chan error, 1),
		running: map[string]mesos.TaskStatus{}}
	go func() { s.done <- client.Run(ctx, s.events) }()
	t.Cleanup(func() { cancel(); <-s.done })
	return s
}

// next returns the next event match accepts, within 30 s.
func (s *testScheduler) next(what string, match func(mesos.Event) bool) mesos.Event {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-s.events:
			s.keepOffers(ev)
			if ev.Type == mesos.EventUpdate && len(ev.Update.Status.UUID) > 0 {
				if err := s.client.Acknowledge(s.ctx, ev.Update.Status); err != nil {
					s.t.Fatalf("acknowledge: %v", err)
				}
			}
			if match(ev) {
				return ev
			}
		case err := <-s.done:
			s.t.Fatalf("waiting for %s: client stopped: %v", what, err)
		case <-deadline:
			s.t.Fatalf("no %s within 30s", what)
		}
	}
}

// keepOffers keeps track of the outstanding offers.
func (s *testScheduler) keepOffers(ev mesos.Event) {
	switch ev.Type {
	case mesos.EventOffers:
		s.offers = append(s.offers, ev.Offers.Offers...)
	case mesos.EventRescind:
		s.offers = slices.DeleteFunc(s.offers, func(o mesos.Offer) bool { return o.ID == ev.Rescind.OfferID })
	}
}

// reconcile asks for the state of every task of the framework.
func (s *testScheduler) reconcile(t *testing.T) {
	t.Helper()
	if err := s.client.Reconcile(s.ctx, nil); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
}

// processAlive reports whether pid is a live process (not a zombie).
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestServeLocalReapsTasksAfterKill9 kills `stadion serve --master local`,
// which runs the master and the agent in its own process, with -9 while an
// app of 3 instances runs, and starts it again on the same data dir: the
// in-process agent reconnects to the task processes and the scheduler
// adopts them, so that exactly the 3 original task processes run and the
// app shows 3 running.
func TestServeLocalReapsTasksAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	sleep := fmt.Sprintf("sleep 313.%d", os.Getpid())
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })
	api, args, serve := startLocalServe(t, dir)

	app := map[string]any{"id": "/reaped", "cmd": sleep, "cpus": 0.01, "mem": 8, "instances": 3, "portDefinitions": []any{}}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	type appTask struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	appTasks := func() ([]appTask, int, error) {
		var out struct {
			App struct {
				TasksRunning int       `json:"tasksRunning"`
				Tasks        []appTask `json:"tasks"`
				Deployments  []any     `json:"deployments"`
			} `json:"app"`
		}
		getJSON(t, api+"/v2/apps/reaped", &out)
		if n := len(out.App.Deployments); n > 0 {
			return nil, 0, fmt.Errorf("%d deployments", n)
		}
		return out.App.Tasks, out.App.TasksRunning, nil
	}
	var before []appTask
	poll(t, "3 tasks running", func() error {
		tasks, running, err := appTasks()
		switch {
		case err != nil:
			return err
		case running != 3 || len(tasks) != 3:
			return fmt.Errorf("%d of %d tasks running", running, len(tasks))
		}
		before = tasks
		return nil
	})
	procs := taskProcesses(sleep)

	if err := serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-serve.done
	if left := taskProcesses(sleep); !slices.Equal(left, procs) {
		t.Fatalf("task processes %v after kill -9, want the orphans %v", left, procs)
	}

	startStadion(t, "serve", args...)
	waitHTTP(t, api+"/ping")
	// Settled: the same 3 tasks running for 2 s, no deployment.
	var since time.Time
	poll(t, "the 3 tasks adopted", func() error {
		tasks, running, err := appTasks()
		if err == nil && (running != 3 || len(tasks) != 3) {
			err = fmt.Errorf("%d of %d tasks running: %+v", running, len(tasks), tasks)
		}
		if err == nil {
			for _, x := range before {
				if !slices.ContainsFunc(tasks, func(y appTask) bool { return y.ID == x.ID }) {
					err = fmt.Errorf("task %s was replaced: %+v", x.ID, tasks)
				}
			}
		}
		if err == nil {
			if left := taskProcesses(sleep); !slices.Equal(left, procs) {
				err = fmt.Errorf("task processes %v, want the original %v", left, procs)
			}
		}
		switch {
		case err != nil:
			since = time.Time{}
			return err
		case since.IsZero():
			since = time.Now()
		}
		if time.Since(since) < 2*time.Second {
			return fmt.Errorf("settled only since %v", since)
		}
		return nil
	})
}

// testAgentDocker: a DOCKER task's container survives a kill -9 of its
// agent and is re-attached (reconnect), then killed through the master; and
// a cleanup restart removes a task's container.
func testAgentDocker(t *testing.T) {
	image := testenv.WebServerImage(t)
	docker := testenv.Binary(t, "docker")
	r := startRecoverRig(t, fmt.Sprintf("sleep 314.%d", os.Getpid()), "--containerizers", "mesos,docker",
		"--docker_socket", testenv.DockerHost())
	lo, _ := testenv.TaskPorts(t, 2)
	// Ids of this run only: containers are found by their task id label,
	// and other tests on the same Docker engine may run tasks too.
	webID, goneID := fmt.Sprintf("web-%d", os.Getpid()), fmt.Sprintf("gone-%d", os.Getpid())
	webTask := func(port int) func(*mesos.TaskInfo) {
		return func(task *mesos.TaskInfo) {
			shell := false
			value := strconv.Itoa(port)
			task.Command = &mesos.CommandInfo{Shell: &shell, Environment: &mesos.Environment{
				Variables: []mesos.Variable{{Name: "LISTEN_PORT", Value: &value}}}}
			task.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker,
				Docker: &mesos.DockerInfo{Image: image, Network: mesos.NetworkHost}}
		}
	}
	// containers lists the ids of the running containers of task id.
	containers := func(id string) []string {
		out, err := exec.Command(docker, "ps", "-q", "--no-trunc", "--filter", "label=stadion.task_id="+id).Output()
		if err != nil {
			t.Fatalf("docker ps: %v", err)
		}
		return strings.Fields(string(out))
	}
	r.launchTask(webID, webTask(lo))
	r.launchTask(goneID, webTask(lo+1))
	web, gone := containers(webID), containers(goneID)
	if len(web) != 1 || len(gone) != 1 {
		t.Fatalf("containers of web %v and gone %v, want one each", web, gone)
	}
	t.Cleanup(func() { exec.Command(docker, "rm", "-f", web[0], gone[0]).Run() })

	r.kill9Agent()
	r.startAgent("--recover", "reconnect")
	if now := containers(webID); !slices.Equal(now, web) {
		t.Errorf("after reconnect the containers of web are %v, want the original %v", now, web)
	}
	if err := r.sched.client.Kill(r.sched.ctx, mesos.TaskID{Value: webID}, &mesos.AgentID{Value: r.agentID(t)}, nil); err != nil {
		t.Fatal(err)
	}
	r.sched.next("TASK_KILLED of web", func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == webID && ev.Update.Status.State == mesos.TaskKilled
	})
	poll(t, "the container of web gone", func() error {
		if now := containers(webID); len(now) > 0 {
			return fmt.Errorf("containers %v", now)
		}
		return nil
	})

	r.kill9Agent()
	r.startAgent("--recover", "cleanup")
	if now := containers(goneID); len(now) > 0 {
		t.Errorf("containers %v of task gone survived the cleanup", now)
	}
}
