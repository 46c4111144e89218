package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/marathon/marathontest"
)

// waitFor bounds every asynchronous outcome.
const waitFor = 30 * time.Second

// testLogLevel is the least severe level the tests log.
var testLogLevel = slog.LevelInfo

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// env is a `stadion serve --master local` on a random port, driven over
// HTTP.
type env struct {
	t   *testing.T
	srv *server.Server
	url string
}

// testConfig is the serve configuration of the tests: two small agents of
// the "mesos" containerizer and short intervals.
func testConfig(t *testing.T) server.Config {
	return server.Config{
		Master:                     server.MasterLocal,
		HTTPAddress:                "127.0.0.1",
		HTTPPort:                   0,
		Hostname:                   "localhost",
		FrameworkName:              "stadion-e2e",
		DataDir:                    t.TempDir(),
		LocalContainerizers:        []string{"mesos"},
		LocalAgents:                2,
		LocalAgentResources:        "cpus:4;mem:2048;disk:1024;ports:" + portRange(),
		LocalAllocationInterval:    50 * time.Millisecond,
		ReconciliationInitialDelay: time.Second,
		KillRetry:                  2 * time.Second,
		MesosMinBackoff:            50 * time.Millisecond,
		MesosMaxBackoff:            500 * time.Millisecond,
		Logger:                     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: testLogLevel})),
	}
}

// portRanges counts the port ranges handed out in this process.
var portRanges atomic.Int64

// portRange returns a range of 200 ports for one test's cluster, so that
// tests running in parallel (here and in other packages' processes) do
// not hand their tasks the same ports. The ranges lie in 20000-28999:
// below Linux's ephemeral ports (32768 and up) and the ranges of other
// packages' clusters (29000 and up).
func portRange() string {
	slot := (int64(os.Getpid())*7 + portRanges.Add(1)) % 45
	base := 20000 + slot*200
	return fmt.Sprintf("[%d-%d]", base, base+199)
}

