package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

func seedWeb(h *harness) {
	h.t.Helper()
	web := mustApp(h.t, `{"id":"/prod/web","cmd":"python -m http.server $PORT0","instances":2,
		"labels":{"HAPROXY_GROUP":"external","consul":"","tier":"front"},
		"portDefinitions":[{"port":10001,"name":"http"}],
		"healthChecks":[{"protocol":"HTTP","path":"/"}]}`)
	db := mustApp(h.t, `{"id":"/prod/db","cmd":"postgres","labels":{"tier":"back"}}`)
	tool := mustApp(h.t, `{"id":"/tools/cron","cmd":"crond -f","labels":{"tier":"ops"}}`)
	h.be.seed(web, db, tool)
	a, b := running("/prod/web", 1, "h1", 31001), running("/prod/web", 2, "h2", 31002)
	a.Healthy, b.Healthy = boolp(true), boolp(false)
	staged := running("/prod/web", 3, "h3", 31003)
	staged.State, staged.StartedAt = "", time.Time{}
	scheduled := state.Instance{ID: "prod_web.instance-00000009", AppID: "/prod/web", Goal: state.GoalRunning}
	h.be.instances["/prod/web"] = []state.Instance{a, b, staged, scheduled}
	h.be.failures["/prod/web"] = &marathon.TaskFailure{AppID: "/prod/web", Host: "h9", Message: "boom", State: marathon.TaskFailed,
		TaskID: "prod_web.instance-x._app.1", Timestamp: marathon.NewTimestamp(t0), Version: marathon.NewTimestamp(t0), SlaveID: "agent-9"}
}

