//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/internal/testenv"
)

// rig is the article's platform on this machine. Every part runs on
// loopback ports except HAProxy, which binds the fixed ports of the
// templates (80, 18080, 18500, 3000, 13000) on the Docker bridge's gateway
// address: the test-server containers reach the scheduler and Consul
// through it as dockerhost:18080 and dockerhost:18500, as in the article.
type rig struct {
	t        *testing.T // the running test or subtest: see in
	top      *testing.T // TestPipeline itself: cleanups that outlive subtests
	root     string     // repository root
	dir      string
	stadion  string // static binary, also copied into the image
	gateway  string // Docker bridge gateway, where HAProxy listens
	consul   *testenv.Consul
	cc       *api.Client
	marathon string // http://127.0.0.1:<port> of stadion serve
	haproxy  *testenv.HAProxy
	tag      string // image tag and version of the build
	defs     string // directory of the definitions stadion deploy gen wrote
	images   *[]string
}

// in returns the rig for a subtest: its helpers fail t, not the parent.
func (r *rig) in(t *testing.T) *rig {
	c := *r
	c.t = t
	return &c
}

// startRig starts every part and returns once HAProxy routes the scheduler
// on :18080.
func startRig(t *testing.T) *rig {
	r := &rig{t: t, top: t, dir: t.TempDir(), images: new([]string)}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	r.root = root
	if os.Geteuid() != 0 && !testenv.InCI() {
		// HAProxy binds :80 and runs as user haproxy; CI runs as root.
		t.Skip("binds :80 and starts HAProxy as user haproxy: needs root")
	}
	testenv.RequireDocker(t)
	for _, tool := range []string{"consul", "consul-template", "haproxy"} {
		testenv.Binary(t, tool)
	}
	r.stadion = testenv.GoBuild(t, "cmd/stadion")
	r.gateway = dockerGateway(t)
	// Registered before stadion serve starts, so it runs after serve has
	// stopped: nothing relaunches a task from a removed image.
	t.Cleanup(r.removeImages)

	zk := testenv.StartZooKeeper(t)
	r.consul = testenv.StartConsul(t)
	cc, err := api.NewClient(&api.Config{Address: r.consul.HTTPAddr})
	if err != nil {
		t.Fatal(err)
	}
	r.cc = cc

	port := testenv.FreePort(t)
	r.marathon = "http://127.0.0.1:" + strconv.Itoa(port)
	r.start("serve", r.stadion, "serve", "--master", "local", "--local_agents", "2",
		"--local_containerizers", "docker,mesos", "--zk", zk.URL("/stadion"),
		"--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port), "--hostname", "127.0.0.1",
		"--data_dir", filepath.Join(r.dir, "serve"), "--task_launch_timeout", "120000")
	r.waitOK(r.marathon+"/ping", 60*time.Second)
	// The well-known service :18080 routes to the Consul service "marathon"
	// (templates/README.md); an operator registers the schedulers once.
	err = cc.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: "marathon-e2e", Name: "marathon", Address: "127.0.0.1", Port: port,
		Check: &api.AgentServiceCheck{HTTP: r.marathon + "/ping", Interval: "1s", Timeout: "1s"},
	})
	if err != nil {
		t.Fatal(err)
	}

	// The built-in agents stand in for two machines, 127.0.0.2 and
	// 127.0.0.3; one registrator speaks for both, as this one host's.
	r.start("registrator", r.stadion, "registrator", "--marathon", r.marathon, "--consul", r.consul.HTTPAddr,
		"--hostname", "127.0.0.2,127.0.0.3", "--retry-max", "2s")

	r.startBalancer()
	r.waitOK("http://"+net.JoinHostPort(r.gateway, "18080")+"/ping", 30*time.Second)
	return r
}

