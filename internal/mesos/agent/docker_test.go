package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// dockerOrSkip returns a client of the local Docker Engine. Without one the
// test skips, except under CI=true where it fails.
func dockerOrSkip(t *testing.T) *dockerClient {
	t.Helper()
	host := DefaultDockerHost
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		host = h
	}
	c := newDockerClient(host)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.request(ctx, "GET", "/_ping", nil, nil)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker engine at %s: %v", host, err)
		}
		t.Skipf("docker engine at %s: %v", host, err)
	}
	resp.Body.Close()
	return c
}

// buildTestImage builds testdata/httpserver into a FROM scratch image and
// returns its tag; the image is removed when the test ends.
func buildTestImage(t *testing.T, c *dockerClient) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "httpserver"), "./testdata/httpserver")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "httpserver"))
	if err != nil {
		t.Fatal(err)
	}
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	add := func(name string, mode int64, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("Dockerfile", 0o644, []byte("FROM scratch\nCOPY httpserver /httpserver\nENTRYPOINT [\"/httpserver\"]\n"))
	add("httpserver", 0o755, bin)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	tag := "stadion-agent-test:" + strings.ReplaceAll(newUUIDString(), "-", "")[:12]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := c.request(ctx, "POST", "/build", url.Values{"t": {tag}, "rm": {"1"}, "forcerm": {"1"}}, &ctxTar)
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	err = progress(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	t.Cleanup(func() {
		_ = c.do(context.Background(), "DELETE", "/images/"+tag, url.Values{"force": {"1"}}, nil, nil)
	})
	return tag
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func dockerTask(id, image string) mesos.TaskInfo {
	info := shellTask(id, "")
	info.Command = &mesos.CommandInfo{Shell: new(false)}
	info.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker, Docker: &mesos.DockerInfo{Image: image}}
	return info
}

func TestDockerBridgeTask(t *testing.T) {
	c := dockerOrSkip(t)
	image := buildTestImage(t, c)
	m := newFakeMaster(t)
	a := startAgent(t, m, func(cfg *Config) { cfg.Containerizers = []string{ContainerizerMesos, ContainerizerDocker} })
	hostPort := freePort(t)
	info := dockerTask("web", image)
	info.Container.Docker.Network = mesos.NetworkBridge
	info.Container.Docker.PortMappings = []mesos.PortMapping{{HostPort: uint32(hostPort), ContainerPort: 8080, Protocol: "tcp"}}
	info.Container.Docker.Parameters = []mesos.Parameter{{Key: "label", Value: "owner=agent-test"}}
	// The check uses the container port, inside the task's network.
	info.HealthCheck = quickCheck(mesos.HealthCheckHTTP)
	info.HealthCheck.HTTP = &mesos.HTTPCheckInfo{Port: 8080, Path: "/"}
	info.HealthCheck.GracePeriodSeconds = new(10.0) // the server takes a moment to listen
	info.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(time.Second)}}
	run(t, a, info)
	m.expectAck(t, a, "web", mesos.TaskStarting)
	running := m.expectAck(t, a, "web", mesos.TaskRunning)
	containerID := running.ContainerStatus.ContainerID.Value
	name := "mesos-" + containerID
	t.Cleanup(func() {
		_ = c.do(context.Background(), "DELETE", "/containers/"+name, url.Values{"force": {"1"}}, nil, nil)
	})
	ip := running.ContainerStatus.NetworkInfos[0].IPAddresses[0].IPAddress
	if ip == "" || ip == "127.0.0.1" {
		t.Errorf("container IP = %q, want a bridge address", ip)
	}
	expectHealth(t, m, a, "web", true)

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", hostPort))
	if err != nil {
		t.Fatalf("GET through the port mapping: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from web\n" {
		t.Errorf("answer = %q", body)
	}
	var inspect struct {
		Config struct {
			Labels map[string]string
		}
	}
	if err := c.do(context.Background(), "GET", "/containers/"+name+"/json", nil, nil, &inspect); err != nil {
		t.Fatalf("inspect container: %v", err)
	}
	if inspect.Config.Labels[labelTaskID] != "web" || inspect.Config.Labels["owner"] != "agent-test" {
		t.Errorf("labels = %v", inspect.Config.Labels)
	}

	kill(t, a, "web", 0)
	m.expectAck(t, a, "web", mesos.TaskKilling)
	killed := m.expectAck(t, a, "web", mesos.TaskKilled)
	t.Logf("TASK_KILLED message: %q", killed.Message)
	err = c.do(context.Background(), "GET", "/containers/"+name+"/json", nil, nil, nil)
	if !isNotFound(err) {
		t.Errorf("container after TASK_KILLED: %v, want removed", err)
	}
	sandbox := filepath.Join(a.cfg.WorkDir, "slaves", "agent-1", "frameworks", testFramework, "executors", "web", "runs", containerID)
	if out, _ := os.ReadFile(filepath.Join(sandbox, "stdout")); !strings.Contains(string(out), "listening on :8080") {
		t.Errorf("sandbox stdout = %q", out)
	}
}

func TestDockerTaskExitCode(t *testing.T) {
	c := dockerOrSkip(t)
	image := buildTestImage(t, c)
	m := newFakeMaster(t)
	a := startAgent(t, m, func(cfg *Config) { cfg.Containerizers = []string{ContainerizerDocker} })
	// Listening on a bad address makes the server exit with status 1.
	info := dockerTask("bad", image)
	info.Command.Arguments = []string{"bad:address:here"}
	run(t, a, info)
	m.expectAck(t, a, "bad", mesos.TaskStarting)
	m.expectAck(t, a, "bad", mesos.TaskRunning)
	if st := m.expectAck(t, a, "bad", mesos.TaskFailed); st.Message != "Container exited with status 1" {
		t.Errorf("message = %q", st.Message)
	}
}

func TestDockerMissingImage(t *testing.T) {
	dockerOrSkip(t)
	m := newFakeMaster(t)
	a := startAgent(t, m, func(cfg *Config) { cfg.Containerizers = []string{ContainerizerDocker} })
	run(t, a, dockerTask("d1", "stadion-no-such-image:"+strconv.Itoa(freePort(t))))
	m.expectAck(t, a, "d1", mesos.TaskStarting)
	st := m.expectAck(t, a, "d1", mesos.TaskFailed)
	if st.Reason != mesos.ReasonContainerLaunchFailed || !strings.Contains(st.Message, "stadion-no-such-image") {
		t.Errorf("FAILED reason %s message %q", st.Reason, st.Message)
	}
}

// fakeEngine is a Docker Engine API double for one container, "c1", whose
// /wait calls fail (the connection is cut) when failWait says so.
type fakeEngine struct {
	srv *httptest.Server

	mu       sync.Mutex
	running  bool
	exitCode int
	failWait func(n int) bool // n counts the wait calls from 1
	waits    int

	waited  chan int      // the number of each wait call, as it arrives
	release chan struct{} // closed to end the second wait
	deleted atomic.Bool
}

func newFakeEngine(t *testing.T) *fakeEngine {
	e := &fakeEngine{running: true, waited: make(chan int, 100), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1.41/_ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "OK") })
	mux.HandleFunc("GET /v1.41/images/{image}/json", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	mux.HandleFunc("POST /v1.41/containers/create", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"Id":"c1"}`)
	})
	mux.HandleFunc("POST /v1.41/containers/c1/start", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /v1.41/containers/c1/stop", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /v1.41/containers/c1/logs", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /v1.41/containers/c1/json", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		fmt.Fprintf(w, `{"State":{"Running":%t,"Pid":4242,"ExitCode":%d},"NetworkSettings":{}}`, e.running, e.exitCode)
	})
	mux.HandleFunc("DELETE /v1.41/containers/c1", func(w http.ResponseWriter, r *http.Request) {
		e.deleted.Store(true)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1.41/containers/c1/wait", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.waits++
		n := e.waits
		e.mu.Unlock()
		e.waited <- n
		if n == 2 {
			select {
			case <-e.release:
			case <-r.Context().Done():
				return
			}
		}
		e.mu.Lock()
		fail, code := e.failWait(n), e.exitCode
		e.mu.Unlock()
		if fail {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		fmt.Fprintf(w, `{"StatusCode":%d}`, code)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *fakeEngine) host() string { return "tcp://" + e.srv.Listener.Addr().String() }

// exit makes the container stop with code.
func (e *fakeEngine) exit(code int) {
	e.mu.Lock()
	e.running, e.exitCode = false, code
	e.mu.Unlock()
}

// TestDockerWaitErrorIsNotAnExit checks that a failed /wait call does not
// end a running container: the agent inspects it, waits again, and reports
// the exit only from the engine's account of it.
func TestDockerWaitErrorIsNotAnExit(t *testing.T) {
	e := newFakeEngine(t)
	e.failWait = func(int) bool { return true } // every wait loses its connection
	m := newFakeMaster(t)
	a := startAgent(t, m, func(cfg *Config) {
		cfg.Containerizers = []string{ContainerizerMesos, ContainerizerDocker}
		cfg.DockerHost = e.host()
	})
	run(t, a, dockerTask("web", "fake-image"))
	m.expectAck(t, a, "web", mesos.TaskStarting)
	m.expectAck(t, a, "web", mesos.TaskRunning)

	// The first wait fails while the container runs: the agent waits again.
	for want := 1; want <= 2; want++ {
		select {
		case n := <-e.waited:
			if n != want {
				t.Fatalf("wait call %d, want %d", n, want)
			}
		case u := <-m.updates:
			t.Fatalf("%s while the container runs: %q", u.Status.State, u.Status.Message)
		case <-time.After(wait):
			t.Fatalf("no wait call %d", want)
		}
	}
	if e.deleted.Load() {
		t.Fatal("the agent removed a running container")
	}

	// The container ends and the second wait fails too: the exit comes
	// from inspecting it.
	e.exit(3)
	close(e.release)
	st := m.expect(t, "web", mesos.TaskFailed)
	if st.Message != "Container exited with status 3" {
		t.Errorf("TASK_FAILED message %q", st.Message)
	}
	if !e.deleted.Load() {
		t.Error("the ended container was not removed")
	}
}
