package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/wrapper/child"
)

// waitFor bounds every asynchronous outcome; generous for a loaded machine.
const waitFor = 45 * time.Second

var (
	buildOnce sync.Once
	childBin  string
)

// testChild builds wrapper/testdata/testchild once for the package.
func testChild(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "testchild")
		if err != nil {
			t.Fatal(err)
		}
		childBin = testenv.GoBuild(&dirTB{TB: t, dir: dir}, "wrapper/testdata/testchild")
	})
	if childBin == "" {
		t.Fatal("testchild was not built")
	}
	return childBin
}

// dirTB gives the package-wide build a directory that outlives the test
// that triggers it.
type dirTB struct {
	testing.TB
	dir string
}

func (d *dirTB) TempDir() string { return d.dir }

// fakeScheduler is a Marathon API that knows one app and counts restarts.
type fakeScheduler struct {
	*httptest.Server
	mu       sync.Mutex
	restarts int
	gets     int
}

func newFakeScheduler(t *testing.T, app string) *fakeScheduler {
	f := newUnstartedScheduler(t, app)
	f.Start()
	return f
}

// newUnstartedScheduler is a fakeScheduler to Start later, on its
// Listener.
func newUnstartedScheduler(t *testing.T, app string) *fakeScheduler {
	f := &fakeScheduler{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/apps"+app+"/restart", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.restarts++
		n := f.restarts
		f.mu.Unlock()
		fmt.Fprintf(w, `{"deploymentId":"d-%d","version":"2030-01-01T00:00:%02d.000Z"}`, n, n)
	})
	mux.HandleFunc("GET /v2/apps"+app, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gets++
		f.mu.Unlock()
		fmt.Fprintf(w, `{"app":{"id":%q}}`, app)
	})
	f.Server = httptest.NewUnstartedServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeScheduler) counts() (restarts, gets int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restarts, f.gets
}

// instance is one Run under test, serving testchild on addr.
type instance struct {
	t       *testing.T
	addr    string
	signals chan os.Signal
	logs    *testenv.Buffer
	done    chan error
}

// baseConfig is a wrapper of testchild serve on a free port, with short
// retries; the test fills in Consul, the scheduler and the mode.
func baseConfig(t *testing.T, consulAddr, prefix string, childFlags ...string) (Config, string) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	return Config{
		Consul:       consulAddr,
		Prefix:       prefix,
		Command:      append([]string{testChild(t), "serve", "-addr", addr}, childFlags...),
		RestartMode:  RestartLocal,
		KillTimeout:  10 * time.Second,
		RetryMin:     50 * time.Millisecond,
		RetryMax:     500 * time.Millisecond,
		CacheFile:    filepath.Join(t.TempDir(), "cache.json"),
		BaseEnv:      []string{"PATH=" + os.Getenv("PATH"), "INHERITED=yes"},
		blockingWait: 5 * time.Second,
	}, addr
}

// start runs the wrapper in a goroutine; the test's end stops it.
func start(t *testing.T, cfg Config, addr string) *instance {
	t.Helper()
	in := &instance{t: t, addr: addr, signals: make(chan os.Signal, 4), logs: &testenv.Buffer{}, done: make(chan error, 1)}
	cfg.Signals = in.signals
	cfg.Logger = slog.New(slog.NewTextHandler(multiWriter{in.logs, testWriter{t}}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { in.done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(waitFor):
			t.Errorf("wrapper did not stop")
		}
	})
	return in
}

type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		w.Write(p)
	}
	return len(p), nil
}

// env waits until the child answers and returns its environment.
func (in *instance) env() map[string]string {
	in.t.Helper()
	var env map[string]string
	in.poll("the child to answer", func() bool {
		return getJSON("http://"+in.addr+"/env", &env) == nil
	})
	return env
}

