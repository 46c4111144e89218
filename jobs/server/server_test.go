package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/jobs"
	"github.com/stadionhq/stadion/jobs/server"
)

// waitFor bounds every asynchronous outcome; the machine is busy.
const waitFor = 60 * time.Second

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// env is a `stadion jobs --master local` in this process.
type env struct {
	t   *testing.T
	url string
	dir string // for the tasks' output files
}

func start(t *testing.T, opts ...func(*server.ServerConfig)) *env {
	t.Helper()
	lo, hi := testenv.TaskPorts(t, 10)
	cfg := server.ServerConfig{
		Master: server.MasterLocal, HTTPAddress: "127.0.0.1", Hostname: "127.0.0.1", FrameworkName: "chronos-test",
		User: currentUser(), DataDir: t.TempDir(), FailureRetry: 200 * time.Millisecond,
		Defaults:                jobs.Defaults{CPUs: 0.1, Mem: 32, Disk: 32, User: currentUser()},
		LocalResources:          fmt.Sprintf("cpus:4;mem:2048;disk:2048;ports:[%d-%d]", lo, hi),
		LocalContainerizers:     []string{"mesos"},
		LocalAllocationInterval: 100 * time.Millisecond,
		MesosMinBackoff:         50 * time.Millisecond, MesosMaxBackoff: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &env{t: t, url: srv.URL(), dir: t.TempDir()}
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

func (e *env) do(method, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *env) must(method, path, body string, want int) string {
	e.t.Helper()
	code, b := e.do(method, path, body)
	if code != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

func (e *env) job(name string) jobs.Job {
	e.t.Helper()
	var j jobs.Job
	if err := json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/job/"+name, "", 200)), &j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) runs(name string) []jobs.Run {
	e.t.Helper()
	var rs []jobs.Run
	if err := json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/job/"+name+"/runs", "", 200)), &rs); err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *env) poll(what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no %s within %v: %v", what, waitFor, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lines reads a task output file, one line per run.
func (e *env) lines(name string) []string {
	b, _ := os.ReadFile(filepath.Join(e.dir, name))
	return strings.Fields(string(b))
}

func (e *env) out(name string) string { return filepath.Join(e.dir, name) }

func TestRepeatingJobRunsAtItsPeriod(t *testing.T) {
	e := start(t)
	e.must("POST", "/v1/scheduler/iso8601", fmt.Sprintf(`{"name":"tick","command":"echo $CHRONOS_JOB_RUN_TIME >> %s","schedule":"R/%s/PT2S"}`,
		e.out("tick"), time.Now().UTC().Format(time.RFC3339)), 204)
	e.poll("four successes", func() error {
		if j := e.job("tick"); j.SuccessCount < 4 {
			return fmt.Errorf("successCount %d", j.SuccessCount)
		}
		return nil
	})
	j := e.job("tick")
	if j.ErrorCount != 0 || j.LastSuccess == "" || j.ErrorsSinceLastSuccess != 0 {
		t.Errorf("counters %+v", j)
	}
	// The runs follow the period: due times about 2s apart once on the
	// grid (the first run catches up at once: the start had passed).
	times := e.lines("tick")
	if len(times) < 4 {
		t.Fatalf("output %v", times)
	}
	var prev int64
	for i, s := range times[1:4] {
		var ms int64
		fmt.Sscan(s, &ms)
		if i > 0 && (ms-prev < 1500 || ms-prev > 4000) {
			t.Errorf("runs %d and %d are %d ms apart, want about 2000", i-1, i, ms-prev)
		}
		prev = ms
	}
	if !strings.HasPrefix(j.Schedule, "R/") {
		t.Errorf("schedule %q", j.Schedule)
	}
}

func TestFailingJobIsRetriedThenCountedAsError(t *testing.T) {
	e := start(t)
	e.must("POST", "/v1/scheduler/iso8601", fmt.Sprintf(`{"name":"flaky","command":"echo $CHRONOS_JOB_RUN_ATTEMPT >> %s; exit 3","schedule":"R1//PT1H","retries":2}`, e.out("flaky")), 204)
	e.poll("one error", func() error {
		if j := e.job("flaky"); j.ErrorCount != 1 {
			return fmt.Errorf("errorCount %d", j.ErrorCount)
		}
		return nil
	})
	if got := strings.Join(e.lines("flaky"), ","); got != "0,1,2" {
		t.Errorf("attempts %q, want 0,1,2 (one run, two retries)", got)
	}
	j := e.job("flaky")
	if j.SuccessCount != 0 || j.ErrorsSinceLastSuccess != 1 || j.LastError == "" {
		t.Errorf("counters %+v", j)
	}
	rs := e.runs("flaky")
	if len(rs) != 3 || rs[0].ExitStatus == nil || *rs[0].ExitStatus != 3 || rs[0].Trigger != jobs.TriggerRetry {
		t.Errorf("runs %+v", rs)
	}
}

func TestChainRunsInOrderAndAFailingParentStopsIt(t *testing.T) {
	e := start(t)
	log := e.out("chain")
	e.must("POST", "/v1/scheduler/iso8601", fmt.Sprintf(`{"name":"a","command":"echo a >> %s; test ! -e %s","schedule":"R/%s/PT3S","retries":0}`,
		log, e.out("fail-a"), time.Now().Add(time.Second).UTC().Format(time.RFC3339)), 204)
	e.must("POST", "/v1/scheduler/dependency", fmt.Sprintf(`{"name":"b","command":"echo b >> %s","parents":["a"]}`, log), 204)
	e.must("POST", "/v1/scheduler/dependency", fmt.Sprintf(`{"name":"c","command":"echo c >> %s","parents":["b"]}`, log), 204)
	e.poll("a, b and c once", func() error {
		if j := e.job("c"); j.SuccessCount < 1 {
			return fmt.Errorf("c ran %d times; log %v", j.SuccessCount, e.lines("chain"))
		}
		return nil
	})
	got := e.lines("chain")
	if strings.Join(got[:3], "") != "abc" {
		t.Errorf("order %v, want a b c", got)
	}
	// Now a fails: b and c do not run any more.
	os.WriteFile(e.out("fail-a"), nil, 0o644)
	e.poll("a failing", func() error {
		if j := e.job("a"); j.ErrorCount < 2 {
			return fmt.Errorf("a errorCount %d", j.ErrorCount)
		}
		return nil
	})
	b, c := e.job("b"), e.job("c")
	e.poll("a failing once more", func() error {
		if j := e.job("a"); j.ErrorCount < 3 {
			return fmt.Errorf("a errorCount %d", j.ErrorCount)
		}
		return nil
	})
	if b2, c2 := e.job("b"), e.job("c"); b2.SuccessCount != b.SuccessCount || c2.SuccessCount != c.SuccessCount {
		t.Errorf("children ran after their parent failed: b %d→%d, c %d→%d", b.SuccessCount, b2.SuccessCount, c.SuccessCount, c2.SuccessCount)
	}
	csv := e.must("GET", "/v1/scheduler/graph/csv", "", 200)
	for _, want := range []string{"node,a,failure,", "link,a,b", "link,b,c"} {
		if !strings.Contains(csv, want) {
			t.Errorf("graph csv lacks %q:\n%s", want, csv)
		}
	}
}

func TestManualRunKillAndDelete(t *testing.T) {
	e := start(t)
	// Far in the future: only manual runs.
	e.must("POST", "/v1/scheduler/iso8601", fmt.Sprintf(`{"name":"manual","command":"echo $mesos_task_id >> %s; echo","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, e.out("manual")), 204)
	e.must("PUT", "/v1/scheduler/job/manual?arguments=hello", "", 204)
	e.poll("the manual run", func() error {
		if j := e.job("manual"); j.SuccessCount != 1 {
			return fmt.Errorf("successCount %d", j.SuccessCount)
		}
		return nil
	})
	if ids := e.lines("manual"); len(ids) != 1 || !strings.HasPrefix(ids[0], "ct:") || !strings.HasSuffix(ids[0], ":0:manual:hello") {
		t.Errorf("task ids %v, want ct:<due>:0:manual:hello", ids)
	}
	if j := e.job("manual"); j.Schedule != "R/2099-01-01T00:00:00Z/P1D" {
		t.Errorf("a manual run moved the schedule: %q", j.Schedule)
	}

	e.must("POST", "/v1/scheduler/iso8601", `{"name":"sleeper","command":"sleep 600","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, 204)
	e.must("PUT", "/scheduler/job/sleeper", "", 204) // the 2.x path too
	e.poll("sleeper running", func() error {
		if rs := e.runs("sleeper"); len(rs) == 0 || rs[0].State != jobs.RunRunning {
			return fmt.Errorf("runs %+v", rs)
		}
		return nil
	})
	e.must("DELETE", "/v1/scheduler/task/kill/sleeper", "", 204)
	e.poll("sleeper killed", func() error {
		if rs := e.runs("sleeper"); rs[0].State != jobs.RunKilled {
			return fmt.Errorf("run %+v", rs[0])
		}
		return nil
	})
	if j := e.job("sleeper"); j.ErrorCount != 0 || j.SuccessCount != 0 {
		t.Errorf("a kill moved the counters: %+v", j)
	}
	e.must("DELETE", "/v1/scheduler/job/sleeper", "", 204)
	if code, body := e.do("GET", "/v1/scheduler/job/sleeper", ""); code != 400 || !strings.Contains(body, "not found") {
		t.Errorf("deleted job: %d %s", code, body)
	}
	if code, _ := e.do("DELETE", "/v1/scheduler/job/sleeper", ""); code != 400 {
		t.Errorf("second delete: %d, want 400", code)
	}
	var list []jobs.Job
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/jobs", "", 200)), &list)
	if len(list) != 1 || list[0].Name != "manual" {
		t.Errorf("jobs %+v", list)
	}
}

func TestValidationErrors(t *testing.T) {
	e := start(t)
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{name: "bad name", path: "/iso8601", body: `{"name":"a b","schedule":"R//PT1S"}`, want: 400},
		{name: "bad schedule", path: "/iso8601", body: `{"name":"a","schedule":"tomorrow"}`, want: 400},
		{name: "before 1970", path: "/iso8601", body: `{"name":"a","schedule":"R/1960-01-01T00:00:00Z/PT1S"}`, want: 400},
		{name: "uris and fetch", path: "/iso8601", body: `{"name":"a","schedule":"R//PT1S","uris":["http://x"],"fetch":[{"uri":"http://y"}]}`, want: 400},
		{name: "unknown parent", path: "/dependency", body: `{"name":"a","parents":["nobody"]}`, want: 400},
		{name: "no name", path: "/iso8601", body: `{"schedule":"R//PT1S"}`, want: 400},
		{name: "not json", path: "/iso8601", body: `{`, want: 400},
		{name: "lenient numbers", path: "/iso8601", body: `{"name":"ok","command":"true","cpus":"0.5","retries":"1","schedule":"R/2099-01-01T00:00:00Z/PT1H"}`, want: 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.do("POST", "/v1/scheduler"+tc.path, tc.body)
			if code != tc.want {
				t.Fatalf("%d %s, want %d", code, body, tc.want)
			}
			if code == 400 && !strings.Contains(body, `"status":"Bad Request"`) {
				t.Errorf("body %s lacks Chronos's status", body)
			}
		})
	}
	j := e.job("ok")
	if j.CPUs != 0.5 || j.Retries != 1 || j.Mem != 32 || !j.Shell {
		t.Errorf("lenient job %+v", j)
	}
}
