package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// haCluster is a Mesos master and agent, a real ZooKeeper and three
// `stadion serve --zk` processes sharing it.
type haCluster struct {
	top    *testing.T
	zk     *testenv.ZooKeeper
	master string
	bin    string // test-server
	serves []*haServe
}

type haServe struct {
	name string
	api  string
	args []string
	proc *process
}

func startHACluster(t *testing.T) *haCluster {
	t.Helper()
	c := &haCluster{top: t, zk: testenv.StartZooKeeper(t), bin: testenv.TestServer(t)}
	dir := t.TempDir()
	masterPort := testenv.FreePort(t)
	c.master = "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--work_dir", filepath.Join(dir, "master"), "--allocation_interval", "100ms")
	waitHTTP(t, "http://"+c.master+"/health")
	startStadion(t, "agent", "mesos", "agent", "--master", c.master, "--ip", "127.0.0.1",
		"--port", strconv.Itoa(testenv.FreePort(t)), "--work_dir", filepath.Join(dir, "agent"),
		"--resources", "cpus:8;mem:4096;disk:1024;ports:[29200-29399]")
	for i := range 3 {
		port := testenv.FreePort(t)
		s := &haServe{
			name: "serve" + strconv.Itoa(i),
			api:  "http://127.0.0.1:" + strconv.Itoa(port),
			args: []string{"serve", "--master", c.master, "--zk", c.zk.URL("/stadion"),
				"--zk_session_timeout", "3000", "--zk_timeout", "5000",
				"--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port), "--hostname", "127.0.0.1",
				"--data_dir", filepath.Join(dir, "serve"+strconv.Itoa(i)), "--reconciliation_initial_delay", "500"},
		}
		c.serves = append(c.serves, s)
		c.start(t, s)
	}
	return c
}

func (c *haCluster) start(t *testing.T, s *haServe) {
	t.Helper()
	s.proc = startStadion(c.top, s.name, s.args...)
	waitHTTP(t, s.api+"/ping")
}

// leader waits until every running instance names the same leader, one
// of them, that answers as elected; it returns it.
func (c *haCluster) leader(t *testing.T) *haServe {
	t.Helper()
	var lead *haServe
	poll(t, "one leader, named by every instance", func() error {
		lead = nil
		names := map[string]bool{}
		for _, s := range c.running() {
			var l struct{ Leader string }
			if code, body := getStatus(s.api+"/v2/leader", &l); code != http.StatusOK {
				return fmt.Errorf("%s: GET /v2/leader %d %s", s.name, code, body)
			}
			names[l.Leader] = true
		}
		if len(names) != 1 {
			return fmt.Errorf("leaders named: %v", slices.Collect(maps.Keys(names)))
		}
		for _, s := range c.running() {
			if "http://"+slices.Collect(maps.Keys(names))[0] == s.api {
				lead = s
			}
		}
		if lead == nil {
			return fmt.Errorf("the named leader %v is none of the running instances", names)
		}
		var info struct {
			Elected bool   `json:"elected"`
			Leader  string `json:"leader"`
		}
		if code, body := getStatus(lead.api+"/v2/info", &info); code != http.StatusOK || !info.Elected {
			return fmt.Errorf("leader %s: /v2/info %d %s", lead.name, code, body)
		}
		return nil
	})
	return lead
}

func (c *haCluster) running() []*haServe {
	var out []*haServe
	for _, s := range c.serves {
		select {
		case <-s.proc.done:
		default:
			out = append(out, s)
		}
	}
	return out
}

func (c *haCluster) kill9(t *testing.T, s *haServe) {
	t.Helper()
	if err := s.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.proc.done
}

// haApp is the app as every instance shows it.
type haApp struct {
	App struct {
		Version     string                `json:"version"`
		Tasks       []upgradeTask         `json:"tasks"`
		Deployments []struct{ ID string } `json:"deployments"`
	} `json:"app"`
}