func start(t *testing.T) *env {
	t.Helper()
	srv, err := server.Start(context.Background(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &env{t: t, srv: srv, url: srv.URL()}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; headers are "Name: value". It returns the status,
// headers and body as they came.
func (e *env) do(method, path, body string, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// want fails unless r has the status; it returns r for chaining.
func (e *env) want(r resp, status int) resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// wantJSON checks the status and the JSON content type and decodes the
// body into v.
func (e *env) wantJSON(r resp, status int, v any) {
	e.t.Helper()
	e.want(r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("Content-Type %q, want application/json; body %s", ct, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			e.t.Fatalf("body %s: %v", r.body, err)
		}
	}
}

// eventually polls check until it passes or waitFor ends.
func (e *env) eventually(what string, check func() error) {
	e.t.Helper()
	e.eventuallyWithin(waitFor, what, check)
}

func (e *env) eventuallyWithin(d time.Duration, what string, check func() error) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: %v", what, err)
		}
		<-tick.C
	}
}

// app is the part of an AppInfo the tests read.
type app struct {
	ID              string                `json:"id"`
	Instances       int                   `json:"instances"`
	Version         string                `json:"version"`
	TasksRunning    int                   `json:"tasksRunning"`
	TasksStaged     int                   `json:"tasksStaged"`
	Tasks           []task                `json:"tasks"`
	Deployments     []struct{ ID string } `json:"deployments"`
	Labels          map[string]string     `json:"labels"`
	PortDefinitions []struct {
		Port int `json:"port"`
	} `json:"portDefinitions"`
	LastTaskFailure *struct {
		TaskID string `json:"taskId"`
		State  string `json:"state"`
	} `json:"lastTaskFailure"`
}

type task struct {
	ID           string `json:"id"`
	AppID        string `json:"appId"`
	Host         string `json:"host"`
	SlaveID      string `json:"slaveId"`
	State        string `json:"state"`
	Ports        []int  `json:"ports"`
	ServicePorts []int  `json:"servicePorts"`
}

type deploymentResult struct {
	DeploymentID string `json:"deploymentId"`
	Version      string `json:"version"`
}

// getApp reads GET /v2/apps{id}, which must answer 200.
func (e *env) getApp(id string) app {
	e.t.Helper()
	var body struct{ App app }
	e.wantJSON(e.do(http.MethodGet, "/v2/apps"+id, ""), http.StatusOK, &body)
	return body.App
}

// running waits until app id has n running tasks at its current version
// and no deployment, and returns it.
func (e *env) running(id string, n int) app {
	e.t.Helper()
	return e.runningWithin(id, n, waitFor)
}

// runningWithin is running with its own deadline.
func (e *env) runningWithin(id string, n int, d time.Duration) app {
	e.t.Helper()
	var a app
	e.eventuallyWithin(d, fmt.Sprintf("%s runs %d tasks", id, n), func() error {
		a = e.getApp(id)
		current := 0
		for _, t := range a.Tasks {
			if t.State == "TASK_RUNNING" {
				current++
			}
		}
		if a.TasksRunning != n || current != n || len(a.Tasks) != n || len(a.Deployments) != 0 {
			return fmt.Errorf("tasksRunning %d, %d tasks listed, deployments %v", a.TasksRunning, len(a.Tasks), a.Deployments)
		}
		return nil
	})
	return a
}

// idle waits until no deployment runs.
func (e *env) idle() {
	e.t.Helper()
	e.eventually("no deployment runs", func() error {
		var deps []struct{ ID string }
		e.wantJSON(e.do(http.MethodGet, "/v2/deployments", ""), http.StatusOK, &deps)
		if len(deps) != 0 {
			return fmt.Errorf("deployments %v", deps)
		}
		return nil
	})
}

// deployed checks a deployable answer: status, Marathon-Deployment-Id
// and the deploymentResult body of Marathon's example.
func (e *env) deployed(r resp, status int) deploymentResult {
	e.t.Helper()
	var res deploymentResult
	e.wantJSON(r, status, &res)
	if res.DeploymentID == "" || res.Version == "" {
		e.t.Fatalf("deployment result %s", r.body)
	}
	if got := r.header.Get("Marathon-Deployment-Id"); got != res.DeploymentID {
		e.t.Fatalf("Marathon-Deployment-Id %q, body %s", got, r.body)
	}
	e.shape("deployments_result.json", r.body)
	return res
}

// taskIDs lists the ids of tasks.
func taskIDs(ts []task) []string {
	ids := make([]string, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	sort.Strings(ids)
	return ids
}

// example reads one of Marathon's example payloads.
func example(t *testing.T, name string) []byte { return marathontest.Example(t, name) }

// paths lists the key paths of a JSON document (".tasks[].id").
func paths(t *testing.T, data []byte) map[string]bool { return marathontest.Paths(t, data) }

// shape fails when got lacks a key path of Marathon's example, except
// those under an allowed prefix (fields of features the test does not
// use, such as pods or agent regions).
func (e *env) shape(exampleName string, got []byte, allowed ...string) {
	e.t.Helper()
	g := paths(e.t, got)
	var missing []string
	for p := range paths(e.t, example(e.t, exampleName)) {
		if g[p] || hasPrefix(p, allowed) {
			continue
		}
		missing = append(missing, p)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		e.t.Errorf("response lacks %s fields %v; body %s", exampleName, missing, got)
	}
}

func hasPrefix(p string, prefixes []string) bool {
	for _, a := range prefixes {
		if strings.HasPrefix(p, a) {
			return true
		}
	}
	return false
}

// sse is an open /v2/events stream.
type sse struct {
	t      *testing.T
	status int
	header http.Header
	frames chan frame
}

type frame struct{ event, data string }

// stream opens GET path with Accept: text/event-stream and headers
// ("Name: value"); it is closed at the end of the test.
func (e *env) stream(path string, headers ...string) *sse {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	s := &sse{t: e.t, status: res.StatusCode, header: res.Header, frames: make(chan frame, 1024)}
	done := make(chan struct{})
	e.t.Cleanup(func() {
		cancel()
		res.Body.Close()
		<-done
	})
	go func() {
		defer close(done)
		defer close(s.frames)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var f frame
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			switch {
			case line == "":
				if f.event != "" {
					s.frames <- f
				}
				f = frame{}
			case strings.HasPrefix(line, "event: "):
				f.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				f.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// ended waits for the stream to end, whatever events come before.
func (s *sse) ended(what string) {
	s.t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.frames:
			if !ok {
				return
			}
		case <-timer.C:
			s.t.Fatalf("%s: still open after %v", what, waitFor)
		}
	}
}

// until returns the first event for which match is true; every event
// read before it is passed to seen when not nil.
func (s *sse) until(what string, match func(f frame, data map[string]any) bool, seen func(f frame)) (frame, map[string]any) {
	s.t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatalf("%s: stream ended", what)
			}
			var data map[string]any
			if err := json.Unmarshal([]byte(f.data), &data); err != nil {
				s.t.Fatalf("%s: event %s data %q: %v", what, f.event, f.data, err)
			}
			if seen != nil {
				seen(f)
			}
			if match(f, data) {
				return f, data
			}
		case <-timer.C:
			s.t.Fatalf("%s: no such event within %v", what, waitFor)
		}
	}
}
