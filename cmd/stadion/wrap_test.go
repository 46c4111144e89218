package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
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

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/testenv"
)

// wrapWaitFor bounds every asynchronous outcome of the wrap tests; generous
// for a loaded machine.
const wrapWaitFor = 90 * time.Second

func TestWrapHelp(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		contains []string
	}{
		{name: "help", args: []string{"wrap", "--help"}, code: exitOK, contains: []string{
			"<marathon-host:port> <consul-host:port> <prefix> <command>",
			"-upcase", "-sanitize", "-kill-timeout", "-wait", "-splay", "-restart-mode", "-allow-stale", "-cache-file", "-app", "-lock-key",
			"STADION_WRAP_KILL_TIMEOUT",
		}},
		{name: "listed", args: []string{"--help"}, code: exitOK, contains: []string{"wrap"}},
		{name: "too few arguments", args: []string{"wrap", "m:8080", "c:8500", "app"}, code: exitUsage, contains: []string{"Usage: stadion wrap"}},
		{name: "bad wait", args: []string{"wrap", "--wait", "soon", "m:8080", "c:8500", "app", "true"}, code: exitUsage, contains: []string{"--wait"}},
		{name: "bad mode", args: []string{"wrap", "--restart-mode", "sometimes", "m:8080", "c:8500", "app", "true"}, code: exitUsage, contains: []string{"restart mode"}},
		{name: "no scheduler in scheduler mode", args: []string{"wrap", "-", "c:8500", "app", "true"}, code: exitUsage, contains: []string{"no scheduler address"}},
		{name: "bad environment", args: []string{"wrap", "m:8080", "c:8500", "app", "true"}, env: map[string]string{"STADION_WRAP_UPCASE": "maybe"}, code: exitUsage, contains: []string{"STADION_WRAP_UPCASE"}},
		{name: "bad log level", args: []string{"wrap", "--log-level", "loud", "m:8080", "c:8500", "app", "true"}, code: exitUsage, contains: []string{"--log-level"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			code := run(context.Background(), tc.args, &out, &out)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.code, out.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func TestWrapParseWait(t *testing.T) {
	tests := []struct {
		in       string
		min, max time.Duration
		err      bool
	}{
		{in: "2s:10s", min: 2 * time.Second, max: 10 * time.Second},
		{in: "500ms", min: 500 * time.Millisecond, max: 2 * time.Second},
		{in: "0", min: 0, max: 0},
		{in: "5s:1s", err: true},
		{in: "soon", err: true},
		{in: "1s:later", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			min, max, err := parseWait(tc.in)
			if (err != nil) != tc.err || (!tc.err && (min != tc.min || max != tc.max)) {
				t.Errorf("parseWait(%q) = %v, %v, %v; want %v, %v, error %v", tc.in, min, max, err, tc.min, tc.max, tc.err)
			}
		})
	}
}

// wrapProc is this test binary running as `stadion wrap`.
type wrapProc struct {
	cmd  *exec.Cmd
	out  *testenv.Buffer
	done chan struct{}
}

// startWrap starts `stadion wrap args...` with attr (nil for none).
func startWrap(t *testing.T, attr *syscall.SysProcAttr, args ...string) *wrapProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"wrap"}, args...)...)
	cmd.Env = append(os.Environ(), "STADION_TEST_MAIN=1")
	p := &wrapProc{cmd: cmd, out: &testenv.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("stadion wrap %q output:\n%s", args, p.out.String())
		}
	})
	return p
}

// exitCode waits for the wrapper to end.
func (p *wrapProc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(wrapWaitFor):
		t.Fatal("stadion wrap did not end")
		return -1
	}
}

