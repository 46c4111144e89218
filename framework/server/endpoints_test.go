package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

// TestAppInput checks admission: Marathon's 400 and 422 bodies, reserved
// id suffixes, and legacy fields.
func TestAppInput(t *testing.T) {
	t.Parallel()
	e := start(t)

	type detail struct {
		Path   string   `json:"path"`
		Errors []string `json:"errors"`
	}
	var bad struct {
		Message string   `json:"message"`
		Details []detail `json:"details"`
	}
	// A value of the wrong type is Play's JsResultException: 422 with
	// "Invalid JSON" and the path; malformed JSON is a 400.
	e.wantJSON(e.do(http.MethodPost, "/v2/apps", `{"id": 5, "cmd": "sleep 1"}`), http.StatusUnprocessableEntity, &bad)
	if bad.Message != "Invalid JSON" || len(bad.Details) == 0 || bad.Details[0].Path != "/id" || len(bad.Details[0].Errors) == 0 {
		t.Errorf("400 body %+v", bad)
	}
	var malformed map[string]any
	e.wantJSON(e.do(http.MethodPost, "/v2/apps", `{"id": "/x", "cmd": `), http.StatusBadRequest, &malformed)
	if malformed["message"] != "Invalid JSON" || malformed["details"] == nil {
		t.Errorf("400 body for truncated JSON %v", malformed)
	}
	for _, body := range []string{
		`{"id":"/neg","cmd":"sleep 1","cpus":-1}`,
		`{"id":"/both","cmd":"sleep 1","args":["sleep","1"]}`,
		`{"id":"/x/restart","cmd":"sleep 1"}`,
		`{"id":"/x/tasks","cmd":"sleep 1"}`,
		`{"id":"/x/versions","cmd":"sleep 1"}`,
		`{"id":"/s","cmd":"sleep 1","upgradeStrategy":{"minimumHealthCapacity":2}}`,
	} {
		var invalid struct {
			Message string   `json:"message"`
			Details []detail `json:"details"`
		}
		e.wantJSON(e.do(http.MethodPost, "/v2/apps", body), http.StatusUnprocessableEntity, &invalid)
		if invalid.Message != "Object is not valid" || len(invalid.Details) == 0 || invalid.Details[0].Path == "" || len(invalid.Details[0].Errors) == 0 {
			t.Errorf("POST %s: 422 body %+v", body, invalid)
		}
	}
	e.want(e.do(http.MethodPut, "/v2/apps/x/restart", `{"cmd":"sleep 1"}`), http.StatusMethodNotAllowed)
	e.want(e.do(http.MethodPost, "/v2/apps?force=maybe", `{"id":"/f","cmd":"sleep 1"}`), http.StatusBadRequest)

	// Legacy input: ports and uris; docker network and portMappings.
	r := e.do(http.MethodPost, "/v2/apps", `{"id":"/legacy/host","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1,
		"ports":[0,0],"uris":["file:///dev/null"]}`)
	var host map[string]any
	e.wantJSON(r, http.StatusCreated, &host)
	pds, _ := host["portDefinitions"].([]any)
	fetch, _ := host["fetch"].([]any)
	if len(pds) != 2 || len(fetch) != 1 || fetch[0].(map[string]any)["uri"] != "file:///dev/null" {
		t.Errorf("legacy ports/uris: %s", r.body)
	}
	ports, _ := host["ports"].([]any)
	if len(ports) != 2 || ports[0].(float64) < 10000 || ports[0] == ports[1] {
		t.Errorf("legacy output ports %v, want two distinct service ports", host["ports"])
	}
	r = e.do(http.MethodPost, "/v2/apps", `{"id":"/legacy/bridge","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":0,
		"container":{"type":"DOCKER","docker":{"image":"busybox","network":"BRIDGE",
		"portMappings":[{"containerPort":8080,"hostPort":0,"servicePort":0,"protocol":"tcp"}]}}}`)
	var bridge struct {
		Container struct {
			PortMappings []struct {
				ContainerPort int `json:"containerPort"`
				ServicePort   int `json:"servicePort"`
			} `json:"portMappings"`
		} `json:"container"`
		Networks []struct {
			Mode string `json:"mode"`
		} `json:"networks"`
	}
	e.wantJSON(r, http.StatusCreated, &bridge)
	if len(bridge.Container.PortMappings) != 1 || bridge.Container.PortMappings[0].ContainerPort != 8080 ||
		bridge.Container.PortMappings[0].ServicePort < 10000 || len(bridge.Networks) != 1 || bridge.Networks[0].Mode != "container/bridge" {
		t.Errorf("legacy docker network/portMappings: %s", r.body)
	}
	e.running("/legacy/host", 1)
}

