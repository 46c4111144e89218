package registrator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/docker"
	"github.com/stadionhq/stadion/internal/testenv"
)

// dockerRig is a real Docker engine, a real Consul agent and an image of
// examples/test-server, for the Docker source's tests. Containers are named
// stadion-dreg-<run>-<name>, so that tests on a shared engine never touch
// each other's.
type dockerRig struct {
	engine *docker.Client
	image  string
	run    string
	consul *testenv.Consul
	client *api.Client
}

func newDockerRig(t *testing.T) *dockerRig {
	t.Helper()
	testenv.RequireDocker(t)
	image := testenv.ScratchImage(t, "../examples/test-server")
	c, client := startConsul(t)
	return &dockerRig{engine: docker.NewClient(testenv.DockerHost()), image: image, run: randomHex(4), consul: c, client: client}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startRegistrator runs the Docker source until the test ends, or until
// the returned stop is called.
func (r *dockerRig) startRegistrator(t *testing.T, cfg DockerConfig) (stop func()) {
	t.Helper()
	cfg.DockerHost = testenv.DockerHost()
	cfg.Consul = ConsulConfig{Address: "http://" + r.consul.HTTPAddr}
	cfg.RetryAttempts = -1
	cfg.RetryMax = time.Second
	cfg.Logger = testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunDocker(ctx, cfg) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunDocker: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// containerSpec describes a test container.
type containerSpec struct {
	name    string // the full name is stadion-dreg-<run>-<name>, or name as is when it starts with "mesos-"
	env     []string
	labels  map[string]string
	expose  []string // "8080/tcp"
	publish []string // published on 127.0.0.1, random host ports
	health  bool     // a HEALTHCHECK running test-server check every 500ms
	network string   // HostConfig.NetworkMode; empty is the default bridge
}

func (r *dockerRig) containerName(name string) string {
	if strings.HasPrefix(name, "mesos-") {
		return name
	}
	return "stadion-dreg-" + r.run + "-" + name
}

// start creates and starts a container through the Engine API; it is
// removed when the test ends. It returns the container as inspected.
func (r *dockerRig) start(t *testing.T, spec containerSpec) docker.Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exposed := map[string]struct{}{}
	for _, p := range spec.expose {
		exposed[p] = struct{}{}
	}
	bindings := map[string][]docker.PortBinding{}
	for _, p := range spec.publish {
		exposed[p] = struct{}{}
		bindings[p] = []docker.PortBinding{{HostIP: "127.0.0.1"}}
	}
	body := map[string]any{
		"Image":        r.image,
		"Env":          spec.env,
		"Labels":       spec.labels,
		"ExposedPorts": exposed,
		"HostConfig":   map[string]any{"PortBindings": bindings, "NetworkMode": spec.network},
	}
	if spec.health {
		body["Healthcheck"] = map[string]any{"Test": []string{"CMD", "/app", "check"}, "Interval": int64(500 * time.Millisecond), "Timeout": int64(2 * time.Second), "Retries": 1}
	}
	name := r.containerName(spec.name)
	var created struct{ ID string }
	if err := r.engine.Do(ctx, http.MethodPost, "/containers/create", map[string][]string{"name": {name}}, body, &created); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if resp, err := r.engine.Request(context.Background(), http.MethodGet, "/containers/"+created.ID+"/logs", map[string][]string{"stdout": {"1"}, "stderr": {"1"}}, nil); err == nil {
				var out strings.Builder
				_ = docker.Demux(resp.Body, &out, &out)
				resp.Body.Close()
				t.Logf("container %s output:\n%s", name, out.String())
			}
		}
		r.remove(t, created.ID)
	})
	if err := r.engine.Do(ctx, http.MethodPost, "/containers/"+created.ID+"/start", nil, nil, nil); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	c, err := r.engine.Inspect(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// remove force-removes a container.
func (r *dockerRig) remove(t *testing.T, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := r.engine.Do(ctx, http.MethodDelete, "/containers/"+id, map[string][]string{"force": {"1"}}, nil, nil)
	if err != nil && !docker.IsNotFound(err) {
		t.Errorf("remove container %s: %v", id, err)
	}
}

// signal sends a signal to a container (docker kill -s).
func (r *dockerRig) signal(t *testing.T, id, signal string) {
	t.Helper()
	if err := r.engine.Do(context.Background(), http.MethodPost, "/containers/"+id+"/kill", map[string][]string{"signal": {signal}}, nil, nil); err != nil {
		t.Fatalf("kill -s %s %s: %v", signal, id, err)
	}
}

// hostPort is the host port a container port is published on.
func hostPort(t *testing.T, c docker.Container, port string) int {
	t.Helper()
	bs := c.NetworkSettings.Ports[port]
	if len(bs) == 0 {
		t.Fatalf("%s: port %s not published", c.Name, port)
	}
	n, err := strconv.Atoi(bs[0].HostPort)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// regService is what the tests compare of a registration.
type regService struct {
	Name    string
	Tags    []string
	Address string
	Port    int
	Meta    map[string]string // without the registrator's own keys
	Checks  []string          // "<id> <type>"
}

// ownMeta are the registrator's own meta keys, compared apart.
var ownMeta = []string{MetaOwner, MetaSource, MetaHost, MetaHash, MetaContainerID, MetaContainerName}

// services returns the registrations of the rig's containers that the
// registrator of hostname owns, by id.
func (r *dockerRig) services(t *testing.T, hostname string) map[string]regService {
	t.Helper()
	services, err := r.client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	checks, err := r.client.Agent().Checks()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]regService{}
	for id, s := range services {
		if s.Meta[MetaHost] != hostname || s.Meta[MetaSource] != SourceDocker || !strings.Contains(s.Meta[MetaContainerName], r.run) && !strings.HasPrefix(s.Meta[MetaContainerName], "mesos-") {
			continue
		}
		rs := regService{Name: s.Service, Tags: s.Tags, Address: s.Address, Port: s.Port, Meta: map[string]string{}}
		for k, v := range s.Meta {
			if !slices.Contains(ownMeta, k) {
				rs.Meta[k] = v
			}
		}
		for _, c := range checks {
			if c.ServiceID == id {
				rs.Checks = append(rs.Checks, c.CheckID+" "+c.Type)
			}
		}
		slices.Sort(rs.Checks)
		out[id] = rs
	}
	return out
}

// checkStatus returns the status and output of a check on the agent, ""
// when absent.
func (r *dockerRig) checkStatus(t *testing.T, checkID string) (status, output string) {
	t.Helper()
	checks, err := r.client.Agent().Checks()
	if err != nil {
		t.Fatal(err)
	}
	if c := checks[checkID]; c != nil {
		return c.Status, c.Output
	}
	return "", ""
}

// waitFor polls cond until it holds or the deadline passes; it returns how
// long it took.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < deadline {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v; last state:\n%s", what, deadline, last)
	return 0
}

