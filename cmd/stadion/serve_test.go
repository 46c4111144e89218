package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestServeSurvivesKill9 kills `stadion serve` with SIGKILL at several
// moments and starts it again on the same port and data dir (issue 3, point
// 5). After each restart it must resubscribe as the same framework,
// reconcile, and bring every app back to exactly its instances, adopting the
// tasks Mesos still runs instead of replacing or duplicating them, with no
// deployment left running. The cases run in order on one cluster, so the
// apps of earlier cases must also survive the later kills.
func TestServeSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startKillCluster(t)

	tests := []struct {
		name string
		// prepare brings the cluster to the moment before the request
		// after whose answer serve is killed.
		prepare func(t *testing.T, c *killCluster)
		// act is that request; nil kills an idle scheduler.
		act func(t *testing.T, c *killCluster)
	}{
		{
			name:    "idle",
			prepare: func(t *testing.T, c *killCluster) { c.createApp(t, "/idle", 10); c.waitConverged(t) },
		},
		{
			name: "during launch",
			act:  func(t *testing.T, c *killCluster) { c.createApp(t, "/launch", 20) },
		},
		{
			name: "mid launch",
			act: func(t *testing.T, c *killCluster) {
				c.createApp(t, "/mid-launch", 20)
				c.waitPartlyLaunched(t, "/mid-launch")
			},
		},
		{
			name:    "during scale up",
			prepare: func(t *testing.T, c *killCluster) { c.createApp(t, "/scale-up", 5); c.waitConverged(t) },
			act:     func(t *testing.T, c *killCluster) { c.scaleApp(t, "/scale-up", 20) },
		},
		{
			name:    "during scale down",
			prepare: func(t *testing.T, c *killCluster) { c.createApp(t, "/scale-down", 20); c.waitConverged(t) },
			act:     func(t *testing.T, c *killCluster) { c.scaleApp(t, "/scale-down", 5) },
		},
	}
	for _, tc := range tests {
		// A failed case leaves the cluster in an unknown state (serve
		// may be down): the later cases would only repeat its failure.
		ok := t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare(t, c)
			}
			if id := c.infoFrameworkID(t); id != c.frameworkID {
				t.Fatalf("before the kill /v2/info frameworkId is %q, want %q", id, c.frameworkID)
			}
			if tc.act != nil {
				tc.act(t, c)
			}
			c.kill9(t)
			before := c.tasksAtKill(t)
			c.startServe(t)
			after := c.waitConverged(t)

			if id := c.infoFrameworkID(t); id != c.frameworkID {
				t.Errorf("after the restart /v2/info frameworkId is %q, want %q", id, c.frameworkID)
			}
			c.checkKept(t, before, after)
		})
		if !ok {
			return
		}
	}
}

// killCluster is a `stadion mesos master`, one `stadion mesos agent` and the
// `stadion serve` the test kills.
type killCluster struct {
	master      string // host:port
	api         string // http://host:port of stadion serve
	serveArgs   []string
	serve       *process
	frameworkID string
	// instances is the instance count each app must end with.
	instances map[string]int
	// peak is the most live tasks Mesos ran of each app since the last
	// kill, and limit the most it may run.
	peak, limit map[string]int
	sleepCmd    string
	// top is the whole test, which owns the serve processes: a restart
	// in one case keeps running for the next.
	top *testing.T
}

