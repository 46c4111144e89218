package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon/marathontest"
)

// rc is one call of Marathon's RAML (docs/docs/rest-api/public/api, 1.10)
// with the answer Marathon gives: status and the JSON shape of the body
// (the keys Marathon always writes and their types, marathontest's RAML
// shapes). Paths may name values the suite learns as it goes: {task},
// {version}, {deployment}.
type rc struct {
	// raml is the resource and method as the RAML names them.
	raml   string
	method string
	path   string
	body   string
	// header is one extra request header, "Name: value".
	header string
	status int
	// shape is the body's shape; nil for an answer without a JSON body.
	shape *marathontest.Shape
	// text, when set, is the whole body (a text answer).
	text string
	// stream: the answer is an event stream; only status and content
	// type are read.
	stream bool
	// plain: the answer is text/plain lines (app, service port, host:port).
	plain bool

	// differs, when set, says why Stadion deliberately answers otherwise
	// (see docs/migration.md); stadionStatus and stadionShape are then
	// Stadion's answer, checked in place of Marathon's, so that the
	// difference stays what the docs say.
	differs       string
	stadionStatus int
	stadionShape  *marathontest.Shape

	// then runs after the call when it had the expected status, with the
	// body: wait for the deployment the call started, learn a task id...
	then func(c *conformance, body []byte)
}

// step is a call of the suite or an action between calls.
type step struct {
	call *rc
	do   func(c *conformance)
}

func rcall(r rc) step                  { return step{call: &r} }
func action(f func(*conformance)) step { return step{do: f} }

func shape(s marathontest.Shape) *marathontest.Shape { return &s }

// conformance runs the steps against one server and counts the calls that
// answer as Marathon does.
type conformance struct {
	*env
	vars    map[string]string
	calls   int
	matched int
	differ  []string
}

// Fixtures of the suite: small apps that start at once, an app that can
// never be placed (its deployment stays, for the 409 and deployment
// calls), and bodies that are malformed or fail validation.
const (
	confApp      = `{"id":"/c/app","cmd":"sleep 600","cpus":0.05,"mem":16,"instances":2,"portDefinitions":[{"port":0}]}`
	confAppPut   = `{"cmd":"sleep 601","cpus":0.05,"mem":16,"instances":2,"portDefinitions":[{"port":0}]}`
	confNewApp   = `{"cmd":"sleep 600","cpus":0.05,"mem":16,"instances":1}`
	confStuck    = `{"id":"/c/stuck","cmd":"sleep 600","cpus":1000,"mem":16,"instances":1}`
	confStuck2   = `{"id":"/d/stuck","cmd":"sleep 600","cpus":1000,"mem":16,"instances":1}`
	confMalform  = `{"id": "/c/app", "cmd": `
	confInvalid  = `{"id":"/c/bad","cmd":"sleep 1","cpus":-1}`
	confGroup    = `{"id":"/g1","apps":[{"id":"a","cmd":"sleep 600","cpus":0.05,"mem":16,"instances":1}]}`
	confGroupBad = `{"id":"/g3","apps":[{"id":"/elsewhere/a","cmd":"sleep 600"}]}`
	confPodBody  = `{"id":"/p","containers":[{"name":"c","exec":{"command":{"shell":"sleep 600"}},"resources":{"cpus":0.05,"mem":16}}]}`
)

// loggingDiffer is the reason of the /logging calls.
const loggingDiffer = "no /logging: the level is set with --logging_level; Marathon's /logging changes logback loggers at run time"