// TestTasks covers GET /v2/tasks (JSON, text/plain, status) and POST
// /v2/tasks/delete.
func TestTasks(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.deployed(e.do(http.MethodPut, "/v2/apps/t/a", `{"cmd":"sleep 600","cpus":0.1,"mem":16,"instances":3}`), http.StatusCreated)
	a := e.running("/t/a", 3)

	r := e.do(http.MethodGet, "/v2/tasks", "")
	var all struct{ Tasks []task }
	e.wantJSON(r, http.StatusOK, &all)
	e.shape("tasks.json", r.body, ".tasks[].region", ".tasks[].zone", ".tasks[].healthCheckResults", ".tasks[].servicePorts")
	if !slices.Equal(taskIDs(all.Tasks), taskIDs(a.Tasks)) {
		t.Errorf("GET /v2/tasks %v, want %v", taskIDs(all.Tasks), taskIDs(a.Tasks))
	}
	var running, staging struct{ Tasks []task }
	e.wantJSON(e.do(http.MethodGet, "/v2/tasks?status=running", ""), http.StatusOK, &running)
	e.wantJSON(e.do(http.MethodGet, "/v2/tasks?status=staging", ""), http.StatusOK, &staging)
	if len(running.Tasks) != 3 || len(staging.Tasks) != 0 {
		t.Errorf("status=running %d tasks, status=staging %d", len(running.Tasks), len(staging.Tasks))
	}
	r = e.want(e.do(http.MethodGet, "/v2/tasks", "", "Accept: text/plain"), http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.HasPrefix(string(r.body), "t_a\t") ||
		strings.Count(strings.TrimSpace(string(r.body)), "\t") != 4 {
		t.Errorf("text/plain tasks (%s): %q", ct, r.body)
	}

	// Without scale the instances come back with new tasks.
	ids := taskIDs(a.Tasks)
	r = e.do(http.MethodPost, "/v2/tasks/delete", fmt.Sprintf(`{"ids":[%q]}`, ids[0]))
	var killedTasks struct{ Tasks []task }
	e.wantJSON(r, http.StatusOK, &killedTasks)
	if len(killedTasks.Tasks) != 1 || killedTasks.Tasks[0].ID != ids[0] {
		t.Errorf("POST /v2/tasks/delete: %s", r.body)
	}
	e.eventually("the killed task is replaced", func() error {
		if got := e.running("/t/a", 3); slices.Contains(taskIDs(got.Tasks), ids[0]) {
			return fmt.Errorf("task %s still listed", ids[0])
		}
		return nil
	})
	// With scale the app shrinks, as a deployment.
	now := taskIDs(e.getApp("/t/a").Tasks)
	e.deployed(e.do(http.MethodPost, "/v2/tasks/delete?scale=true", fmt.Sprintf(`{"ids":[%q,%q]}`, now[0], now[1])), http.StatusOK)
	left := e.running("/t/a", 1)
	if left.Tasks[0].ID != now[2] || e.getApp("/t/a").Instances != 1 {
		t.Errorf("after scale: tasks %v, want [%s]", taskIDs(left.Tasks), now[2])
	}
	e.want(e.do(http.MethodPost, "/v2/tasks/delete", `{"ids":["not-a-task-id"]}`), http.StatusBadRequest)
	e.want(e.do(http.MethodPost, "/v2/tasks/delete", `{"ids":`), http.StatusBadRequest)
	e.agentsRun(1)
}

// TestDeploymentsAndQueue holds a deployment open with a constraint no
// agent satisfies, and makes an app fail to get a launch delay.
func TestDeploymentsAndQueue(t *testing.T) {
	t.Parallel()
	e := start(t)
	stuck := `{"cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1,"constraints":[["hostname","LIKE","no-such-host"]]}`
	first := e.deployed(e.do(http.MethodPut, "/v2/apps/stuck", stuck), http.StatusCreated)

	r := e.do(http.MethodGet, "/v2/deployments", "")
	var deps []struct {
		ID           string   `json:"id"`
		AffectedApps []string `json:"affectedApps"`
		Steps        []struct {
			Actions []struct{ Action, App string }
		} `json:"steps"`
		CurrentStep int `json:"currentStep"`
		TotalSteps  int `json:"totalSteps"`
	}
	e.wantJSON(r, http.StatusOK, &deps)
	e.shape("deployments.json", r.body, "[].affectedPods", "[].steps[].actions[].pod", "[].currentActions[].readinessCheckResults")
	if len(deps) != 1 || deps[0].ID != first.DeploymentID || !slices.Equal(deps[0].AffectedApps, []string{"/stuck"}) ||
		len(deps[0].Steps) == 0 || deps[0].Steps[0].Actions[0].Action != "StartApplication" || deps[0].TotalSteps != len(deps[0].Steps) {
		t.Fatalf("GET /v2/deployments: %s", r.body)
	}

	// The queue shows the waiting instance.
	r = e.do(http.MethodGet, "/v2/queue", "")
	type summary struct {
		Reason   string `json:"reason"`
		Declined int    `json:"declined"`
	}
	var q struct {
		Queue []struct {
			App   struct{ ID string }
			Count int
			Delay struct {
				TimeLeftSeconds int  `json:"timeLeftSeconds"`
				Overdue         bool `json:"overdue"`
			}
			ProcessedOffersSummary struct {
				RejectSummaryLastOffers []summary `json:"rejectSummaryLastOffers"`
			} `json:"processedOffersSummary"`
		}
	}
	// The offers the constraint declined are counted under Marathon's
	// reason name, and only Marathon's reason names are listed.
	e.eventually("the instance waits in the queue, declined by its constraint", func() error {
		r = e.do(http.MethodGet, "/v2/queue", "")
		e.wantJSON(r, http.StatusOK, &q)
		if len(q.Queue) == 0 {
			return fmt.Errorf("queue %s", r.body)
		}
		declined := map[string]int{}
		for _, s := range q.Queue[0].ProcessedOffersSummary.RejectSummaryLastOffers {
			declined[s.Reason] = s.Declined
		}
		if len(declined) != len(marathon.RejectFunnel) {
			return fmt.Errorf("reasons other than Marathon's: %s", r.body)
		}
		if declined["UnfulfilledConstraint"] == 0 {
			return fmt.Errorf("no offer declined by the constraint: %s", r.body)
		}
		return nil
	})
	e.shape("queue.json", r.body, ".queue[].app.", ".queue[].processedOffersSummary.",
		".queue[].lastUnusedOffers") // only with embed=lastUnusedOffers
	if len(q.Queue) != 1 || q.Queue[0].App.ID != "/stuck" || q.Queue[0].Count != 1 {
		t.Errorf("GET /v2/queue: %s", r.body)
	}

	// A change to a locked app is 409 with the deployment; force wins.
	var locked struct {
		Message     string
		Deployments []struct{ ID string }
	}
	e.wantJSON(e.do(http.MethodPut, "/v2/apps/stuck", `{"instances":2}`), http.StatusConflict, &locked)
	if !strings.Contains(locked.Message, "locked") || len(locked.Deployments) != 1 || locked.Deployments[0].ID != first.DeploymentID {
		t.Errorf("409 body %+v", locked)
	}
	second := e.deployed(e.do(http.MethodPut, "/v2/apps/stuck?force=true", `{"instances":2}`), http.StatusOK)

	// DELETE with force only cancels: 202 without a body.
	r = e.want(e.do(http.MethodDelete, "/v2/deployments/"+second.DeploymentID+"?force=true", ""), http.StatusAccepted)
	if len(r.body) != 0 {
		t.Errorf("202 body %q", r.body)
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/deployments", ""), http.StatusOK, &deps)
	if len(deps) != 0 {
		t.Errorf("deployments after a forced cancel: %+v", deps)
	}
	if a := e.getApp("/stuck"); a.Instances != 2 {
		t.Errorf("a forced cancel changed the app: instances %d", a.Instances)
	}

	// DELETE without force rolls back: the rollback of a new app removes it.
	started := e.deployed(e.do(http.MethodPut, "/v2/apps/stuck-new", stuck), http.StatusCreated)
	rollback := e.deployed(e.do(http.MethodDelete, "/v2/deployments/"+started.DeploymentID, ""), http.StatusOK)
	if rollback.DeploymentID == started.DeploymentID {
		t.Errorf("rollback reused the deployment id")
	}
	e.eventually("the rollback removes the new app", func() error {
		if r := e.do(http.MethodGet, "/v2/apps/stuck-new", ""); r.status != http.StatusNotFound {
			return fmt.Errorf("GET /v2/apps/stuck-new: %d", r.status)
		}
		return nil
	})
	// Rolling back a scale restores the instances.
	scale := e.deployed(e.do(http.MethodPut, "/v2/apps/stuck", `{"instances":3}`), http.StatusOK)
	e.deployed(e.do(http.MethodDelete, "/v2/deployments/"+scale.DeploymentID, ""), http.StatusOK)
	if a := e.getApp("/stuck"); a.Instances != 2 {
		t.Errorf("rolled back to %d instances, want 2", a.Instances)
	}
	var nf struct{ Message string }
	e.wantJSON(e.do(http.MethodDelete, "/v2/deployments/no-such-id", ""), http.StatusNotFound, &nf)
	if nf.Message == "" {
		t.Errorf("404 without message")
	}

	// A failing app gets a launch delay; DELETE /v2/queue/{id}/delay ends it.
	e.deployed(e.do(http.MethodPut, "/v2/apps/failing", `{"cmd":"exit 1","cpus":0.1,"mem":16,"instances":1,"backoffSeconds":300}`), http.StatusCreated)
	var failed string
	e.eventually("the failing app is delayed", func() error {
		e.wantJSON(e.do(http.MethodGet, "/v2/queue", ""), http.StatusOK, &q)
		for _, item := range q.Queue {
			if item.App.ID == "/failing" && item.Delay.TimeLeftSeconds > 0 && !item.Delay.Overdue {
				a := e.getApp("/failing")
				if a.LastTaskFailure == nil || a.LastTaskFailure.State != "TASK_FAILED" {
					return fmt.Errorf("lastTaskFailure %+v", a.LastTaskFailure)
				}
				failed = a.LastTaskFailure.TaskID
				return nil
			}
		}
		return fmt.Errorf("queue %+v", q.Queue)
	})
	r = e.want(e.do(http.MethodDelete, "/v2/queue/failing/delay", ""), http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 body %q", r.body)
	}
	e.eventually("the app is relaunched before its delay ends", func() error {
		a := e.getApp("/failing")
		if a.LastTaskFailure == nil || a.LastTaskFailure.TaskID == failed {
			return fmt.Errorf("last failure still %s", failed)
		}
		return nil
	})
	e.want(e.do(http.MethodDelete, "/v2/queue/nope/delay", ""), http.StatusNotFound)
}

// TestGroups covers the group tree, scaleBy, version rollback and delete.
func TestGroups(t *testing.T) {
	t.Parallel()
	e := start(t)
	r := e.do(http.MethodPost, "/v2/groups", `{"id":"/shop","apps":[
		{"id":"/shop/api","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1},
		{"id":"/shop/db","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}],
		"groups":[{"id":"/shop/jobs","apps":[{"id":"/shop/jobs/cron","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}]}]}`)
	e.deployed(r, http.StatusCreated)
	e.want(e.do(http.MethodPost, "/v2/groups", `{"id":"/shop"}`), http.StatusConflict)
	e.running("/shop/api", 1)
	e.running("/shop/jobs/cron", 1)

	// The stored versions of the group and of the root, and a settings
	// change by PATCH that keeps the tasks.
	var versions []string
	e.wantJSON(e.do(http.MethodGet, "/v2/groups/shop/versions", ""), http.StatusOK, &versions)
	if len(versions) == 0 {
		t.Fatal("GET /v2/groups/shop/versions: no version")
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/groups/versions", ""), http.StatusOK, &versions)
	if len(versions) == 0 {
		t.Fatal("GET /v2/groups/versions: no version")
	}
	e.want(e.do(http.MethodPatch, "/v2/groups/shop", `{"enforceRole":true}`), http.StatusOK)
	var patched struct{ EnforceRole bool }
	e.wantJSON(e.do(http.MethodGet, "/v2/groups/shop", ""), http.StatusOK, &patched)
	if !patched.EnforceRole {
		t.Error("PATCH /v2/groups/shop: enforceRole not set")
	}
	e.running("/shop/api", 1)

	r = e.do(http.MethodGet, "/v2/groups", "")
	var root struct {
		ID     string
		Apps   []app
		Groups []struct {
			ID      string
			Version string
			Apps    []app
			Groups  []struct {
				ID   string
				Apps []app
			}
		}
	}
	e.wantJSON(r, http.StatusOK, &root)
	e.shape("group.json", r.body, ".groups[].apps[].", ".groups[].groups[].", ".groups[].dependencies", ".groups[].pods")
	if root.ID != "/" || len(root.Groups) != 1 || root.Groups[0].ID != "/shop" || len(root.Groups[0].Apps) != 2 ||
		len(root.Groups[0].Groups) != 1 || root.Groups[0].Groups[0].Apps[0].ID != "/shop/jobs/cron" {
		t.Fatalf("GET /v2/groups: %s", r.body)
	}
	var shop struct {
		ID      string
		Version string
		Apps    []app
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/groups/shop", ""), http.StatusOK, &shop)
	if shop.ID != "/shop" || len(shop.Apps) != 2 || shop.Version == "" {
		t.Errorf("GET /v2/groups/shop: %+v", shop)
	}
	e.want(e.do(http.MethodGet, "/v2/groups/nope", ""), http.StatusNotFound)

	// scaleBy doubles every app below the group.
	e.deployed(e.do(http.MethodPut, "/v2/groups/shop", `{"scaleBy":2}`), http.StatusOK)
	e.running("/shop/api", 2)
	e.running("/shop/db", 2)
	e.running("/shop/jobs/cron", 2)
	e.agentsRun(6)

	e.deployed(e.do(http.MethodPut, "/v2/groups/shop", `{"scaleBy":0.5}`), http.StatusOK)
	e.running("/shop/api", 1)
	e.running("/shop/jobs/cron", 1)
	e.agentsRun(3)

	// PUT of a definition stops the apps it leaves out.
	e.deployed(e.do(http.MethodPut, "/v2/groups/shop", `{"id":"/shop","apps":[
		{"id":"/shop/api","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}]}`), http.StatusOK)
	e.eventually("the left-out apps stop", func() error {
		if r := e.do(http.MethodGet, "/v2/apps/shop/db", ""); r.status != http.StatusNotFound {
			return fmt.Errorf("GET /v2/apps/shop/db: %d", r.status)
		}
		return nil
	})
	// A definition without "groups" keeps the subgroups, as Marathon's
	// group update does.
	e.running("/shop/jobs/cron", 1)
	e.agentsRun(2)
	e.idle()

	e.deployed(e.do(http.MethodDelete, "/v2/groups/shop", ""), http.StatusOK)
	e.eventually("the group is gone", func() error {
		var all struct{ Tasks []task }
		e.wantJSON(e.do(http.MethodGet, "/v2/tasks", ""), http.StatusOK, &all)
		if r := e.do(http.MethodGet, "/v2/groups/shop", ""); r.status != http.StatusNotFound || len(all.Tasks) != 0 {
			return fmt.Errorf("GET /v2/groups/shop: %d, %d tasks", r.status, len(all.Tasks))
		}
		return nil
	})
	e.agentsRun(0)
	e.want(e.do(http.MethodDelete, "/v2/groups/shop", ""), http.StatusNotFound)
}

// TestGroupVersionRollback is PUT /v2/groups/{id} {"version": v}.
func TestGroupVersionRollback(t *testing.T) {
	t.Parallel()
	e := start(t)
	created := e.deployed(e.do(http.MethodPost, "/v2/groups", `{"id":"/g","apps":[{"id":"/g/a","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}]}`), http.StatusCreated)
	e.running("/g/a", 1)
	e.deployed(e.do(http.MethodPut, "/v2/groups/g", `{"scaleBy":2}`), http.StatusOK)
	e.running("/g/a", 2)
	e.deployed(e.do(http.MethodPut, "/v2/groups/g", fmt.Sprintf(`{"version":%q}`, created.Version)), http.StatusOK)
	e.running("/g/a", 1)
	e.agentsRun(1)
}

// TestSystem covers /v2/info, /v2/leader, /ping and /metrics.
func TestSystem(t *testing.T) {
	t.Parallel()
	e := start(t)
	<-e.srv.Scheduler().Ready()
	r := e.do(http.MethodGet, "/v2/info", "")
	var info struct {
		Name           string         `json:"name"`
		Leader         string         `json:"leader"`
		Elected        bool           `json:"elected"`
		MarathonConfig map[string]any `json:"marathon_config"`
		HTTPConfig     struct {
			HTTPPort int `json:"http_port"`
		} `json:"http_config"`
	}
	e.wantJSON(r, http.StatusOK, &info)
	e.shape("info.json", r.body, ".frameworkId")
	port := portOf(t, e.url)
	if info.Name != "marathon" || !info.Elected || info.Leader != fmt.Sprintf("localhost:%d", port) ||
		info.HTTPConfig.HTTPPort != port || info.MarathonConfig["master"] != "local" {
		t.Errorf("GET /v2/info: %s", r.body)
	}
	e.eventually("the framework id shows in /v2/info", func() error {
		var i map[string]any
		e.wantJSON(e.do(http.MethodGet, "/v2/info", ""), http.StatusOK, &i)
		if id, _ := i["frameworkId"].(string); id == "" {
			return fmt.Errorf("no frameworkId")
		}
		return nil
	})
	var leader struct{ Leader string }
	e.wantJSON(e.do(http.MethodGet, "/v2/leader", ""), http.StatusOK, &leader)
	if leader.Leader != info.Leader {
		t.Errorf("leader %q, info %q", leader.Leader, info.Leader)
	}
	r = e.want(e.do(http.MethodGet, "/ping", ""), http.StatusOK)
	if strings.TrimSpace(string(r.body)) != "pong" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /ping: %q %q", r.header.Get("Content-Type"), r.body)
	}
	r = e.want(e.do(http.MethodGet, "/metrics/prometheus", ""), http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("metrics Content-Type %q", ct)
	}
	if !strings.Contains(string(r.body), "# TYPE stadion_http_requests_total counter") ||
		!strings.Contains(string(r.body), `stadion_http_requests_total{`) || !strings.Contains(string(r.body), `route="/ping"`) {
		t.Errorf("GET /metrics/prometheus lacks stadion_http_requests_total for /ping:\n%s", r.body)
	}
}

// TestMetrics launches tasks and reads Marathon's metrics: the JSON of
// /metrics (Dropwizard's registry as Marathon 1.10 writes it) and the same
// names in Prometheus's text at /metrics/prometheus, beside Stadion's own.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := start(t)
	<-e.srv.Scheduler().Ready()
	e.want(e.do(http.MethodPost, "/v2/apps", `{"id":"/m/web","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":2}`), http.StatusCreated)
	e.running("/m/web", 2)
	e.idle()
	e.want(e.do(http.MethodGet, "/v2/apps/m/missing", ""), http.StatusNotFound)

	var m struct {
		Version  string                             `json:"version"`
		Counters map[string]struct{ Count int64 }   `json:"counters"`
		Gauges   map[string]struct{ Value float64 } `json:"gauges"`
		Meters   map[string]struct {
			Count int64
			Units string
		} `json:"meters"`
		Timers map[string]struct {
			Count         int64
			P99           float64
			DurationUnits string `json:"duration_units"`
		} `json:"timers"`
		Histograms map[string]any `json:"histograms"`
	}
	r := e.do(http.MethodGet, "/metrics", "")
	e.wantJSON(r, http.StatusOK, &m)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("/metrics Content-Type %q", ct)
	}
	if m.Version != "4.0.0" || m.Histograms == nil {
		t.Errorf("/metrics version %q histograms %v", m.Version, m.Histograms)
	}
	for name, want := range map[string]float64{
		"marathon.apps.active.gauge":          1,
		"marathon.groups.active.gauge":        2, // / and /m
		"marathon.pods.active.gauge":          0,
		"marathon.deployments.active.gauge":   0,
		"marathon.instances.running.gauge":    2,
		"marathon.instances.staged.gauge":     0,
		"marathon.http.requests.active.gauge": 1, // this one
		"stadion.store.writable.gauge":        1,
	} {
		if g, ok := m.Gauges[name]; !ok || g.Value != want {
			t.Errorf("gauge %s = %v (present %v), want %v", name, g.Value, ok, want)
		}
	}
	for _, name := range []string{"marathon.uptime.gauge.seconds", "marathon.leadership.duration.gauge.seconds"} {
		if m.Gauges[name].Value <= 0 {
			t.Errorf("gauge %s = %v, want > 0", name, m.Gauges[name].Value)
		}
	}
	for name, want := range map[string]int64{
		"marathon.deployments.counter":                     1,
		"marathon.tasks.launched.counter":                  2,
		"marathon.mesos.task-updates.task-running.counter": 2,
		"stadion.store.write-failures.counter":             0,
	} {
		if c, ok := m.Counters[name]; !ok || c.Count != want {
			t.Errorf("counter %s = %d (present %v), want %d", name, c.Count, ok, want)
		}
	}
	for _, name := range []string{"marathon.mesos.offers.incoming.counter", "marathon.mesos.offers.used.counter",
		"marathon.http.requests.size.counter.bytes", "marathon.http.responses.size.counter.bytes"} {
		if m.Counters[name].Count < 1 {
			t.Errorf("counter %s = %d, want >= 1", name, m.Counters[name].Count)
		}
	}
	if used, in := m.Counters["marathon.mesos.offers.used.counter"].Count, m.Counters["marathon.mesos.offers.incoming.counter"].Count; used > in {
		t.Errorf("offers used %d > incoming %d", used, in)
	}
	if mt := m.Meters["marathon.http.responses.2xx.rate.meter"]; mt.Count < 2 || mt.Units != "events/second" {
		t.Errorf("2xx meter %+v", mt)
	}
	if mt := m.Meters["marathon.http.responses.4xx.rate.meter"]; mt.Count != 1 {
		t.Errorf("4xx meter %+v, want the one 404", mt)
	}
	if tm := m.Timers["marathon.http.requests.post.duration.timer.seconds"]; tm.Count != 1 || tm.P99 <= 0 || tm.DurationUnits != "seconds" {
		t.Errorf("POST timer %+v", tm)
	}

	r = e.want(e.do(http.MethodGet, "/metrics/prometheus", ""), http.StatusOK)
	for _, want := range []string{
		"\nmarathon_instances_running_gauge 2\n",
		"\nmarathon_tasks_launched_counter 2\n",
		"\nmarathon_http_responses_4xx_rate_meter_count 1\n",
		"# TYPE marathon_http_requests_duration_timer_seconds summary",
		"\nstadion_store_writable 1\n",
		`stadion_http_requests_total{code="201",method="POST",route="/v2/apps"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics/prometheus lacks %q", want)
		}
	}
}

// TestEvents follows /v2/events while an app is deployed.
func TestEvents(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.want(e.do(http.MethodGet, "/v2/events", ""), http.StatusMethodNotAllowed)
	// Subscribed first, so that scheduler_registered_event is not the
	// first event of the stream.
	e.eventually("the framework registers", func() error {
		if e.srv.Scheduler().View().FrameworkID == "" {
			return fmt.Errorf("no framework id")
		}
		return nil
	})

	all := e.stream("/v2/events")
	if all.status != http.StatusOK || !strings.HasPrefix(all.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /v2/events: %d %q", all.status, all.header.Get("Content-Type"))
	}
	all.until("event_stream_attached first", func(f frame, d map[string]any) bool {
		if f.event != "event_stream_attached" {
			t.Fatalf("first event %s, want event_stream_attached", f.event)
		}
		return d["eventType"] == "event_stream_attached" && d["remoteAddress"] != nil && d["timestamp"] != nil
	}, nil)
	only := e.stream("/v2/events?event_type=deployment_success&event_type=status_update_event")
	light := e.stream("/v2/events?plan-format=light&event_type=deployment_info")

	res := e.deployed(e.do(http.MethodPut, "/v2/apps/ev", `{"cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}`), http.StatusCreated)

	var types []string
	_, running := all.until("status_update_event TASK_RUNNING", func(f frame, d map[string]any) bool {
		return f.event == "status_update_event" && d["taskStatus"] == "TASK_RUNNING" && d["appId"] == "/ev"
	}, func(f frame) { types = append(types, f.event) })
	for _, k := range []string{"slaveId", "taskId", "taskStatus", "message", "appId", "host", "ports", "version", "eventType", "timestamp", "ipAddresses"} {
		if _, ok := running[k]; !ok {
			t.Errorf("status_update_event lacks %s: %v", k, running)
		}
	}
	if !slices.Contains(types, "api_post_event") || !slices.Contains(types, "deployment_info") {
		t.Errorf("events before TASK_RUNNING %v, want api_post_event and deployment_info", types)
	}
	all.until("deployment_success", func(f frame, d map[string]any) bool {
		plan, _ := d["plan"].(map[string]any)
		return f.event == "deployment_success" && d["id"] == res.DeploymentID && plan != nil
	}, nil)

	var filtered []string
	only.until("filtered deployment_success", func(f frame, d map[string]any) bool {
		return f.event == "deployment_success"
	}, func(f frame) { filtered = append(filtered, f.event) })
	for _, ev := range filtered {
		if ev != "deployment_success" && ev != "status_update_event" {
			t.Errorf("event_type filter let %s through", ev)
		}
	}

	_, info := light.until("light deployment_info", func(f frame, d map[string]any) bool {
		return f.event == "deployment_info"
	}, nil)
	plan, _ := info["plan"].(map[string]any)
	if plan == nil || plan["id"] != res.DeploymentID {
		t.Fatalf("light deployment_info: %v", info)
	}
	for _, heavy := range []string{"original", "target"} {
		if _, ok := plan[heavy]; ok {
			t.Errorf("plan-format=light kept plan.%s", heavy)
		}
	}
	if b, _ := json.Marshal(info); len(b) == 0 {
		t.Error("empty deployment_info")
	}
}
