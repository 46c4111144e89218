package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
)

func TestInfoLeaderPingMetrics(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/v2/info", "")
	h.expect(r, 200, "")
	if m := missingPaths(t, readExample(t, "info.json"), r.body, ".marathon_config.", ".zookeeper_config."); len(m) > 0 {
		t.Errorf("missing %v", m)
	}
	h.expect(h.do("GET", "/v2/leader", ""), 200, `{"leader":"leader.example:8080"}`)
	r = h.do("GET", "/ping", "")
	if r.status != 200 || string(r.body) != "pong" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("ping %d %q %v", r.status, r.body, r.header)
	}
	r = h.do("GET", "/metrics/prometheus", "")
	if r.status != 200 || !strings.Contains(string(r.body), `stadion_http_requests_total{code="200",method="GET",route="/ping"} 1`) {
		t.Errorf("metrics %d %s", r.status, r.body)
	}
	h.expect(h.do("POST", "/v2/info", ""), 405, "")
}

func TestNoLeader(t *testing.T) {
	be := newFakeBackend()
	srv := httptest.NewServer(New(Config{Backend: be, Leader: func() (string, bool) { return "", false }}))
	defer srv.Close()
	h := &harness{t: t, srv: srv, be: be}
	h.expect(h.do("GET", "/v2/leader", ""), 404, `{"message":"There is no leader"}`)
	if err := (Config{}).Validate(); err == nil {
		t.Error("Config without Backend is valid")
	}
	// A second handler on the same registry reuses the metrics.
	reg := prometheus.NewRegistry()
	New(Config{Backend: be, Registry: reg})
	New(Config{Backend: be, Registry: reg})
}