// startKillCluster starts the cluster; extra serve arguments come after
// the defaults and so override them.
func startKillCluster(t *testing.T, extra ...string) *killCluster {
	t.Helper()
	dir := t.TempDir()
	c := &killCluster{
		instances: map[string]int{},
		// A sleep of a duration no other test uses, so that leaked
		// task processes can be found by their command line.
		sleepCmd: fmt.Sprintf("sleep 300.%d", os.Getpid()),
		top:      t,
	}
	// Registered before the agent starts, this runs after the agent has
	// stopped, which kills its tasks: none may be left.
	t.Cleanup(func() { checkNoTaskProcesses(t, c.sleepCmd) })

	masterPort := testenv.FreePort(t)
	c.master = "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--work_dir", filepath.Join(dir, "master"), "--agent_ping_timeout", "200ms", "--max_agent_ping_timeouts", "5",
		"--allocation_interval", "100ms")
	waitHTTP(t, "http://"+c.master+"/health")
	startStadion(t, "agent", "mesos", "agent", "--master", c.master, "--ip", "127.0.0.1",
		"--port", strconv.Itoa(testenv.FreePort(t)), "--work_dir", filepath.Join(dir, "agent"),
		"--resources", "cpus:8;mem:4096;disk:1024;ports:[31000-31999]")

	httpPort := testenv.FreePort(t)
	c.api = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	c.serveArgs = []string{"serve", "--master", c.master, "--http_address", "127.0.0.1",
		"--http_port", strconv.Itoa(httpPort), "--hostname", "127.0.0.1",
		"--data_dir", filepath.Join(dir, "serve"), "--reconciliation_initial_delay", "500",
		// Few launches per offer spread a launch over several offers,
		// so that a kill can land in the middle of one.
		"--max_instances_per_offer", "3"}
	c.serveArgs = append(c.serveArgs, extra...)
	c.startServe(t)

	deadline := time.Now().Add(20 * time.Second)
	for {
		if c.frameworkID = c.infoFrameworkID(t); c.frameworkID != "" {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal("stadion serve did not subscribe: /v2/info has no frameworkId")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startServe starts stadion serve and waits for its API.
func (c *killCluster) startServe(t *testing.T) {
	t.Helper()
	c.serve = startStadion(c.top, "serve", c.serveArgs...)
	waitHTTP(t, c.api+"/ping")
}

// kill9 kills stadion serve with SIGKILL and waits until it is gone and the
// master has seen its subscription end.
func (c *killCluster) kill9(t *testing.T) {
	t.Helper()
	if err := c.serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 stadion serve: %v", err)
	}
	<-c.serve.done
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := c.masterState(t)
		if len(st.Frameworks) == 1 && !st.Frameworks[0].Active {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master still shows the killed framework active: %+v", st.Frameworks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tasksAtKill returns the live tasks Mesos runs for each app while serve is
// down, and resets the peak counts.
func (c *killCluster) tasksAtKill(t *testing.T) map[string][]string {
	t.Helper()
	live := c.masterState(t).liveTasks()
	byApp := tasksByApp(t, slices.Collect(maps.Keys(live)))
	c.peak, c.limit = map[string]int{}, map[string]int{}
	for app, n := range c.instances {
		c.limit[app] = max(n, len(byApp[app]))
	}
	t.Logf("at the kill Mesos runs %d tasks: %v", len(live), countsOf(byApp))
	return byApp
}

// checkKept checks that the tasks Mesos ran at the kill and that should
// still run kept their ids: all of an app's tasks when it needs at least as
// many, and only tasks from then when it needs fewer.
func (c *killCluster) checkKept(t *testing.T, before, after map[string][]string) {
	t.Helper()
	for app, n := range c.instances {
		was, is := before[app], after[app]
		switch {
		case len(was) <= n:
			if lost := missing(was, is); len(lost) > 0 {
				t.Errorf("app %s: tasks live at the kill were replaced: %v (after: %v)", app, lost, is)
			}
		default:
			if fresh := missing(is, was); len(fresh) > 0 {
				t.Errorf("app %s scaled down to %d: tasks launched after the kill: %v (at the kill: %v)", app, n, fresh, was)
			}
		}
	}
	for app, peak := range c.peak {
		if peak > c.limit[app] {
			t.Errorf("app %s: Mesos ran %d live tasks at once after the restart, at most %d allowed", app, peak, c.limit[app])
		}
	}
}

// waitConverged polls until Mesos and Stadion agree on the running tasks,
// every app runs exactly its instances, no deployment runs and the
// framework is the one subscribed first, and that holds for stableFor. It
// returns the running task ids by app.
func (c *killCluster) waitConverged(t *testing.T) map[string][]string {
	t.Helper()
	const stableFor = 2 * time.Second
	deadline := time.Now().Add(30 * time.Second)
	var since time.Time
	var last []string
	for {
		running, problem := c.observe(t)
		ids := slices.Sorted(maps.Keys(running))
		switch {
		case problem != "":
			since, last = time.Time{}, nil
		case since.IsZero() || !slices.Equal(ids, last):
			since, last = time.Now(), ids
		case time.Since(since) >= stableFor:
			return tasksByApp(t, ids)
		}
		if time.Now().After(deadline) {
			if problem == "" {
				problem = "the running tasks kept changing"
			}
			t.Fatalf("not converged after 30s: %s", problem)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// observe reads Mesos and Stadion once. It returns the running tasks both
// agree on, or what is not converged yet.
func (c *killCluster) observe(t *testing.T) (map[string]bool, string) {
	t.Helper()
	st := c.masterState(t)
	var problems []string
	if len(st.Frameworks) != 1 || st.Frameworks[0].ID != c.frameworkID || !st.Frameworks[0].Active {
		var fws []string
		for _, fw := range st.Frameworks {
			fws = append(fws, fmt.Sprintf("%s active=%t", fw.ID, fw.Active))
		}
		problems = append(problems, fmt.Sprintf("master frameworks %v, want only %s active", fws, c.frameworkID))
	}
	live := st.liveTasks()
	for app, ids := range tasksByApp(t, slices.Collect(maps.Keys(live))) {
		if c.peak != nil {
			c.peak[app] = max(c.peak[app], len(ids))
		}
	}
	mesosRunning := map[string]bool{}
	for id, state := range live {
		if state != "TASK_RUNNING" {
			problems = append(problems, fmt.Sprintf("mesos task %s is %s", id, state))
			continue
		}
		mesosRunning[id] = true
	}

	var tasks struct {
		Tasks []struct {
			ID    string `json:"id"`
			AppID string `json:"appId"`
			State string `json:"state"`
		} `json:"tasks"`
	}
	getJSON(t, c.api+"/v2/tasks", &tasks)
	stadionRunning := map[string]bool{}
	perApp := map[string]int{}
	for _, task := range tasks.Tasks {
		if task.State != "TASK_RUNNING" {
			problems = append(problems, fmt.Sprintf("stadion task %s is %s", task.ID, task.State))
			continue
		}
		stadionRunning[task.ID] = true
		perApp[task.AppID]++
	}
	if onlyMesos := missing(keys(mesosRunning), keys(stadionRunning)); len(onlyMesos) > 0 {
		problems = append(problems, fmt.Sprintf("running on mesos, unknown to stadion: %v", onlyMesos))
	}
	if onlyStadion := missing(keys(stadionRunning), keys(mesosRunning)); len(onlyStadion) > 0 {
		problems = append(problems, fmt.Sprintf("running for stadion, not on mesos: %v", onlyStadion))
	}

	var apps struct {
		Apps []struct {
			ID        string `json:"id"`
			Instances int    `json:"instances"`
		} `json:"apps"`
	}
	getJSON(t, c.api+"/v2/apps", &apps)
	seen := map[string]bool{}
	for _, app := range apps.Apps {
		seen[app.ID] = true
		if want := c.instances[app.ID]; app.Instances != want {
			t.Fatalf("app %s has instances %d, want %d", app.ID, app.Instances, want)
		}
		if perApp[app.ID] != app.Instances {
			problems = append(problems, fmt.Sprintf("app %s runs %d tasks, want %d", app.ID, perApp[app.ID], app.Instances))
		}
	}
	for app := range c.instances {
		if !seen[app] {
			t.Fatalf("app %s is gone from /v2/apps", app)
		}
	}

	var deployments []struct {
		ID string `json:"id"`
	}
	getJSON(t, c.api+"/v2/deployments", &deployments)
	if len(deployments) > 0 {
		problems = append(problems, fmt.Sprintf("%d deployments still run", len(deployments)))
	}
	if id := c.infoFrameworkID(t); id != c.frameworkID {
		problems = append(problems, fmt.Sprintf("/v2/info frameworkId %q, want %q", id, c.frameworkID))
	}
	if len(problems) > 0 {
		return nil, strings.Join(problems, "; ")
	}
	return stadionRunning, ""
}

func (c *killCluster) createApp(t *testing.T, id string, instances int) {
	t.Helper()
	app := map[string]any{"id": id, "cmd": c.sleepCmd, "cpus": 0.01, "mem": 8, "instances": instances}
	if code, body := doJSON(t, http.MethodPost, c.api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps %s: %d %s", id, code, body)
	}
	c.instances[id] = instances
}

func (c *killCluster) scaleApp(t *testing.T, id string, instances int) {
	t.Helper()
	if code, body := doJSON(t, http.MethodPut, c.api+"/v2/apps"+id, map[string]any{"instances": instances}); code != http.StatusOK {
		t.Fatalf("PUT /v2/apps%s instances %d: %d %s", id, instances, code, body)
	}
	c.instances[id] = instances
}

// waitPartlyLaunched polls Mesos until some but not all instances of app
// have a live task.
func (c *killCluster) waitPartlyLaunched(t *testing.T, app string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		live := c.masterState(t).liveTasks()
		n := len(tasksByApp(t, slices.Collect(maps.Keys(live)))[app])
		switch {
		case n >= c.instances[app]:
			t.Fatalf("app %s launched all %d tasks before the test saw part of them", app, n)
		case n > 0:
			return
		case time.Now().After(deadline):
			t.Fatalf("app %s launched no task within 10s", app)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *killCluster) infoFrameworkID(t *testing.T) string {
	t.Helper()
	var info struct {
		FrameworkID string `json:"frameworkId"`
	}
	getJSON(t, c.api+"/v2/info", &info)
	return info.FrameworkID
}

// masterState is the part of the master's /master/state the test reads.
type masterState struct {
	Frameworks []struct {
		ID               string       `json:"id"`
		Active           bool         `json:"active"`
		Tasks            []masterTask `json:"tasks"`
		UnreachableTasks []masterTask `json:"unreachable_tasks"`
	} `json:"frameworks"`
}

type masterTask struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

func (c *killCluster) masterState(t *testing.T) masterState {
	t.Helper()
	var st masterState
	getJSON(t, "http://"+c.master+"/master/state", &st)
	return st
}

// liveTasks returns the state of every task of every framework that is not
// terminal (unreachable ones included).
func (st masterState) liveTasks() map[string]string {
	live := map[string]string{}
	for _, fw := range st.Frameworks {
		for _, task := range slices.Concat(fw.Tasks, fw.UnreachableTasks) {
			switch task.State {
			case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR":
			default:
				live[task.ID] = task.State
			}
		}
	}
	return live
}

// tasksByApp groups task ids by the app their Marathon id names, sorted.
func tasksByApp(t *testing.T, ids []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, id := range ids {
		app, _, err := marathon.ParseTaskID(id)
		if err != nil {
			t.Fatalf("task id %q: %v", id, err)
		}
		out[string(app)] = append(out[string(app)], id)
	}
	for app := range out {
		slices.Sort(out[app])
	}
	return out
}

func countsOf(byApp map[string][]string) map[string]int {
	out := map[string]int{}
	for app, ids := range byApp {
		out[app] = len(ids)
	}
	return out
}

func keys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// missing returns the ids of want that got lacks.
func missing(want, got []string) []string {
	var out []string
	for _, id := range want {
		if !slices.Contains(got, id) {
			out = append(out, id)
		}
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

func doJSON(t *testing.T, method, url string, v any) (int, string) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// checkNoTaskProcesses fails the test if a process running cmd, directly or
// through sh -c, is still alive (zombies count as gone), and kills it.
func checkNoTaskProcesses(t *testing.T, cmd string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := taskProcesses(cmd)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("%d task processes %q outlived the test: %v", len(left), cmd, left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// taskProcesses lists the live processes running cmd, directly or under
// sh -c.
func taskProcesses(cmd string) []int {
	direct := strings.ReplaceAll(cmd, " ", "\x00") + "\x00"
	shell := "\x00" + cmd + "\x00"
	var found []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		line, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil || (string(line) != direct && !strings.HasSuffix(string(line), shell)) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat")); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		found = append(found, pid)
	}
	return found
}

// killTaskProcesses kills the processes running cmd: the tasks of an agent
// killed with -9, which a real host would keep running too.
func killTaskProcesses(cmd string) {
	for _, pid := range taskProcesses(cmd) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
