package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/bench/internal/rig"
	"github.com/stadionhq/stadion/internal/docker"
	"github.com/stadionhq/stadion/registrator"
)

// dockerSectionTitle is the heading of the README section of -source docker.
const dockerSectionTitle = "## Registrator latency, Docker source"

// container is what happened to one container: the engine's event
// timestamps and the moments Consul's blocking queries showed the change.
type container struct {
	start, kill, die time.Time
	registered, gone time.Time
	stopped, exited  bool // how it was asked to go: docker stop, or an exit of its own
}

// dockerRecorder collects the samples of the Docker source's run.
type dockerRecorder struct {
	mu         sync.Mutex
	containers map[string]*container
	present    map[string]bool // container ids with a service in Consul now
}

func (r *dockerRecorder) get(id string) *container {
	c := r.containers[id]
	if c == nil {
		c = &container{}
		r.containers[id] = c
	}
	return c
}

// event records a container event at the engine's timestamp.
func (r *dockerRecorder) event(e docker.Event) {
	at := time.Unix(0, e.TimeNano)
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.get(e.Actor.ID)
	switch e.Action {
	case "start":
		setOnce(&c.start, at)
	case "kill":
		setOnce(&c.kill, at)
	case "die":
		setOnce(&c.die, at)
	}
}

// consul records which containers have a service now.
func (r *dockerRecorder) consul(entries []*api.ServiceEntry, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range entries {
		id := e.Service.Meta[registrator.MetaContainerID]
		seen[id] = true
		setOnce(&r.get(id).registered, now)
	}
	for id := range r.present {
		if !seen[id] {
			setOnce(&r.get(id).gone, now)
		}
	}
	r.present = seen
}

// count is how many of ids are registered, and how many gone.
func (r *dockerRecorder) count(ids []string) (up, down int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		c := r.get(id)
		if !c.registered.IsZero() {
			up++
		}
		if !c.gone.IsZero() {
			down++
		}
	}
	return up, down
}

// latencies are start → registered, exit → gone and stop → gone, sorted.
func (r *dockerRecorder) latencies() (toRegistered, exitToGone, stopToGone []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.containers {
		if !c.start.IsZero() && !c.registered.IsZero() {
			toRegistered = append(toRegistered, c.registered.Sub(c.start))
		}
		switch {
		case c.gone.IsZero():
		case c.exited && !c.die.IsZero():
			exitToGone = append(exitToGone, c.gone.Sub(c.die))
		case c.stopped && !c.kill.IsZero():
			stopToGone = append(stopToGone, c.gone.Sub(c.kill))
		}
	}
	for _, l := range [][]time.Duration{toRegistered, exitToGone, stopToGone} {
		slices.Sort(l)
	}
	return toRegistered, exitToGone, stopToGone
}

// dockerResults is what one -source docker run measured.
type dockerResults struct {
	Date          time.Time
	Elapsed       time.Duration
	Machine       machine
	Load          string
	Config        config
	ConsulVersion string

	ToRegistered, ExitToGone, StopToGone []time.Duration
	RegistratorCPU                       float64
	RegistratorRSS                       int64
}