func TestEventStream(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/v2/events", ""), 405, "")
	h.expect(h.do("GET", "/v2/events", "", "Accept: application/json"), 405, "")

	res, all := openStream(t, h.srv.URL+"/v2/events", "Accept: text/event-stream")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream %d %v", res.StatusCode, res.Header)
	}
	if f := all.next(2 * time.Second); f.event != "event_stream_attached" || !strings.Contains(f.data, `"remoteAddress":"127.0.0.1"`) {
		t.Fatalf("first event %+v", f)
	}
	_, filtered := openStream(t, h.srv.URL+"/v2/events?event_type=deployment_info&event_type=status_update_event&plan-format=light",
		"Accept: text/event-stream")
	// The filtered stream is attached once its subscriber is counted.
	waitFor(t, func() bool { return h.bus.Subscribers() == 2 })
	if f := all.next(2 * time.Second); f.event != "event_stream_attached" {
		t.Fatalf("second attach %+v", f)
	}

	plan := marathon.DeploymentPlan{ID: "d1", Original: &marathon.Group{ID: "/"}, Target: &marathon.Group{ID: "/"},
		Steps: []marathon.Step{{Actions: []marathon.Action{{Action: marathon.StartApplication, App: "/a"}}}}}
	h.bus.Publish(marathon.AppTerminatedEvent{AppID: "/gone", EventMeta: marathon.Meta(marathon.EventAppTerminated, h.be.now)})
	h.bus.Publish(marathon.DeploymentInfoEvent{Plan: plan, CurrentStep: plan.Steps[0], EventMeta: marathon.Meta(marathon.EventDeploymentInfo, h.be.now)})

	if f := all.next(2 * time.Second); f.event != "app_terminated_event" {
		t.Errorf("all: %+v", f)
	}
	if f := all.next(2 * time.Second); f.event != "deployment_info" || !strings.Contains(f.data, `"original"`) {
		t.Errorf("all: full plan expected, got %+v", f)
	}
	f := filtered.next(2 * time.Second)
	if f.event != "deployment_info" || strings.Contains(f.data, `"original"`) || strings.Contains(f.data, `"target"`) || !strings.Contains(f.data, `"steps"`) {
		t.Errorf("filtered light: %+v", f)
	}
	if !filtered.sawKeepAlive(2 * time.Second) {
		t.Error("no keep-alive")
	}

	// api_post_event reaches the stream.
	h.expect(h.do("POST", "/v2/apps", `{"id":"/e","cmd":"x"}`), 201, "")
	if f := all.next(2 * time.Second); f.event != "api_post_event" {
		t.Errorf("after POST: %+v", f)
	}
	// The stream ends with the client; its subscription goes.
	res.Body.Close()
	waitFor(t, func() bool { return h.bus.Subscribers() == 1 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStoreFailureReported: /ping answers 503 while the store cannot
// write, and /metrics/prometheus says so; both recover with the store.
func TestStoreFailureReported(t *testing.T) {
	h := newHarness(t)
	ping := func(status int, want string) {
		t.Helper()
		r := h.do("GET", "/ping", "")
		if r.status != status || string(r.body) != want {
			t.Errorf("GET /ping: %d %q, want %d %q", r.status, r.body, status, want)
		}
	}
	ping(200, "pong")
	h.be.mu.Lock()
	h.be.store = scheduler.StoreHealth{Failing: true, Error: "write state: no space left on device", Since: h.be.now, Failures: 3}
	h.be.mu.Unlock()
	ping(503, "store cannot write: write state: no space left on device\n")
	r := h.do("GET", "/metrics/prometheus", "")
	for _, want := range []string{"stadion_store_writable 0", "stadion_store_write_failures_total 3"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	h.be.mu.Lock()
	h.be.store = scheduler.StoreHealth{Failures: 3}
	h.be.mu.Unlock()
	ping(200, "pong")
	if r := h.do("GET", "/metrics/prometheus", ""); !strings.Contains(string(r.body), "stadion_store_writable 1") {
		t.Errorf("/metrics/prometheus does not show the store writable again")
	}
}

// TestUnknownTaskListed: a task Mesos answered TASK_UNKNOWN for is listed
// with its last state and unknownSince, and still counts as running.
func TestUnknownTaskListed(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	h.be.mu.Lock()
	insts := h.be.instances["/prod/web"]
	insts[0].UnknownSince = t0
	h.be.mu.Unlock()
	r := h.do("GET", "/v2/apps/prod/web?embed=app.tasks", "")
	h.expect(r, 200, "")
	var body struct {
		App struct {
			TasksRunning int `json:"tasksRunning"`
			Tasks        []struct {
				ID           string `json:"id"`
				State        string `json:"state"`
				UnknownSince string `json:"unknownSince"`
			} `json:"tasks"`
		} `json:"app"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.App.TasksRunning != 2 {
		t.Errorf("tasksRunning %d, want 2 (the unknown task counts)", body.App.TasksRunning)
	}
	marked := 0
	for _, task := range body.App.Tasks {
		if task.UnknownSince != "" {
			marked++
			if task.ID != insts[0].TaskID || task.State != "TASK_RUNNING" || task.UnknownSince != marathon.NewTimestamp(t0).String() {
				t.Errorf("unknown task %+v, want %s TASK_RUNNING since %s", task, insts[0].TaskID, marathon.NewTimestamp(t0))
			}
		}
	}
	if marked != 1 {
		t.Errorf("%d tasks marked unknown, want 1", marked)
	}
}

// TestPluginsAndPods: /v2/plugins lists no plugins as Marathon without
// any; /v2/pods answers Marathon's JSON 404 for every method when the
// Backend runs no pods (no PodBackend).
func TestPluginsAndPods(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/v2/plugins", ""), 200, `{"plugins":[]}`)
	h.expect(h.do("GET", "/v2/plugins/auth/login", ""), 404, `{"message":"No plugin with this pluginId: auth"}`)
	tests := []struct {
		name   string
		method string
		path   string
		want   string
	}{
		{name: "list", method: "GET", path: "/v2/pods", want: `{"message":"Pods are not supported"}`},
		{name: "create", method: "POST", path: "/v2/pods", want: `{"message":"Pods are not supported"}`},
		{name: "get", method: "GET", path: "/v2/pods/prod/db", want: `{"message":"Pod '/prod/db' does not exist"}`},
		{name: "status", method: "GET", path: "/v2/pods/prod/db::status", want: `{"message":"Pod '/prod/db' does not exist"}`},
		{name: "delete", method: "DELETE", path: "/v2/pods/db", want: `{"message":"Pod '/db' does not exist"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, "")
			h.expect(r, 404, tc.want)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
		})
	}
	if r := h.do("HEAD", "/v2/pods", ""); r.status != 404 {
		t.Errorf("HEAD /v2/pods %d, want 404 (no pod support)", r.status)
	}
}

// TestPingNegotiation: /ping answers as Marathon's SystemResource, by
// the client's Accept header.
func TestPingNegotiation(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name, accept string
		status       int
		ctype, body  string
	}{
		{name: "no accept", status: 200, ctype: "text/plain", body: "pong"},
		{name: "any", accept: "*/*", status: 200, ctype: "text/plain", body: "pong"},
		{name: "text wildcard", accept: "text/*", status: 200, ctype: "text/plain", body: "pong"},
		{name: "json", accept: "application/json", status: 200, ctype: "application/json", body: `"pong"`},
		{name: "json preferred", accept: "text/plain;q=0.5, application/json", status: 200, ctype: "application/json", body: `"pong"`},
		{name: "html", accept: "text/html", status: 200, ctype: "text/html", body: "pong"},
		{name: "browser", accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", status: 200, ctype: "text/html", body: "pong"},
		{name: "none acceptable", accept: "application/xml", status: 204},
		{name: "refused", accept: "text/plain;q=0, application/json;q=0", status: 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.accept != "" {
				headers = append(headers, "Accept: "+tc.accept)
			}
			r := h.do("GET", "/ping", "", headers...)
			if r.status != tc.status || strings.TrimSuffix(string(r.body), "\n") != tc.body {
				t.Fatalf("GET /ping (Accept %q): %d %q, want %d %q", tc.accept, r.status, r.body, tc.status, tc.body)
			}
			if ct := r.header.Get("Content-Type"); tc.ctype != "" && !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tc.ctype)
			}
		})
	}
}