func confSteps() []step {
	errShape := shape(marathontest.Error)
	invalid := shape(marathontest.Invalid)
	malformed := shape(marathontest.Malformed)
	locked := shape(marathontest.Locked)
	dep := shape(marathontest.DeploymentResult)
	idle := func(c *conformance, _ []byte) { c.idle() }
	running := func(id string, n int) func(*conformance, []byte) {
		return func(c *conformance, _ []byte) { c.idle(); c.running(id, n) }
	}
	pod := func(raml, method, path, body string, status int, shp *marathontest.Shape, then func(*conformance, []byte)) step {
		return rcall(rc{raml: raml, method: method, path: path, body: body, status: status, shape: shp, then: then})
	}
	return []step{
		// apps
		rcall(rc{raml: "POST /v2/apps", method: "POST", path: "/v2/apps", body: confApp, status: 201, shape: shape(marathontest.AppCreated), then: running("/c/app", 2)}),
		rcall(rc{raml: "POST /v2/apps (exists)", method: "POST", path: "/v2/apps", body: confApp, status: 409, shape: errShape}),
		rcall(rc{raml: "POST /v2/apps (malformed)", method: "POST", path: "/v2/apps", body: confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "POST /v2/apps (invalid)", method: "POST", path: "/v2/apps", body: confInvalid, status: 422, shape: invalid}),
		rcall(rc{raml: "GET /v2/apps", method: "GET", path: "/v2/apps", status: 200, shape: shape(marathontest.AppList)}),
		rcall(rc{raml: "GET /v2/apps?embed=apps.tasks&embed=apps.taskStats", method: "GET", path: "/v2/apps?embed=apps.tasks&embed=apps.taskStats", status: 200,
			shape: shape(marathontest.Obj(map[string]marathontest.Shape{"apps": marathontest.Arr(marathontest.AppListItem.With(map[string]marathontest.Shape{
				"tasks": marathontest.Arr(marathontest.Task), "tasksStats": marathontest.AnyObject,
			}))}))}),
		rcall(rc{raml: "GET /v2/apps?embed=apps.failures", method: "GET", path: "/v2/apps?embed=apps.failures", status: 200,
			shape: shape(marathontest.Obj(map[string]marathontest.Shape{"apps": marathontest.Arr(marathontest.AppListItem.With(map[string]marathontest.Shape{
				"tasks": marathontest.Arr(marathontest.Task),
			}))}))}),
		rcall(rc{raml: "GET /v2/apps/{app_id}", method: "GET", path: "/v2/apps/c/app", status: 200, shape: shape(marathontest.AppSingle),
			then: func(c *conformance, _ []byte) { c.learnTasks("/c/app") }}),
		rcall(rc{raml: "GET /v2/apps/{app_id} (unknown)", method: "GET", path: "/v2/apps/c/none", status: 404, shape: errShape}),
		rcall(rc{raml: "PUT /v2/apps/{app_id}", method: "PUT", path: "/v2/apps/c/app", body: confAppPut, status: 200, shape: dep, then: running("/c/app", 2)}),
		rcall(rc{raml: "PUT /v2/apps/{app_id} (new)", method: "PUT", path: "/v2/apps/c/new", body: confNewApp, status: 201, shape: dep, then: running("/c/new", 1)}),
		rcall(rc{raml: "PUT /v2/apps/{app_id} (malformed)", method: "PUT", path: "/v2/apps/c/app", body: confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "PUT /v2/apps/{app_id} (invalid)", method: "PUT", path: "/v2/apps/c/app", body: `{"cmd":"sleep 1","cpus":-1}`, status: 422, shape: invalid}),
		rcall(rc{raml: "PATCH /v2/apps/{app_id}", method: "PATCH", path: "/v2/apps/c/new", body: `{"labels":{"k":"v"}}`, status: 200, shape: dep, then: running("/c/new", 1)}),
		rcall(rc{raml: "PATCH /v2/apps/{app_id} (unknown)", method: "PATCH", path: "/v2/apps/c/none", body: `{"labels":{"k":"v"}}`, status: 404, shape: errShape}),
		rcall(rc{raml: "PATCH /v2/apps/{app_id} (malformed)", method: "PATCH", path: "/v2/apps/c/new", body: confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "PATCH /v2/apps/{app_id} (invalid)", method: "PATCH", path: "/v2/apps/c/new", body: `{"cpus":-1}`, status: 422, shape: invalid}),
		rcall(rc{raml: "PUT /v2/apps", method: "PUT", path: "/v2/apps", body: `[{"id":"/c/new","cmd":"sleep 602","cpus":0.05,"mem":16,"instances":1}]`, status: 200, shape: dep, then: running("/c/new", 1)}),
		rcall(rc{raml: "PUT /v2/apps (malformed)", method: "PUT", path: "/v2/apps", body: `[` + confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "PUT /v2/apps (invalid)", method: "PUT", path: "/v2/apps", body: `[` + confInvalid + `]`, status: 422, shape: invalid}),
		rcall(rc{raml: "PATCH /v2/apps", method: "PATCH", path: "/v2/apps", body: `[{"id":"/c/new","labels":{"k":"w"}}]`, status: 200, shape: dep, then: running("/c/new", 1)}),
		rcall(rc{raml: "PATCH /v2/apps (malformed)", method: "PATCH", path: "/v2/apps", body: `[` + confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "PATCH /v2/apps (invalid)", method: "PATCH", path: "/v2/apps", body: `[{"id":"/c/new","cpus":-1}]`, status: 422, shape: invalid}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/tasks", method: "GET", path: "/v2/apps/c/app/tasks", status: 200, shape: shape(marathontest.TaskList),
			then: func(c *conformance, _ []byte) { c.learnTasks("/c/app") }}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/tasks (text/plain)", method: "GET", path: "/v2/apps/c/app/tasks", header: "Accept: text/plain", status: 200, plain: true}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/tasks (unknown)", method: "GET", path: "/v2/apps/c/none/tasks", status: 404, shape: errShape}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/versions", method: "GET", path: "/v2/apps/c/app/versions", status: 200, shape: shape(marathontest.VersionList)}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/versions (unknown)", method: "GET", path: "/v2/apps/c/none/versions", status: 404, shape: errShape}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/versions/{version}", method: "GET", path: "/v2/apps/c/app/versions/{version}", status: 200, shape: shape(marathontest.App)}),
		rcall(rc{raml: "GET /v2/apps/{app_id}/versions/{version} (unknown)", method: "GET", path: "/v2/apps/c/app/versions/2001-01-01T00:00:00.000Z", status: 404, shape: errShape}),
		rcall(rc{raml: "POST /v2/apps/{app_id}/restart", method: "POST", path: "/v2/apps/c/app/restart", status: 200, shape: dep,
			then: func(c *conformance, _ []byte) { c.idle(); c.running("/c/app", 2); c.learnTasks("/c/app") }}),
		rcall(rc{raml: "POST /v2/apps/{app_id}/restart (unknown)", method: "POST", path: "/v2/apps/c/none/restart", status: 404, shape: errShape}),

		// tasks
		rcall(rc{raml: "GET /v2/tasks", method: "GET", path: "/v2/tasks", status: 200, shape: shape(marathontest.TaskList)}),
		rcall(rc{raml: "GET /v2/tasks?status=running", method: "GET", path: "/v2/tasks?status=running", status: 200, shape: shape(marathontest.TaskList)}),
		rcall(rc{raml: "GET /v2/tasks (text/plain)", method: "GET", path: "/v2/tasks", header: "Accept: text/plain", status: 200, plain: true}),
		rcall(rc{raml: "POST /v2/tasks/delete", method: "POST", path: "/v2/tasks/delete", body: `{"ids":["{task}"]}`, status: 200, shape: shape(marathontest.TaskList),
			then: func(c *conformance, _ []byte) { c.running("/c/app", 2); c.learnTasks("/c/app") }}),
		rcall(rc{raml: "POST /v2/tasks/delete?scale=true", method: "POST", path: "/v2/tasks/delete?scale=true", body: `{"ids":["{task}"]}`, status: 200, shape: dep,
			then: func(c *conformance, _ []byte) { c.idle(); c.running("/c/app", 1); c.learnTasks("/c/app") }}),
		rcall(rc{raml: "POST /v2/tasks/delete (malformed)", method: "POST", path: "/v2/tasks/delete", body: `{"ids":`, status: 400, shape: malformed}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}/tasks/{task_id}", method: "DELETE", path: "/v2/apps/c/app/tasks/{task}", status: 200, shape: shape(marathontest.TaskSingle),
			then: func(c *conformance, _ []byte) { c.running("/c/app", 1); c.scale("/c/app", 2) }}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}/tasks/{task_id}?scale=true", method: "DELETE", path: "/v2/apps/c/app/tasks/{task}?scale=true", status: 200, shape: dep,
			then: func(c *conformance, _ []byte) { c.idle(); c.running("/c/app", 1); c.learnTasks("/c/app") }}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}/tasks/{task_id} (unknown)", method: "DELETE", path: "/v2/apps/c/app/tasks/c_none.1234", status: 404, shape: errShape}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}/tasks", method: "DELETE", path: "/v2/apps/c/app/tasks", status: 200, shape: shape(marathontest.TaskList),
			then: func(c *conformance, _ []byte) { c.running("/c/app", 1) }}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}/tasks?scale=true", method: "DELETE", path: "/v2/apps/c/app/tasks?scale=true", status: 200, shape: dep, then: running("/c/app", 0)}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}/tasks (unknown)", method: "DELETE", path: "/v2/apps/c/none/tasks", status: 404, shape: errShape}),

		// deployments, the queue and conflicts, around an app that never fits
		rcall(rc{raml: "POST /v2/apps (unplaceable)", method: "POST", path: "/v2/apps", body: confStuck, status: 201, shape: shape(marathontest.AppCreated),
			then: func(c *conformance, b []byte) { c.learnDeployment("/c/stuck") }}),
		rcall(rc{raml: "GET /v2/deployments", method: "GET", path: "/v2/deployments", status: 200, shape: shape(marathontest.Arr(marathontest.DeploymentInfo))}),
		action(func(c *conformance) { c.queued("/c/stuck") }),
		rcall(rc{raml: "GET /v2/queue", method: "GET", path: "/v2/queue", status: 200, shape: shape(marathontest.Queue)}),
		rcall(rc{raml: "GET /v2/queue?embed=lastUnusedOffers", method: "GET", path: "/v2/queue?embed=lastUnusedOffers", status: 200,
			shape: shape(marathontest.Obj(map[string]marathontest.Shape{"queue": marathontest.Arr(marathontest.QueueApp.With(map[string]marathontest.Shape{
				"lastUnusedOffers": marathontest.Arr(marathontest.AnyObject),
			}))}))}),
		// The RAML says 200; QueueResource.resetDelay answers noContent.
		rcall(rc{raml: "DELETE /v2/queue/{app_id}/delay", method: "DELETE", path: "/v2/queue/c/stuck/delay", status: 204}),
		rcall(rc{raml: "DELETE /v2/queue/{app_id}/delay (unknown)", method: "DELETE", path: "/v2/queue/c/none/delay", status: 404, shape: errShape}),
		rcall(rc{raml: "PUT /v2/apps/{app_id} (locked)", method: "PUT", path: "/v2/apps/c/stuck", body: `{"cmd":"sleep 601","cpus":1000,"mem":16,"instances":1}`, status: 409, shape: locked}),
		rcall(rc{raml: "PATCH /v2/apps/{app_id} (locked)", method: "PATCH", path: "/v2/apps/c/stuck", body: `{"labels":{"k":"v"}}`, status: 409, shape: locked}),
		rcall(rc{raml: "PUT /v2/apps (locked)", method: "PUT", path: "/v2/apps", body: `[{"id":"/c/stuck","cmd":"sleep 601","cpus":1000,"mem":16}]`, status: 409, shape: locked}),
		rcall(rc{raml: "PATCH /v2/apps (locked)", method: "PATCH", path: "/v2/apps", body: `[{"id":"/c/stuck","labels":{"k":"v"}}]`, status: 409, shape: locked}),
		rcall(rc{raml: "POST /v2/apps/{app_id}/restart (locked)", method: "POST", path: "/v2/apps/c/stuck/restart", status: 409, shape: locked}),
		rcall(rc{raml: "PUT /v2/groups/{group_id} (locked)", method: "PUT", path: "/v2/groups/c", body: `{"apps":[{"id":"stuck","cmd":"sleep 602","cpus":1000,"mem":16}]}`, status: 409, shape: locked}),
		rcall(rc{raml: "DELETE /v2/deployments/{deployment_id}", method: "DELETE", path: "/v2/deployments/{deployment}", status: 200, shape: dep, then: idle}),
		rcall(rc{raml: "DELETE /v2/deployments/{deployment_id} (unknown)", method: "DELETE", path: "/v2/deployments/00000000-0000-0000-0000-000000000000", status: 404, shape: errShape}),
		rcall(rc{raml: "POST /v2/apps (second unplaceable)", method: "POST", path: "/v2/apps", body: confStuck2, status: 201, shape: shape(marathontest.AppCreated),
			then: func(c *conformance, b []byte) { c.learnDeployment("/d/stuck") }}),
		rcall(rc{raml: "DELETE /v2/deployments/{deployment_id}?force=true", method: "DELETE", path: "/v2/deployments/{deployment}?force=true", status: 202, then: idle}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id}", method: "DELETE", path: "/v2/apps/d/stuck", status: 200, shape: dep, then: idle}),
		rcall(rc{raml: "DELETE /v2/apps/{app_id} (unknown)", method: "DELETE", path: "/v2/apps/d/stuck", status: 404, shape: errShape}),

		// groups
		rcall(rc{raml: "GET /v2/groups", method: "GET", path: "/v2/groups", status: 200, shape: shape(marathontest.Group)}),
		rcall(rc{raml: "GET /v2/groups/{group_id}", method: "GET", path: "/v2/groups/c", status: 200, shape: shape(marathontest.Group)}),
		rcall(rc{raml: "GET /v2/groups/{group_id} (unknown)", method: "GET", path: "/v2/groups/none", status: 404, shape: errShape}),
		rcall(rc{raml: "POST /v2/groups", method: "POST", path: "/v2/groups", body: confGroup, status: 201, shape: dep, then: running("/g1/a", 1)}),
		rcall(rc{raml: "POST /v2/groups/{group_id}", method: "POST", path: "/v2/groups/g2", body: `{"apps":[{"id":"b","cmd":"sleep 600","cpus":0.05,"mem":16,"instances":1}]}`, status: 201, shape: dep, then: running("/g2/b", 1)}),
		rcall(rc{raml: "POST /v2/groups (exists)", method: "POST", path: "/v2/groups", body: confGroup, status: 409, shape: errShape}),
		rcall(rc{raml: "POST /v2/groups (malformed)", method: "POST", path: "/v2/groups", body: confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "POST /v2/groups (invalid)", method: "POST", path: "/v2/groups", body: confGroupBad, status: 422, shape: invalid}),
		rcall(rc{raml: "PUT /v2/groups/{group_id}", method: "PUT", path: "/v2/groups/g1", body: `{"apps":[{"id":"a","cmd":"sleep 600","cpus":0.05,"mem":16,"instances":2}]}`, status: 200, shape: dep, then: running("/g1/a", 2)}),
		rcall(rc{raml: "PUT /v2/groups/{group_id}?dryRun=true", method: "PUT", path: "/v2/groups/g1?dryRun=true", body: `{"apps":[{"id":"a","cmd":"sleep 600","cpus":0.05,"mem":16,"instances":3}]}`, status: 200, shape: shape(marathontest.DeploymentSteps)}),
		rcall(rc{raml: "PUT /v2/groups/{group_id} (malformed)", method: "PUT", path: "/v2/groups/g1", body: confMalform, status: 400, shape: malformed}),
		rcall(rc{raml: "PUT /v2/groups/{group_id} (invalid)", method: "PUT", path: "/v2/groups/g1", body: `{"apps":[{"id":"/elsewhere/a","cmd":"sleep 600"}]}`, status: 422, shape: invalid}),
		rcall(rc{raml: "PUT /v2/groups", method: "PUT", path: "/v2/groups", body: `{"scaleBy":1}`, status: 200, shape: dep, then: idle}),
		rcall(rc{raml: "PUT /v2/groups?dryRun=true", method: "PUT", path: "/v2/groups?dryRun=true", body: `{"id":"/","groups":[]}`, status: 200, shape: shape(marathontest.DeploymentSteps)}),
		rcall(rc{raml: "GET /v2/groups/versions", method: "GET", path: "/v2/groups/versions", status: 200, shape: shape(marathontest.Versions)}),
		rcall(rc{raml: "GET /v2/groups/{group_id}/versions", method: "GET", path: "/v2/groups/g1/versions", status: 200, shape: shape(marathontest.Versions)}),
		// The RAML marks PATCH deployable; GroupsResource.patchGroup
		// answers ok() without a body.
		rcall(rc{raml: "PATCH /v2/groups/{group_id}", method: "PATCH", path: "/v2/groups/g1", body: `{"enforceRole":false}`, status: 200, then: idle}),
		rcall(rc{raml: "PATCH /v2/groups/{group_id} (malformed)", method: "PATCH", path: "/v2/groups/g1", body: `{"enforceRole":`, status: 400, shape: malformed}),
		rcall(rc{raml: "DELETE /v2/groups/{group_id}", method: "DELETE", path: "/v2/groups/g2", status: 200, shape: dep, then: idle}),
		rcall(rc{raml: "DELETE /v2/groups/{group_id} (unknown)", method: "DELETE", path: "/v2/groups/g2", status: 404, shape: errShape}),

		// system
		rcall(rc{raml: "GET /v2/info", method: "GET", path: "/v2/info", status: 200, shape: shape(marathontest.Info),
			differs: "without --zk there is no ZooKeeper: zookeeper_config.zk is null (Marathon cannot run without one)", stadionStatus: 200,
			stadionShape: shape(marathontest.Info.With(map[string]marathontest.Shape{
				"zookeeper_config": marathontest.Info.Keys["zookeeper_config"].With(map[string]marathontest.Shape{"zk": marathontest.Nil}),
			}))}),
		rcall(rc{raml: "GET /v2/leader", method: "GET", path: "/v2/leader", status: 200, shape: shape(marathontest.Leader)}),
		rcall(rc{raml: "GET /v2/plugins", method: "GET", path: "/v2/plugins", status: 200, shape: shape(marathontest.Plugins)}),
		rcall(rc{raml: "GET /v2/plugins/{plugin_id}/{path} (unknown)", method: "GET", path: "/v2/plugins/none/x", status: 404, shape: errShape}),
		rcall(rc{raml: "PUT /v2/plugins/{plugin_id}/{path} (unknown)", method: "PUT", path: "/v2/plugins/none/x", body: `{}`, status: 404, shape: errShape}),
		rcall(rc{raml: "POST /v2/plugins/{plugin_id}/{path} (unknown)", method: "POST", path: "/v2/plugins/none/x", body: `{}`, status: 404, shape: errShape}),
		rcall(rc{raml: "DELETE /v2/plugins/{plugin_id}/{path} (unknown)", method: "DELETE", path: "/v2/plugins/none/x", status: 404, shape: errShape}),
		rcall(rc{raml: "GET /v2/events", method: "GET", path: "/v2/events", header: "Accept: text/event-stream", status: 200, stream: true}),
		rcall(rc{raml: "GET /v2/events (no Accept)", method: "GET", path: "/v2/events", status: 405}),
		rcall(rc{raml: "GET /ping", method: "GET", path: "/ping", status: 200, text: "pong"}),
		rcall(rc{raml: "GET /ping (application/json)", method: "GET", path: "/ping", header: "Accept: application/json", status: 200, shape: shape(marathontest.Str)}),
		rcall(rc{raml: "GET /metrics", method: "GET", path: "/metrics", status: 200, shape: shape(marathontest.Metrics)}),
		rcall(rc{raml: "GET /logging", method: "GET", path: "/logging", status: 200, shape: shape(marathontest.Loggers),
			differs: loggingDiffer, stadionStatus: http.StatusNotFound}),
		rcall(rc{raml: "POST /logging", method: "POST", path: "/logging", body: `{"level":"debug","logger":"mesosphere"}`, status: 200, shape: shape(marathontest.LoggerChange),
			differs: loggingDiffer, stadionStatus: http.StatusNotFound}),
		rcall(rc{raml: "POST /logging (invalid)", method: "POST", path: "/logging", body: `{"level":"loud"}`, status: 422,
			differs: loggingDiffer, stadionStatus: http.StatusNotFound}),

		// pods
		pod("HEAD /v2/pods", "HEAD", "/v2/pods", "", 200, nil, nil),
		pod("POST /v2/pods", "POST", "/v2/pods", confPodBody, 201, shape(marathontest.Pod), func(c *conformance, _ []byte) { c.learnPod("/p") }),
		pod("POST /v2/pods (exists)", "POST", "/v2/pods", confPodBody, 409, shape(marathontest.Error), nil),
		pod("POST /v2/pods (malformed)", "POST", "/v2/pods", confMalform, 400, shape(marathontest.Malformed), nil),
		pod("GET /v2/pods", "GET", "/v2/pods", "", 200, shape(marathontest.PodList), nil),
		pod("GET /v2/pods/::status", "GET", "/v2/pods/::status", "", 200, shape(marathontest.PodStatusList), nil),
		pod("GET /v2/pods/{id}", "GET", "/v2/pods/p", "", 200, shape(marathontest.Pod), nil),
		pod("GET /v2/pods/{id} (unknown)", "GET", "/v2/pods/none", "", 404, shape(marathontest.Error), nil),
		pod("PUT /v2/pods/{id}", "PUT", "/v2/pods/p", confPodBody, 200, shape(marathontest.Pod), func(c *conformance, _ []byte) { c.learnPod("/p") }),
		pod("GET /v2/pods/{id}::status", "GET", "/v2/pods/p::status", "", 200, shape(marathontest.PodStatus), nil),
		pod("GET /v2/pods/{id}::versions", "GET", "/v2/pods/p::versions", "", 200, shape(marathontest.Versions), nil),
		pod("GET /v2/pods/{id}::versions/{version}", "GET", "/v2/pods/p::versions/{podversion}", "", 200, shape(marathontest.Pod), nil),
		pod("DELETE /v2/pods/{id}::instances/{instance}", "DELETE", "/v2/pods/p::instances/{podinstance}", "", 200, shape(marathontest.PodInstance), nil),
		pod("DELETE /v2/pods/{id}::instances", "DELETE", "/v2/pods/p::instances", `["{podinstance}"]`, 200, shape(marathontest.Arr(marathontest.PodInstance)), nil),
		pod("DELETE /v2/pods/{id}", "DELETE", "/v2/pods/p", "", 202, nil, nil),
		pod("DELETE /v2/pods/{id} (unknown)", "DELETE", "/v2/pods/p", "", 404, shape(marathontest.Error), nil),

		// last: the root group, then leadership
		rcall(rc{raml: "DELETE /v2/groups", method: "DELETE", path: "/v2/groups", status: 200, shape: dep, then: idle}),
		rcall(rc{raml: "DELETE /v2/leader", method: "DELETE", path: "/v2/leader", status: 200, shape: shape(marathontest.Message)}),
	}
}