// waitServices waits until the registrations of hostname are want.
func (r *dockerRig) waitServices(t *testing.T, hostname, what string, want func() map[string]regService) {
	t.Helper()
	waitFor(t, what, 30*time.Second, func() (bool, string) {
		diff := cmp.Diff(want(), r.services(t, hostname))
		return diff == "", diff
	})
}

func TestDockerSourceRegistersContainers(t *testing.T) {
	r := newDockerRig(t)
	pub, internal := "pub-"+r.run, "int-"+r.run
	r.startRegistrator(t, DockerConfig{Hostname: pub, Tags: []string{"extra"}})
	r.startRegistrator(t, DockerConfig{Hostname: internal, Internal: true})

	two := r.start(t, containerSpec{
		name: "two",
		env: []string{"LISTEN_PORT=8080", "PORTS=8080,8081", "LISTEN_ALL_PORTS=true", "SERVICE_TAGS=from-env", "SERVICE_8081_NAME=admin",
			"SERVICE_CHECK_HTTP=/healthcheck", "SERVICE_CHECK_INTERVAL=1s", "SERVICE_REGION=eu", "SERVICE_8081_REGION=us"},
		labels:  map[string]string{"SERVICE_TAGS": "a,b", "SERVICE_com.example.bad": "dropped"},
		publish: []string{"8080/tcp", "8081/tcp"},
	})
	r.start(t, containerSpec{name: "ignored", env: []string{"SERVICE_IGNORE=true"}, publish: []string{"8080/tcp"}})
	partial := r.start(t, containerSpec{name: "partial", env: []string{"PORTS=8080,8081", "LISTEN_ALL_PORTS=true", "SERVICE_8081_IGNORE=1"}, publish: []string{"8080/tcp", "8081/tcp"}})
	unpublished := r.start(t, containerSpec{name: "unpublished", env: []string{"LISTEN_PORT=9000"}, expose: []string{"9000/tcp"}})
	// Launched by Mesos or by Stadion's agent: the scheduler's source has them.
	r.start(t, containerSpec{name: "mesos-" + r.run, publish: []string{"8080/tcp"}})
	r.start(t, containerSpec{name: "task", labels: map[string]string{"stadion.task_id": "web.1"}, publish: []string{"8080/tcp"}})

	twoName, partialName, unpubName := r.containerName("two"), r.containerName("partial"), r.containerName("unpublished")
	r.waitServices(t, pub, "the published ports registered", func() map[string]regService {
		id80, id81 := pub+":"+twoName+":8080", pub+":"+twoName+":8081"
		hp80, hp81 := hostPort(t, two, "8080/tcp"), hostPort(t, two, "8081/tcp")
		return map[string]regService{
			id80: {Name: "test-server-8080", Tags: []string{"a", "b", "extra"}, Address: "127.0.0.1", Port: hp80, Meta: map[string]string{"region": "eu"},
				Checks: []string{"service:" + id80 + " http"}},
			id81: {Name: "admin", Tags: []string{"a", "b", "extra"}, Address: "127.0.0.1", Port: hp81, Meta: map[string]string{"region": "us"},
				Checks: []string{"service:" + id81 + " http"}},
			pub + ":" + partialName + ":8080": {Name: "test-server-8080", Tags: []string{"extra"}, Address: "127.0.0.1", Port: hostPort(t, partial, "8080/tcp"), Meta: map[string]string{}},
		}
	})
	r.waitServices(t, internal, "the exposed ports registered with the container's address", func() map[string]regService {
		id80, id81 := internal+":"+twoName+":8080", internal+":"+twoName+":8081"
		ip := two.NetworkSettings.IPAddress
		return map[string]regService{
			id80: {Name: "test-server-8080", Tags: []string{"a", "b"}, Address: ip, Port: 8080, Meta: map[string]string{"region": "eu"},
				Checks: []string{"service:" + id80 + " http"}},
			id81: {Name: "admin", Tags: []string{"a", "b"}, Address: ip, Port: 8081, Meta: map[string]string{"region": "us"},
				Checks: []string{"service:" + id81 + " http"}},
			internal + ":" + partialName + ":8080": {Name: "test-server-8080", Tags: []string{}, Address: partial.NetworkSettings.IPAddress, Port: 8080, Meta: map[string]string{}},
			internal + ":" + unpubName + ":9000":   {Name: "test-server", Tags: []string{}, Address: unpublished.NetworkSettings.IPAddress, Port: 9000, Meta: map[string]string{}},
		}
	})
	// Consul runs the checks against the container's published and
	// internal addresses: they pass.
	for _, c := range []struct{ id, url string }{
		{id: "service:" + pub + ":" + twoName + ":8081", url: fmt.Sprintf("http://127.0.0.1:%d/healthcheck", hostPort(t, two, "8081/tcp"))},
		{id: "service:" + internal + ":" + twoName + ":8080", url: "http://" + two.NetworkSettings.IPAddress + ":8080/healthcheck"},
	} {
		waitFor(t, c.id+" passing", 30*time.Second, func() (bool, string) {
			st, out := r.checkStatus(t, c.id)
			return st == api.HealthPassing && strings.Contains(out, c.url), st + " " + out
		})
	}
}