// startBalancer renders the HAProxy template once, starts HAProxy on it,
// then runs consul-template to render and reload on every change.
func (r *rig) startBalancer() {
	t := r.t
	cfg := filepath.Join(r.dir, "haproxy.cfg")
	runDir := filepath.Join(r.dir, "haproxy-run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"STADION_LB_ADDRESS=" + r.gateway,
		"STADION_LB_CONSUL=" + r.consul.HTTPAddr,
		"STADION_LB_RUN_DIR=" + runDir,
	}
	src := filepath.Join(r.root, "templates", "haproxy.cfg.ctmpl")
	ct := testenv.Binary(t, "consul-template")
	once := exec.Command(ct, "-once", "-consul-addr", r.consul.HTTPAddr, "-template", src+":"+cfg)
	once.Env = append(os.Environ(), env...)
	if out, err := once.CombinedOutput(); err != nil {
		t.Fatalf("first render: %v\n%s", err, out)
	}
	r.haproxy = testenv.StartHAProxy(t, cfg)

	// Render after 100ms without change, at most 500ms after the first one,
	// then check the configuration and reload the master (templates/README.md).
	hcl := fmt.Sprintf(`consul {
  address = %q
}
log_level = "info"
template {
  source      = %q
  destination = %q
  wait {
    min = "100ms"
    max = "500ms"
  }
  command = ["sh", "-c", "haproxy -c -q -f %s && kill -USR2 \"$(cat %s)\""]
}
`, r.consul.HTTPAddr, src, cfg, cfg, r.haproxy.PidFile())
	hclPath := filepath.Join(r.dir, "consul-template.hcl")
	if err := os.WriteFile(hclPath, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	r.startEnv("consul-template", env, ct, "-config", hclPath)
}

// start runs a long-lived process with its output in a log file that the
// test prints when it fails; it is stopped with SIGTERM at cleanup.
func (r *rig) start(name, bin string, args ...string) {
	r.startEnv(name, nil, bin, args...)
}

func (r *rig) startEnv(name string, env []string, bin string, args ...string) {
	t := r.t
	logPath := filepath.Join(r.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tail(logPath, 48<<10))
		}
	})
}

// tail is the end of a file, at most max bytes.
func tail(path string, max int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if int64(len(b)) > max {
		b = b[int64(len(b))-max:]
	}
	return string(b)
}

// waitOK polls url until it answers 200.
func (r *rig) waitOK(url string, within time.Duration) {
	r.t.Helper()
	var last string
	ok := poll(within, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			last = err.Error()
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		last = resp.Status
		return resp.StatusCode == http.StatusOK
	})
	if !ok {
		r.t.Fatalf("%s did not answer 200 within %v: %s", url, within, last)
	}
}

// poll calls cond every 50ms until it holds or within has passed.
func poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dockerGateway is the host's address on Docker's default bridge network,
// which containers on it reach as host-gateway: the network's gateway, or
// when the engine does not report one, the address of its bridge interface.
func dockerGateway(t *testing.T) string {
	out, err := exec.Command(testenv.Binary(t, "docker"), "network", "inspect", "bridge", "--format",
		`{{range .IPAM.Config}}{{.Gateway}} {{end}}|{{index .Options "com.docker.network.bridge.name"}}`).CombinedOutput()
	if err != nil {
		t.Fatalf("docker network inspect bridge: %v: %s", err, out)
	}
	gateways, bridge, _ := strings.Cut(strings.TrimSpace(string(out)), "|")
	for _, f := range strings.Fields(gateways) {
		if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
			return f
		}
	}
	if iface, err := net.InterfaceByName(strings.TrimSpace(bridge)); err == nil {
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	t.Fatalf("no IPv4 address of the bridge network (docker network inspect: %q)", out)
	return ""
}

// gen runs `stadion deploy gen` on a copy of examples/test-server/service.json
// for a build of a unique number, builds the image test-server:<version>
// from examples/test-server/Dockerfile, and returns the version.
func (r *rig) gen(build string) string {
	t := r.t
	work := filepath.Join(r.dir, "ci-"+build)
	target := filepath.Join(work, "test-server")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(r.root, "examples", "test-server", "service.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "service.json"), tmpl, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(r.stadion, "deploy", "gen", "test-server")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CI_BRANCH=master", "CI_COMMIT=e2e"+r.runID(), "CI_BUILD_NUMBER="+build)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("stadion deploy gen: %v\n%s", err, out)
	}
	t.Logf("stadion deploy gen:\n%s", out)
	version := "master-e2e" + r.runID() + "-" + build
	r.defs = filepath.Join(work, "service-defs", "test-server")
	r.buildImage(version)
	return version
}