func appIDs(t *testing.T, r resp) []string {
	t.Helper()
	var body struct {
		Apps []struct {
			ID string `json:"id"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, a := range body.Apps {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestListAppsFilters(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{name: "all", query: "", want: "/prod/db /prod/web /tools/cron"},
		{name: "id substring", query: "?id=PROD", want: "/prod/db /prod/web"},
		{name: "cmd substring", query: "?cmd=postgres", want: "/prod/db"},
		{name: "label exists", query: "?label=consul", want: "/prod/web"},
		{name: "label equal", query: "?label=tier==back", want: "/prod/db"},
		{name: "label not equal", query: "?label=tier!=back", want: "/prod/web /tools/cron"},
		{name: "label in", query: "?label=tier%20in%20(front,%20ops)", want: "/prod/web /tools/cron"},
		{name: "label notin", query: "?label=tier%20notin%20(front)", want: "/prod/db /tools/cron"},
		{name: "conjunction", query: "?label=tier!=ops,HAPROXY_GROUP==external", want: "/prod/web"},
		{name: "nothing", query: "?label=missing", want: ""},
		{name: "not equal needs the label", query: "?label=HAPROXY_GROUP!=internal", want: "/prod/web"},
		{name: "notin needs the label", query: "?label=HAPROXY_GROUP%20notin%20(internal)", want: "/prod/web"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("GET", "/v2/apps"+tc.query, "")
			h.expect(r, 200, "")
			if got := strings.Join(appIDs(t, r), " "); got != tc.want {
				t.Errorf("apps %q, want %q", got, tc.want)
			}
		})
	}
	h.expect(h.do("GET", "/v2/apps?label=a%20in%20(b", ""), 422, "")
	r := h.do("GET", "/v2/apps?label=a%20b", "")
	h.expect(r, 422, "")
	if !strings.Contains(string(r.body), `"message":"Can not parse label selector a b. Reason: `) {
		t.Errorf("bad selector body %s", r.body)
	}
}

func TestListAppsEmbed(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	tests := []struct {
		name    string
		query   string
		present []string
		absent  []string
	}{
		{name: "default", query: "", present: []string{"tasksRunning", "tasksStaged", "tasksHealthy", "tasksUnhealthy", "deployments"},
			absent: []string{"tasks", "lastTaskFailure", "tasksStats", "readinessCheckResults"}},
		{name: "apps.tasks", query: "?embed=apps.tasks", present: []string{"tasks", "deployments"}},
		{name: "app. prefix", query: "?embed=app.tasks", present: []string{"tasks"}},
		{name: "group.apps. prefix", query: "?embed=group.apps.tasks", present: []string{"tasks"}},
		{name: "no prefix", query: "?embed=tasks", present: []string{"tasks"}},
		{name: "traefik set", query: "?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness",
			present: []string{"tasks", "deployments", "readinessCheckResults"}},
		{name: "failures", query: "?embed=apps.failures", present: []string{"lastTaskFailure", "tasks", "deployments"}},
		{name: "lastTaskFailure and stats", query: "?embed=apps.lastTaskFailure&embed=apps.taskStats",
			present: []string{"lastTaskFailure", "tasksStats"}, absent: []string{"tasks"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("GET", "/v2/apps"+tc.query+"&id=web", "")
			if !strings.Contains(tc.query, "?") {
				r = h.do("GET", "/v2/apps?id=web", "")
			}
			h.expect(r, 200, "")
			var body struct{ Apps []map[string]json.RawMessage }
			if err := json.Unmarshal(r.body, &body); err != nil || len(body.Apps) != 1 {
				t.Fatalf("body %s: %v", r.body, err)
			}
			for _, k := range tc.present {
				if _, ok := body.Apps[0][k]; !ok {
					t.Errorf("%s missing", k)
				}
			}
			for _, k := range tc.absent {
				if _, ok := body.Apps[0][k]; ok {
					t.Errorf("%s present", k)
				}
			}
		})
	}
}

// TestTaskStatsWithoutTasks: Marathon writes tasksStats as an empty
// object for an app without tasks.
func TestTaskStatsWithoutTasks(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("GET", "/v2/apps/prod/db?embed=app.taskStats", "")
	h.expect(r, 200, "")
	var body struct {
		App map[string]json.RawMessage `json:"app"`
	}
	mustUnmarshal(t, r.body, &body)
	if got := string(body.App["tasksStats"]); got != "{}" {
		t.Errorf("tasksStats %q, want {}", got)
	}
}

func TestAppCounts(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("GET", "/v2/apps/prod/web?embed=app.taskStats", "")
	h.expect(r, 200, "")
	var info struct {
		App marathon.AppInfo `json:"app"`
	}
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatal(err)
	}
	a := info.App
	if a.TasksRunning != 2 || a.TasksStaged != 1 || a.TasksHealthy != 1 || a.TasksUnhealthy != 1 {
		t.Errorf("counts running %d staged %d healthy %d unhealthy %d, want 2 1 1 1", a.TasksRunning, a.TasksStaged, a.TasksHealthy, a.TasksUnhealthy)
	}
	if len(a.Tasks) != 3 {
		t.Errorf("%d tasks, want 3 (the scheduled instance is no task)", len(a.Tasks))
	}
	if a.LastTaskFailure == nil || a.LastTaskFailure.Message != "boom" {
		t.Errorf("lastTaskFailure %+v", a.LastTaskFailure)
	}
	if a.TasksStats == nil || a.TasksStats.TotalSummary == nil || a.TasksStats.TotalSummary.Stats.Counts.Running != 2 {
		t.Errorf("tasksStats %+v", a.TasksStats)
	}
	for _, task := range a.Tasks {
		if task.ID == "prod_web.instance-00000001._app.1" {
			if len(task.HealthCheckResults) != 1 || !task.HealthCheckResults[0].Alive || task.HealthCheckResults[0].InstanceID != "prod_web.instance-00000001" {
				t.Errorf("health %+v", task.HealthCheckResults)
			}
			if len(task.ServicePorts) != 1 || task.ServicePorts[0] != 10001 || task.SlaveID != "agent-1" || task.StartedAt.IsZero() {
				t.Errorf("task %+v", task)
			}
		}
		if task.ID == "prod_web.instance-00000003._app.1" && (task.State != marathon.TaskStaging || !task.StartedAt.IsZero()) {
			t.Errorf("staged task %+v", task)
		}
	}
}

