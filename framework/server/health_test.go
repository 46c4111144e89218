package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// healthApp is an app of test-server tasks with a scheduler-side HTTP
// health check on /healthcheck.
func healthApp(id, binary string, instances int, extra string) string {
	return fmt.Sprintf(`{
	  "id": %q, "instances": %d, "cpus": 0.1, "mem": 32,
	  "cmd": %q,
	  "portDefinitions": [{"port": 0, "name": "http"}],
	  "healthChecks": [{"protocol": "HTTP", "path": "/healthcheck", "portIndex": 0,
	                    "gracePeriodSeconds": 10, "intervalSeconds": 1, "timeoutSeconds": 1,
	                    "maxConsecutiveFailures": 2, "delaySeconds": 0}]%s
	}`, id, instances, binary, extra)
}

// checkedTask is a task with its health results.
type checkedTask struct {
	ID                 string `json:"id"`
	Host               string `json:"host"`
	State              string `json:"state"`
	Version            string `json:"version"`
	Ports              []int  `json:"ports"`
	HealthCheckResults []struct {
		Alive               bool    `json:"alive"`
		ConsecutiveFailures int     `json:"consecutiveFailures"`
		FirstSuccess        *string `json:"firstSuccess"`
		LastSuccess         *string `json:"lastSuccess"`
		LastFailure         *string `json:"lastFailure"`
		LastFailureCause    *string `json:"lastFailureCause"`
		InstanceID          string  `json:"instanceId"`
	} `json:"healthCheckResults"`
}

func (t checkedTask) healthy() bool {
	if len(t.HealthCheckResults) == 0 {
		return false
	}
	for _, r := range t.HealthCheckResults {
		if !r.Alive {
			return false
		}
	}
	return true
}

type checkedApp struct {
	Version        string                `json:"version"`
	TasksHealthy   int                   `json:"tasksHealthy"`
	TasksUnhealthy int                   `json:"tasksUnhealthy"`
	Tasks          []checkedTask         `json:"tasks"`
	Deployments    []struct{ ID string } `json:"deployments"`
}

func (e *env) checkedApp(id string) checkedApp {
	e.t.Helper()
	var body struct{ App checkedApp }
	e.wantJSON(e.do(http.MethodGet, "/v2/apps"+id+"?embed=app.tasks", ""), http.StatusOK, &body)
	return body.App
}

// healthy waits until app id has n tasks, all healthy, and no deployment.
func (e *env) healthy(id string, n int) checkedApp {
	e.t.Helper()
	var a checkedApp
	e.eventually(fmt.Sprintf("%s has %d healthy tasks", id, n), func() error {
		a = e.checkedApp(id)
		h := 0
		for _, t := range a.Tasks {
			if t.healthy() {
				h++
			}
		}
		if h != n || len(a.Tasks) != n || a.TasksHealthy != n || len(a.Deployments) != 0 {
			return fmt.Errorf("%d tasks, %d healthy by results, tasksHealthy %d, deployments %v", len(a.Tasks), h, a.TasksHealthy, a.Deployments)
		}
		return nil
	})
	return a
}

