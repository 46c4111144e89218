package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// teamsACL gives alice /team-a, a viewer everything without secrets and
// an admin everything.
const teamsACL = `
principals:
  - principal: alice
    permissions:
      - allowed: [view, view_secrets, create, update, delete, kill]
        on: /team-a
  - principal: viewer
    permissions:
      - allowed: view
        on: /
  - principal: admin
    permissions:
      - allowed: "*"
        on: /
`

// principalHeader carries the principal in these tests: the
// authentication in front of the API puts it in the context.
const principalHeader = "X-Test-Principal"

// withPrincipal stands for the authentication: it puts the principal of
// principalHeader, if any, in the request's context.
func withPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name := r.Header.Get(principalHeader); name != "" {
			r = r.WithContext(auth.NewContext(r.Context(), auth.Principal{Name: name}))
		}
		next.ServeHTTP(w, r)
	})
}

// newACLHarness serves the API under the ACL of text, behind withPrincipal.
func newACLHarness(t *testing.T, text string) (*harness, *acl.Holder) {
	t.Helper()
	a, err := acl.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	holder := acl.NewHolder(a)
	be := newFakeBackend()
	bus := events.NewBus(events.Config{MaxOutstanding: 64})
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(withPrincipal(New(Config{
		Backend: be, Events: bus, Registry: reg, ACL: holder.Load,
		Now: func() time.Time { return be.now }, Heartbeat: 50 * time.Millisecond,
	})))
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, be: be, bus: bus, reg: reg}, holder
}

// seedTeams stores /team-a/web, /team-b/db (with a password in its env)
// and /team-ab/x, with a running task each, and a deployment of /team-b/db.
func seedTeams(t *testing.T, h *harness) {
	h.be.seed(
		mustApp(t, `{"id":"/team-a/web","cmd":"web","env":{"MODE":"prod"}}`),
		mustApp(t, `{"id":"/team-b/db","cmd":"db","env":{"DB_PASSWORD":"hunter2","TOKEN":{"secret":"s0"}},"secrets":{"s0":{"source":"consul:db/token"}}}`),
		mustApp(t, `{"id":"/team-ab/x","cmd":"x"}`),
	)
	for _, id := range []marathon.PathID{"/team-a/web", "/team-b/db", "/team-ab/x"} {
		h.be.instances[id] = []state.Instance{running(id, 1, "agent1.example")}
		h.be.queue[id] = &scheduler.QueueView{Count: 1, Since: t0}
	}
	h.be.deployments = []scheduler.DeploymentView{{Deployment: state.Deployment{
		ID: "dep-b", Version: marathon.NewTimestamp(t0),
		Steps: []state.Step{{Actions: []state.Action{{Type: marathon.ScaleApplication, AppID: "/team-b/db"}}}},
	}}}
}

const denied = `{"message":"Not Authorized to perform this action!"}`