// wrapPoll polls ok every 25ms until it holds, or fails the test after
// wrapWaitFor.
func wrapPoll(t *testing.T, what string, ok func() error) {
	t.Helper()
	deadline := time.Now().Add(wrapWaitFor)
	for {
		err := ok()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func wrapGetJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

// childEnv waits until testchild on addr answers and returns its
// environment.
func childEnv(t *testing.T, addr string) map[string]string {
	t.Helper()
	var env map[string]string
	wrapPoll(t, "the child on "+addr, func() error {
		env = nil
		return wrapGetJSON("http://"+addr+"/env", &env)
	})
	return env
}

func kvPut(t *testing.T, consul *testenv.Consul, key, value string) {
	t.Helper()
	client, err := api.NewClient(&api.Config{Address: consul.HTTPAddr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
}

// TestWrapExitCodes runs the binary and checks the statuses it ends with:
// the child's code after a SIGTERM sent to the wrapper only, 128+9 when
// the child ignores SIGTERM past --kill-timeout, 127 for a missing
// command.
func TestWrapExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	consul := testenv.StartConsul(t)
	kvPut(t, consul, "exit/KEY", "v")
	child := testenv.GoBuild(t, "wrapper/testdata/testchild")
	tests := []struct {
		name  string
		flags []string
		// command is the wrapped command; "" is replaced by testchild
		// serving on a free address.
		command []string
		term    bool
		code    int
	}{
		{name: "child exit code after SIGTERM", command: []string{"", "-term-exit", "42"}, term: true, code: 42},
		{name: "SIGKILL after the kill timeout", flags: []string{"--kill-timeout", "300ms"}, command: []string{"", "-ignore-term"}, term: true, code: 128 + 9},
		{name: "child exits by itself", command: []string{"/bin/sh", "-c", "exit 3"}, code: 3},
		{name: "missing command", command: []string{"stadion-no-such-command"}, code: exitCommandNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			command := tc.command
			if command[0] == "" {
				command = append([]string{child, "serve", "-addr", addr}, command[1:]...)
			}
			args := append(append([]string{"--restart-mode", "none"}, tc.flags...), append([]string{"-", consul.HTTPAddr, "exit"}, command...)...)
			p := startWrap(t, nil, args...)
			if tc.term {
				if got := childEnv(t, addr)["KEY"]; got != "v" {
					t.Errorf("child has KEY=%q, want v", got)
				}
				// The wrapper only: its forwarding is what is tested.
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
			if got := p.exitCode(t); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
		})
	}
}

// TestWrapConsulDownAtStart runs the binary while Consul is down: without
// --allow-stale it waits (a SIGTERM then ends it with 128+15); with it, it
// starts at once with the environment cached by an earlier run.
func TestWrapConsulDownAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	consul := testenv.StartConsul(t)
	kvPut(t, consul, "stale/KEY", "cached")
	child := testenv.GoBuild(t, "wrapper/testdata/testchild")
	cache := filepath.Join(t.TempDir(), "cache.json")
	flags := []string{"--restart-mode", "local", "--retry-max", "200ms", "--cache-file", cache}

	addr := freeAddr(t)
	first := startWrap(t, nil, append(append(flags, "--allow-stale"), "-", consul.HTTPAddr, "stale", child, "serve", "-addr", addr)...)
	if got := childEnv(t, addr)["KEY"]; got != "cached" {
		t.Fatalf("child has KEY=%q, want cached", got)
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if code := first.exitCode(t); code != 0 {
		t.Fatalf("first run exit code %d, want 0", code)
	}
	consul.Stop(t)

	t.Run("without allow-stale", func(t *testing.T) {
		p := startWrap(t, nil, append(flags, "-", consul.HTTPAddr, "stale", child, "serve", "-addr", freeAddr(t))...)
		wrapPoll(t, "retries in the log", func() error {
			if n := strings.Count(p.out.String(), "consul unreachable; retrying"); n < 3 {
				return fmt.Errorf("%d retries", n)
			}
			return nil
		})
		if strings.Contains(p.out.String(), "command started") {
			t.Fatal("the command started without its environment")
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.exitCode(t); code != 128+int(syscall.SIGTERM) {
			t.Errorf("exit code %d, want %d", code, 128+int(syscall.SIGTERM))
		}
	})
	t.Run("with allow-stale", func(t *testing.T) {
		addr := freeAddr(t)
		p := startWrap(t, nil, append(append(flags, "--allow-stale"), "-", consul.HTTPAddr, "stale", child, "serve", "-addr", addr)...)
		if got := childEnv(t, addr)["KEY"]; got != "cached" {
			t.Errorf("child has KEY=%q, want the cached value", got)
		}
		if !strings.Contains(p.out.String(), "starting with the cached environment") {
			t.Errorf("the log does not say the environment is stale:\n%s", p.out.String())
		}
	})
}

// TestWrapPID1ReapsOrphans runs the wrapper as PID 1 of a new PID
// namespace. Its command leaves an orphan behind, which the kernel hands
// to the wrapper; once the orphan exits, the wrapper must reap it, or it
// stays a zombie.
func TestWrapPID1ReapsOrphans(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	if os.Geteuid() != 0 {
		if testenv.InCI() {
			t.Fatal("a new PID namespace needs root; CI=true, so this fails instead of skipping")
		}
		t.Skip("a new PID namespace needs root")
	}
	consul := testenv.StartConsul(t)
	child := testenv.GoBuild(t, "wrapper/testdata/testchild")
	release := filepath.Join(t.TempDir(), "release")
	addr := freeAddr(t)
	p := startWrap(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID},
		"--restart-mode", "none", "--log-level", "debug", "-", consul.HTTPAddr, "pid1",
		child, "orphan", "-release", release, "-addr", addr)
	env := childEnv(t, addr)
	if env["PATH"] == "" {
		t.Errorf("child environment lacks PATH: %v", env)
	}

	wrapper := p.cmd.Process.Pid
	var orphan int
	wrapPoll(t, "an orphan reparented to the wrapper", func() error {
		pids := childrenOf(wrapper, "linger")
		if len(pids) == 0 {
			return fmt.Errorf("no linger process under pid %d", wrapper)
		}
		orphan = pids[0]
		return nil
	})
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapPoll(t, "the orphan to be reaped", func() error {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(orphan))); err == nil {
			return fmt.Errorf("pid %d still exists (state %s)", orphan, procState(orphan))
		}
		return nil
	})
	if !strings.Contains(p.out.String(), "reaped orphan") {
		t.Errorf("the wrapper did not log the reaping:\n%s", p.out.String())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.exitCode(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// childrenOf lists the pids whose parent is ppid and whose command line
// contains word.
func childrenOf(ppid int, word string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil || !strings.Contains(string(b), fmt.Sprintf("\nPPid:\t%d\n", ppid)) {
			continue
		}
		if cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); strings.Contains(string(cmd), word) {
			out = append(out, pid)
		}
	}
	return out
}

// procState is the state letter of pid ("Z" for a zombie).
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "gone"
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// wrapApp is one app of `stadion wrap` tasks as GET /v2/apps/{id}?embed=app.tasks
// shows it.
type wrapApp struct {
	Version      string `json:"version"`
	TasksHealthy int    `json:"tasksHealthy"`
	Tasks        []struct {
		ID                 string `json:"id"`
		Host               string `json:"host"`
		Ports              []int  `json:"ports"`
		HealthCheckResults []struct {
			Alive bool `json:"alive"`
		} `json:"healthCheckResults"`
	} `json:"tasks"`
	Deployments []struct {
		ID string `json:"id"`
	} `json:"deployments"`
}

// TestWrapRollingRestartOncePerChange runs an app of 3 instances, each
// `stadion wrap` around testchild, on `stadion serve` with the built-in
// cluster and a real Consul. Every instance sees its KV as environment;
// one KV change gives exactly one rolling restart of the app (counted by
// the scheduler's versions of the app, and by the instances' own logs:
// one asked, the two others found its request), and every new instance
// sees the new value.
func TestWrapRollingRestartOncePerChange(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	consul := testenv.StartConsul(t)
	kvPut(t, consul, "e2e/svc/greeting", "hello-v1")
	kvPut(t, consul, "e2e/svc/db/host", "db.internal")
	child := testenv.GoBuild(t, "wrapper/testdata/testchild")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	// Free ports outside the ephemeral range: other tests' connections
	// never take them.
	lo, hi := testenv.TaskPorts(t, 12)
	dataDir := t.TempDir()
	srv, err := server.Start(context.Background(), server.Config{
		Master:                     server.MasterLocal,
		HTTPAddress:                "127.0.0.1",
		Hostname:                   "localhost",
		FrameworkName:              "stadion-wrap-test",
		DataDir:                    dataDir,
		LocalContainerizers:        []string{"mesos"},
		LocalAgents:                1,
		LocalAgentResources:        fmt.Sprintf("cpus:4;mem:2048;disk:1024;ports:[%d-%d]", lo, hi),
		LocalAllocationInterval:    100 * time.Millisecond,
		ReconciliationInitialDelay: time.Second,
		KillRetry:                  2 * time.Second,
		MesosMinBackoff:            50 * time.Millisecond,
		MesosMaxBackoff:            500 * time.Millisecond,
		Logger:                     slog.New(slog.NewTextHandler(wrapTestLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	api := srv.URL()
	host := strings.TrimPrefix(api, "http://")

	app := map[string]any{
		"id": "/e2e/svc", "instances": 3, "cpus": 0.1, "mem": 32,
		"args": []string{exe, "wrap", "--upcase", "--sanitize", "--wait", "300ms:3s", "--retry-max", "1s",
			host, consul.HTTPAddr, "e2e/svc", child, "serve"},
		"env":             map[string]string{"STADION_TEST_MAIN": "1"},
		"portDefinitions": []map[string]any{{"port": 0, "name": "http"}},
		"healthChecks": []map[string]any{{"protocol": "HTTP", "path": "/health", "portIndex": 0,
			"gracePeriodSeconds": 60, "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3, "delaySeconds": 0}},
		"upgradeStrategy": map[string]any{"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
	}
	body, _ := json.Marshal(app)
	resp, err := http.Post(api+"/v2/apps", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create app: %s: %s", resp.Status, b)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logSandboxes(t, dataDir)
		}
	})

	began := time.Now()
	before := waitWrapApp(t, api, 3, nil)
	t.Logf("3 instances healthy after %v", time.Since(began).Round(time.Millisecond))
	for _, task := range before.Tasks {
		env := childEnv(t, net.JoinHostPort(task.Host, strconv.Itoa(task.Ports[0])))
		if env["GREETING"] != "hello-v1" || env["DB_HOST"] != "db.internal" || env["MARATHON_APP_ID"] != "/e2e/svc" {
			t.Fatalf("task %s sees GREETING=%q DB_HOST=%q MARATHON_APP_ID=%q", task.ID, env["GREETING"], env["DB_HOST"], env["MARATHON_APP_ID"])
		}
	}
	versions := appVersions(t, api)
	if len(versions) != 1 {
		t.Fatalf("%d versions before the change, want 1", len(versions))
	}
	requestsBefore := restartRequests(t, api)

	kvPut(t, consul, "e2e/svc/greeting", "hello-v2")
	old := map[string]bool{}
	for _, task := range before.Tasks {
		old[task.ID] = true
	}
	changed := time.Now()
	after := waitWrapApp(t, api, 3, old)
	t.Logf("3 new instances healthy %v after the change", time.Since(changed).Round(time.Millisecond))
	for _, task := range after.Tasks {
		env := childEnv(t, net.JoinHostPort(task.Host, strconv.Itoa(task.Ports[0])))
		if env["GREETING"] != "hello-v2" || env["DB_HOST"] != "db.internal" {
			t.Errorf("new task %s sees GREETING=%q DB_HOST=%q, want hello-v2 and db.internal", task.ID, env["GREETING"], env["DB_HOST"])
		}
	}

	// The old instances are gone: none can ask again. Each of them saw
	// the change: exactly one asked.
	var requested, covered int
	for id := range old {
		log := sandboxLog(t, dataDir, id)
		requested += strings.Count(log, "rolling restart requested")
		covered += strings.Count(log, "rolling restart already requested by another instance")
	}
	if requested != 1 || covered != 2 {
		t.Errorf("old instances: %d asked for a restart, %d found it asked; want 1 and 2", requested, covered)
	}
	// The scheduler served one restart request (refused ones count too:
	// the original wrapper's N-1 extra requests got 409s), and made one
	// new version. The new instances, started with the new value, ask
	// nothing.
	if n := restartRequests(t, api) - requestsBefore; n != 1 {
		t.Errorf("the scheduler served %d restart requests for one change, want 1", n)
	}
	if got := appVersions(t, api); len(got) != 2 {
		t.Errorf("the scheduler has %d versions of the app after one change, want 2 (one restart): %v", len(got), got)
	}
	if after.Version == before.Version {
		t.Errorf("app version %s unchanged by the restart", after.Version)
	}
}

// waitWrapApp waits until the app has n healthy tasks, none of them in
// old, and no deployment.
func waitWrapApp(t *testing.T, api string, n int, old map[string]bool) wrapApp {
	t.Helper()
	var a wrapApp
	wrapPoll(t, fmt.Sprintf("%d new healthy tasks", n), func() error {
		var body struct{ App wrapApp }
		if err := wrapGetJSON(api+"/v2/apps/e2e/svc?embed=app.tasks", &body); err != nil {
			return err
		}
		a = body.App
		healthy := 0
		for _, task := range a.Tasks {
			if old[task.ID] {
				return fmt.Errorf("old task %s still there", task.ID)
			}
			if len(task.HealthCheckResults) > 0 && task.HealthCheckResults[0].Alive && len(task.Ports) > 0 {
				healthy++
			}
		}
		if healthy != n || len(a.Tasks) != n || len(a.Deployments) != 0 {
			return fmt.Errorf("%d tasks, %d healthy, deployments %v", len(a.Tasks), healthy, a.Deployments)
		}
		return nil
	})
	return a
}

func appVersions(t *testing.T, api string) []string {
	t.Helper()
	var body struct{ Versions []string }
	if err := wrapGetJSON(api+"/v2/apps/e2e/svc/versions", &body); err != nil {
		t.Fatal(err)
	}
	return body.Versions
}

// restartRequests is the number of POST /v2/apps/{id}/restart requests the
// scheduler has served, whatever their answer, from its
// /metrics/prometheus.
func restartRequests(t *testing.T, api string) int {
	t.Helper()
	resp, err := http.Get(api + "/metrics/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "stadion_http_requests_total{") || !strings.Contains(line, `route="/v2/apps/{id}/restart"`) || !strings.Contains(line, `method="POST"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

// sandboxLog returns the stderr of a task (the wrapper's log), from the
// built-in agent's sandbox.
func sandboxLog(t *testing.T, dataDir, taskID string) string {
	t.Helper()
	files := sandboxFiles(dataDir, "/executors/"+taskID+"/runs/")
	if len(files) == 0 {
		t.Errorf("no sandbox stderr for task %s", taskID)
		return ""
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
		}
		all.Write(b)
	}
	return all.String()
}

// sandboxFiles lists the stderr files under dataDir whose path contains
// part: the built-in agents keep the Mesos sandbox layout
// (.../slaves/*/frameworks/*/executors/<task>/runs/<container>/stderr) under
// their own work directories.
func sandboxFiles(dataDir, part string) []string {
	var out []string
	filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "stderr" && strings.Contains(path, part) {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// logSandboxes prints every task's stderr, for a failed test.
func logSandboxes(t *testing.T, dataDir string) {
	for _, f := range sandboxFiles(dataDir, "/executors/") {
		b, _ := os.ReadFile(f)
		t.Logf("%s:\n%s", f, b)
	}
}

type wrapTestLog struct{ t testing.TB }

func (w wrapTestLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestWrapScratchImage runs the wrapper as the ENTRYPOINT of a FROM
// scratch image (the static binary alone, no shell) with host networking:
// the command sees its KV, the orphan it leaves is reaped by the wrapper as
// PID 1, and `docker stop`'s SIGTERM reaches the command, whose exit code
// becomes the container's.
func TestWrapScratchImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a Docker image")
	}
	testenv.RequireDocker(t)
	docker := testenv.Binary(t, "docker")
	consul := testenv.StartConsul(t)
	kvPut(t, consul, "scratch/greeting", "from-consul")

	dir := t.TempDir()
	for _, pkg := range []string{"cmd/stadion", "wrapper/testdata/testchild"} {
		bin := testenv.GoBuild(t, pkg)
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(bin)), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dockerfile := "FROM scratch\nCOPY stadion /stadion\nCOPY testchild /testchild\nENTRYPOINT [\"/stadion\", \"wrap\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("stadion-test/wrap:%d-%d", os.Getpid(), time.Now().UnixNano())
	dockerRun(t, docker, "build", "-q", "-t", tag, dir)
	t.Cleanup(func() { exec.Command(docker, "rmi", "-f", tag).Run() })

	shared := t.TempDir() // the release file, seen by the orphan as /shared
	addr := freeAddr(t)
	name := strings.NewReplacer("/", "-", ":", "-").Replace(tag)
	dockerRun(t, docker, "run", "-d", "--name", name, "--network", "host", "-v", shared+":/shared",
		tag, "--restart-mode", "none", "--upcase", "--log-level", "debug", "-", consul.HTTPAddr, "scratch",
		"/testchild", "orphan", "-release", "/shared/release", "-addr", addr, "-term-exit", "42")
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command(docker, "logs", name).CombinedOutput()
			t.Logf("container log:\n%s", out)
		}
		exec.Command(docker, "rm", "-f", name).Run()
	})

	if got := childEnv(t, addr)["GREETING"]; got != "from-consul" {
		t.Errorf("command in the container has GREETING=%q, want from-consul", got)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(dockerRun(t, docker, "inspect", "-f", "{{.State.Pid}}", name)))
	if err != nil {
		t.Fatal(err)
	}
	var orphan int
	wrapPoll(t, "an orphan reparented to the wrapper", func() error {
		pids := childrenOf(pid, "linger")
		if len(pids) == 0 {
			return fmt.Errorf("no linger process under pid %d", pid)
		}
		orphan = pids[0]
		return nil
	})
	if err := os.WriteFile(filepath.Join(shared, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapPoll(t, "the orphan to be reaped", func() error {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(orphan))); err == nil {
			return fmt.Errorf("pid %d still exists (state %s)", orphan, procState(orphan))
		}
		return nil
	})

	dockerRun(t, docker, "stop", "-t", "30", name)
	if code := strings.TrimSpace(dockerRun(t, docker, "inspect", "-f", "{{.State.ExitCode}}", name)); code != "42" {
		t.Errorf("container exit code %s, want the command's 42", code)
	}
}

// dockerRun runs the docker CLI and returns its output.
func dockerRun(t *testing.T, docker string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, docker, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