// pid is the child's pid, from /health.
func (in *instance) pid() int {
	in.t.Helper()
	var pid int
	in.poll("the child to answer", func() bool {
		resp, err := http.Get("http://" + in.addr + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, err = fmt.Fscanf(resp.Body, "ok %d", &pid)
		return err == nil
	})
	return pid
}

// waitEnv polls until the child's variable name has value want ("" with
// absent true for a missing variable).
func (in *instance) waitEnv(name, want string, absent bool) map[string]string {
	in.t.Helper()
	var env map[string]string
	in.poll(fmt.Sprintf("%s=%q (absent %v) in the child", name, want, absent), func() bool {
		env = nil // Decode merges into a map it is given
		if getJSON("http://"+in.addr+"/env", &env) != nil {
			return false
		}
		v, ok := env[name]
		if absent {
			return !ok
		}
		return ok && v == want
	})
	return env
}

// waitLog polls until the log holds msg at least n times.
func (in *instance) waitLog(msg string, n int) {
	in.t.Helper()
	in.poll(fmt.Sprintf("%d× %q in the log", n, msg), func() bool {
		return strings.Count(in.logs.String(), msg) >= n
	})
}

// exit waits for Run to return.
func (in *instance) exit() error {
	in.t.Helper()
	select {
	case err := <-in.done:
		in.done <- err // for the cleanup
		return err
	case <-time.After(waitFor):
		in.t.Fatal("wrapper did not end")
		return nil
	}
}

func (in *instance) poll(what string, ok func() bool) {
	in.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !ok() {
		select {
		case err := <-in.done:
			in.done <- err
			in.t.Fatalf("wrapper ended (%v) while waiting for %s", err, what)
		default:
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func put(t *testing.T, client *api.Client, key, value string) {
	t.Helper()
	if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
		t.Fatal(err)
	}
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *child.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatalf("wrapper returned %v, want the command's exit", err)
	}
	return ee.Status()
}

// TestRunEnvironment checks that the KV becomes the child's environment
// (keys relative to the prefix, --upcase and --sanitize, over the
// inherited variables), that the scheduler is asked about the app, and
// that a SIGTERM's exit code comes back.
func TestRunEnvironment(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "svc/db/host", "db.internal")
	put(t, client, "svc/log-level", "debug")
	put(t, client, "svc/inherited", "from-kv")
	put(t, client, "svc2/other", "not mine")
	sched := newFakeScheduler(t, "/svc")

	cfg, addr := baseConfig(t, consul.HTTPAddr, "svc", "-term-exit", "42")
	cfg.RestartMode, cfg.Scheduler = RestartScheduler, sched.URL
	cfg.Env = EnvOptions{Upcase: true, Sanitize: true}
	in := start(t, cfg, addr)

	env := in.env()
	want := map[string]string{"DB_HOST": "db.internal", "LOG_LEVEL": "debug", "INHERITED": "from-kv"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("child has %s=%q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["OTHER"]; ok {
		t.Error("a key of the sibling prefix svc2 leaked into the environment")
	}
	if strings.Contains(in.logs.String(), "db.internal") {
		t.Error("a KV value appears in the log")
	}
	in.waitLog("scheduler knows the app", 1)

	in.signals <- syscall.SIGTERM
	if got := exitStatus(t, in.exit()); got != 42 {
		t.Errorf("wrapper exit status %d, want the child's 42", got)
	}
}

// TestRunSignals forwards HUP, USR1 and USR2, then a SIGINT that the child
// ignores: the kill timeout escalates to SIGKILL and the wrapper reports
// 128+9.
func TestRunSignals(t *testing.T) {
	consul := testenv.StartConsul(t)
	cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
	cfg.RestartMode = RestartNone
	cfg.KillTimeout = 500 * time.Millisecond
	in := start(t, cfg, addr)
	in.pid()

	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGINT} {
		in.signals <- sig
		in.poll(sig.String()+" to reach the child", func() bool {
			var got []string
			return getJSON("http://"+addr+"/signals", &got) == nil && slices.Contains(got, sig.String())
		})
	}
	start := time.Now()
	if got := exitStatus(t, in.exit()); got != 128+int(syscall.SIGKILL) {
		t.Errorf("wrapper exit status %d, want %d", got, 128+int(syscall.SIGKILL))
	}
	if took := time.Since(start); took > waitFor/2 {
		t.Errorf("the kill timeout of %v took %v", cfg.KillTimeout, took)
	}
}

// TestRunLocalRestart changes the KV under a wrapper in local mode: the
// child is restarted once, in place, with the new value.
func TestRunLocalRestart(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "svc/KEY", "v1")
	cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
	cfg.WaitMin, cfg.WaitMax = 200*time.Millisecond, 2*time.Second
	cfg.Splay = 100 * time.Millisecond
	in := start(t, cfg, addr)
	in.waitEnv("KEY", "v1", false)
	before := in.pid()

	put(t, client, "svc/KEY", "v2")
	in.waitEnv("KEY", "v2", false)
	if after := in.pid(); after == before {
		t.Errorf("child pid %d unchanged after the restart", after)
	}
	// Writing the same value again is no change.
	put(t, client, "svc/KEY", "v2")
	put(t, client, "svc/OTHER", "x")
	in.waitEnv("OTHER", "x", false)
	if n := strings.Count(in.logs.String(), "restarting the command in place"); n != 2 {
		t.Errorf("%d restarts in place, want 2", n)
	}
}