// benchDocker starts Consul and stadion registrator in Docker mode, then
// starts c.Instances containers c.Rounds times and makes half of them exit
// (SIGHUP, which the test-server does not handle) and stops the others.
func benchDocker(ctx context.Context, c config, workDir string, step func(string, ...any)) (dockerResults, error) {
	res := dockerResults{Date: time.Now(), Machine: readMachine(), Config: c, Load: rig.LoadAverage()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	engine := docker.NewClient(docker.HostFromEnv())
	if err := engine.Ping(ctx); err != nil {
		return res, fmt.Errorf("docker engine: %w", err)
	}
	run := randomHex(4)
	step("building the image of examples/docker-hosts")
	image, err := buildImage(ctx, workDir, run)
	if err != nil {
		return res, err
	}
	defer exec.Command("docker", "rmi", "-f", image).Run()

	res.ConsulVersion = consulVersion(ctx, c.Consul)
	step("starting %s", res.ConsulVersion)
	consul, consulAddr, err := startConsul(ctx, c.Consul, workDir, c.Timeout)
	if err != nil {
		return res, err
	}
	defer consul.Stop(10 * time.Second)
	step("starting stadion registrator -ip 127.0.0.1 consul://%s", consulAddr)
	reg, err := startProcess(c.Stadion, workDir, "registrator", "registrator", "--hostname", "bench-"+run, "-ip", "127.0.0.1",
		"--log-level", c.LogLevel, "consul://"+consulAddr)
	if err != nil {
		return res, err
	}
	defer reg.Stop(10 * time.Second)
	cc, err := registrator.NewConsulClient(registrator.ConsulConfig{Address: consulAddr})
	if err != nil {
		return res, err
	}

	rec := &dockerRecorder{containers: map[string]*container{}, present: map[string]bool{}}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	connected := make(chan struct{})
	wg.Go(func() {
		filters := map[string][]string{"type": {"container"}, "label": {"stadion.bench=" + run}, "event": {"start", "kill", "die"}}
		_ = engine.Events(ctx, filters, func() { close(connected) }, rec.event)
	})
	wg.Go(func() { watchConsul(ctx, cc, rec.consul) })
	select {
	case <-connected:
	case <-time.After(c.Timeout):
		return res, fmt.Errorf("no docker event stream")
	}
	defer removeContainers(run)

	for round := range c.Rounds {
		ids, err := startContainers(ctx, engine, image, run, c.Instances)
		if err != nil {
			return res, fmt.Errorf("round %d: %w", round+1, err)
		}
		err = waitFor(ctx, reg, c.Timeout, fmt.Sprintf("round %d: %d containers registered", round+1, c.Instances), func() error {
			if up, _ := rec.count(ids); up < len(ids) {
				return fmt.Errorf("%d up", up)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		endContainers(ctx, engine, rec, ids)
		err = waitFor(ctx, reg, c.Timeout, fmt.Sprintf("round %d: %d containers gone from Consul", round+1, c.Instances), func() error {
			if _, down := rec.count(ids); down < len(ids) {
				return fmt.Errorf("%d down", down)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		removeContainers(run)
		step("round %d/%d: %d containers up and down", round+1, c.Rounds, len(ids))
	}
	res.ToRegistered, res.ExitToGone, res.StopToGone = rec.latencies()
	res.RegistratorCPU, _ = cpuSeconds(reg.Cmd.Process.Pid)
	res.RegistratorRSS, _ = rssKB(reg.Cmd.Process.Pid)
	res.Elapsed = time.Since(res.Date)
	return res, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// buildImage builds examples/docker-hosts's web image FROM scratch.
func buildImage(ctx context.Context, workDir, run string) (string, error) {
	ctxDir := filepath.Join(workDir, "image")
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		return "", err
	}
	if _, err := buildTestServer(ctx, ctxDir); err != nil {
		return "", err
	}
	image := "stadion-bench/test-server:" + run
	cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", image, "-f", "examples/docker-hosts/Dockerfile", ctxDir)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker build: %v\n%s", err, b)
	}
	return image, nil
}

// startContainers creates and starts n containers, each with port 80
// published on 127.0.0.1.
func startContainers(ctx context.Context, engine *docker.Client, image, run string, n int) ([]string, error) {
	var ids []string
	for i := range n {
		body := map[string]any{
			"Image":      image,
			"Env":        []string{"SERVICE_NAME=" + serviceName},
			"Labels":     map[string]string{"stadion.bench": run},
			"HostConfig": map[string]any{"PortBindings": map[string][]docker.PortBinding{"80/tcp": {{HostIP: "127.0.0.1"}}}},
		}
		var created struct{ ID string }
		name := fmt.Sprintf("stadion-bench-%s-%d-%d", run, time.Now().UnixNano()%1e6, i)
		if err := engine.Do(ctx, http.MethodPost, "/containers/create", map[string][]string{"name": {name}}, body, &created); err != nil {
			return ids, err
		}
		if err := engine.Do(ctx, http.MethodPost, "/containers/"+created.ID+"/start", nil, nil, nil); err != nil {
			return ids, err
		}
		ids = append(ids, created.ID)
	}
	return ids, nil
}

// endContainers makes every other container exit of its own (SIGHUP) and
// stops the others (docker stop: SIGTERM, which the test-server answers by
// failing its health check while it keeps serving, then SIGKILL after 2 s).
func endContainers(ctx context.Context, engine *docker.Client, rec *dockerRecorder, ids []string) {
	var wg sync.WaitGroup
	for i, id := range ids {
		rec.mu.Lock()
		c := rec.get(id)
		c.exited, c.stopped = i%2 == 0, i%2 == 1
		rec.mu.Unlock()
		if i%2 == 0 {
			_ = engine.Do(ctx, http.MethodPost, "/containers/"+id+"/kill", map[string][]string{"signal": {"HUP"}}, nil, nil)
			continue
		}
		wg.Go(func() {
			_ = engine.Do(ctx, http.MethodPost, "/containers/"+id+"/stop", map[string][]string{"t": {"2"}}, nil, nil)
		})
	}
	wg.Wait()
}

// removeContainers removes the run's containers.
func removeContainers(run string) {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=stadion.bench="+run).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

// markdown renders the section of bench/README.md.
func (r dockerResults) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	c := r.Config
	header(w, dockerSectionTitle, "go run ./bench/cmd/registratorbench -source docker", r.Date, r.Elapsed, r.Machine, r.Load)
	w("Workload: a %s dev agent and `stadion registrator -ip 127.0.0.1 consul://…` (the Docker source), each a process of its own, "+
		"on the machine's Docker engine; %d containers of the examples/docker-hosts image (`examples/test-server` FROM scratch, port 80 "+
		"published on 127.0.0.1) are started, then half of them exit of their own (SIGHUP) and the other half are stopped (`docker stop -t 2`), "+
		"%d times. The clock starts at the engine's event timestamp (`start`, `die`, `kill`; nanoseconds) and stops when a blocking query on "+
		"`/v1/health/service/%s` shows the change.\n\n", r.ConsulVersion, c.Instances, c.Rounds, serviceName)
	w("| from → to | p50 | p99 | max | samples |\n|---|---|---|---|---|\n")
	row(w, "container started → service registered in Consul", r.ToRegistered)
	row(w, "container exited (`die`) → service gone from Consul", r.ExitToGone)
	row(w, "`docker stop` (`kill` event, SIGTERM) → service gone from Consul, while the container still serves", r.StopToGone)
	w("\n`stadion registrator` used %.2f s of CPU over the run; VmRSS %.0f MB at the end.\n", r.RegistratorCPU, float64(r.RegistratorRSS)/1024)
	return b.String()
}
