package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/testenv"
)

// regWait bounds every wait of the registrator tests: registrations come
// within a second or two on an idle machine; the bound is for a loaded one.
const regWait = 60 * time.Second

// regPorts returns a range of n free ports, for agents whose tasks must
// not collide with other tests' (or answer their checks).
func regPorts(t *testing.T, n int) string {
	lo, hi := testenv.TaskPorts(t, n)
	return fmt.Sprintf("ports:[%d-%d]", lo, hi)
}

// regServe runs stadion serve in this process on master (server.MasterLocal
// for the built-in cluster of two agents) and returns its URL.
func regServe(t *testing.T, masterURL string) string {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Master:                     masterURL,
		HTTPAddress:                "127.0.0.1",
		Hostname:                   "127.0.0.1",
		FrameworkName:              "marathon",
		DataDir:                    t.TempDir(),
		LocalContainerizers:        []string{"mesos"},
		LocalAgents:                2,
		LocalAgentResources:        "cpus:4;mem:2048;disk:1024;" + regPorts(t, 16),
		LocalAllocationInterval:    50 * time.Millisecond,
		ReconciliationInitialDelay: time.Second,
		KillRetry:                  2 * time.Second,
		MesosMinBackoff:            50 * time.Millisecond,
		MesosMaxBackoff:            500 * time.Millisecond,
		Logger:                     newLogger(&prefixLog{t: t, prefix: "serve: "}, slog.LevelWarn),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Cleanup(func() { removeApps(t, srv.URL()) })
	return srv.URL()
}

// regProc is `stadion registrator` running in this process.
type regProc struct {
	cancel context.CancelFunc
	done   chan int
}

func startRegistrator(t *testing.T, name string, args ...string) *regProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &regProc{cancel: cancel, done: make(chan int, 1)}
	out := &prefixLog{t: t, prefix: name + ": "}
	go func() { p.done <- run(ctx, append([]string{"registrator"}, args...), out, out) }()
	t.Cleanup(func() { p.stop(t); out.stop() })
	return p
}

// stop stops the registrator and checks that it exits cleanly; it does
// nothing the second time.
func (p *regProc) stop(t *testing.T) {
	t.Helper()
	if p.done == nil {
		return
	}
	p.cancel()
	select {
	case code := <-p.done:
		if code != exitOK {
			t.Errorf("stadion registrator exited with %d, want %d", code, exitOK)
		}
	case <-time.After(30 * time.Second):
		t.Error("stadion registrator did not stop within 30s")
	}
	p.done = nil
}

// regService is what the tests compare of a registered service.
type regService struct {
	Name    string
	Tags    []string
	Address string
	Port    int
	Node    string
	Status  string
	// Created is the raft index of the registration: it changes only
	// when the service is deregistered and registered again.
	Created uint64
}

// regServices returns the services of owner in Consul's catalog by id.
func regServices(cc *api.Client, owner string) (map[string]regService, error) {
	names, _, err := cc.Catalog().Services(nil)
	if err != nil {
		return nil, err
	}
	out := map[string]regService{}
	for name := range names {
		entries, _, err := cc.Health().Service(name, "", false, nil)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Service.Meta["stadion_owner"] != owner {
				continue
			}
			out[e.Service.ID] = regService{Name: e.Service.Service, Tags: e.Service.Tags, Address: e.Service.Address,
				Port: e.Service.Port, Node: e.Node.Node, Status: e.Checks.AggregatedStatus(), Created: e.Service.CreateIndex}
		}
	}
	return out, nil
}

var ignoreCreated = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Created" }, cmp.Ignore())