func TestACLTeamCannotTouchOtherTeam(t *testing.T) {
	h, _ := newACLHarness(t, teamsACL)
	seedTeams(t, h)
	taskB := h.be.instances["/team-b/db"][0].TaskID
	taskA := h.be.instances["/team-a/web"][0].TaskID
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         string
	}{
		{name: "create in own team", method: "POST", path: "/v2/apps", body: `{"id":"/team-a/api","cmd":"x"}`, status: 201},
		{name: "create in other team", method: "POST", path: "/v2/apps", body: `{"id":"/team-b/api","cmd":"x"}`, status: 403, want: denied},
		{name: "create in a team whose name starts alike", method: "POST", path: "/v2/apps", body: `{"id":"/team-ab/api","cmd":"x"}`, status: 403, want: denied},
		{name: "update other team", method: "PUT", path: "/v2/apps/team-b/db", body: `{"cmd":"evil"}`, status: 403, want: denied},
		{name: "patch other team", method: "PATCH", path: "/v2/apps/team-b/db", body: `{"instances":0}`, status: 403, want: denied},
		{name: "bulk update touching other team", method: "PUT", path: "/v2/apps", body: `[{"id":"/team-a/web","cmd":"y"},{"id":"/team-b/db","cmd":"y"}]`, status: 403, want: denied},
		{name: "restart other team", method: "POST", path: "/v2/apps/team-b/db/restart", status: 403, want: denied},
		{name: "delete other team", method: "DELETE", path: "/v2/apps/team-b/db", status: 403, want: denied},
		{name: "kill other team's tasks", method: "DELETE", path: "/v2/apps/team-b/db/tasks", status: 404},
		{name: "kill other team's task", method: "DELETE", path: "/v2/apps/team-b/db/tasks/" + taskB, status: 404},
		{name: "bulk kill with other team's task", method: "POST", path: "/v2/tasks/delete", body: `{"ids":["` + taskA + `","` + taskB + `"]}`, status: 403, want: denied},
		{name: "scale other team's group", method: "PUT", path: "/v2/groups/team-b", body: `{"scaleBy":2}`, status: 403, want: denied},
		{name: "root group write reaching other team", method: "PUT", path: "/v2/groups", body: `{"scaleBy":2}`, status: 403, want: denied},
		{name: "create group in other team", method: "POST", path: "/v2/groups", body: `{"id":"/team-b/new","apps":[{"id":"x","cmd":"x"}]}`, status: 403, want: denied},
		{name: "delete other team's group", method: "DELETE", path: "/v2/groups/team-b", status: 403, want: denied},
		{name: "cancel other team's deployment", method: "DELETE", path: "/v2/deployments/dep-b", status: 404},
		{name: "reset other team's delay", method: "DELETE", path: "/v2/queue/team-b/db/delay", status: 404},
		{name: "read other team's app", method: "GET", path: "/v2/apps/team-b/db", status: 404, want: `{"message":"App '/team-b/db' does not exist"}`},
		{name: "read other team's tasks", method: "GET", path: "/v2/apps/team-b/db/tasks", status: 404},
		{name: "read other team's versions", method: "GET", path: "/v2/apps/team-b/db/versions", status: 403, want: denied},
		{name: "read other team's group", method: "GET", path: "/v2/groups/team-b", status: 403, want: denied},
		{name: "abdicate", method: "DELETE", path: "/v2/leader", status: 403, want: denied},
		{name: "scale own group", method: "PUT", path: "/v2/groups/team-a", body: `{"scaleBy":2}`, status: 200},
		{name: "kill own task", method: "DELETE", path: "/v2/apps/team-a/web/tasks/" + taskA, status: 200},
		{name: "restart own app", method: "POST", path: "/v2/apps/team-a/web/restart", status: 200},
		{name: "read own app", method: "GET", path: "/v2/apps/team-a/web", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			before := len(h.be.deploys) + len(h.be.kills) + len(h.be.cancels) + len(h.be.resets)
			r := h.do(tc.method, tc.path, tc.body, principalHeader+": alice")
			h.expect(r, tc.status, tc.want)
			after := len(h.be.deploys) + len(h.be.kills) + len(h.be.cancels) + len(h.be.resets)
			if tc.status >= 400 && after != before {
				t.Errorf("a refused request reached the scheduler")
			}
		})
	}
}

// ids collects the "id" members of a list of objects under key.
func ids(t *testing.T, body []byte, key string) []string {
	t.Helper()
	var m map[string][]struct {
		ID    string `json:"id"`
		AppID string `json:"appId"`
	}
	mustUnmarshal(t, body, &m)
	var out []string
	for _, x := range m[key] {
		out = append(out, x.ID+x.AppID)
	}
	slices.Sort(out)
	return out
}