// TestRunRestartOncePerChange runs three instances of one app against a
// scheduler that counts restarts: one KV change gives exactly one request,
// and every instance saw the change and decided.
func TestRunRestartOncePerChange(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "team/svc/KEY", "v1")
	sched := newFakeScheduler(t, "/team/svc")

	var ins []*instance
	for i := range 3 {
		cfg, addr := baseConfig(t, consul.HTTPAddr, "team/svc")
		cfg.RestartMode, cfg.Scheduler = RestartScheduler, sched.URL
		cfg.WaitMin = 100 * time.Millisecond
		cfg.BaseEnv = append(cfg.BaseEnv, "MESOS_TASK_ID=team_svc.instance-"+strconv.Itoa(i))
		in := start(t, cfg, addr)
		in.waitEnv("KEY", "v1", false)
		ins = append(ins, in)
	}

	for round, value := range []string{"v2", "v3"} {
		put(t, client, "team/svc/KEY", value)
		for _, in := range ins {
			in.poll("the instance to decide", func() bool {
				l := in.logs.String()
				return strings.Count(l, "rolling restart requested")+strings.Count(l, "rolling restart already requested by another instance") >= round+1
			})
		}
		if restarts, _ := sched.counts(); restarts != round+1 {
			t.Fatalf("after change %d the scheduler got %d restarts, want %d", round+1, restarts, round+1)
		}
	}
	var requested int
	for _, in := range ins {
		requested += strings.Count(in.logs.String(), "rolling restart requested")
	}
	if requested != 2 {
		t.Errorf("%d instances logged a request, want 2 (one per change)", requested)
	}
}

// TestRunConsulDownAtStart starts the wrapper while Consul is down: it
// retries and starts the command only once Consul answers, without
// --allow-stale; a stop signal meanwhile ends it.
func TestRunConsulDownAtStart(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	consul.Stop(t)

	cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
	in := start(t, cfg, addr)
	in.waitLog("consul unreachable; retrying", 3)
	if strings.Contains(in.logs.String(), "command started") {
		t.Fatal("the command started without its environment")
	}

	consul.Start(t)
	in.waitLog("command started", 1)
	in.waitEnv("KEY", "", true)
	put(t, client, "svc/KEY", "late")
	in.waitEnv("KEY", "late", false)

	t.Run("stop signal while waiting", func(t *testing.T) {
		consul.Stop(t)
		cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
		in := start(t, cfg, addr)
		in.waitLog("consul unreachable; retrying", 1)
		in.signals <- syscall.SIGTERM
		var se *StoppedError
		if err := in.exit(); !errors.As(err, &se) || se.Signal != syscall.SIGTERM {
			t.Fatalf("wrapper returned %v, want a StoppedError for SIGTERM", err)
		}
	})
}