// converged waits until every running instance shows the app with n
// healthy tasks of its current version and no deployment, and Mesos runs
// exactly those tasks; it returns their ids.
func (c *haCluster) converged(t *testing.T, id string, n int) []string {
	t.Helper()
	var ids []string
	poll(t, fmt.Sprintf("%s converged to %d healthy tasks on every instance and in Mesos", id, n), func() error {
		var seen []string
		for _, s := range c.running() {
			var a haApp
			if code, body := getStatus(s.api+"/v2/apps"+id+"?embed=app.tasks", &a); code != http.StatusOK {
				return fmt.Errorf("%s: %d %s", s.name, code, body)
			}
			var got []string
			for _, task := range a.App.Tasks {
				if task.Version != a.App.Version || !task.healthy() {
					return fmt.Errorf("%s: task %s version %s healthy %v (app %s)", s.name, task.ID, task.Version, task.healthy(), a.App.Version)
				}
				got = append(got, task.ID)
			}
			slices.Sort(got)
			if len(got) != n || len(a.App.Deployments) != 0 {
				return fmt.Errorf("%s: %d tasks, deployments %v", s.name, len(got), a.App.Deployments)
			}
			if seen != nil && !slices.Equal(seen, got) {
				return fmt.Errorf("%s shows other tasks than another instance", s.name)
			}
			seen = got
		}
		var st masterState
		if code, body := getStatus("http://"+c.master+"/master/state", &st); code != http.StatusOK {
			return fmt.Errorf("master state %d %s", code, body)
		}
		live := slices.Sorted(maps.Keys(st.liveTasks()))
		if !slices.Equal(live, seen) {
			return fmt.Errorf("mesos runs %d tasks %v, stadion shows %d", len(live), live, len(seen))
		}
		ids = seen
		return nil
	})
	return ids
}

func (c *haCluster) app(release string, instances int) map[string]any {
	return map[string]any{
		"id": "/ha", "cmd": c.bin, "cpus": 0.01, "mem": 8, "instances": instances,
		"env":             map[string]string{"RELEASE": release},
		"portDefinitions": []map[string]any{{"port": 0}},
		"healthChecks": []map[string]any{{"protocol": "HTTP", "path": "/healthcheck", "portIndex": 0,
			"gracePeriodSeconds": 10, "intervalSeconds": 1, "timeoutSeconds": 1, "delaySeconds": 0, "maxConsecutiveFailures": 3}},
		"upgradeStrategy": map[string]any{"minimumHealthCapacity": 0.9, "maximumOverCapacity": 0},
	}
}

// TestHAFailover runs three `stadion serve --zk` on a real ZooKeeper: an
// app of 20 instances created through a standby, the leader killed with
// -9 while it runs and again in the middle of a rolling upgrade. Each time
// a standby takes over, every instance answers the API (standbys proxy to
// the new leader), no task is lost or duplicated, and the upgrade
// completes.
func TestHAFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startHACluster(t)
	lead := c.leader(t)
	standby := c.running()[0]
	if standby == lead {
		standby = c.running()[1]
	}

	if code, body := doJSON(t, http.MethodPost, standby.api+"/v2/apps", c.app("1", 20)); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps through the standby %s: %d %s", standby.name, code, body)
	}
	before := c.converged(t, "/ha", 20)

	killedAt := time.Now()
	c.kill9(t, lead)
	next := c.leader(t)
	t.Logf("failover: %s leads %v after the kill", next.name, time.Since(killedAt).Round(time.Millisecond))
	if after := c.converged(t, "/ha", 20); !slices.Equal(after, before) {
		t.Fatalf("tasks changed across the failover:\nbefore %v\nafter  %v", before, after)
	}
	c.start(t, lead) // back as a standby

	standby = c.running()[0]
	if standby == next {
		standby = c.running()[1]
	}
	if code, body := doJSON(t, http.MethodPut, standby.api+"/v2/apps/ha", c.app("2", 20)); code != http.StatusOK {
		t.Fatalf("PUT /v2/apps/ha through the standby %s: %d %s", standby.name, code, body)
	}
	poll(t, "the upgrade part done", func() error {
		var a haApp
		if code, body := getStatus(next.api+"/v2/apps/ha?embed=app.tasks", &a); code != http.StatusOK {
			return fmt.Errorf("%d %s", code, body)
		}
		fresh := 0
		for _, task := range a.App.Tasks {
			if task.Version == a.App.Version && task.healthy() {
				fresh++
			}
		}
		if fresh < 4 || fresh > 14 {
			return fmt.Errorf("%d of 20 tasks upgraded", fresh)
		}
		return nil
	})
	c.kill9(t, next)
	final := c.leader(t)
	t.Logf("%s leads after the kill mid-upgrade", final.name)
	after := c.converged(t, "/ha", 20)
	for _, id := range after {
		if slices.Contains(before, id) {
			t.Errorf("task %s of release 1 survived the upgrade", id)
		}
	}
}