// waitServices waits until owner's services in Consul are want (computed
// afresh on every poll) and returns them.
func waitServices(t *testing.T, cc *api.Client, owner, what string, want func() map[string]regService) map[string]regService {
	t.Helper()
	deadline := time.Now().Add(regWait)
	for {
		got, err := regServices(cc, owner)
		w := want()
		if err == nil {
			if diff := cmp.Diff(w, got, ignoreCreated); diff == "" {
				return got
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: services (-want +got):\n%s", what, diff)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond) // poll until the deadline
	}
}

// regTask is a task as the tests read it.
type regTask struct {
	ID                 string `json:"id"`
	Host               string `json:"host"`
	State              string `json:"state"`
	Ports              []int  `json:"ports"`
	HealthCheckResults []struct {
		Alive bool `json:"alive"`
	} `json:"healthCheckResults"`
}

func (t regTask) healthy(checks int) bool {
	if len(t.HealthCheckResults) < checks {
		return false
	}
	for _, r := range t.HealthCheckResults {
		if !r.Alive {
			return false
		}
	}
	return true
}

// regTasks returns the app's tasks.
func regTasks(t *testing.T, marathonURL, app string) []regTask {
	t.Helper()
	var body struct {
		App struct {
			Tasks []regTask `json:"tasks"`
		} `json:"app"`
	}
	getJSON(t, marathonURL+"/v2/apps"+app+"?embed=app.tasks", &body)
	return body.App.Tasks
}

// waitTasks waits until the app has n running tasks, all healthy, none
// of them in except, and returns them.
func waitTasks(t *testing.T, marathonURL, app string, n, checks int, except ...string) []regTask {
	t.Helper()
	deadline := time.Now().Add(regWait)
	for {
		ts := regTasks(t, marathonURL, app)
		ok := len(ts) == n
		for _, task := range ts {
			ok = ok && task.State == "TASK_RUNNING" && task.healthy(checks) && !slices.Contains(except, task.ID)
		}
		if ok {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want %d healthy running tasks (not %v), have %+v", app, n, except, ts)
		}
		time.Sleep(100 * time.Millisecond) // poll until the deadline
	}
}

func regConsulClient(t *testing.T, addr string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cc, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// regGet sends GET url and returns the status.
func regGet(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// registratorApp is the pipeline's test-server with two ports: an HTTP
// check on the first, a TCP check on the second (test-server serves both
// with LISTEN_ALL_PORTS), never killed for failing them. Its service ports
// are fixed, so that the service names are known: the first port takes the
// default name test-server-10100, the second is named by labels.
func registratorApp(bin string, instances int) map[string]any {
	check := func(protocol string, index int) map[string]any {
		c := map[string]any{"protocol": protocol, "portIndex": index, "gracePeriodSeconds": 5, "intervalSeconds": 1,
			"timeoutSeconds": 1, "maxConsecutiveFailures": 0, "delaySeconds": 0}
		if protocol == "HTTP" {
			c["path"] = "/healthcheck"
		}
		return c
	}
	return map[string]any{
		"id": "/reg/test-server", "instances": instances, "cpus": 0.05, "mem": 32, "cmd": bin,
		"env":             map[string]string{"LISTEN_ALL_PORTS": "true", "SERVICE_TAGS": "production,internal-listen-http-3000"},
		"labels":          map[string]string{"SERVICE_10101_NAME": "test-server-admin", "SERVICE_10101_TAGS": "admin"},
		"portDefinitions": []map[string]any{{"port": 10100, "name": "http"}, {"port": 10101, "name": "admin"}},
		"healthChecks":    []map[string]any{check("HTTP", 0), check("TCP", 1)},
	}
}

// wantRegistered is the two services each task should have, all with
// status, except the tasks in other, which have their own status.
func wantRegistered(ts []regTask, node, status string, other map[string]string) map[string]regService {
	want := map[string]regService{}
	for _, task := range ts {
		st := status
		if s, ok := other[task.ID]; ok {
			st = s
		}
		want[task.ID+":10100"] = regService{Name: "test-server-10100", Tags: []string{"production", "internal-listen-http-3000", "stadion"},
			Address: task.Host, Port: task.Ports[0], Node: node, Status: st}
		want[task.ID+":10101"] = regService{Name: "test-server-admin", Tags: []string{"admin", "stadion"},
			Address: task.Host, Port: task.Ports[1], Node: node, Status: st}
	}
	return want
}

// wantCatalog is wantRegistered for a registrator in catalog mode with this
// owner: each task's services on its host's node, tagged with the owner.
func wantCatalog(ts []regTask, owner string, other map[string]string) map[string]regService {
	want := map[string]regService{}
	for _, task := range ts {
		for id, s := range wantRegistered([]regTask{task}, owner+"-"+task.Host, api.HealthPassing, other) {
			s.Tags = append(slices.Clone(s.Tags[:len(s.Tags)-1]), owner)
			want[id] = s
		}
	}
	return want
}

// TestRegistratorOnBuiltInCluster is issue 6 on stadion serve's built-in
// cluster with a real Consul agent, the registrator in agent mode (this
// host's tasks, Consul running the mirrored checks): 3 instances × 2 ports
// give 6 services; an instance that fails its check turns critical; scaled
// to 1 the others go; with the registrator stopped two tasks are killed,
// and at its start it removes exactly their services; Consul down for a
// while loses nothing.
func TestRegistratorOnBuiltInCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Consul and the built-in cluster")
	}
	consul := testenv.StartConsul(t)
	cc := regConsulClient(t, consul.HTTPAddr)
	bin := testenv.TestServer(t)
	marathonURL := regServe(t, server.MasterLocal)
	const app = "/reg/test-server"
	node := "testenv" // the Consul agent's node

	// Services the registrator does not own.
	for _, s := range []*api.AgentServiceRegistration{
		{ID: "hand-made", Name: "test-server-10100", Port: 1},
		{ID: "other-owner", Name: "test-server-10100", Port: 2, Meta: map[string]string{"stadion_owner": "team-b"}},
	} {
		if err := cc.Agent().ServiceRegister(s); err != nil {
			t.Fatal(err)
		}
	}
	foreign := func() []string {
		s, err := cc.Agent().Services()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for id := range s {
			if id == "hand-made" || id == "other-owner" {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}

	// The built-in agents stand in for two hosts, 127.0.0.2 and 127.0.0.3;
	// this registrator speaks for both.
	args := []string{"--marathon", marathonURL, "--consul", consul.HTTPAddr, "--hostname", "127.0.0.2,127.0.0.3",
		"--retry-max", "2s", "--log-level", "debug"}
	top := t // owns the registrators, which outlive the subtests
	reg := startRegistrator(top, "registrator", args...)
	if code, body := doJSON(t, http.MethodPost, marathonURL+"/v2/apps", registratorApp(bin, 3)); code != http.StatusCreated {
		t.Fatalf("create app: %d %s", code, body)
	}

	var tasks []regTask
	t.Run("3 instances with 2 ports give 6 services", func(t *testing.T) {
		tasks = waitTasks(t, marathonURL, app, 3, 2)
		got := waitServices(t, cc, "stadion", "6 passing services", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, nil)
		})
		if len(got) != 6 {
			t.Errorf("%d services, want 6", len(got))
		}
	})

	t.Run("an instance that fails its check turns critical", func(t *testing.T) {
		sick := tasks[1]
		if code := regGet(t, fmt.Sprintf("http://127.0.0.1:%d/fail", sick.Ports[0])); code != http.StatusOK {
			t.Fatalf("GET /fail: %d", code)
		}
		waitServices(t, cc, "stadion", "its 2 services critical", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, map[string]string{sick.ID: api.HealthCritical})
		})
		regGet(t, fmt.Sprintf("http://127.0.0.1:%d/restore", sick.Ports[0]))
		waitServices(t, cc, "stadion", "passing again", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, nil)
		})
	})

	t.Run("scaled to 1 the others go", func(t *testing.T) {
		if code, body := doJSON(t, http.MethodPut, marathonURL+"/v2/apps"+app, map[string]any{"instances": 1}); code != http.StatusOK {
			t.Fatalf("scale: %d %s", code, body)
		}
		tasks = waitTasks(t, marathonURL, app, 1, 2)
		waitServices(t, cc, "stadion", "2 services", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, nil)
		})
	})

	t.Run("a restarted registrator removes exactly the dangling services", func(t *testing.T) {
		if code, body := doJSON(t, http.MethodPut, marathonURL+"/v2/apps"+app, map[string]any{"instances": 3}); code != http.StatusOK {
			t.Fatalf("scale: %d %s", code, body)
		}
		tasks = waitTasks(t, marathonURL, app, 3, 2)
		before := waitServices(t, cc, "stadion", "6 services", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, nil)
		})
		reg.stop(t)
		killed := []string{tasks[0].ID, tasks[2].ID}
		for _, id := range killed {
			req, _ := http.NewRequest(http.MethodDelete, marathonURL+"/v2/apps"+app+"/tasks/"+id, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("kill %s: %d", id, resp.StatusCode)
			}
		}
		tasks = waitTasks(t, marathonURL, app, 3, 2, killed...)
		if got, err := regServices(cc, "stadion"); err != nil || len(got) != 6 || got[killed[0]+":10100"].Name == "" {
			t.Fatalf("with the registrator stopped Consul should still hold the 6 old services: %v %v", got, err)
		}

		reg = startRegistrator(top, "registrator-2", args...)
		after := waitServices(t, cc, "stadion", "the survivor's and the replacements' services", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, nil)
		})
		for id, s := range after {
			if old, ok := before[id]; ok && old.Created != s.Created {
				t.Errorf("service %s was registered again (index %d, then %d): only the dangling ones may change", id, old.Created, s.Created)
			}
		}
		if kept := slices.Collect(maps.Keys(after)); len(kept) != 6 {
			t.Errorf("services %v, want 6", kept)
		}
	})

	t.Run("consul down for a while loses nothing", func(t *testing.T) {
		consul.Stop(t)
		victim := tasks[1].ID
		req, _ := http.NewRequest(http.MethodDelete, marathonURL+"/v2/apps"+app+"/tasks/"+victim, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		tasks = waitTasks(t, marathonURL, app, 3, 2, victim)
		time.Sleep(time.Second)
		consul.Start(t)
		waitServices(t, cc, "stadion", "every current task's services, none of the killed one's", func() map[string]regService {
			return wantRegistered(tasks, node, api.HealthPassing, nil)
		})
	})

	if ids := foreign(); !slices.Equal(ids, []string{"hand-made", "other-owner"}) {
		t.Errorf("services the registrator does not own: %v left, want both", ids)
	}
	reg.stop(t)
}