func TestDockerSourceDeregistersStoppedContainers(t *testing.T) {
	r := newDockerRig(t)
	host := "stop-" + r.run
	// No resync during the test: only the events can remove a service.
	r.startRegistrator(t, DockerConfig{Hostname: host, ResyncInterval: time.Hour})
	dies := r.start(t, containerSpec{name: "dies", publish: []string{"8080/tcp"}})
	stopped := r.start(t, containerSpec{name: "stopped", publish: []string{"8080/tcp"}})
	stays := r.start(t, containerSpec{name: "stays", publish: []string{"8080/tcp"}})
	idOf := func(c docker.Container) string { return host + ":" + containerName(c) + ":8080" }
	waitFor(t, "three services", 30*time.Second, func() (bool, string) {
		got := r.services(t, host)
		return len(got) == 3, fmt.Sprint(got)
	})

	// SIGHUP is no stop signal: the service stays until the process exits
	// of it, and the die event removes it.
	r.signal(t, dies.ID, "HUP")
	waitExited(t, r, dies.ID)
	took := waitFor(t, "the exited container deregistered", 10*time.Second, func() (bool, string) {
		_, ok := r.services(t, host)[idOf(dies)]
		return !ok, "still registered"
	})
	t.Logf("deregistered %v after the container exited", took)

	// docker stop: the kill event (SIGTERM) removes the service at once,
	// while the container still runs out its stop timeout.
	go func() {
		_ = r.engine.Do(context.Background(), http.MethodPost, "/containers/"+stopped.ID+"/stop", map[string][]string{"t": {"5"}}, nil, nil)
	}()
	waitFor(t, "the stopped container deregistered", 10*time.Second, func() (bool, string) {
		_, ok := r.services(t, host)[idOf(stopped)]
		return !ok, "still registered"
	})
	if _, ok := r.services(t, host)[idOf(stays)]; !ok {
		t.Errorf("%s was deregistered too", idOf(stays))
	}
}