// getStatus GETs url into v and returns the status and, on failure, the
// body.
func getStatus(url string, v any) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	return decodeBody(resp, v)
}

func decodeBody(resp *http.Response, v any) (int, string) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, string(body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, fmt.Sprintf("%v in %s", err, body)
	}
	return resp.StatusCode, ""
}

// TestHAEndpoints checks what standbys answer themselves and what they
// send on: GET /v2/info (elected false, the leader, zookeeper_config),
// /v2/events (302 to the leader), DELETE /v2/leader (the leader abdicates
// and another takes over), and 503 while no leader can be known.
func TestHAEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startHACluster(t)
	lead := c.leader(t)
	var standby *haServe
	for _, s := range c.running() {
		if s != lead {
			standby = s
		}
	}

	var info struct {
		Elected         bool           `json:"elected"`
		Leader          string         `json:"leader"`
		ZookeeperConfig map[string]any `json:"zookeeper_config"`
	}
	if code, body := getStatus(standby.api+"/v2/info", &info); code != http.StatusOK {
		t.Fatalf("standby /v2/info: %d %s", code, body)
	}
	if info.Elected || "http://"+info.Leader != lead.api || info.ZookeeperConfig["zk"] != c.zk.URL("/stadion") || info.ZookeeperConfig["zk_session_timeout"] != 3000.0 {
		t.Fatalf("standby /v2/info %+v: want elected false, leader %s, zookeeper_config of --zk", info, lead.api)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, standby.api+"/v2/events?event_type=deployment_info", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := lead.api + "/v2/events?event_type=deployment_info"; resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("standby /v2/events: %d Location %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// Proxied: a write through the standby lands on the leader.
	if code, body := doJSON(t, http.MethodPost, standby.api+"/v2/apps", c.app("1", 1)); code != http.StatusCreated {
		t.Fatalf("POST through the standby: %d %s", code, body)
	}
	c.converged(t, "/ha", 1)

	code, body := doJSON(t, http.MethodDelete, standby.api+"/v2/leader", nil)
	if code != http.StatusOK {
		t.Fatalf("DELETE /v2/leader through the standby: %d %s", code, body)
	}
	poll(t, "another instance leads after the abdication", func() error {
		if now := c.leader(t); now == lead {
			return fmt.Errorf("%s still leads", lead.name)
		}
		return nil
	})
	c.converged(t, "/ha", 1)

	// A new instance that cannot reach ZooKeeper knows no leader.
	c.zk.Stop(t)
	lone := &haServe{name: "lone", api: "", args: slices.Clone(c.serves[0].args)}
	port := testenv.FreePort(t)
	lone.api = "http://127.0.0.1:" + strconv.Itoa(port)
	for i, a := range lone.args {
		switch {
		case a == "--http_port":
			lone.args[i+1] = strconv.Itoa(port)
		case a == "--data_dir":
			lone.args[i+1] = filepath.Join(t.TempDir(), "lone")
		}
	}
	c.start(t, lone)
	var msg struct{ Message string }
	code, body = getStatus(lone.api+"/v2/apps", &msg)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /v2/apps without a leader: %d %s, want 503", code, body)
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Message != "Could not determine the current leader" {
		t.Fatalf("503 body %s", body)
	}
	c.zk.Start(t)
}

// TestServeFollowsMesosMasterFailover runs two built-in masters elected in
// ZooKeeper and `stadion serve --master zk://.../mesos`: when the leading
// master is killed with -9, serve finds the new one, subscribes again as
// the same framework, keeps its tasks and schedules on it.
func TestServeFollowsMesosMasterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	z := testenv.StartZooKeeper(t)
	dir := t.TempDir()
	mesosZK := z.URL("/mesos")
	var masters []*process
	var masterURLs []string
	for i := range 2 {
		port := testenv.FreePort(t)
		masters = append(masters, startStadion(t, "master"+strconv.Itoa(i), "mesos", "master", "--ip", "127.0.0.1",
			"--port", strconv.Itoa(port), "--zk", mesosZK, "--zk_session_timeout", "3secs",
			"--allocation_interval", "100ms", "--agent_ping_timeout", "500ms", "--max_agent_ping_timeouts", "10"))
		masterURLs = append(masterURLs, "http://127.0.0.1:"+strconv.Itoa(port))
		waitHTTP(t, masterURLs[i]+"/health")
	}
	startStadion(t, "agent", "mesos", "agent", "--master", mesosZK, "--ip", "127.0.0.1",
		"--port", strconv.Itoa(testenv.FreePort(t)), "--work_dir", filepath.Join(dir, "agent"),
		"--resources", "cpus:4;mem:2048;disk:1024;ports:[29600-29699]")
	port := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(port)
	startStadion(t, "serve", "serve", "--master", mesosZK, "--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port),
		"--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"), "--reconciliation_initial_delay", "500")
	waitHTTP(t, api+"/ping")

	app := map[string]any{"id": "/follow", "cmd": "sleep 300", "cpus": 0.01, "mem": 8, "instances": 3}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	running := func(n int) []string {
		var ids []string
		poll(t, fmt.Sprintf("%d tasks running", n), func() error {
			var a struct {
				App struct {
					Tasks []struct {
						ID    string `json:"id"`
						State string `json:"state"`
					} `json:"tasks"`
				} `json:"app"`
			}
			if code, body := getStatus(api+"/v2/apps/follow?embed=app.tasks", &a); code != http.StatusOK {
				return fmt.Errorf("%d %s", code, body)
			}
			ids = nil
			for _, task := range a.App.Tasks {
				if task.State == "TASK_RUNNING" {
					ids = append(ids, task.ID)
				}
			}
			slices.Sort(ids)
			if len(ids) != n || len(a.App.Tasks) != n {
				return fmt.Errorf("%d running of %d tasks", len(ids), len(a.App.Tasks))
			}
			return nil
		})
		return ids
	}
	before := running(3)
	var info struct {
		FrameworkID string `json:"frameworkId"`
	}
	getJSON(t, api+"/v2/info", &info)

	// Which master leads: the one whose /master/state says so.
	leading := -1
	poll(t, "a leading master", func() error {
		for i, u := range masterURLs {
			var st struct {
				Leader string `json:"leader"`
				PID    string `json:"pid"`
			}
			if code, _ := getStatus(u+"/master/state", &st); code == http.StatusOK && st.Leader != "" && st.Leader == st.PID {
				leading = i
				return nil
			}
		}
		return fmt.Errorf("no master says it leads")
	})
	masters[leading].cmd.Process.Signal(syscall.SIGKILL)
	<-masters[leading].done
	other := masterURLs[1-leading]

	poll(t, "the framework subscribed to the new master with its tasks", func() error {
		var st masterState
		if code, body := getStatus(other+"/master/state", &st); code != http.StatusOK {
			return fmt.Errorf("%d %s", code, body)
		}
		if len(st.Frameworks) != 1 || st.Frameworks[0].ID != info.FrameworkID || !st.Frameworks[0].Active {
			return fmt.Errorf("frameworks %+v, want %s active", st.Frameworks, info.FrameworkID)
		}
		if live := slices.Sorted(maps.Keys(st.liveTasks())); !slices.Equal(live, before) {
			return fmt.Errorf("new master knows tasks %v, want %v", live, before)
		}
		return nil
	})
	if after := running(3); !slices.Equal(after, before) {
		t.Fatalf("tasks after the master failover %v, want %v", after, before)
	}
	if code, body := doJSON(t, http.MethodPut, api+"/v2/apps/follow", map[string]any{"instances": 5}); code != http.StatusOK {
		t.Fatalf("scale to 5: %d %s", code, body)
	}
	running(5)
}

// TestHAZooKeeperRestart restarts ZooKeeper while three `stadion serve
// --zk` launch an app of 20 instances: once it is back, the app converges
// with Mesos, and after the leader is then killed with -9 the new leader
// finds exactly the same tasks: nothing acknowledged was lost.
func TestHAZooKeeperRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startHACluster(t)
	lead := c.leader(t)
	if code, body := doJSON(t, http.MethodPost, lead.api+"/v2/apps", c.app("1", 20)); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	c.zk.Stop(t)
	time.Sleep(5 * time.Second) // ZooKeeper stays down longer than the 3 s session timeout
	c.zk.Start(t)
	before := c.converged(t, "/ha", 20)

	c.kill9(t, c.leader(t))
	c.leader(t)
	if after := c.converged(t, "/ha", 20); !slices.Equal(after, before) {
		t.Fatalf("tasks changed across the failover after the ZooKeeper restart:\nbefore %v\nafter  %v", before, after)
	}
}
