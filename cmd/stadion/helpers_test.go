package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// process is this test binary running as `stadion <args>`.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *prefixLog
}

// output is everything the process printed so far.
func (p *process) output() string {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	return p.out.all.String()
}

func startStadion(t *testing.T, name string, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "STADION_TEST_MAIN=1")
	out := &prefixLog{t: t, prefix: name + ": "}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		out.stop()
	})
	return p
}

// prefixLog forwards a process's output to the test log until the test ends.
type prefixLog struct {
	mu      sync.Mutex
	t       *testing.T
	prefix  string
	stopped bool
	all     strings.Builder
}

func (l *prefixLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	if !l.stopped {
		l.t.Log(l.prefix + string(p))
	}
	return len(p), nil
}

func (l *prefixLog) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startLocalServe starts `stadion serve --master local` (command tasks
// only) on a free loopback port, with its state and its cluster's under
// dir; extra arguments come last. It returns the API's URL and the
// arguments, to start it again on the same port and data dir.
func startLocalServe(t *testing.T, dir string, extra ...string) (api string, args []string, p *process) {
	t.Helper()
	port := testenv.FreePort(t)
	api = "http://127.0.0.1:" + strconv.Itoa(port)
	args = append([]string{"serve", "--master", "local", "--local_containerizers", "mesos", "--http_address", "127.0.0.1",
		"--http_port", strconv.Itoa(port), "--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"),
		"--reconciliation_initial_delay", "500"}, extra...)
	p = startStadion(t, "serve", args...)
	waitHTTP(t, api+"/ping")
	return api, args, p
}