// TestRegistratorLocality runs two agents that report different host names
// (127.0.0.1 and localhost) and an app with one task on each: the
// registrator of the "localhost" host registers only that host's task with
// its agent; one in catalog mode registers both, each on its host's node.
func TestRegistratorLocality(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Consul and a cluster")
	}
	consul := testenv.StartConsul(t)
	cc := regConsulClient(t, consul.HTTPAddr)
	bin := testenv.TestServer(t)
	ctx := context.Background()
	log := newLogger(&prefixLog{t: t, prefix: "cluster: "}, slog.LevelWarn)
	m, err := master.Start(ctx, master.Config{AllocationInterval: 50 * time.Millisecond, WorkDir: filepath.Join(t.TempDir(), "master"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(); <-m.Done() })
	for _, host := range []string{"127.0.0.1", "localhost"} {
		a, err := agent.Start(ctx, agent.Config{Master: m.URL(), Hostname: host, WorkDir: filepath.Join(t.TempDir(), host),
			Resources: "cpus:2;mem:1024;disk:512;" + regPorts(t, 4), Containerizers: []string{"mesos"}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Stop(); <-a.Done() })
		select {
		case <-a.Registered():
		case <-time.After(regWait):
			t.Fatalf("agent %s did not register", host)
		}
	}
	marathonURL := regServe(t, m.URL())

	startRegistrator(t, "agent-registrator", "--marathon", marathonURL, "--consul", consul.HTTPAddr, "--hostname", "localhost",
		"--health", "ttl", "--retry-max", "2s")
	startRegistrator(t, "catalog-registrator", "--marathon", marathonURL, "--consul", "http://"+consul.HTTPAddr, "--mode", "catalog",
		"--owner", "stadion-catalog", "--retry-max", "2s")

	app := registratorApp(bin, 2)
	app["constraints"] = [][]string{{"hostname", "UNIQUE"}}
	if code, body := doJSON(t, http.MethodPost, marathonURL+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("create app: %d %s", code, body)
	}
	tasks := waitTasks(t, marathonURL, "/reg/test-server", 2, 2)
	var local []regTask
	for _, task := range tasks {
		if task.Host == "localhost" {
			local = append(local, task)
		}
	}
	if len(local) != 1 {
		t.Fatalf("tasks %+v: want one on each host", tasks)
	}

	t.Run("agent mode: this host's task only", func(t *testing.T) {
		waitServices(t, cc, "stadion", "the localhost task's services", func() map[string]regService {
			return wantRegistered(local, "testenv", api.HealthPassing, nil)
		})
	})

	t.Run("catalog mode: every task on its host's node", func(t *testing.T) {
		waitServices(t, cc, "stadion-catalog", "both tasks' services", func() map[string]regService {
			return wantCatalog(tasks, "stadion-catalog", nil)
		})
	})

	t.Run("the scheduler's verdict turns critical in ttl and catalog checks", func(t *testing.T) {
		sick := local[0]
		if code := regGet(t, fmt.Sprintf("http://127.0.0.1:%d/fail", sick.Ports[0])); code != http.StatusOK {
			t.Fatalf("GET /fail: %d", code)
		}
		critical := map[string]string{sick.ID: api.HealthCritical}
		waitServices(t, cc, "stadion", "the agent's TTL checks critical", func() map[string]regService {
			return wantRegistered(local, "testenv", api.HealthPassing, critical)
		})
		waitServices(t, cc, "stadion-catalog", "the catalog checks critical", func() map[string]regService {
			return wantCatalog(tasks, "stadion-catalog", critical)
		})
	})
}

func TestRegistratorUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		contains string
	}{
		{name: "help", args: []string{"--help"}, code: exitOK, contains: "SERVICE_<port>_NAME"},
		{name: "bad mode", args: []string{"--mode", "dns"}, code: exitUsage, contains: `mode "dns"`},
		{name: "bad scheduler URL", args: []string{"--marathon", "m1:8080"}, code: exitUsage, contains: "want http(s)://host:port"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, code: exitUsage, contains: "--log-level"},
		{name: "arguments", args: []string{"consul://127.0.0.1:8500", "extra"}, code: exitUsage, contains: "unexpected arguments"},
		{name: "not a registry URI", args: []string{"extra"}, code: exitUsage, contains: `registry URI "extra"`},
		{name: "other registries", args: []string{"etcd://127.0.0.1:2379/x"}, code: exitUsage, contains: `scheme "etcd"`},
		{name: "consulkv without prefix", args: []string{"consulkv://127.0.0.1:8500"}, code: exitUsage, contains: "needs a prefix"},
		{name: "consulkv with the marathon source", args: []string{"--source", "marathon,docker", "consulkv://127.0.0.1:8500/x"}, code: exitUsage, contains: "docker source only"},
		{name: "bad source", args: []string{"--source", "nomad"}, code: exitUsage, contains: `--source "nomad"`},
		{name: "bad deregister", args: []string{"-deregister", "never", "consul://127.0.0.1:8500"}, code: exitUsage, contains: `-deregister "never"`},
		{name: "ttl-refresh not below ttl", args: []string{"-ttl", "10", "-ttl-refresh", "10", "consul://127.0.0.1:8500"}, code: exitUsage, contains: "ttl-refresh"},
		{name: "bad ip", args: []string{"-ip", "host.example", "consul://127.0.0.1:8500"}, code: exitUsage, contains: `-ip "host.example"`},
		{name: "bad ttl", args: []string{"-ttl", "soon", "consul://127.0.0.1:8500"}, code: exitUsage, contains: "-ttl"},
		{name: "version", args: []string{"--version"}, code: exitOK, contains: "stadion "},
		{name: "bad environment", env: map[string]string{"STADION_REGISTRATOR_RESYNC_INTERVAL": "often"}, code: exitUsage, contains: "STADION_REGISTRATOR_RESYNC_INTERVAL"},
		{name: "environment below flags", env: map[string]string{"STADION_REGISTRATOR_MODE": "dns"}, args: []string{"--mode", "catalog", "--owner", "bad owner"},
			code: exitUsage, contains: `owner "bad owner"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			code := run(context.Background(), append([]string{"registrator"}, tc.args...), &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.contains) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s", code, tc.code, tc.contains, out.String())
			}
		})
	}
}

// TestRegistratorBothSources runs --source marathon,docker on a host whose
// built-in agent runs a DOCKER task next to a plain container: the task is
// registered once, by the marathon source under its task id, and the plain
// container by the Docker source with gliderlabs's conventions.
func TestRegistratorBothSources(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Consul, Docker containers and the built-in cluster")
	}
	testenv.RequireDocker(t)
	image := testenv.WebServerImage(t)
	consul := testenv.StartConsul(t)
	cc := regConsulClient(t, consul.HTTPAddr)
	srv, err := server.Start(context.Background(), server.Config{
		Master: server.MasterLocal, HTTPAddress: "127.0.0.1", Hostname: "127.0.0.1", FrameworkName: "marathon",
		DataDir: t.TempDir(), LocalContainerizers: []string{"docker", "mesos"}, LocalAgents: 1,
		LocalAgentResources: "cpus:4;mem:2048;disk:1024;" + regPorts(t, 8), LocalAllocationInterval: 50 * time.Millisecond,
		Logger: newLogger(&prefixLog{t: t, prefix: "serve: "}, slog.LevelWarn),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Cleanup(func() { removeApps(t, srv.URL()) })

	startRegistrator(t, "registrator", "--source", "marathon,docker", "--marathon", srv.URL(), "--hostname", "127.0.0.2",
		"--retry-max", "2s", "--log-level", "debug", "consul://"+consul.HTTPAddr)
	app := map[string]any{
		"id": "/both/web", "instances": 1, "cpus": 0.05, "mem": 32,
		"env":       map[string]string{"LISTEN_PORT": "8080", "SERVICE_NAME": "web"},
		"container": map[string]any{"type": "DOCKER", "docker": map[string]any{"image": image}, "portMappings": []map[string]any{{"containerPort": 8080, "hostPort": 0}}},
		"networks":  []map[string]any{{"mode": "container/bridge"}},
	}
	if code, body := doJSON(t, http.MethodPost, srv.URL()+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("create app: %d %s", code, body)
	}
	tasks := waitTasks(t, srv.URL(), "/both/web", 1, 0)

	// A plain container, started after the task's: when the Docker source
	// has registered it, it has seen the task's container too.
	name := "stadion-both-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
	docker := testenv.Binary(t, "docker")
	if out, err := exec.Command(docker, "run", "-d", "--name", name, "-e", "LISTEN_PORT=8080", "-e", "SERVICE_NAME=plain",
		"-p", "127.0.0.1::8080", image).CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(docker, "rm", "-f", name).Run() })

	taskID, plainID := tasks[0].ID+":8080", "127.0.0.2:"+name+":8080"
	var services map[string]*api.AgentService
	deadline := time.Now().Add(regWait)
	for {
		services, err = cc.Agent().Services()
		if err != nil {
			t.Fatal(err)
		}
		if services[taskID] != nil && services[plainID] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want services %s and %s, have %v", taskID, plainID, slices.Sorted(maps.Keys(services)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := services[taskID]; s.Service != "web" || s.Meta["stadion_source"] != "" || s.Meta["app_id"] != "/both/web" {
		t.Errorf("the task's service %+v: want name web from the marathon source", s)
	}
	if s := services[plainID]; s.Service != "plain" || s.Meta["stadion_source"] != "docker" {
		t.Errorf("the plain container's service %+v: want name plain from the docker source", s)
	}
	for id, s := range services {
		if s.Meta["stadion_source"] == "docker" && strings.HasPrefix(s.Meta["container_name"], "mesos-") {
			t.Errorf("the task's container was registered by the docker source too: %s %+v", id, s)
		}
	}
}