// TestRollingUpgradeKeepsCapacity upgrades 4 instances with
// minimumHealthCapacity 0.5 and maximumOverCapacity 0.5 and samples the
// app through the API during the whole deployment: never fewer than
// ceil(4 × 0.5) = 2 healthy tasks, never more than floor(4 × 1.5) = 6
// tasks.
func TestRollingUpgradeKeepsCapacity(t *testing.T) {
	t.Parallel()
	bin := testenv.TestServer(t)
	e := start(t)
	strategy := `, "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.5}`
	e.want(e.do(http.MethodPost, "/v2/apps", healthApp("/rolling", bin, 4, strategy)), http.StatusCreated)
	before := e.healthy("/rolling", 4)

	events := e.stream("/v2/events?event_type=deployment_info&event_type=deployment_step_success&event_type=deployment_success")
	upgraded := healthApp("/rolling", bin, 4, strategy+`, "env": {"RELEASE": "2"}`)
	dep := e.deployed(e.do(http.MethodPut, "/v2/apps/rolling", upgraded), http.StatusOK)

	minHealthy, maxTasks, samples := 4, 0, 0
	deadline := time.Now().Add(2 * waitFor)
	for {
		a := e.checkedApp("/rolling")
		samples++
		h := 0
		for _, task := range a.Tasks {
			if task.healthy() {
				h++
			}
		}
		minHealthy, maxTasks = min(minHealthy, h), max(maxTasks, len(a.Tasks))
		if h < 2 || len(a.Tasks) > 6 {
			t.Fatalf("sample %d: %d healthy of %d tasks (want >= 2 healthy, <= 6 tasks)", samples, h, len(a.Tasks))
		}
		if len(a.Deployments) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s still running after %v", dep.DeploymentID, 2*waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d samples: at least %d healthy, at most %d tasks", samples, minHealthy, maxTasks)

	after := e.healthy("/rolling", 4)
	for _, task := range after.Tasks {
		if task.Version != dep.Version {
			t.Errorf("task %s runs version %s, want %s", task.ID, task.Version, dep.Version)
		}
		for _, old := range before.Tasks {
			if old.ID == task.ID {
				t.Errorf("old task %s survived the upgrade", task.ID)
			}
		}
	}
	// Marathon's events: the plan's step, its success, the deployment's.
	for _, want := range []string{"deployment_info", "deployment_step_success", "deployment_success"} {
		events.until(want, func(f frame, data map[string]any) bool {
			plan, _ := data["plan"].(map[string]any)
			id, _ := data["id"].(string)
			if plan != nil && id == "" {
				id, _ = plan["id"].(string)
			}
			return f.event == want && id == dep.DeploymentID
		}, nil)
	}
}

// TestProgressDeadlineRollsBack deploys a version whose health check never
// passes with a progress deadline and rollback: the deployment fails once
// nothing progresses for the deadline, the app goes back to its previous
// version, and the old tasks run on untouched.
func TestProgressDeadlineRollsBack(t *testing.T) {
	t.Parallel()
	bin := testenv.TestServer(t)
	e := start(t)
	e.want(e.do(http.MethodPost, "/v2/apps", healthApp("/deadline", bin, 2, "")), http.StatusCreated)
	before := e.healthy("/deadline", 2)

	events := e.stream("/v2/events?event_type=deployment_step_failure&event_type=deployment_failed&event_type=deployment_success")
	broken := strings.Replace(healthApp("/deadline", bin, 2, `, "upgradeStrategy": {"progressDeadlineSeconds": 3, "rollbackOnFailure": true}`),
		`"path": "/healthcheck"`, `"path": "/never-healthy"`, 1)
	dep := e.deployed(e.do(http.MethodPut, "/v2/apps/deadline", broken), http.StatusOK)
	var a app
	e.wantJSON(e.do(http.MethodGet, "/v2/apps/deadline", ""), http.StatusOK, &struct{ App *app }{&a})
	if a.Version != dep.Version {
		t.Fatalf("version %s during the deployment, want %s", a.Version, dep.Version)
	}

	_, stepFailure := events.until("deployment_step_failure", func(f frame, data map[string]any) bool {
		plan, _ := data["plan"].(map[string]any)
		return f.event == "deployment_step_failure" && plan["id"] == dep.DeploymentID
	}, nil)
	if stepFailure["currentStep"] == nil {
		t.Errorf("deployment_step_failure without currentStep: %v", stepFailure)
	}
	_, failed := events.until("deployment_failed", func(f frame, data map[string]any) bool {
		return f.event == "deployment_failed" && data["id"] == dep.DeploymentID
	}, nil)
	t.Logf("deployment_failed: %v", failed["reason"])

	after := e.healthy("/deadline", 2)
	if after.Version != before.Version {
		t.Errorf("version %s after the rollback, want the first %s", after.Version, before.Version)
	}
	if got, want := ids(after.Tasks), ids(before.Tasks); !slices.Equal(got, want) {
		t.Errorf("tasks after the rollback %v, want the old ones untouched %v", got, want)
	}
}