func TestGetApp(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("GET", "/v2/apps/prod/web", "")
	h.expect(r, 200, "")
	var body map[string]map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "tasks", "lastTaskFailure", "deployments", "tasksRunning", "portDefinitions", "ports"} {
		if _, ok := body["app"][k]; !ok {
			t.Errorf("app.%s missing", k)
		}
	}
	// The task shapes match Marathon's example (region and zone are not
	// known to Stadion).
	got, _ := json.Marshal(map[string]json.RawMessage{"tasks": body["app"]["tasks"]})
	if m := missingPaths(t, readExample(t, "app_tasks.json"), got, ".tasks[].region", ".tasks[].zone"); len(m) > 0 {
		t.Errorf("task fields missing: %v", m)
	}

	h.expect(h.do("GET", "/v2/apps/nope", ""), 404, `{"message":"App '/nope' does not exist"}`)
	h.expect(h.do("GET", "/v2/apps//prod//web/", ""), 200, "")

	r = h.do("GET", "/v2/apps/prod/*", "")
	h.expect(r, 200, "")
	var group map[string][]map[string]any
	if err := json.Unmarshal(r.body, &group); err != nil || len(group["*"]) != 2 {
		t.Errorf("group apps %s: %v", r.body, err)
	}
}

func TestCreateApp(t *testing.T) {
	h := newHarness(t)
	sub := h.bus.Subscribe([]string{"api_post_event"})
	defer sub.Close()
	r := h.do("POST", "/v2/apps", `{"id":"web","cmd":"sleep 100","instances":2,"labels":{"a":"<b>&"}}`)
	h.expect(r, 201, "")
	if got := r.header.Get("Location"); got != "/v2/apps/web" {
		t.Errorf("Location %q", got)
	}
	dep := h.be.lastDeploy().result
	if got := r.header.Get(marathon.DeploymentHeader); got == "" || got != dep.DeploymentID {
		t.Errorf("Marathon-Deployment-Id %q, want %q", got, dep.DeploymentID)
	}
	if strings.Contains(string(r.body), `\u003c`) {
		t.Errorf("HTML escaped: %s", r.body)
	}
	var info marathon.AppInfo
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatal(err)
	}
	if info.ID != "/web" || info.Version != dep.Version || len(info.Deployments) != 1 || info.Deployments[0].ID != dep.DeploymentID ||
		info.Tasks == nil || info.Instances != 2 {
		t.Errorf("created app %+v", info)
	}
	select {
	case m := <-sub.C():
		if !strings.Contains(string(m.Full), `"appDefinition":{"id":"/web"`) || !strings.Contains(string(m.Full), `"uri":"/v2/apps"`) {
			t.Errorf("api_post_event %s", m.Full)
		}
	default:
		t.Error("no api_post_event")
	}

	h.expect(h.do("POST", "/v2/apps", `{"id":"/web","cmd":"x"}`), 409, `{"message":"An app with id [/web] already exists."}`)
	h.expect(h.do("POST", "/v2/apps", `{"id":"/web/sub","cmd":"x"}`), 422, "")
	h.expect(h.do("POST", "/v2/apps", `{"id":"/bad","cmd":"x","cpus":-1}`), 422,
		`{"message":"Object is not valid","details":[{"path":"/cpus","errors":["is less than 0.001"]}]}`)
	r = h.do("POST", "/v2/apps", `{"id":"/bad","cmd":`)
	h.expect(r, 400, "")
	if !strings.Contains(string(r.body), `"message":"Invalid JSON"`) {
		t.Errorf("malformed body answer %s", r.body)
	}
	h.expect(h.do("POST", "/v2/apps", `{"id":5,"cmd":"x"}`), 422,
		`{"message":"Invalid JSON","details":[{"path":"/id","errors":["error.expected.jsstring"]}]}`)
	h.expect(h.do("POST", "/v2/apps", `{"id":"/x/restart","cmd":"x"}`), 422, "")
	h.expect(h.do("POST", "/v2/apps", ``), 400, "")
}