// TestRunAllowStale starts the wrapper with --allow-stale while Consul is
// down: it starts at once with the cached environment of an earlier run,
// then follows the KV once Consul is back.
func TestRunAllowStale(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "svc/KEY", "cached")
	cache := filepath.Join(t.TempDir(), "cache.json")

	cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
	cfg.AllowStale, cfg.CacheFile = true, cache
	first := start(t, cfg, addr)
	first.waitEnv("KEY", "cached", false)
	first.signals <- syscall.SIGTERM
	first.exit()
	fi, err := os.Stat(cache)
	if err != nil {
		t.Fatalf("no cache after a run with --allow-stale: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600", fi.Mode().Perm())
	}

	consul.Stop(t)
	cfg, addr = baseConfig(t, consul.HTTPAddr, "svc")
	cfg.AllowStale, cfg.CacheFile = true, cache
	in := start(t, cfg, addr)
	in.waitEnv("KEY", "cached", false)
	in.waitLog("starting with the cached environment", 1)

	// Consul comes back empty (dev mode): the KV now differs from the
	// cached environment, and the command follows it.
	consul.Start(t)
	in.waitEnv("KEY", "", true)
	put(t, client, "svc/KEY", "fresh")
	in.waitEnv("KEY", "fresh", false)

	t.Run("without a cache it waits", func(t *testing.T) {
		consul.Stop(t)
		cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
		cfg.AllowStale = true // CacheFile is a new, empty temp path
		in := start(t, cfg, addr)
		in.waitLog("consul unreachable; retrying", 2)
		if strings.Contains(in.logs.String(), "command started") {
			t.Fatal("the command started without any environment")
		}
	})
}

// TestRunWatcherFailureKeepsChild stops Consul under a running wrapper:
// the command keeps running, and the watch resumes when Consul is back.
func TestRunWatcherFailureKeepsChild(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "svc/KEY", "v1")
	cfg, addr := baseConfig(t, consul.HTTPAddr, "svc")
	in := start(t, cfg, addr)
	in.waitEnv("KEY", "v1", false)
	pid := in.pid()

	consul.Stop(t)
	in.waitLog("watch consul kv failed; retrying", 3)
	if got := in.pid(); got != pid {
		t.Fatalf("child pid %d, want %d: the watcher's failure touched the command", got, pid)
	}

	consul.Start(t)
	in.waitLog("consul kv reachable again", 1)
	put(t, client, "svc/KEY", "v2")
	in.waitEnv("KEY", "v2", false)
}

func TestRunCommandNotFound(t *testing.T) {
	cfg := Config{Prefix: "svc", Command: []string{"stadion-no-such-command"}, RestartMode: RestartNone}
	var se *StartError
	if err := Run(context.Background(), cfg); !errors.As(err, &se) || !se.NotFound {
		t.Fatalf("Run = %v, want a StartError with NotFound", err)
	}
}

// TestRunSchedulerUnreachable starts the wrapper while the scheduler is
// down: the command starts all the same, the app check and the restart of
// a change are retried with backoff, and the restart goes through, once,
// when the scheduler comes up.
func TestRunSchedulerUnreachable(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "svc/KEY", "v1")
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))

	cfg, childAddr := baseConfig(t, consul.HTTPAddr, "svc")
	cfg.RestartMode, cfg.Scheduler = RestartScheduler, addr
	in := start(t, cfg, childAddr)
	in.waitEnv("KEY", "v1", false)
	in.waitLog("scheduler unreachable; retrying", 2)

	put(t, client, "svc/KEY", "v2")
	in.waitLog("restart request failed; retrying", 2)

	sched := newUnstartedScheduler(t, "/svc")
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on the scheduler's address: %v", err)
	}
	sched.Listener.Close()
	sched.Listener = l
	sched.Start()
	in.waitLog("rolling restart requested", 1)
	in.waitLog("scheduler knows the app", 1)
	if restarts, _ := sched.counts(); restarts != 1 {
		t.Errorf("scheduler got %d restarts, want 1", restarts)
	}
	if env := in.env(); env["KEY"] != "v1" {
		t.Errorf("child has KEY=%q: the restart is the scheduler's to do, not the wrapper's", env["KEY"])
	}
}