// TestUnhealthyTaskReplaced turns one task's health check red: after
// maxConsecutiveFailures it is killed (unhealthy_instance_kill_event) and
// replaced by a healthy task; the other task stays.
func TestUnhealthyTaskReplaced(t *testing.T) {
	t.Parallel()
	bin := testenv.TestServer(t)
	e := start(t)
	e.want(e.do(http.MethodPost, "/v2/apps", healthApp("/flaky", bin, 2, `, "backoffSeconds": 1`)), http.StatusCreated)
	before := e.healthy("/flaky", 2)
	victim, other := before.Tasks[0], before.Tasks[1]

	events := e.stream("/v2/events?event_type=health_status_changed_event&event_type=unhealthy_instance_kill_event&event_type=failed_health_check_event")
	res, err := http.Get(fmt.Sprintf("http://%s:%d/fail", victim.Host, victim.Ports[0]))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	events.until("failed_health_check_event", func(f frame, data map[string]any) bool {
		return f.event == "failed_health_check_event" && data["taskId"] == victim.ID
	}, nil)
	events.until("health_status_changed_event alive=false", func(f frame, data map[string]any) bool {
		return f.event == "health_status_changed_event" && data["taskId"] == victim.ID && data["alive"] == false
	}, nil)
	_, kill := events.until("unhealthy_instance_kill_event", func(f frame, data map[string]any) bool {
		return f.event == "unhealthy_instance_kill_event" && data["taskId"] == victim.ID
	}, nil)
	if kill["reason"] == "" || kill["host"] != victim.Host {
		t.Errorf("unhealthy_instance_kill_event %v", kill)
	}

	after := e.healthy("/flaky", 2)
	got := ids(after.Tasks)
	if slices.Contains(got, victim.ID) || !slices.Contains(got, other.ID) {
		t.Fatalf("tasks %v: want %s replaced and %s kept", got, victim.ID, other.ID)
	}
	for _, task := range after.Tasks {
		r := task.HealthCheckResults[0]
		if r.FirstSuccess == nil || r.LastSuccess == nil || r.InstanceID == "" {
			t.Errorf("task %s health result %+v: want success times and the instance id", task.ID, r)
		}
	}
}

// TestReadinessGatesDeployment upgrades an app to a version whose
// readiness check never answers 200: the deployment waits with the old
// tasks running and shows the check's last response; a version that is
// ready completes.
func TestReadinessGatesDeployment(t *testing.T) {
	t.Parallel()
	bin := testenv.TestServer(t)
	e := start(t)
	ready := func(path, release string) string {
		return healthApp("/ready", bin, 1, fmt.Sprintf(`, "env": {"RELEASE": %q},
		  "readinessChecks": [{"name": "warm", "protocol": "HTTP", "path": %q, "portName": "http",
		                       "intervalSeconds": 2, "timeoutSeconds": 1,
		                       "httpStatusCodesForReady": [200], "preserveLastResponse": true}]`, release, path))
	}
	e.want(e.do(http.MethodPost, "/v2/apps", ready("/healthcheck", "1")), http.StatusCreated)
	before := e.healthy("/ready", 1)

	dep := e.deployed(e.do(http.MethodPut, "/v2/apps/ready", ready("/not-ready", "2")), http.StatusOK)
	e.eventually("readiness result of the new task", func() error {
		var body struct {
			App struct {
				ReadinessCheckResults []struct {
					Name         string `json:"name"`
					TaskID       string `json:"taskId"`
					Ready        bool   `json:"ready"`
					LastResponse *struct {
						Status int `json:"status"`
					} `json:"lastResponse"`
				} `json:"readinessCheckResults"`
			} `json:"app"`
		}
		e.wantJSON(e.do(http.MethodGet, "/v2/apps/ready?embed=app.readiness", ""), http.StatusOK, &body)
		rs := body.App.ReadinessCheckResults
		if len(rs) != 1 || rs[0].Name != "warm" || rs[0].Ready || rs[0].LastResponse == nil || rs[0].LastResponse.Status != http.StatusNotFound {
			return fmt.Errorf("readinessCheckResults %+v", rs)
		}
		return nil
	})
	var deps []struct {
		ID             string `json:"id"`
		CurrentActions []struct {
			ReadinessCheckResults []json.RawMessage `json:"readinessCheckResults"`
		} `json:"currentActions"`
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/deployments", ""), http.StatusOK, &deps)
	if len(deps) != 1 || deps[0].ID != dep.DeploymentID || len(deps[0].CurrentActions) != 1 || len(deps[0].CurrentActions[0].ReadinessCheckResults) != 1 {
		t.Fatalf("deployments %+v: want %s waiting with one readiness result", deps, dep.DeploymentID)
	}
	a := e.checkedApp("/ready")
	if !slices.Contains(ids(a.Tasks), before.Tasks[0].ID) {
		t.Fatalf("old task %s gone while the new one is not ready: %v", before.Tasks[0].ID, ids(a.Tasks))
	}

	done := e.deployed(e.do(http.MethodPut, "/v2/apps/ready?force=true", ready("/healthcheck", "3")), http.StatusOK)
	after := e.healthy("/ready", 1)
	if after.Tasks[0].Version != done.Version {
		t.Fatalf("task version %s, want %s", after.Tasks[0].Version, done.Version)
	}
}

func ids(ts []checkedTask) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.ID)
	}
	slices.Sort(out)
	return out
}

