package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// TestAppLifecycle drives one app through create, read, scale, update,
// restart, task kills and delete, checking that the agents really run
// what the API says.
func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	e := start(t)

	// POST /v2/apps with legacy ports and uris: 201, Location, deployment
	// id, and the assigned service port in the body.
	r := e.do(http.MethodPost, "/v2/apps", `{"id":"/web/hello","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1,
		"ports":[0],"uris":[],"labels":{"tier":"front","owner":"e2e"}}`)
	var created app
	e.wantJSON(r, http.StatusCreated, &created)
	if loc := r.header.Get("Location"); loc != "/v2/apps/web/hello" {
		t.Errorf("Location %q", loc)
	}
	if r.header.Get("Marathon-Deployment-Id") == "" || len(created.Deployments) != 1 ||
		created.Deployments[0].ID != r.header.Get("Marathon-Deployment-Id") {
		t.Errorf("deployment id: header %q, body %s", r.header.Get("Marathon-Deployment-Id"), r.body)
	}
	if len(created.PortDefinitions) != 1 || created.PortDefinitions[0].Port < 10000 || created.PortDefinitions[0].Port > 20000 {
		t.Errorf("POST /v2/apps shows portDefinitions %+v, want a service port in 10000-20000", created.PortDefinitions)
	}
	if created.Version == "" {
		t.Errorf("no version in %s", r.body)
	}
	servicePort := created.PortDefinitions[0].Port

	// A duplicate is 409 with Marathon's message.
	var msg struct{ Message string }
	e.wantJSON(e.do(http.MethodPost, "/v2/apps", `{"id":"/web/hello","cmd":"sleep 1"}`), http.StatusConflict, &msg)
	if msg.Message != "An app with id [/web/hello] already exists." {
		t.Errorf("409 message %q", msg.Message)
	}

	first := e.running("/web/hello", 1)
	if ts := first.Tasks[0]; ts.AppID != "/web/hello" || !strings.HasPrefix(ts.ID, "web_hello.") ||
		ts.SlaveID == "" || len(ts.Ports) != 1 || !slices.Equal(ts.ServicePorts, []int{servicePort}) {
		t.Errorf("task %+v", ts)
	}

	// GET /v2/apps/{id}: counts, tasks, deployments always embedded.
	r = e.want(e.do(http.MethodGet, "/v2/apps/web/hello", ""), http.StatusOK)
	var raw map[string]map[string]any
	e.wantJSON(r, http.StatusOK, &raw)
	for _, k := range []string{"id", "cmd", "instances", "cpus", "mem", "disk", "portDefinitions", "version", "versionInfo",
		"tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments", "tasks", "upgradeStrategy", "backoffSeconds"} {
		if _, ok := raw["app"][k]; !ok {
			t.Errorf("GET /v2/apps/{id} lacks app.%s: %s", k, r.body)
		}
	}
	tasksOnly, _ := json.Marshal(map[string]any{"tasks": raw["app"]["tasks"]})
	e.shape("app_tasks.json", tasksOnly, ".tasks[].region", ".tasks[].zone")
	var nf struct{ Message string }
	e.wantJSON(e.do(http.MethodGet, "/v2/apps/web/nope", ""), http.StatusNotFound, &nf)
	if nf.Message != "App '/web/nope' does not exist" {
		t.Errorf("404 message %q", nf.Message)
	}

	// GET /v2/apps: embeds, label selectors, id and cmd filters.
	e.do(http.MethodPost, "/v2/apps", `{"id":"/other","cmd":"sleep 601","cpus":0.1,"mem":16,"instances":0,"labels":{"tier":"back"}}`)
	r = e.do(http.MethodGet, "/v2/apps?embed=apps.tasks&embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure&embed=apps.taskStats&embed=apps.readiness", "")
	var list struct{ Apps []app }
	e.wantJSON(r, http.StatusOK, &list)
	e.shape("app_list.json", r.body, ".apps[].ports", ".apps[].uris", ".apps[].executor", ".apps[].user", ".apps[].args",
		".apps[].acceptedResourceRoles", ".apps[].healthChecks", ".apps[].container", ".apps[].constraints", ".apps[].env",
		".apps[].dependencies", ".apps[].labels", ".apps[].deployments[].id")
	if len(list.Apps) != 2 || list.Apps[1].ID != "/web/hello" || len(list.Apps[1].Tasks) != 1 {
		t.Errorf("GET /v2/apps?embed=apps.tasks: %s", r.body)
	}
	for _, tc := range []struct{ query, want string }{
		{"label=tier", "/other,/web/hello"},
		{"label=tier==front", "/web/hello"},
		{"label=tier!=front", "/other"},
		{"label=tier+in+(back,middle)", "/other"},
		{"label=tier+notin+(back)", "/web/hello"},
		{"label=owner&label=tier==back", ""},
		{"id=hello", "/web/hello"},
		{"id=WEB", "/web/hello"},
		{"cmd=sleep+601", "/other"},
	} {
		var l struct{ Apps []app }
		e.wantJSON(e.do(http.MethodGet, "/v2/apps?"+tc.query, ""), http.StatusOK, &l)
		var ids []string
		for _, a := range l.Apps {
			ids = append(ids, a.ID)
		}
		if got := strings.Join(ids, ","); got != tc.want {
			t.Errorf("GET /v2/apps?%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	e.want(e.do(http.MethodGet, "/v2/apps?label=tier+in+(", ""), http.StatusUnprocessableEntity)

	// PUT scales (partialUpdate by default): 200, deployment result, and
	// the instances really start on the agents.
	e.deployed(e.do(http.MethodPut, "/v2/apps/web/hello", `{"instances":3}`), http.StatusOK)
	// Well within the master's 15 s heartbeat: the REVIVE for the new
	// instances must not wait for an event to wake the loop.
	scaled := e.runningWithin("/web/hello", 3, 5*time.Second)
	if !slices.Contains(taskIDs(scaled.Tasks), first.Tasks[0].ID) {
		t.Errorf("a scale up replaced the running task: %v", taskIDs(scaled.Tasks))
	}
	e.agentsRun(3)

	// PATCH keeps the rest; a PATCH of an unknown app is 404.
	e.deployed(e.do(http.MethodPatch, "/v2/apps/web/hello", `{"env":{"A":"1"}}`), http.StatusOK)
	patched := e.running("/web/hello", 3)
	if a := e.getApp("/web/hello"); a.Labels["tier"] != "front" || a.Instances != 3 {
		t.Errorf("PATCH lost fields: %+v", a)
	}
	if slices.ContainsFunc(taskIDs(patched.Tasks), func(id string) bool { return slices.Contains(taskIDs(scaled.Tasks), id) }) {
		t.Errorf("a config change kept old tasks: %v then %v", taskIDs(scaled.Tasks), taskIDs(patched.Tasks))
	}
	e.want(e.do(http.MethodPatch, "/v2/apps/nope", `{"instances":1}`), http.StatusNotFound)

	// PUT with partialUpdate=false replaces the definition: the labels go.
	e.deployed(e.do(http.MethodPut, "/v2/apps/web/hello?partialUpdate=false",
		`{"cmd":"sleep 600","cpus":0.1,"mem":16,"instances":2,"portDefinitions":[{"port":0}]}`), http.StatusOK)
	replaced := e.running("/web/hello", 2)
	if a := e.getApp("/web/hello"); len(a.Labels) != 0 {
		t.Errorf("partialUpdate=false kept labels %v", a.Labels)
	}
	e.agentsRun(2)

	// PUT of a new id creates: 201 with the deployment result.
	r = e.do(http.MethodPut, "/v2/apps/created-by-put", `{"cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}`)
	e.deployed(r, http.StatusCreated)
	e.running("/created-by-put", 1)

	// Versions: newest first, each readable.
	var versions struct{ Versions []string }
	e.wantJSON(e.do(http.MethodGet, "/v2/apps/web/hello/versions", ""), http.StatusOK, &versions)
	if len(versions.Versions) < 4 {
		t.Fatalf("versions %v, want at least 4", versions.Versions)
	}
	var old map[string]any
	e.wantJSON(e.do(http.MethodGet, "/v2/apps/web/hello/versions/"+versions.Versions[len(versions.Versions)-1], ""), http.StatusOK, &old)
	if old["id"] != "/web/hello" || old["instances"] != 1.0 || old["version"] != versions.Versions[len(versions.Versions)-1] {
		t.Errorf("first version: %v", old)
	}
	e.want(e.do(http.MethodGet, "/v2/apps/web/hello/versions/yesterday", ""), http.StatusBadRequest)
	e.want(e.do(http.MethodGet, "/v2/apps/web/hello/versions/2001-01-01T00:00:00.000Z", ""), http.StatusNotFound)
	e.want(e.do(http.MethodGet, "/v2/apps/nope/versions", ""), http.StatusNotFound)

	// PUT {"version": v} rolls back to version v (the firstVersion: 1 instance);
	// an unknown version is 404.
	e.want(e.do(http.MethodPut, "/v2/apps/web/hello", `{"version": "2001-01-01T00:00:00.000Z"}`), http.StatusNotFound)
	firstVersion := versions.Versions[len(versions.Versions)-1]
	e.deployed(e.do(http.MethodPut, "/v2/apps/web/hello", `{"version": "`+firstVersion+`", "instances": 7}`), http.StatusOK)
	reverted := e.running("/web/hello", 1)
	if reverted.Version == firstVersion {
		t.Errorf("the rollback kept the old version %s, want a new one", firstVersion)
	}
	e.deployed(e.do(http.MethodPut, "/v2/apps/web/hello", `{"instances": 2}`), http.StatusOK)
	replaced = e.running("/web/hello", 2)

	// Restart replaces every task.
	e.deployed(e.do(http.MethodPost, "/v2/apps/web/hello/restart", ""), http.StatusOK)
	var restarted app
	e.eventually("restart replaced every task", func() error {
		restarted = e.running("/web/hello", 2)
		for _, id := range taskIDs(restarted.Tasks) {
			if slices.Contains(taskIDs(replaced.Tasks), id) {
				return fmt.Errorf("task %s survived the restart", id)
			}
		}
		return nil
	})
	e.want(e.do(http.MethodPost, "/v2/apps/nope/restart", ""), http.StatusNotFound)

	// GET /v2/apps/{id}/tasks: JSON and text/plain.
	r = e.do(http.MethodGet, "/v2/apps/web/hello/tasks", "")
	var tl struct{ Tasks []task }
	e.wantJSON(r, http.StatusOK, &tl)
	e.shape("app_tasks.json", r.body, ".tasks[].region", ".tasks[].zone")
	if len(tl.Tasks) != 2 {
		t.Errorf("GET tasks: %s", r.body)
	}
	r = e.want(e.do(http.MethodGet, "/v2/apps/web/hello/tasks", "", "Accept: text/plain"), http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("text tasks Content-Type %q", ct)
	}
	if line := strings.TrimSpace(string(r.body)); !strings.HasPrefix(line, fmt.Sprintf("web_hello\t%d\t", servicePort)) ||
		strings.Count(line, "\t") != 3 {
		t.Errorf("text/plain tasks %q", r.body)
	}

	// Killing one task without scale relaunches its instance as a new task.
	victim := restarted.Tasks[0]
	r = e.do(http.MethodDelete, "/v2/apps/web/hello/tasks/"+victim.ID, "")
	var killedOne struct{ Task task }
	e.wantJSON(r, http.StatusOK, &killedOne)
	e.shape("app_task.json", r.body, ".task.region", ".task.zone", ".task.startedAt", ".task.stagedAt", ".task.version", ".task.ports")
	if killedOne.Task.ID != victim.ID {
		t.Errorf("killed %s, want %s", killedOne.Task.ID, victim.ID)
	}
	e.eventually("the killed task is replaced", func() error {
		a := e.running("/web/hello", 2)
		if slices.Contains(taskIDs(a.Tasks), victim.ID) {
			return fmt.Errorf("task %s still listed", victim.ID)
		}
		if !slices.Contains(taskIDs(a.Tasks), restarted.Tasks[1].ID) {
			return fmt.Errorf("the other task %s was touched", restarted.Tasks[1].ID)
		}
		return nil
	})
	e.want(e.do(http.MethodDelete, "/v2/apps/web/hello/tasks/web_hello.instance-00000000-0000-0000-0000-000000000000._app.1", ""), http.StatusNotFound)
	e.want(e.do(http.MethodDelete, "/v2/apps/web/hello/tasks?scale=true&wipe=true", ""), http.StatusBadRequest)

	// Scale up again, then DELETE tasks on the host with scale=true.
	e.deployed(e.do(http.MethodPut, "/v2/apps/web/hello", `{"instances":3}`), http.StatusOK)
	three := e.running("/web/hello", 3)
	one := three.Tasks[0]
	e.deployed(e.do(http.MethodDelete, "/v2/apps/web/hello/tasks/"+one.ID+"?scale=true", ""), http.StatusOK)
	two := e.running("/web/hello", 2)
	if a := e.getApp("/web/hello"); a.Instances != 2 || slices.Contains(taskIDs(two.Tasks), one.ID) {
		t.Errorf("after a scaling kill: instances %d, tasks %v", a.Instances, taskIDs(two.Tasks))
	}

	// wipe=true: the instance is forgotten and replaced by a new one.
	wiped := two.Tasks[0]
	r = e.do(http.MethodDelete, "/v2/apps/web/hello/tasks?host="+wiped.Host+"&wipe=true", "")
	var killedTasks struct{ Tasks []task }
	e.wantJSON(r, http.StatusOK, &killedTasks)
	if len(killedTasks.Tasks) != 2 {
		t.Errorf("DELETE tasks?host=%s&wipe=true killed %s", wiped.Host, r.body)
	}
	e.eventually("wiped instances are replaced", func() error {
		a := e.running("/web/hello", 2)
		for _, id := range taskIDs(two.Tasks) {
			if slices.Contains(taskIDs(a.Tasks), id) {
				return fmt.Errorf("task %s still listed", id)
			}
		}
		return nil
	})
	var noTasks struct{ Tasks []task }
	e.wantJSON(e.do(http.MethodDelete, "/v2/apps/web/hello/tasks?host=no.such.host", ""), http.StatusOK, &noTasks)
	if len(noTasks.Tasks) != 0 {
		t.Errorf("DELETE tasks on an unknown host killed %v", noTasks.Tasks)
	}
	e.deployed(e.do(http.MethodDelete, "/v2/apps/web/hello/tasks?scale=true", ""), http.StatusOK)
	e.running("/web/hello", 0)
	if a := e.getApp("/web/hello"); a.Instances != 0 {
		t.Errorf("DELETE tasks?scale=true left instances %d", a.Instances)
	}
	e.want(e.do(http.MethodDelete, "/v2/apps/nope/tasks", ""), http.StatusNotFound)

	// DELETE the apps: no task remains.
	e.deployed(e.do(http.MethodDelete, "/v2/apps/web/hello", ""), http.StatusOK)
	e.deployed(e.do(http.MethodDelete, "/v2/apps/created-by-put", ""), http.StatusOK)
	e.deployed(e.do(http.MethodDelete, "/v2/apps/other", ""), http.StatusOK)
	e.want(e.do(http.MethodDelete, "/v2/apps/web/hello", ""), http.StatusNotFound)
	e.eventually("no tasks after DELETE", func() error {
		var all struct{ Tasks []task }
		e.wantJSON(e.do(http.MethodGet, "/v2/tasks", ""), http.StatusOK, &all)
		var deps []any
		e.wantJSON(e.do(http.MethodGet, "/v2/deployments", ""), http.StatusOK, &deps)
		if len(all.Tasks) != 0 || len(deps) != 0 {
			return fmt.Errorf("%d tasks, %d deployments", len(all.Tasks), len(deps))
		}
		return nil
	})
	e.want(e.do(http.MethodGet, "/v2/apps/web/hello", ""), http.StatusNotFound)
	e.agentsRun(0)
}

// agentsRun waits until the built-in agents run n tasks in all.
func (e *env) agentsRun(n int) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("the agents run %d tasks", n), func() error {
		got := 0
		for _, a := range e.srv.Cluster().Agents {
			for _, ts := range a.State().Tasks {
				if ts.State == mesos.TaskRunning {
					got++
				}
			}
		}
		if got != n {
			return fmt.Errorf("%d tasks running on the agents", got)
		}
		return nil
	})
}