// waitExited waits until a container no longer runs.
func waitExited(t *testing.T, r *dockerRig, id string) {
	t.Helper()
	waitFor(t, "container "+id+" exited", 30*time.Second, func() (bool, string) {
		c, err := r.engine.Inspect(context.Background(), id)
		if err != nil {
			return false, err.Error()
		}
		return !c.State.Running, c.State.Status
	})
}

func TestDockerSourceResyncAfterDowntime(t *testing.T) {
	r := newDockerRig(t)
	host := "resync-" + r.run
	stop := r.startRegistrator(t, DockerConfig{Hostname: host})
	keep := r.start(t, containerSpec{name: "keep", publish: []string{"8080/tcp"}})
	gone := r.start(t, containerSpec{name: "gone", env: []string{"PORTS=8080,8081", "LISTEN_ALL_PORTS=true"}, publish: []string{"8080/tcp", "8081/tcp"}})
	waitFor(t, "three services", 30*time.Second, func() (bool, string) {
		got := r.services(t, host)
		return len(got) == 3, fmt.Sprint(got)
	})
	stop()

	// While the registrator is down: a container goes, and others register
	// things that look like ours but are not.
	r.remove(t, gone.ID)
	foreign := []*api.AgentServiceRegistration{
		{ID: host + ":" + r.containerName("hand-made") + ":8080", Name: "hand-made", Port: 1},
		{ID: "other:" + r.containerName("gone") + ":8080", Name: "test-server-8080", Port: 2,
			Meta: map[string]string{MetaOwner: DefaultOwner, MetaSource: SourceDocker, MetaHost: "other-host"}},
		{ID: "web.1:3000", Name: "web", Port: 3, Meta: map[string]string{MetaOwner: DefaultOwner}},
	}
	for _, s := range foreign {
		if err := r.client.Agent().ServiceRegister(s); err != nil {
			t.Fatal(err)
		}
	}

	r.startRegistrator(t, DockerConfig{Hostname: host})
	keepID := host + ":" + containerName(keep) + ":8080"
	waitFor(t, "the dangling services removed", 30*time.Second, func() (bool, string) {
		services, err := r.client.Agent().Services()
		if err != nil {
			return false, err.Error()
		}
		var ids []string
		for id := range services {
			if strings.Contains(id, r.run) || id == "web.1:3000" {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		want := []string{foreign[0].ID, keepID, foreign[1].ID, "web.1:3000"}
		slices.Sort(want)
		diff := cmp.Diff(want, ids)
		return diff == "", diff
	})
}

func TestDockerSourceMirrorsHealthcheck(t *testing.T) {
	r := newDockerRig(t)
	host := "health-" + r.run
	r.startRegistrator(t, DockerConfig{Hostname: host, TTL: 5 * time.Second})
	c := r.start(t, containerSpec{name: "health", env: []string{"LISTEN_PORT=8080"}, publish: []string{"8080/tcp"}, health: true})
	checkID := host + ":" + containerName(c) + ":8080:docker-health"
	waitFor(t, "the HEALTHCHECK mirror passing", 30*time.Second, func() (bool, string) {
		st, out := r.checkStatus(t, checkID)
		return st == api.HealthPassing, st + " " + out
	})
	// The registrator sets it again before its TTL runs out: it stays
	// passing for two TTLs.
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(100 * time.Millisecond) {
		if st, out := r.checkStatus(t, checkID); st != api.HealthPassing {
			t.Fatalf("the mirror of a healthy container turned %s: %s", st, out)
		}
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/fail", hostPort(t, c, "8080/tcp")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, "the HEALTHCHECK mirror critical", 30*time.Second, func() (bool, string) {
		st, out := r.checkStatus(t, checkID)
		return st == api.HealthCritical && strings.Contains(out, "unhealthy"), st + " " + out
	})
}

func TestDockerSourceConsulKV(t *testing.T) {
	r := newDockerRig(t)
	host := "kv-" + r.run
	prefix := "services/" + r.run
	if _, err := r.client.KV().Put(&api.KVPair{Key: prefix + "/test-server/someone-else", Value: []byte("10.0.0.1:1")}, nil); err != nil {
		t.Fatal(err)
	}
	r.startRegistrator(t, DockerConfig{Hostname: host, KVPrefix: prefix})
	c := r.start(t, containerSpec{name: "kv", publish: []string{"8080/tcp"}})
	key := prefix + "/test-server/" + host + ":" + containerName(c) + ":8080"
	keys := func() map[string]string {
		pairs, _, err := r.client.KV().List(prefix+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range pairs {
			out[p.Key] = string(p.Value)
		}
		return out
	}
	waitFor(t, "the key written", 30*time.Second, func() (bool, string) {
		want := map[string]string{prefix + "/test-server/someone-else": "10.0.0.1:1", key: fmt.Sprintf("127.0.0.1:%d", hostPort(t, c, "8080/tcp"))}
		diff := cmp.Diff(want, keys())
		return diff == "", diff
	})
	r.remove(t, c.ID)
	waitFor(t, "the key deleted, the other kept", 30*time.Second, func() (bool, string) {
		diff := cmp.Diff(map[string]string{prefix + "/test-server/someone-else": "10.0.0.1:1"}, keys())
		return diff == "", diff
	})
}

func TestDockerSourceConsulRestartLosesNothing(t *testing.T) {
	r := newDockerRig(t)
	host := "outage-" + r.run
	r.startRegistrator(t, DockerConfig{Hostname: host, ResyncInterval: time.Hour})
	before := r.start(t, containerSpec{name: "before", publish: []string{"8080/tcp"}})
	waitFor(t, "registered", 30*time.Second, func() (bool, string) {
		got := r.services(t, host)
		return len(got) == 1, fmt.Sprint(got)
	})
	// A dev agent comes back empty; a container started meanwhile must
	// be registered too.
	r.consul.Stop(t)
	during := r.start(t, containerSpec{name: "during", publish: []string{"8080/tcp"}})
	r.consul.Start(t)
	waitFor(t, "both registered again", 60*time.Second, func() (bool, string) {
		got := r.services(t, host)
		_, a := got[host+":"+containerName(before)+":8080"]
		_, b := got[host+":"+containerName(during)+":8080"]
		return a && b && len(got) == 2, fmt.Sprint(got)
	})
}

// fakeEngine is an engine whose containers the test sets and whose event
// stream it ends, as a restarted Docker daemon does.
type fakeEngine struct {
	mu         sync.Mutex
	containers map[string]docker.Container
	lists      int
	down       bool // listing and inspecting fail; the event stream connects
	streamEnd  chan struct{}
}

// errEngineDown is the answer of a fakeEngine that is down.
var errEngineDown = errors.New("engine down")

func (f *fakeEngine) Containers(context.Context, bool) ([]docker.ContainerSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.down {
		return nil, errEngineDown
	}
	var out []docker.ContainerSummary
	for id := range f.containers {
		out = append(out, docker.ContainerSummary{ID: id, State: "running"})
	}
	return out, nil
}

func (f *fakeEngine) Inspect(_ context.Context, id string) (docker.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return docker.Container{}, errEngineDown
	}
	c, ok := f.containers[id]
	if !ok {
		return docker.Container{}, &docker.Error{Code: http.StatusNotFound, Message: "no such container"}
	}
	return c, nil
}

func (f *fakeEngine) Events(ctx context.Context, _ map[string][]string, connected func(), _ func(docker.Event)) error {
	f.mu.Lock()
	end := f.streamEnd
	f.mu.Unlock()
	connected()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-end:
		return io.EOF
	}
}

