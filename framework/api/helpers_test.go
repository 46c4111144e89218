package api

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/marathon/marathontest"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

type harness struct {
	t   *testing.T
	srv *httptest.Server
	be  *fakeBackend
	bus *events.Bus
	reg *prometheus.Registry
}

// newHarness serves the API on a fake backend; edit, when given, changes
// the configuration first.
func newHarness(t *testing.T, edit ...func(*Config)) *harness {
	t.Helper()
	be := newFakeBackend()
	bus := events.NewBus(events.Config{MaxOutstanding: 64})
	reg := prometheus.NewRegistry()
	cfg := Config{
		Backend:   be,
		Events:    bus,
		Registry:  reg,
		Now:       func() time.Time { return be.now },
		Heartbeat: 50 * time.Millisecond,
		Info: func() marathon.Info {
			return marathon.Info{Name: "marathon", Version: "1.10.0", Elected: true, Leader: "leader.example:8080",
				FrameworkID: "fw-1", MarathonConfig: map[string]any{"master": "local"}, ZookeeperConfig: map[string]any{}}
		},
	}
	for _, e := range edit {
		e(&cfg)
	}
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, be: be, bus: bus, reg: reg}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; headers are "Name: value" strings.
func (h *harness) do(method, path, body string, headers ...string) resp {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, hv := range headers {
		k, v, _ := strings.Cut(hv, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// expect checks the status and, when want is not "", the JSON body.
func (h *harness) expect(r resp, status int, want string) {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal(r.body, &got); err != nil {
		h.t.Fatalf("body %q: %v", r.body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		h.t.Fatalf("want %q: %v", want, err)
	}
	if d := cmp.Diff(exp, got); d != "" {
		h.t.Errorf("body (-want +got):\n%s", d)
	}
}

// mustApp admits a JSON app definition.
func mustApp(t *testing.T, body string) marathon.App {
	t.Helper()
	a, err := marathon.ParseApp([]byte(body), marathon.NormalizeOptions{})
	if err != nil {
		t.Fatalf("ParseApp(%s): %v", body, err)
	}
	return a
}

var t0 = time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)

// running returns a running instance of app with host ports.
func running(app marathon.PathID, n int, host string, ports ...uint32) state.Instance {
	id := app.TaskPrefix() + ".instance-0000000" + string(rune('0'+n))
	return state.Instance{
		ID: id, AppID: app, AppVersion: marathon.NewTimestamp(t0), Goal: state.GoalRunning, Incarnation: 1,
		TaskID: id + "._app.1", State: mesos.TaskRunning, AgentID: "agent-1", Hostname: host,
		HostPorts: ports, IPAddresses: []string{"10.0.0.5"},
		LaunchedAt: t0, StagedAt: t0.Add(time.Second), StartedAt: t0.Add(2 * time.Second),
	}
}

func boolp(b bool) *bool { return &b }

// readExample reads one of Marathon's example payloads.
func readExample(t *testing.T, name string) []byte { return marathontest.Example(t, name) }

// paths lists the key paths of a JSON document ("tasks[].id").
func paths(t *testing.T, data []byte) map[string]bool { return marathontest.Paths(t, data) }

// missingPaths returns the example's key paths absent from got, except
// those under an allowed prefix.
func missingPaths(t *testing.T, example, got []byte, allowed ...string) []string {
	t.Helper()
	g := paths(t, got)
	var missing []string
next:
	for p := range paths(t, example) {
		if g[p] {
			continue
		}
		for _, a := range allowed {
			if strings.HasPrefix(p, a) {
				continue next
			}
		}
		missing = append(missing, p)
	}
	sort.Strings(missing)
	return missing
}

// sseReader reads SSE frames from a stream with a deadline.
type sseReader struct {
	t      *testing.T
	frames chan sseFrame
}

type sseFrame struct {
	event, data string
	comment     bool
}

func openStream(t *testing.T, url string, headers ...string) (*http.Response, *sseReader) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, hv := range headers {
		k, v, _ := strings.Cut(hv, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	r := &sseReader{t: t, frames: make(chan sseFrame, 100)}
	go func() {
		defer close(r.frames)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var f sseFrame
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			switch {
			case line == "":
				if f.event != "" || f.data != "" {
					r.frames <- f
				} else {
					r.frames <- sseFrame{comment: true}
				}
				f = sseFrame{}
			case strings.HasPrefix(line, "event: "):
				f.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				f.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return res, r
}

// next returns the next event, skipping keep-alives, or fails after d.
func (r *sseReader) next(d time.Duration) sseFrame {
	r.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-r.frames:
			if !ok {
				r.t.Fatal("stream ended")
			}
			if f.comment {
				continue
			}
			return f
		case <-timer.C:
			r.t.Fatal("no event before the deadline")
		}
	}
}

// sawKeepAlive waits for a keep-alive.
func (r *sseReader) sawKeepAlive(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-r.frames:
			if !ok {
				return false
			}
			if f.comment {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