func TestACLFiltersLists(t *testing.T) {
	h, _ := newACLHarness(t, teamsACL)
	seedTeams(t, h)
	as := func(who string) string { return principalHeader + ": " + who }

	if got := ids(t, h.do("GET", "/v2/apps", "", as("alice")).body, "apps"); !slices.Equal(got, []string{"/team-a/web"}) {
		t.Errorf("alice's /v2/apps = %v, want /team-a/web only", got)
	}
	if got := ids(t, h.do("GET", "/v2/apps", "", as("viewer")).body, "apps"); len(got) != 3 {
		t.Errorf("viewer's /v2/apps = %v, want all three apps", got)
	}
	if got := ids(t, h.do("GET", "/v2/apps/*", "", as("alice")).body, "*"); !slices.Equal(got, []string{"/team-a/web"}) {
		t.Errorf("alice's /v2/apps/* = %v, want /team-a/web only", got)
	}
	tasks := ids(t, h.do("GET", "/v2/tasks", "", as("alice")).body, "tasks")
	if len(tasks) != 1 || !strings.HasSuffix(tasks[0], "/team-a/web") {
		t.Errorf("alice's /v2/tasks = %v, want the task of /team-a/web only", tasks)
	}
	if text := string(h.do("GET", "/v2/tasks", "", as("alice"), "Accept: text/plain").body); strings.Contains(text, "team-b") || !strings.Contains(text, "team-a") {
		t.Errorf("alice's /v2/tasks as text:\n%s\nwant /team-a only", text)
	}
	h.expect(h.do("GET", "/v2/deployments", "", as("alice")), 200, `[]`)
	if r := h.do("GET", "/v2/deployments", "", as("viewer")); !strings.Contains(string(r.body), "dep-b") {
		t.Errorf("viewer's /v2/deployments = %s, want dep-b", r.body)
	}
	var q marathon.Queue
	mustUnmarshal(t, h.do("GET", "/v2/queue", "", as("alice")).body, &q)
	if len(q.Queue) != 1 || q.Queue[0].App.ID != "/team-a/web" {
		t.Errorf("alice's /v2/queue holds %d items, want /team-a/web only", len(q.Queue))
	}

	// The group tree: the root, /team-a and its app; nothing of /team-b
	// or /team-ab.
	h.expect(h.do("GET", "/v2/groups?embed=group.groups&embed=group.apps", "", as("alice")), 200, `{
		"id":"/","apps":[],"pods":[],"dependencies":[],"version":"2024-05-01T12:00:01.000Z",
		"groups":[{"id":"/team-a","enforceRole":false,"pods":[],"dependencies":[],"groups":[],"version":"2024-05-01T12:00:01.000Z",
			"apps":[`+appJSON(t, h, "/team-a/web")+`]}]}`)

	// Without a principal, an ACL allows nothing.
	h.expect(h.do("GET", "/v2/apps", ""), 403, denied)
	h.expect(h.do("GET", "/v2/info", ""), 403, denied)
	// A principal the file does not name may do nothing either.
	if got := ids(t, h.do("GET", "/v2/apps", "", as("mallory")).body, "apps"); len(got) != 0 {
		t.Errorf("an unknown principal's /v2/apps = %v, want none", got)
	}
	h.expect(h.do("POST", "/v2/apps", `{"id":"/m","cmd":"x"}`, as("mallory")), 403, denied)
	// A view-only principal writes nothing.
	h.expect(h.do("PUT", "/v2/apps/team-b/db", `{"instances":3}`, as("viewer")), 403, denied)
	h.expect(h.do("DELETE", "/v2/apps/team-b/db/tasks", "", as("viewer")), 403, denied)
	h.expect(h.do("DELETE", "/v2/deployments/dep-b", "", as("viewer")), 403, denied)
	if n := len(h.be.deploys) + len(h.be.kills) + len(h.be.cancels); n != 0 {
		t.Errorf("%d refused writes reached the scheduler", n)
	}
}