func (f *fakeEngine) set(cs ...docker.Container) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.containers = map[string]docker.Container{}
	for _, c := range cs {
		f.containers[c.ID] = c
	}
}

// restart ends the event stream without sending the events in between.
func (f *fakeEngine) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.streamEnd)
	f.streamEnd = make(chan struct{})
}

func TestDockerSourceEngineRestartConverges(t *testing.T) {
	_, client := startConsul(t)
	engine := &fakeEngine{streamEnd: make(chan struct{})}
	engine.set(ctr("a", published("80/tcp", "127.0.0.1", "1080")), ctr("b", published("80/tcp", "127.0.0.1", "1081")))
	cfg := DockerConfig{Hostname: "h1", ResyncInterval: time.Hour, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond, Logger: testLogger(t)}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newDockerLoop(cfg, engine, client).run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	ids := func() []string {
		services, err := client.Agent().Services()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for id := range services {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	waitFor(t, "both registered", 30*time.Second, func() (bool, string) {
		got := ids()
		return slices.Equal(got, []string{"h1:a:80", "h1:b:80"}), fmt.Sprint(got)
	})
	// The daemon restarts: b is gone and c runs, and no event told of either.
	engine.set(ctr("a", published("80/tcp", "127.0.0.1", "1080")), ctr("c", published("80/tcp", "127.0.0.1", "1082")))
	engine.restart()
	waitFor(t, "converged after the stream came back", 30*time.Second, func() (bool, string) {
		got := ids()
		return slices.Equal(got, []string{"h1:a:80", "h1:c:80"}), fmt.Sprint(got)
	})
}

func TestDockerSourceHostNetworking(t *testing.T) {
	r := newDockerRig(t)
	host := "hostnet-" + r.run
	r.startRegistrator(t, DockerConfig{Hostname: host, HostIP: "127.0.0.1"})
	r.startRegistrator(t, DockerConfig{Hostname: host + "-int", HostIP: "127.0.0.1", Internal: true})
	// Above the ephemeral range: no client connection takes it meanwhile.
	lo, _ := testenv.TaskPorts(t, 1)
	port := strconv.Itoa(lo)
	c := r.start(t, containerSpec{name: "hostnet", network: "host", env: []string{"LISTEN_PORT=" + port, "SERVICE_CHECK_TCP=true"}, expose: []string{port + "/tcp"}})
	// With and without -internal: the host's address and the port itself;
	// the container has no address of its own.
	for _, h := range []string{host, host + "-int"} {
		id := h + ":" + containerName(c) + ":" + port
		n, _ := strconv.Atoi(port)
		r.waitServices(t, h, "the host-network container registered", func() map[string]regService {
			return map[string]regService{id: {Name: "test-server", Tags: []string{}, Address: "127.0.0.1", Port: n, Meta: map[string]string{},
				Checks: []string{"service:" + id + " tcp"}}}
		})
		waitFor(t, "its tcp check passing", 30*time.Second, func() (bool, string) {
			st, out := r.checkStatus(t, "service:"+id)
			return st == api.HealthPassing, st + " " + out
		})
	}
}

func TestDockerSourceEngineDownKeepsRegistrations(t *testing.T) {
	_, client := startConsul(t)
	engine := &fakeEngine{streamEnd: make(chan struct{})}
	engine.set(ctr("a", published("80/tcp", "127.0.0.1", "1080")))
	cfg := DockerConfig{Hostname: "h1", ResyncInterval: time.Hour, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, Logger: testLogger(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newDockerLoop(cfg.withDefaults(), engine, client).run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	registered := func() bool {
		services, err := client.Agent().Services()
		return err == nil && services["h1:a:80"] != nil
	}
	waitFor(t, "registered", 30*time.Second, func() (bool, string) { return registered(), "not yet" })

	// The engine's stream comes back but it fails to list: the registrator
	// retries with backoff, not in a loop, and keeps what it registered.
	engine.mu.Lock()
	engine.down, engine.lists = true, 0
	engine.mu.Unlock()
	engine.restart()
	start := time.Now()
	waitFor(t, "retries", 30*time.Second, func() (bool, string) {
		engine.mu.Lock()
		defer engine.mu.Unlock()
		return engine.lists >= 5, fmt.Sprint(engine.lists, " lists")
	})
	engine.mu.Lock()
	lists, elapsed := engine.lists, time.Since(start)
	engine.mu.Unlock()
	if most := int(elapsed/cfg.RetryMin) + 2; lists > most {
		t.Errorf("%d lists in %v: more than one per backoff step (%d)", lists, elapsed, most)
	}
	if !registered() {
		t.Error("a failing engine deregistered the service")
	}
	engine.set() // back, with no container: the service goes
	engine.mu.Lock()
	engine.down = false
	engine.mu.Unlock()
	waitFor(t, "deregistered once the engine answers", 30*time.Second, func() (bool, string) { return !registered(), "still registered" })
}