// TestConformance answers every call of Marathon's RAML (as far as a
// server without HA, pods and plugins can be asked it) and checks status
// and JSON shape against Marathon's. It fails on each difference but those
// documented in docs/migration.md, and logs how many calls match.
func TestConformance(t *testing.T) {
	t.Parallel()
	c := &conformance{env: start(t), vars: map[string]string{}}
	for _, s := range confSteps() {
		if s.do != nil {
			s.do(c)
			continue
		}
		c.run(*s.call)
	}
	t.Logf("%d of %d RAML calls match Marathon's status and shape", c.matched, c.calls)
	for _, d := range c.differ {
		t.Logf("differs on purpose: %s", d)
	}
}

// TestConformanceSecured answers the responses of the RAML's "secured"
// trait, which nearly every resource has: 401 without valid credentials,
// 403 for a principal without the right, both with Marathon's message
// body; /ping needs no credentials.
func TestConformanceSecured(t *testing.T) {
	t.Parallel()
	rules, err := acl.Parse([]byte(`
principals:
  - principal: viewer
    permissions:
      - allowed: [view]
        on: /
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.LocalAgents = 1
	cfg.HTTPCredentialsList = []auth.Credential{{Principal: "viewer", Secret: "v"}}
	cfg.ACL = func() *acl.ACL { return rules }
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c := &conformance{env: &env{t: t, srv: srv, url: srv.URL()}, vars: map[string]string{}}
	viewer := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("viewer:v"))
	wrong := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("viewer:x"))
	errShape := shape(marathontest.Error)
	for _, r := range []rc{
		{raml: "GET /v2/apps (no credentials)", method: "GET", path: "/v2/apps", status: 401, shape: errShape},
		{raml: "GET /v2/info (wrong password)", method: "GET", path: "/v2/info", header: wrong, status: 401, shape: errShape},
		{raml: "GET /v2/apps (viewer)", method: "GET", path: "/v2/apps", header: viewer, status: 200, shape: shape(marathontest.AppList)},
		{raml: "POST /v2/apps (viewer)", method: "POST", path: "/v2/apps", header: viewer, body: confApp, status: 403, shape: errShape},
		{raml: "DELETE /v2/groups (viewer)", method: "DELETE", path: "/v2/groups", header: viewer, status: 403, shape: errShape},
		{raml: "GET /ping (no credentials)", method: "GET", path: "/ping", status: 200, text: "pong"},
	} {
		c.run(r)
	}
	t.Logf("%d of %d secured calls match Marathon's status and shape", c.matched, c.calls)
}

// run sends one call and checks its answer in a subtest named after it.
func (c *conformance) run(r rc) {
	c.calls++
	path := c.expand(r.path)
	body := c.expand(r.body)
	status, shp := r.status, r.shape
	if r.differs != "" {
		status, shp = r.stadionStatus, r.stadionShape
		c.differ = append(c.differ, fmt.Sprintf("%s: Marathon %d, Stadion %d: %s", r.raml, r.status, status, r.differs))
	}
	var got resp
	ok := c.t.Run(r.raml, func(t *testing.T) {
		got = c.send(t, r.method, path, body, r.header, r.stream)
		checkAnswer(t, r, got, status, shp)
	})
	if ok && r.differs == "" {
		c.matched++
	}
	if r.then != nil && got.status == status {
		r.then(c, got.body)
	}
}

// checkAnswer reports each difference of got from the status and shape.
func checkAnswer(t *testing.T, r rc, got resp, status int, shp *marathontest.Shape) {
	t.Helper()
	if got.status != status {
		t.Errorf("%s %s: status %d, want %d; body %.300s", r.method, r.path, got.status, status, got.body)
		return
	}
	ct := got.header.Get("Content-Type")
	switch {
	case r.stream:
		if !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("Content-Type %q, want text/event-stream", ct)
		}
	case r.plain:
		if !strings.HasPrefix(ct, "text/plain") || !strings.Contains(string(got.body), "\t") {
			t.Errorf("Content-Type %q, body %q, want text/plain task lines", ct, got.body)
		}
	case r.text != "":
		if string(got.body) != r.text {
			t.Errorf("body %q, want %q", got.body, r.text)
		}
	case shp != nil:
		if !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		for _, p := range marathontest.Check(got.body, *shp) {
			t.Errorf("%s %s: %s", r.method, r.path, p)
		}
		if _, deployable := shp.Keys["deploymentId"]; !deployable {
			return
		}
		if h := got.header.Get("Marathon-Deployment-Id"); h == "" || !strings.Contains(string(got.body), h) {
			t.Errorf("Marathon-Deployment-Id %q, body %s", h, got.body)
		}
	}
}

// send is env.do for a subtest; a stream is read up to its header only.
func (c *conformance) send(t *testing.T, method, path, body, header string, stream bool) resp {
	if !stream {
		var headers []string
		if header != "" {
			headers = append(headers, header)
		}
		sub := &env{t: t, srv: c.srv, url: c.url}
		return sub.do(method, path, body, headers...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, v, _ := strings.Cut(header, ":")
	req.Header.Set(k, strings.TrimSpace(v))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	cancel()
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return resp{status: res.StatusCode, header: res.Header}
}

// expand fills the values learnt so far into s.
func (c *conformance) expand(s string) string {
	for k, v := range c.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// learnPod waits for the one instance of pod id to run and records its
// id as {podinstance} and the pod's version as {podversion}.
func (c *conformance) learnPod(id string) {
	c.eventually("pod "+id+" running", func() error {
		var st struct {
			Spec      struct{ Version string }
			Instances []struct{ ID, Status string }
		}
		r := c.do("GET", "/v2/pods"+id+"::status", "")
		if err := json.Unmarshal(r.body, &st); err != nil {
			return fmt.Errorf("status %d %s: %w", r.status, r.body, err)
		}
		if len(st.Instances) != 1 || st.Instances[0].Status != "STABLE" {
			return fmt.Errorf("instances %+v", st.Instances)
		}
		c.vars["podinstance"], c.vars["podversion"] = st.Instances[0].ID, st.Spec.Version
		return nil
	})
}

// learnTasks records the id of one of id's tasks as {task} and its
// version as {version}.
func (c *conformance) learnTasks(id string) {
	a := c.getApp(id)
	c.vars["version"] = a.Version
	ids := taskIDs(a.Tasks)
	if len(ids) > 0 {
		c.vars["task"] = ids[0]
	}
}

// learnDeployment waits for id's deployment and records it as
// {deployment}.
func (c *conformance) learnDeployment(id string) {
	c.eventually(id+" is in a deployment", func() error {
		a := c.getApp(id)
		if len(a.Deployments) == 0 {
			return fmt.Errorf("no deployment")
		}
		c.vars["deployment"] = a.Deployments[0].ID
		return nil
	})
}

// queued waits until GET /v2/queue lists app id.
func (c *conformance) queued(id string) {
	c.eventually(id+" is queued", func() error {
		r := c.do(http.MethodGet, "/v2/queue", "")
		if !strings.Contains(string(r.body), `"id":"`+id+`"`) {
			return fmt.Errorf("queue %s", r.body)
		}
		return nil
	})
}

// scale sets id's instances to n and waits until they run.
func (c *conformance) scale(id string, n int) {
	c.t.Helper()
	c.want(c.do(http.MethodPut, "/v2/apps"+id, fmt.Sprintf(`{"instances":%d}`, n)), http.StatusOK)
	c.idle()
	c.runningWithin(id, n, 2*waitFor)
	c.learnTasks(id)
}