// appJSON is the definition of a stored app as /v2/groups writes it.
func appJSON(t *testing.T, h *harness, id marathon.PathID) string {
	t.Helper()
	b, err := h.be.View().App(id).App.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// envOf returns the env of the app in a body under key ("app" or the
// first of "apps").
func envOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m struct {
		App  *struct{ Env map[string]any }  `json:"app"`
		Apps []struct{ Env map[string]any } `json:"apps"`
		Env  map[string]any                 `json:"env"`
	}
	mustUnmarshal(t, body, &m)
	switch {
	case m.App != nil:
		return m.App.Env
	case len(m.Apps) > 0:
		return m.Apps[0].Env
	}
	return m.Env
}

func TestACLRedactsEnvWithoutViewSecrets(t *testing.T) {
	h, _ := newACLHarness(t, teamsACL)
	seedTeams(t, h)
	redacted := map[string]any{"DB_PASSWORD": "*****", "TOKEN": map[string]any{"secret": "s0"}}
	clear := map[string]any{"DB_PASSWORD": "hunter2", "TOKEN": map[string]any{"secret": "s0"}}
	version := h.be.View().App("/team-b/db").App.Version.String()
	tests := []struct {
		name, principal, path string
		env                   func(t *testing.T, body []byte) map[string]any
		want                  map[string]any
	}{
		{name: "app", principal: "viewer", path: "/v2/apps/team-b/db", env: envOf, want: redacted},
		{name: "app list", principal: "viewer", path: "/v2/apps?id=team-b", env: envOf, want: redacted},
		{name: "app version", principal: "viewer", path: "/v2/apps/team-b/db/versions/" + version, env: envOf, want: redacted},
		{name: "group tree", principal: "viewer", path: "/v2/groups/team-b?embed=group.apps", env: envOf, want: redacted},
		{name: "group tree with app infos", principal: "viewer", path: "/v2/groups/team-b?embed=group.apps&embed=group.apps.tasks", env: envOf, want: redacted},
		{name: "queue", principal: "viewer", path: "/v2/queue", env: queueEnv("/team-b/db"), want: redacted},
		{name: "admin sees the value", principal: "admin", path: "/v2/apps/team-b/db", env: envOf, want: clear},
		{name: "admin's list", principal: "admin", path: "/v2/apps?id=team-b", env: envOf, want: clear},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			r := h.do("GET", tc.path, "", principalHeader+": "+tc.principal)
			h.expect(r, 200, "")
			if strings.Contains(string(r.body), "hunter2") != (tc.want["DB_PASSWORD"] == "hunter2") {
				t.Errorf("body %s: password shown = %v", r.body, !(tc.want["DB_PASSWORD"] == "hunter2"))
			}
			got := tc.env(t, r.body)
			if !equalJSON(got, tc.want) {
				t.Errorf("env = %v, want %v", got, tc.want)
			}
		})
	}
	// The stored app keeps its value: redaction is on the way out.
	if v := h.be.View().App("/team-b/db").App.Env["DB_PASSWORD"].Value; v != "hunter2" {
		t.Errorf("stored env value = %q after reads, want it unchanged", v)
	}
}

func queueEnv(id marathon.PathID) func(t *testing.T, body []byte) map[string]any {
	return func(t *testing.T, body []byte) map[string]any {
		var q struct {
			Queue []struct {
				App struct {
					ID  string         `json:"id"`
					Env map[string]any `json:"env"`
				} `json:"app"`
			} `json:"queue"`
		}
		mustUnmarshal(t, body, &q)
		for _, it := range q.Queue {
			if it.App.ID == string(id) {
				return it.App.Env
			}
		}
		return nil
	}
}

func equalJSON(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		switch w := b[k].(type) {
		case map[string]any:
			m, ok := v.(map[string]any)
			if !ok || !equalJSON(m, w) {
				return false
			}
		default:
			if v != w {
				return false
			}
		}
	}
	return true
}