// TestQueuedDeployment queues an update behind a deployment that cannot
// finish (its health check never passes): without queue it is refused with
// 409 naming the blocking deployment; with queue=true it is accepted,
// listed, and runs once the blocking deployment is canceled.
func TestQueuedDeployment(t *testing.T) {
	t.Parallel()
	bin := testenv.TestServer(t)
	e := start(t)
	stuck := strings.Replace(healthApp("/queued", bin, 1, ""), `"path": "/healthcheck"`, `"path": "/never-healthy"`, 1)
	r := e.want(e.do(http.MethodPost, "/v2/apps", stuck), http.StatusCreated)
	blocking := r.header.Get("Marathon-Deployment-Id")

	next := healthApp("/queued", bin, 1, `, "env": {"RELEASE": "2"}`)
	var conflict struct {
		Message     string                `json:"message"`
		Deployments []struct{ ID string } `json:"deployments"`
	}
	e.wantJSON(e.do(http.MethodPut, "/v2/apps/queued", next), http.StatusConflict, &conflict)
	if len(conflict.Deployments) != 1 || conflict.Deployments[0].ID != blocking {
		t.Fatalf("409 body %+v, want the blocking deployment %s", conflict, blocking)
	}

	queued := e.deployed(e.do(http.MethodPut, "/v2/apps/queued?queue=true", next), http.StatusOK)
	var deps []struct {
		ID string `json:"id"`
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/deployments", ""), http.StatusOK, &deps)
	if got := []string{deps[0].ID, deps[len(deps)-1].ID}; len(deps) != 2 || got[0] != blocking || got[1] != queued.DeploymentID {
		t.Fatalf("deployments %+v, want %s then the queued %s", deps, blocking, queued.DeploymentID)
	}
	if a := e.getApp("/queued"); a.Version == queued.Version {
		t.Fatalf("the queued version %s is current before its turn", queued.Version)
	}

	e.want(e.do(http.MethodDelete, "/v2/deployments/"+blocking+"?force=true", ""), http.StatusAccepted)
	after := e.healthy("/queued", 1)
	if after.Version != queued.Version || after.Tasks[0].Version != queued.Version {
		t.Fatalf("app version %s, task version %s: want the queued %s", after.Version, after.Tasks[0].Version, queued.Version)
	}
}

// TestEventsFollowView reads the API on every status_update_event and
// health_status_changed_event: what the event reports is already there,
// so clients that resync on events (marathon-lb, the registrator) never
// read the state from before it.
func TestEventsFollowView(t *testing.T) {
	t.Parallel()
	bin := testenv.TestServer(t)
	e := start(t)
	events := e.stream("/v2/events?event_type=status_update_event&event_type=health_status_changed_event")
	e.want(e.do(http.MethodPost, "/v2/apps", healthApp("/ordered", bin, 2, "")), http.StatusCreated)
	running, healthy := map[string]bool{}, map[string]bool{}
	for len(running) < 2 || len(healthy) < 2 {
		f, data := events.until("status and health events", func(frame, map[string]any) bool { return true }, nil)
		taskID, _ := data["taskId"].(string)
		a := e.checkedApp("/ordered")
		i := slices.IndexFunc(a.Tasks, func(task checkedTask) bool { return task.ID == taskID })
		switch {
		case f.event == "status_update_event" && data["taskStatus"] == "TASK_RUNNING":
			if i < 0 || a.Tasks[i].State != "TASK_RUNNING" {
				t.Fatalf("status_update_event TASK_RUNNING for %s, but the API shows %+v", taskID, a.Tasks)
			}
			running[taskID] = true
		case f.event == "health_status_changed_event" && data["alive"] == true:
			if i < 0 || !a.Tasks[i].healthy() {
				t.Fatalf("health_status_changed_event alive for %s, but the API shows %+v", taskID, a.Tasks)
			}
			healthy[taskID] = true
		}
	}
}