var runID = func() string {
	var b [3]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

func (r *rig) runID() string { return runID }

// buildImage builds test-server:<tag> FROM scratch with stadion and
// test-server, removed at cleanup with the containers made from it.
func (r *rig) buildImage(tag string) {
	t := r.t
	ctx := filepath.Join(r.dir, "image-"+tag)
	if err := os.MkdirAll(ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	server := testenv.GoBuild(t, "examples/test-server")
	for _, f := range []struct{ src, dst string }{{r.stadion, "stadion"}, {server, "test-server"}} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctx, f.dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	docker := testenv.Binary(t, "docker")
	image := "test-server:" + tag
	*r.images = append(*r.images, image) // before the build: a half-built image goes too
	out, err := exec.Command(docker, "build", "-q", "-t", image,
		"-f", filepath.Join(r.root, "examples", "test-server", "Dockerfile"), ctx).CombinedOutput()
	if err != nil {
		t.Fatalf("docker build %s: %v\n%s", image, err, out)
	}
}

// removeImages removes the images the test built and the containers made
// from them.
func (r *rig) removeImages() {
	docker, err := exec.LookPath("docker")
	if err != nil {
		return
	}
	for _, image := range *r.images {
		ids, _ := exec.Command(docker, "ps", "-aq", "--filter", "ancestor="+image).Output()
		if ids := strings.Fields(string(ids)); len(ids) > 0 {
			exec.Command(docker, append([]string{"rm", "-f"}, ids...)...).Run()
		}
		exec.Command(docker, "rmi", "-f", image).Run()
	}
}

// deploy runs `stadion deploy <definition> <env> [instances]` and returns
// its output; it fails the test unless the command exits 0.
func (r *rig) deploy(def, env string, instances int, extra ...string) string {
	r.t.Helper()
	args := append([]string{"deploy", "--marathon", r.marathon, "--timeout", "3m"}, extra...)
	args = append(args, filepath.Join(r.defs, def), env)
	if instances > 0 {
		args = append(args, strconv.Itoa(instances))
	}
	cmd := exec.Command(r.stadion, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("stadion %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// task is what the scheduler says about one task.
type task struct {
	ID                 string `json:"id"`
	Host               string `json:"host"`
	Ports              []int  `json:"ports"`
	State              string `json:"state"`
	Version            string `json:"version"`
	HealthCheckResults []struct {
		Alive        bool   `json:"alive"`
		FirstSuccess string `json:"firstSuccess"`
	} `json:"healthCheckResults"`
}

// healthySince is when the scheduler first saw the task healthy, or zero.
func (k task) healthySince() time.Time {
	if len(k.HealthCheckResults) == 0 || !k.HealthCheckResults[0].Alive {
		return time.Time{}
	}
	at, _ := time.Parse(time.RFC3339Nano, k.HealthCheckResults[0].FirstSuccess)
	return at
}

// app is the part of GET /v2/apps/{id} the tests read.
type app struct {
	ID           string `json:"id"`
	Version      string `json:"version"`
	Instances    int    `json:"instances"`
	TasksHealthy int    `json:"tasksHealthy"`
	TasksRunning int    `json:"tasksRunning"`
	Deployments  []struct {
		ID string `json:"id"`
	} `json:"deployments"`
	Labels map[string]string `json:"labels"`
	Tasks  []task            `json:"tasks"`
}

func (r *rig) app(id string) app {
	r.t.Helper()
	var a struct {
		App app `json:"app"`
	}
	r.getJSON("/v2/apps"+id+"?embed=app.tasks", &a)
	return a.App
}

func (r *rig) getJSON(path string, v any) {
	r.t.Helper()
	resp, err := http.Get(r.marathon + path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
}

func (r *rig) send(method, path string, body any) {
	r.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, r.marathon+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		r.t.Fatalf("%s %s: %s %s", method, path, resp.Status, out)
	}
}

// waitApp polls the app until cond holds and no deployment runs.
func (r *rig) waitApp(id, what string, within time.Duration, cond func(app) bool) app {
	r.t.Helper()
	var last app
	if !poll(within, func() bool {
		last = r.app(id)
		return len(last.Deployments) == 0 && cond(last)
	}) {
		r.t.Fatalf("%s: not %s within %v: %+v", id, what, within, last)
	}
	return last
}

// through GETs path on HAProxy's address and port (with the Host header
// when host is not empty) and returns the status, the headers and the
// test-server's environment (its answer to /).
func (r *rig) through(port int, host, path string) (int, http.Header, map[string]string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(r.gateway, strconv.Itoa(port))+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if host != "" {
		req.Host = host
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := noKeepAlive.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, parseEnv(b), nil
}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// parseEnv reads the KEY=value lines of the test-server's answer to /.
func parseEnv(b []byte) map[string]string {
	env := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}