func TestACLFiltersEvents(t *testing.T) {
	h, _ := newACLHarness(t, teamsACL)
	seedTeams(t, h)
	_, alice := openStream(t, h.srv.URL+"/v2/events", "Accept: text/event-stream", principalHeader+": alice")
	_, viewer := openStream(t, h.srv.URL+"/v2/events", "Accept: text/event-stream", principalHeader+": viewer")
	for _, s := range []*sseReader{alice, viewer} {
		if f := s.next(5 * time.Second); f.event != "event_stream_attached" {
			t.Fatalf("first event %q, want event_stream_attached", f.event)
		}
	}
	// Each stream's first event is its own attach, published once it
	// has subscribed: both are subscribed now. The other's attach may
	// follow; drainAttached skips it.
	drainAttached := func(s *sseReader) sseFrame {
		for {
			f := s.next(5 * time.Second)
			if f.event != "event_stream_attached" {
				return f
			}
		}
	}
	now := marathon.Meta(marathon.EventStatusUpdate, t0)
	h.bus.Publish(marathon.StatusUpdateEvent{AppID: "/team-b/db", TaskStatus: marathon.TaskRunning, EventMeta: now})
	h.bus.Publish(&marathon.AppTerminatedEvent{AppID: "/team-ab/x", EventMeta: marathon.Meta(marathon.EventAppTerminated, t0)})
	h.bus.Publish(marathon.APIPostEvent{AppDefinition: h.be.View().App("/team-b/db").App, EventMeta: marathon.Meta(marathon.EventAPIPost, t0)})
	h.bus.Publish(marathon.SchedulerEvent{FrameworkID: "fw-1", EventMeta: marathon.Meta(marathon.EventSchedulerRegistered, t0)})
	h.bus.Publish(marathon.StatusUpdateEvent{AppID: "/team-a/web", TaskStatus: marathon.TaskRunning, EventMeta: now})

	// alice: nothing of /team-b or /team-ab; the event about no app and
	// hers, in order.
	if f := drainAttached(alice); f.event != "scheduler_registered_event" {
		t.Errorf("alice's first event %q %s, want scheduler_registered_event (the /team-b and /team-ab ones are not hers)", f.event, f.data)
	}
	if f := alice.next(5 * time.Second); f.event != "status_update_event" || !strings.Contains(f.data, `"/team-a/web"`) {
		t.Errorf("alice's next event %q %s, want the status update of /team-a/web", f.event, f.data)
	}
	// viewer: everything, the api_post_event with the password redacted.
	var got []string
	for range 5 {
		f := drainAttached(viewer)
		got = append(got, f.event)
		if f.event == "api_post_event" {
			if strings.Contains(f.data, "hunter2") || !strings.Contains(f.data, `"DB_PASSWORD":"*****"`) {
				t.Errorf("viewer's api_post_event shows the env value: %s", f.data)
			}
		}
	}
	want := []string{"status_update_event", "app_terminated_event", "api_post_event", "scheduler_registered_event", "status_update_event"}
	if !slices.Equal(got, want) {
		t.Errorf("viewer's events %v, want %v", got, want)
	}

	// Without a principal the stream is refused.
	h.expect(h.do("GET", "/v2/events", "", "Accept: text/event-stream"), 403, denied)
}

func TestACLReloadApplies(t *testing.T) {
	h, holder := newACLHarness(t, teamsACL)
	seedTeams(t, h)
	as := principalHeader + ": alice"
	h.expect(h.do("DELETE", "/v2/apps/team-b/db", "", as), 403, denied)

	path := t.TempDir() + "/acl.yaml"
	writeFile(t, path, "principals:\n  - principal: alice\n    permissions: [{allowed: [view, delete], on: /team-b}]\n")
	if _, err := holder.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, h.do("GET", "/v2/apps", "", as).body, "apps"); !slices.Equal(got, []string{"/team-b/db"}) {
		t.Errorf("after reload alice's /v2/apps = %v, want /team-b/db", got)
	}
	h.expect(h.do("DELETE", "/v2/apps/team-b/db", "", as), 200, "")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
