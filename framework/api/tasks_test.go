package api

import (
	"encoding/json"
	"testing"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
)

func TestTasksList(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("GET", "/v2/tasks", "")
	h.expect(r, 200, "")
	if m := missingPaths(t, readExample(t, "tasks.json"), r.body, ".tasks[].region", ".tasks[].zone"); len(m) > 0 {
		t.Errorf("task fields missing: %v", m)
	}
	count := func(r resp) int {
		var l marathon.TaskList
		if err := json.Unmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
		return len(l.Tasks)
	}
	if n := count(r); n != 3 {
		t.Errorf("%d tasks, want 3", n)
	}
	if n := count(h.do("GET", "/v2/tasks?status=running", "")); n != 2 {
		t.Errorf("running: %d, want 2", n)
	}
	if n := count(h.do("GET", "/v2/tasks?status[]=staging&status[]=running", "")); n != 3 {
		t.Errorf("staging+running: %d, want 3", n)
	}
	// Marathon knows running and staging only and ignores the rest.
	if n := count(h.do("GET", "/v2/tasks?status=RUNNING&status=killed", "")); n != 2 {
		t.Errorf("running and an unknown status: %d, want 2", n)
	}
	if n := count(h.do("GET", "/v2/tasks?status=bogus", "")); n != 3 {
		t.Errorf("unknown status only: %d, want every task (3)", n)
	}

	r = h.do("GET", "/v2/tasks", "", "Accept: text/plain")
	h.expect(r, 200, "")
	want := "prod_db\t0\t\nprod_web\t10001\th1:31001\th2:31002\t\ntools_cron\t0\t\n"
	if string(r.body) != want || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("text/plain %q (%s), want %q", r.body, r.header.Get("Content-Type"), want)
	}
	if r := h.do("GET", "/v2/tasks", "", "Accept: application/json, text/plain;q=0.5"); r.body[0] != '{' {
		t.Errorf("JSON preferred, got %q", r.body)
	}
}

func TestAppTasks(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("GET", "/v2/apps/prod/web/tasks", "")
	h.expect(r, 200, "")
	if m := missingPaths(t, readExample(t, "app_tasks.json"), r.body, ".tasks[].region", ".tasks[].zone"); len(m) > 0 {
		t.Errorf("missing %v", m)
	}
	r = h.do("GET", "/v2/apps/prod/web/tasks", "", "Accept: text/plain")
	if string(r.body) != "prod_web\t10001\th1:31001\th2:31002\t\n" {
		t.Errorf("text %q", r.body)
	}
	h.expect(h.do("GET", "/v2/apps/nope/tasks", ""), 404, `{"message":"App '/nope' does not exist"}`)

	// Kill by host, without scale: the killed tasks.
	r = h.do("DELETE", "/v2/apps/prod/web/tasks?host=h2", "")
	h.expect(r, 200, `{"tasks":[{"id":"prod_web.instance-00000002._app.1","appId":"","host":"","ipAddresses":[],"servicePorts":[],"state":"TASK_KILLING","healthCheckResults":[],"localVolumes":[]}]}`)
	// With scale: a deployment.
	r = h.do("DELETE", "/v2/apps/prod/web/tasks?scale=true", "")
	h.expect(r, 200, "")
	if r.header.Get(marathon.DeploymentHeader) == "" {
		t.Error("no deployment header")
	}
	k := h.be.kills[len(h.be.kills)-1]
	if !k.opts.Scale || len(k.ids) != 3 {
		t.Errorf("kill %+v", k)
	}
	h.expect(h.do("DELETE", "/v2/apps/prod/web/tasks?scale=true&wipe=true", ""), 400,
		`{"message":"You cannot use scale and wipe at the same time."}`)

	// One task, named by an older incarnation.
	r = h.do("DELETE", "/v2/apps/prod/web/tasks/prod_web.instance-00000001._app.0?wipe=true", "")
	h.expect(r, 200, "")
	var one marathon.TaskBody
	if err := json.Unmarshal(r.body, &one); err != nil || one.Task.ID != "prod_web.instance-00000001._app.1" {
		t.Errorf("task body %s", r.body)
	}
	if k := h.be.kills[len(h.be.kills)-1]; !k.opts.Wipe {
		t.Errorf("wipe not passed: %+v", k)
	}
	h.expect(h.do("DELETE", "/v2/apps/prod/web/tasks/prod_web.instance-ffff._app.1", ""), 404,
		`{"message":"Task 'prod_web.instance-ffff._app.1' does not exist"}`)
}

func TestTasksDelete(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("POST", "/v2/tasks/delete?scale=true", `{"ids":["prod_web.instance-00000001._app.1","prod_web.instance-dead._app.1"]}`)
	h.expect(r, 200, "")
	if r.header.Get(marathon.DeploymentHeader) == "" {
		t.Error("no deployment header")
	}
	k := h.be.kills[len(h.be.kills)-1]
	if len(k.ids) != 1 || k.ids[0] != "prod_web.instance-00000001._app.1" || k.opts != (scheduler.KillOptions{Scale: true}) {
		t.Errorf("kill %+v", k)
	}
	h.expect(h.do("POST", "/v2/tasks/delete", `{"ids":["garbage"]}`), 400, `{"message":"Invalid task id 'garbage'."}`)
	h.expect(h.do("POST", "/v2/tasks/delete", `{"ids":`), 400, "")
	h.expect(h.do("POST", "/v2/tasks/delete", `{"ids":["prod_web.instance-00000002._app.1"]}`), 200, "")
}
