//go:build e2e

package jobs

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/jobs"
)

// within bounds every wait; the machine may be busy.
const within = 90 * time.Second

// logWriter forwards a process's output to the test log until the test
// ends.
type logWriter struct {
	mu     sync.Mutex
	t      *testing.T
	prefix string
	done   bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(w.prefix + strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// start runs bin with args until the test ends.
func start(t *testing.T, name, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	w := &logWriter{t: t, prefix: name + ": "}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
}

// get GETs url into v (when not nil) and returns the status.
func get(url string, v any) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && v != nil {
		return resp.StatusCode, json.Unmarshal(b, v)
	}
	return resp.StatusCode, nil
}

func poll(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v: %v", what, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDeployChain runs the chain of examples/jobs and checks that its
// jobs ran once each, in order, and that the app deploy created runs.
func TestDeployChain(t *testing.T) {
	stadion := testenv.GoBuild(t, "cmd/stadion")
	dir := t.TempDir()
	lo, hi := testenv.TaskPorts(t, 20)
	servePort, jobsPort := testenv.FreePort(t), testenv.FreePort(t)
	marathon := "http://127.0.0.1:" + strconv.Itoa(servePort)
	api := "http://127.0.0.1:" + strconv.Itoa(jobsPort)
	start(t, "serve", stadion, "serve", "--master", "local", "--local_containerizers", "mesos", "--http_address", "127.0.0.1",
		"--http_port", strconv.Itoa(servePort), "--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"),
		"--local_resources", fmt.Sprintf("cpus:2;mem:1024;disk:1024;ports:[%d-%d]", lo, lo+9))
	start(t, "jobs", stadion, "jobs", "--master", "local", "--local_containerizers", "mesos", "--http_port", strconv.Itoa(jobsPort),
		"--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "jobs"),
		"--local_resources", fmt.Sprintf("cpus:2;mem:1024;disk:1024;ports:[%d-%d]", lo+10, hi))
	for _, u := range []string{marathon + "/ping", api + "/ping"} {
		poll(t, u, func() error {
			if code, err := get(u, nil); code != http.StatusOK {
				return fmt.Errorf("%d %v", code, err)
			}
			return nil
		})
	}
	submit := exec.Command("sh", "../../examples/jobs/submit.sh", api, marathon, stadion)
	if out, err := submit.CombinedOutput(); err != nil {
		t.Fatalf("submit.sh: %v\n%s", err, out)
	}
	poll(t, "smoke-test passing", func() error {
		var j jobs.Job
		if code, err := get(api+"/v1/scheduler/job/smoke-test", &j); code != http.StatusOK || err != nil {
			return fmt.Errorf("%d %v", code, err)
		}
		if j.SuccessCount < 1 {
			return fmt.Errorf("smoke-test: %d successes, %d errors", j.SuccessCount, j.ErrorCount)
		}
		return nil
	})
	var last []time.Time
	for _, name := range []string{"prepare", "deploy", "smoke-test"} {
		var j jobs.Job
		if code, err := get(api+"/v1/scheduler/job/"+name, &j); code != http.StatusOK || err != nil || j.SuccessCount != 1 || j.ErrorCount != 0 {
			t.Fatalf("%s: %d %v %+v", name, code, err, j)
		}
		last = append(last, j.LastSuccessTime())
	}
	if !last[0].Before(last[1]) || !last[1].Before(last[2]) {
		t.Errorf("chain out of order: %v", last)
	}
	var runs []jobs.Run
	if _, err := get(api+"/v1/scheduler/job/deploy/runs", &runs); err != nil || len(runs) != 1 || runs[0].Sandbox == "" || *runs[0].ExitStatus != 0 {
		t.Errorf("deploy's runs: %+v %v", runs, err)
	}
	var app struct {
		App struct {
			TasksRunning int               `json:"tasksRunning"`
			Labels       map[string]string `json:"labels"`
		} `json:"app"`
	}
	if code, err := get(marathon+"/v2/apps/jobs-demo-staging", &app); code != http.StatusOK || err != nil || app.App.TasksRunning != 1 || app.App.Labels["tag"] != "v1" {
		t.Errorf("deployed app: %d %v %+v", code, err, app)
	}
}
