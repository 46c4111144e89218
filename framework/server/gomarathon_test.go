package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon/marathontest"
	"github.com/stadionhq/stadion/internal/testenv"
)

// The tests in this file drive Stadion the way gambol99/go-marathon, a
// common Go client of Marathon, does. go-marathon is not on the module
// proxy, so what it sends and what it reads back is written down here as
// facts, taken from its source at 94e7bcb (its last commit), and the test
// builds its requests and checks its answers with code of its own.
//
// What go-marathon sends:
//   - Every call carries Content-Type and Accept application/json, and a
//     path with the app or group id without its leading slash.
//   - An app body has its keys in a fixed order (gmAppLayout). A key is
//     written when the caller set it, with two exceptions: "ports" and
//     "dependencies" are always written, null when unset, and a few keys
//     are dropped when zero (among them "id", and "cpus", which cannot be
//     sent as 0). "env" and "secrets" come last and only when not empty.
//   - A scale of app /a to 3 instances is a PUT /v2/apps/a of exactly
//     {"id":"/a","instances":3,"ports":null,"dependencies":null}: no
//     other key, so Marathon must keep everything else of the app.
//   - A group body always has id, apps, dependencies and groups, null when
//     unset; CreateGroup ignores the answer.
//
// What go-marathon reads: it decodes answers and events with
// encoding/json into typed values. A key it does not know is ignored, a
// missing or null key leaves its value zero, and a key whose value has
// another JSON type than its field (a string for a number, 1.5 for an
// integer) fails the whole decode. The gm...Reads shapes list the keys it
// reads with the JSON types of their fields; gmDecodes checks a body
// against them, so that a Stadion answer go-marathon would fail to decode
// fails the test.
//
// Its event listener opens GET /v2/events as an SSE stream without an
// event_type filter, reads eventType from each event's data and decodes
// the event only when the type is one of the nineteen of gmEventKeys;
// other types (instance_changed_event, for one) are logged and dropped.

// gmLayout is how go-marathon writes one kind of object: its keys in the
// order it writes them, the keys it writes as null when the caller did not
// set them, and the keys it drops when their value is zero.
type gmLayout struct {
	order    []string
	always   []string
	dropZero []string
}

// gmAppLayout is an app body.
var gmAppLayout = &gmLayout{
	order: []string{
		"id", "cmd", "args", "constraints", "container", "cpus", "gpus", "disk", "networks",
		"executor", "healthChecks", "readinessChecks", "instances", "mem", "tasks", "ports",
		"portDefinitions", "requirePorts", "backoffSeconds", "backoffFactor",
		"maxLaunchDelaySeconds", "taskKillGracePeriodSeconds", "deployments",
		"readinessCheckResults", "dependencies", "tasksRunning", "tasksStaged", "tasksHealthy",
		"tasksUnhealthy", "taskStats", "user", "upgradeStrategy", "unreachableStrategy",
		"killSelection", "uris", "version", "versionInfo", "labels", "acceptedResourceRoles",
		"lastTaskFailure", "fetch", "ipAddress", "residency", "role", "env", "secrets",
	},
	always: []string{"ports", "dependencies"},
	dropZero: []string{
		"id", "cpus", "tasks", "deployments", "tasksRunning", "tasksStaged", "tasksHealthy",
		"tasksUnhealthy", "taskStats", "user", "killSelection", "version",
		"acceptedResourceRoles", "env", "secrets",
	},
}

// gmGroupLayout is a group body: all four keys every time.
var gmGroupLayout = &gmLayout{
	order:  []string{"id", "apps", "dependencies", "groups"},
	always: []string{"id", "apps", "dependencies", "groups"},
}

// gmHealthCheckLayout is an item of an app's healthChecks.
var gmHealthCheckLayout = &gmLayout{
	order: []string{
		"command", "portIndex", "port", "path", "maxConsecutiveFailures", "protocol",
		"gracePeriodSeconds", "intervalSeconds", "timeoutSeconds", "ignoreHttp1xx",
	},
	dropZero: []string{"protocol", "gracePeriodSeconds", "intervalSeconds", "timeoutSeconds"},
}

// gmPortDefinitionLayout is an item of an app's portDefinitions.
var gmPortDefinitionLayout = &gmLayout{
	order:    []string{"port", "protocol", "name", "labels"},
	dropZero: []string{"protocol", "name"},
}

// gmFields are the keys a caller set, with their values.
type gmFields map[string]any

// gmObject is a request object: fields written as layout says.
type gmObject struct {
	layout *gmLayout
	fields gmFields
}

// MarshalJSON writes the fields in the layout's order. It refuses a key
// the layout does not have, so a body cannot carry a key go-marathon
// would not send.
func (o gmObject) MarshalJSON() ([]byte, error) {
	for k := range o.fields {
		if !slices.Contains(o.layout.order, k) {
			return nil, fmt.Errorf("go-marathon writes no key %q in this object", k)
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range o.layout.order {
		value, err := o.value(k)
		if err != nil {
			return nil, err
		}
		if value == nil {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		b.Write(key)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// value is the JSON of key k, or nil when k is not written.
func (o gmObject) value(k string) ([]byte, error) {
	v, set := o.fields[k]
	if !set {
		if slices.Contains(o.layout.always, k) {
			return []byte("null"), nil
		}
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k, err)
	}
	if slices.Contains(o.layout.dropZero, k) && isZeroJSON(b) {
		return nil, nil
	}
	return b, nil
}

// isZeroJSON reports whether b is a zero value: 0, "", false, null or an
// empty array or object.
func isZeroJSON(b []byte) bool {
	switch string(b) {
	case "0", `""`, "false", "null", "[]", "{}":
		return true
	}
	return false
}

// gmApp is an app body with the fields a caller set.
func gmApp(f gmFields) gmObject { return gmObject{layout: gmAppLayout, fields: f} }

// gmGroup is a group body of apps; its dependencies and groups are unset.
func gmGroup(id string, apps ...gmObject) gmObject {
	return gmObject{layout: gmGroupLayout, fields: gmFields{"id": id, "apps": apps}}
}

// gmScale is the body of ScaleApplicationInstances: only the id, with a
// leading slash, and the instances are set.
func gmScale(id string, instances int) gmObject {
	return gmApp(gmFields{"id": "/" + strings.TrimPrefix(id, "/"), "instances": instances})
}

// The JSON types go-marathon's decoder accepts. Every key may be missing
// or null.
var (
	gmStr  = orNull(marathontest.Str)
	gmNum  = orNull(marathontest.Num)
	gmInt  = orNull(marathontest.Int)
	gmBool = orNull(marathontest.Bool)
	gmAny  = orNull(marathontest.AnyObject)
)

func orNull(s marathontest.Shape) marathontest.Shape { return marathontest.Union(s, marathontest.Nil) }

// gmReads is an object of which go-marathon reads keys.
func gmReads(keys map[string]marathontest.Shape) marathontest.Shape {
	opt := map[string]marathontest.Shape{}
	for k, s := range keys {
		opt[k] = orNull(s)
	}
	return marathontest.AnyObject.Maybe(opt)
}

// gmArr is a list go-marathon reads into a slice.
func gmArr(item marathontest.Shape) marathontest.Shape {
	return marathontest.Arr(orNull(item))
}

// gmMap is an object go-marathon reads into a map.
func gmMap(value marathontest.Shape) marathontest.Shape {
	return marathontest.Map(orNull(value))
}

// gmHealthCheckReads is an item of an app's healthChecks: the counts are
// integers.
var gmHealthCheckReads = gmReads(map[string]marathontest.Shape{
	"command":   gmReads(map[string]marathontest.Shape{"value": gmStr}),
	"portIndex": gmInt, "port": gmInt, "path": gmStr, "maxConsecutiveFailures": gmInt,
	"protocol": gmStr, "gracePeriodSeconds": gmInt, "intervalSeconds": gmInt,
	"timeoutSeconds": gmInt, "ignoreHttp1xx": gmBool,
})

// gmTaskReads is an item of an app's tasks.
var gmTaskReads = gmReads(map[string]marathontest.Shape{
	"id": gmStr, "appId": gmStr, "host": gmStr, "slaveId": gmStr, "stagedAt": gmStr,
	"startedAt": gmStr, "state": gmStr, "version": gmStr,
	"ports": gmArr(gmInt), "servicePorts": gmArr(gmInt),
	"ipAddresses": gmArr(gmReads(map[string]marathontest.Shape{"ipAddress": gmStr, "protocol": gmStr})),
	"healthCheckResults": gmArr(gmReads(map[string]marathontest.Shape{
		"alive": gmBool, "consecutiveFailures": gmInt, "firstSuccess": gmStr,
		"lastFailure": gmStr, "lastFailureCause": gmStr, "lastSuccess": gmStr, "taskId": gmStr,
	})),
})

// gmAppReads is an app, in an answer or in an api_post_event. Container,
// networks, readiness checks and their results and ipAddress are only
// checked to be objects (or lists of them). env is read on its own: each
// value must be a string or {"secret": name}; a null value fails.
var gmAppReads = gmReads(map[string]marathontest.Shape{
	"id": gmStr, "cmd": gmStr, "args": gmArr(gmStr), "constraints": gmArr(gmArr(gmStr)),
	"container": gmAny, "cpus": gmNum, "gpus": gmNum, "disk": gmNum, "networks": gmArr(gmAny),
	"env": marathontest.Map(marathontest.Union(marathontest.Str,
		marathontest.Obj(map[string]marathontest.Shape{"secret": marathontest.Str}))),
	"executor": gmStr, "healthChecks": gmArr(gmHealthCheckReads), "readinessChecks": gmArr(gmAny),
	"instances": gmInt, "mem": gmNum, "tasks": gmArr(gmTaskReads), "ports": gmArr(gmInt),
	"portDefinitions": gmArr(gmReads(map[string]marathontest.Shape{
		"port": gmInt, "protocol": gmStr, "name": gmStr, "labels": gmMap(gmStr),
	})),
	"requirePorts": gmBool, "backoffSeconds": gmNum, "backoffFactor": gmNum,
	"maxLaunchDelaySeconds": gmNum, "taskKillGracePeriodSeconds": gmNum,
	"deployments": gmArr(gmMap(gmStr)), "readinessCheckResults": gmArr(gmAny),
	"dependencies": gmArr(gmStr), "tasksRunning": gmInt, "tasksStaged": gmInt,
	"tasksHealthy": gmInt, "tasksUnhealthy": gmInt,
	"taskStats": gmMap(gmReads(map[string]marathontest.Shape{
		"stats": gmReads(map[string]marathontest.Shape{"counts": gmMap(gmInt), "lifeTime": gmMap(gmNum)}),
	})),
	"user": gmStr,
	"upgradeStrategy": gmReads(map[string]marathontest.Shape{
		"minimumHealthCapacity": gmNum, "maximumOverCapacity": gmNum,
	}),
	// The string form is Marathon's "disabled".
	"unreachableStrategy": marathontest.Union(marathontest.Str, gmReads(map[string]marathontest.Shape{
		"inactiveAfterSeconds": gmNum, "expungeAfterSeconds": gmNum,
	})),
	"killSelection": gmStr, "uris": gmArr(gmStr), "version": gmStr,
	"versionInfo": gmReads(map[string]marathontest.Shape{"lastScalingAt": gmStr, "lastConfigChangeAt": gmStr}),
	"labels":      gmMap(gmStr), "acceptedResourceRoles": gmArr(gmStr),
	"lastTaskFailure": gmReads(map[string]marathontest.Shape{
		"appId": gmStr, "host": gmStr, "message": gmStr, "slaveId": gmStr,
		"state": gmStr, "taskId": gmStr, "timestamp": gmStr, "version": gmStr,
	}),
	"fetch": gmArr(gmReads(map[string]marathontest.Shape{
		"uri": gmStr, "executable": gmBool, "extract": gmBool, "cache": gmBool,
	})),
	"ipAddress": gmAny,
	"residency": gmReads(map[string]marathontest.Shape{
		"taskLostBehavior": gmStr, "relaunchEscalationTimeoutSeconds": gmInt,
	}),
	"secrets": gmMap(gmReads(map[string]marathontest.Shape{"source": gmStr})),
	"role":    gmStr,
})

// gmGroupReads is a group with its apps and, to a depth of five, its
// subgroups.
var gmGroupReads = gmGroupDepth(5)

func gmGroupDepth(depth int) marathontest.Shape {
	sub := gmAny
	if depth > 0 {
		sub = gmGroupDepth(depth - 1)
	}
	return gmReads(map[string]marathontest.Shape{
		"id": gmStr, "apps": gmArr(gmAppReads), "dependencies": gmArr(gmStr), "groups": gmArr(sub),
	})
}

// gmDeploymentIDReads is the answer of a deployable call.
var gmDeploymentIDReads = gmReads(map[string]marathontest.Shape{"deploymentId": gmStr, "version": gmStr})

// gmStepReads is a deployment step. go-marathon's field for the actions
// has no JSON name, so encoding/json matches the key case-insensitively;
// Marathon writes "actions". Marathon up to 1.1.1 named the kind of an
// action "type", later releases "action"; go-marathon reads both keys.
var gmStepReads = gmReads(map[string]marathontest.Shape{
	"actions": gmArr(gmReads(map[string]marathontest.Shape{"action": gmStr, "type": gmStr, "app": gmStr})),
})

// gmPlanReads is the deployment plan of a deployment event.
var gmPlanReads = gmReads(map[string]marathontest.Shape{
	"id": gmStr, "version": gmStr, "original": gmGroupReads, "target": gmGroupReads,
	"steps": gmArr(gmStepReads),
})

// gmHealthCheckEventReads is the healthCheck of the three health check
// events: go-marathon reads its counts as float64, so any number does.
var gmHealthCheckEventReads = gmReads(map[string]marathontest.Shape{
	"gracePeriodSeconds": gmNum, "intervalSeconds": gmNum, "maxConsecutiveFailures": gmNum,
	"path": gmStr, "portIndex": gmNum, "protocol": gmStr, "timeoutSeconds": gmNum,
})

// gmEventKeys lists, by event type, the keys go-marathon reads from an
// event with their JSON types, besides eventType and timestamp, which it
// reads from every event (gmEventShape adds them). Every event must carry
// all of them, except the keys in gmEventMayLack; an event that lacks one
// decodes, but leaves a go-marathon user with an empty value.
var gmEventKeys = map[string]map[string]marathontest.Shape{
	"api_post_event": {"clientIp": gmStr, "uri": gmStr, "appDefinition": gmAppReads},
	"status_update_event": {
		"slaveId": gmStr, "taskId": gmStr, "taskStatus": gmStr, "message": gmStr, "appId": gmStr,
		"host": gmStr, "ports": gmArr(gmInt), "version": gmStr,
		"ipAddresses": gmArr(gmReads(map[string]marathontest.Shape{"ipAddress": gmStr, "protocol": gmStr})),
	},
	"framework_message_event":     {"executorId": gmStr, "message": gmStr, "slaveId": gmStr},
	"subscribe_event":             gmSubscriptionKeys,
	"unsubscribe_event":           gmSubscriptionKeys,
	"event_stream_attached":       gmStreamKeys,
	"event_stream_detached":       gmStreamKeys,
	"add_health_check_event":      gmHealthCheckKeys,
	"remove_health_check_event":   gmHealthCheckKeys,
	"failed_health_check_event":   gmHealthCheckKeys,
	"health_status_changed_event": {"appId": gmStr, "taskId": gmStr, "version": gmStr, "alive": gmBool},
	"group_change_success":        {"groupId": gmStr, "version": gmStr},
	"group_change_failed":         {"groupId": gmStr, "version": gmStr, "reason": gmStr},
	"deployment_success":          {"id": gmStr, "plan": gmPlanReads},
	"deployment_failed":           {"id": gmStr},
	"deployment_info":             gmStepKeys,
	"deployment_step_success":     gmStepKeys,
	"deployment_step_failure":     gmStepKeys,
	"app_terminated_event":        {"appId": gmStr},
}

// Keys shared by several event types.
var (
	gmSubscriptionKeys = map[string]marathontest.Shape{"callbackUrl": gmStr, "clientIp": gmStr}
	gmStreamKeys       = map[string]marathontest.Shape{"remoteAddress": gmStr}
	gmHealthCheckKeys  = map[string]marathontest.Shape{"appId": gmStr, "healthCheck": gmHealthCheckEventReads}
	gmStepKeys         = map[string]marathontest.Shape{"currentStep": gmStepReads, "plan": gmPlanReads}
)

// gmEventMayLack lists the keys of gmEventKeys an event may lack, because
// Marathon does not write them: its remove_health_check_event has only
// appId besides eventType and timestamp, and since Marathon 1.4 its
// health_status_changed_event names the instance (instanceId) rather
// than a task.
var gmEventMayLack = map[string][]string{
	"remove_health_check_event":   {"healthCheck"},
	"health_status_changed_event": {"taskId"},
}

// gmEventShape is what an event of type typ must look like: eventType,
// timestamp and the keys of gmEventKeys present and of their types.
func gmEventShape(typ string) marathontest.Shape {
	keys := map[string]marathontest.Shape{"eventType": gmStr, "timestamp": gmStr}
	for k, s := range gmEventKeys[typ] {
		keys[k] = s
	}
	need := map[string]marathontest.Shape{}
	for k, s := range keys {
		if !slices.Contains(gmEventMayLack[typ], k) {
			need[k] = s
		}
	}
	return gmReads(keys).With(need)
}

// gmDecodes fails the test when go-marathon could not decode body as a
// value of shape reads.
func gmDecodes(t *testing.T, what string, body []byte, reads marathontest.Shape) {
	t.Helper()
	if diff := marathontest.Check(body, reads); len(diff) > 0 {
		t.Fatalf("go-marathon cannot decode %s: %v; body %s", what, diff, body)
	}
}

// gmAppView is the part of a decoded app the test looks at.
type gmAppView struct {
	app
	TasksHealthy int `json:"tasksHealthy"`
	VersionInfo  struct {
		LastConfigChangeAt string `json:"lastConfigChangeAt"`
	} `json:"versionInfo"`
}

// gmClient sends requests as go-marathon does.
type gmClient struct {
	t   *testing.T
	url string
}

func (c *gmClient) call(method, path string, body any) []byte {
	c.t.Helper()
	status, b := c.try(method, path, body)
	if status < 200 || status > 299 {
		c.t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	return b
}

// try sends body, if any, as JSON and returns the answer's status and
// body.
func (c *gmClient) try(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, h := range []string{"Content-Type", "Accept"} {
		req.Header.Set(h, "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res.StatusCode, b
}

// decode checks that go-marathon decodes b as reads, then reads it into
// view.
func (c *gmClient) decode(what string, b []byte, reads marathontest.Shape, view any) {
	c.t.Helper()
	gmDecodes(c.t, what, b, reads)
	if err := json.Unmarshal(b, view); err != nil {
		c.t.Fatalf("%s: decode %s: %v", what, b, err)
	}
}

// deployable sends a call that answers a deployment id.
func (c *gmClient) deployable(method, path string, body any) deploymentResult {
	c.t.Helper()
	var res deploymentResult
	c.decode(method+" "+path, c.call(method, path, body), gmDeploymentIDReads, &res)
	return res
}

// appPath is /v2/apps/{id} as go-marathon writes it.
func appPath(id string) string { return "/v2/apps/" + strings.TrimPrefix(id, "/") }

// Scale sends go-marathon's scale of app id to n instances.
func (c *gmClient) Scale(id string, n int) deploymentResult {
	return c.deployable(http.MethodPut, appPath(id), gmScale(id, n))
}

// CreateApp posts an app and reads the app answered.
func (c *gmClient) CreateApp(a gmObject) gmAppView {
	c.t.Helper()
	var res gmAppView
	c.decode("POST /v2/apps", c.call(http.MethodPost, "/v2/apps", a), gmAppReads, &res)
	return res
}

// App reads GET /v2/apps/{id}, which go-marathon decodes as {"app": app}.
func (c *gmClient) App(id string) gmAppView {
	c.t.Helper()
	var wrap struct {
		App gmAppView `json:"app"`
	}
	reads := gmReads(map[string]marathontest.Shape{"app": gmAppReads})
	c.decode("GET "+appPath(id), c.call(http.MethodGet, appPath(id), nil), reads, &wrap)
	return wrap.App
}

// DeleteApp deletes app id.
func (c *gmClient) DeleteApp(id string) deploymentResult {
	return c.deployable(http.MethodDelete, appPath(id), nil)
}

// CreateGroup posts a group; go-marathon does not read the answer.
func (c *gmClient) CreateGroup(g gmObject) { c.call(http.MethodPost, "/v2/groups", g) }

// UpdateGroup puts group g as group id.
func (c *gmClient) UpdateGroup(id string, g gmObject) deploymentResult {
	return c.deployable(http.MethodPut, "/v2/groups/"+strings.TrimPrefix(id, "/"), g)
}

// GroupPorts reads GET /v2/groups/{id} and maps each of its apps to its first
// service port.
func (c *gmClient) GroupPorts(id string) map[string]int {
	c.t.Helper()
	var g struct {
		Apps []gmAppView `json:"apps"`
	}
	path := "/v2/groups/" + strings.TrimPrefix(id, "/")
	c.decode("GET "+path, c.call(http.MethodGet, path, nil), gmGroupReads, &g)
	out := map[string]int{}
	for _, a := range g.Apps {
		out[a.ID] = gmServicePorts(a)[0]
	}
	return out
}

// gmSeen is the part of a decoded event the test looks at.
type gmSeen struct {
	EventType   string `json:"eventType"`
	ID          string `json:"id"`
	GroupID     string `json:"groupId"`
	Version     string `json:"version"`
	Reason      string `json:"reason"`
	AppID       string `json:"appId"`
	Alive       bool   `json:"alive"`
	TaskStatus  string `json:"taskStatus"`
	TaskID      string `json:"taskId"`
	Ports       []int  `json:"ports"`
	HealthCheck *struct {
		Path string `json:"path"`
	} `json:"healthCheck"`
	Plan *struct {
		ID string `json:"id"`
	} `json:"plan"`
	CurrentStep   *json.RawMessage `json:"currentStep"`
	AppDefinition *struct {
		ID        string `json:"id"`
		Instances *int   `json:"instances"`
	} `json:"appDefinition"`
}

// gmListener collects the events of /v2/events as go-marathon's listener
// sees them: the types it knows, checked against gmEventShape, and counts
// of the types it drops.
type gmListener struct {
	mu      sync.Mutex
	events  []gmSeen
	dropped map[string]int
	errs    []string
	notify  chan struct{}
	// from is the first event await looks at (see mark).
	from int
}

// mark makes await look only at the events that arrive from now on.
func (l *gmListener) mark() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.from = len(l.events)
}

// gmListen opens /v2/events with no event_type filter and feeds every
// event to the listener.
func (e *env) gmListen() *gmListener {
	e.t.Helper()
	s := e.stream("/v2/events")
	if s.status != http.StatusOK {
		e.t.Fatalf("GET /v2/events: %d", s.status)
	}
	l := &gmListener{dropped: map[string]int{}, notify: make(chan struct{}, 1)}
	go func() {
		for f := range s.frames {
			l.handle([]byte(f.data))
		}
	}()
	return l
}

// handle takes one event's data.
func (l *gmListener) handle(data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var head struct {
		EventType string `json:"eventType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		l.errs = append(l.errs, fmt.Sprintf("no event type in %s: %v", data, err))
		return
	}
	if _, known := gmEventKeys[head.EventType]; !known {
		l.dropped[head.EventType]++
		return
	}
	if diff := marathontest.Check(data, gmEventShape(head.EventType)); len(diff) > 0 {
		l.errs = append(l.errs, fmt.Sprintf("%s: %v in %s", head.EventType, diff, data))
		return
	}
	var ev gmSeen
	if err := json.Unmarshal(data, &ev); err != nil {
		l.errs = append(l.errs, fmt.Sprintf("%s: %v", data, err))
		return
	}
	l.events = append(l.events, ev)
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// await waits for an event of type typ for which match is true.
func (l *gmListener) await(t *testing.T, typ string, match func(gmSeen) bool) gmSeen {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		l.mu.Lock()
		for _, ev := range l.events[l.from:] {
			if ev.EventType == typ && match(ev) {
				l.mu.Unlock()
				return ev
			}
		}
		l.mu.Unlock()
		select {
		case <-l.notify:
		case <-timer.C:
			l.mu.Lock()
			defer l.mu.Unlock()
			var seen []string
			for _, ev := range l.events {
				seen = append(seen, ev.EventType)
			}
			t.Fatalf("no matching %s within %v; seen %v, dropped %v, errors %v", typ, waitFor, seen, l.dropped, l.errs)
		}
	}
}

// TestGoMarathonScaleBody pins the bytes of go-marathon's requests that
// TestGoMarathonClient sends.
func TestGoMarathonScaleBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		body gmObject
		want string
	}{
		{name: "scale", body: gmScale("gm/app", 3),
			want: `{"id":"/gm/app","instances":3,"ports":null,"dependencies":null}`},
		{name: "group", body: gmGroup("/g", gmApp(gmFields{"id": "a"})),
			want: `{"id":"/g","apps":[{"id":"a","ports":null,"dependencies":null}],"dependencies":null,"groups":null}`},
		{name: "zero cpus and empty env dropped", body: gmApp(gmFields{"id": "a", "cpus": 0.0, "env": map[string]string{}}),
			want: `{"id":"a","ports":null,"dependencies":null}`},
		{name: "env last", body: gmApp(gmFields{"env": map[string]string{"A": "1"}, "cpus": 0.5, "id": "a", "instances": 0}),
			want: `{"id":"a","cpus":0.5,"instances":0,"ports":null,"dependencies":null,"env":{"A":"1"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("body %s, want %s", b, tc.want)
			}
		})
	}
	if _, err := json.Marshal(gmApp(gmFields{"name": "a"})); err == nil {
		t.Errorf("an app body with a key go-marathon does not write marshals")
	}
}

// TestGoMarathonReads checks the shapes of what go-marathon reads against
// bodies its decoder takes and bodies it refuses.
func TestGoMarathonReads(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		shape marathontest.Shape
		fails bool
	}{
		{name: "app with nulls and unknown keys", shape: gmAppReads,
			body: `{"id":"/a","cmd":null,"cpus":1,"instances":2,"ports":null,"env":{"A":"1","B":{"secret":"s"}},"unknown":[1]}`},
		{name: "fractional instances", shape: gmAppReads, body: `{"instances":1.5}`, fails: true},
		{name: "cpus as a string", shape: gmAppReads, body: `{"cpus":"1"}`, fails: true},
		{name: "null env value", shape: gmAppReads, body: `{"env":{"A":null}}`, fails: true},
		{name: "task port as a string", shape: gmAppReads, body: `{"tasks":[{"ports":["1"]}]}`, fails: true},
		{name: "numeric deployment id in a group app", shape: gmGroupReads, body: `{"apps":[{"deployments":[{"id":1}]}]}`, fails: true},
		{name: "unreachableStrategy disabled", shape: gmAppReads, body: `{"unreachableStrategy":"disabled"}`},
		{name: "event health check path", shape: gmEventShape("add_health_check_event"),
			body: `{"eventType":"add_health_check_event","timestamp":"t","appId":"/a","healthCheck":{"path":5}}`, fails: true},
		{name: "event health check counts are floats", shape: gmEventShape("add_health_check_event"),
			body: `{"eventType":"add_health_check_event","timestamp":"t","appId":"/a","healthCheck":{"intervalSeconds":1.5}}`},
		{name: "event lacking a key", shape: gmEventShape("group_change_success"),
			body: `{"eventType":"group_change_success","timestamp":"t","groupId":"/"}`, fails: true},
		{name: "removed health check without it", shape: gmEventShape("remove_health_check_event"),
			body: `{"eventType":"remove_health_check_event","timestamp":"t","appId":"/a"}`},
		{name: "plan steps as strings", shape: gmEventShape("deployment_success"),
			body: `{"eventType":"deployment_success","timestamp":"t","id":"d","plan":{"steps":["x"]}}`, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diff := marathontest.Check([]byte(tc.body), tc.shape)
			if failed := len(diff) > 0; failed != tc.fails {
				t.Errorf("Check(%s) = %v, want failure %v", tc.body, diff, tc.fails)
			}
		})
	}
}

// TestGoMarathonClient drives Stadion as go-marathon does: a scale sent
// with its explicit nulls keeps the tasks, two apps of one group with port
// 0 get distinct service ports (and keep them, with their tasks, when the
// group is sent again with more instances), and a listener on every event
// type receives the group (success and failure), deployment (info, step,
// success, failure), status, instance and health events, each with the
// keys go-marathon reads, of the types it reads them as.
func TestGoMarathonClient(t *testing.T) {
	t.Parallel()
	e := start(t)
	bin := testenv.TestServer(t)
	c := &gmClient{t: t, url: e.url}
	events := e.gmListen()
	events.await(t, "event_stream_attached", func(gmSeen) bool { return true })

	created := c.CreateApp(gmHealthApp("/gm/app", bin, 2))
	if created.ID != "/gm/app" {
		t.Fatalf("created %+v", created)
	}
	events.await(t, "group_change_success", func(ev gmSeen) bool { return ev.Version != "" && ev.GroupID != "" })
	events.await(t, "add_health_check_event", func(ev gmSeen) bool {
		return ev.AppID == "/gm/app" && ev.HealthCheck != nil && ev.HealthCheck.Path == "/healthcheck"
	})
	events.await(t, "health_status_changed_event", func(ev gmSeen) bool { return ev.AppID == "/gm/app" && ev.Alive })
	before := c.healthy(e, "/gm/app", 2)

	// The scale body has only id and instances besides its two nulls: the
	// tasks stay, the port stays, the config does not change.
	events.mark()
	dep := c.Scale("/gm/app", 3)
	events.await(t, "deployment_success", func(ev gmSeen) bool { return ev.ID == dep.DeploymentID && ev.Plan != nil })
	after := c.healthy(e, "/gm/app", 3)
	for _, id := range taskIDs(before.Tasks) {
		if !slices.Contains(taskIDs(after.Tasks), id) {
			t.Errorf("scale replaced task %s: before %v, after %v", id, taskIDs(before.Tasks), taskIDs(after.Tasks))
		}
	}
	if gmServicePorts(after)[0] != gmServicePorts(before)[0] || after.VersionInfo.LastConfigChangeAt != before.VersionInfo.LastConfigChangeAt {
		t.Errorf("scale changed the config: ports %v -> %v, lastConfigChangeAt %s -> %s",
			gmServicePorts(before), gmServicePorts(after), before.VersionInfo.LastConfigChangeAt, after.VersionInfo.LastConfigChangeAt)
	}
	events.await(t, "deployment_info", func(ev gmSeen) bool {
		return ev.Plan != nil && ev.Plan.ID == dep.DeploymentID && ev.CurrentStep != nil
	})
	events.await(t, "deployment_step_success", func(ev gmSeen) bool { return ev.Plan != nil && ev.Plan.ID == dep.DeploymentID })
	events.await(t, "status_update_event", func(ev gmSeen) bool {
		return ev.AppID == "/gm/app" && ev.TaskStatus == "TASK_RUNNING" && !slices.Contains(taskIDs(before.Tasks), ev.TaskID) && len(ev.Ports) == 1
	})

	// A group of two apps with port 0, created and then sent again with
	// more instances.
	events.await(t, "api_post_event", func(ev gmSeen) bool {
		return ev.AppDefinition != nil && ev.AppDefinition.ID == "/gm/app" && ev.AppDefinition.Instances != nil && *ev.AppDefinition.Instances == 3
	})
	events.mark()
	c.CreateGroup(gmGroup("/gm/grp", gmPlainApp("a", 1), gmPlainApp("b", 1)))
	events.await(t, "group_change_success", func(ev gmSeen) bool { return strings.HasPrefix("/gm/grp", ev.GroupID) && ev.GroupID != "" })
	e.idle()
	ports := c.GroupPorts("/gm/grp")
	if len(ports) != 2 || ports["/gm/grp/a"] == ports["/gm/grp/b"] || ports["/gm/grp/a"] == 0 || ports["/gm/grp/b"] == 0 ||
		ports["/gm/grp/a"] == gmServicePorts(after)[0] || ports["/gm/grp/b"] == gmServicePorts(after)[0] {
		t.Errorf("service ports of the group %v and of /gm/app %v, want distinct", ports, gmServicePorts(after))
	}
	running := map[string][]string{}
	for _, id := range []string{"/gm/grp/a", "/gm/grp/b"} {
		running[id] = taskIDs(e.running(id, 1).Tasks)
	}
	events.mark()
	up := c.UpdateGroup("/gm/grp", gmGroup("/gm/grp", gmPlainApp("a", 2), gmPlainApp("b", 2)))
	events.await(t, "group_change_success", func(ev gmSeen) bool { return ev.Version == up.Version })
	events.await(t, "deployment_success", func(ev gmSeen) bool { return ev.ID == up.DeploymentID })
	if again := c.GroupPorts("/gm/grp"); again["/gm/grp/a"] != ports["/gm/grp/a"] || again["/gm/grp/b"] != ports["/gm/grp/b"] {
		t.Errorf("group update moved the service ports: %v -> %v", ports, again)
	}
	for id, old := range running {
		now := taskIDs(e.running(id, 2).Tasks)
		if !slices.Contains(now, old[0]) {
			t.Errorf("group update replaced %s's task %s: now %v", id, old[0], now)
		}
	}

	// A scale of an app whose deployment cannot finish is refused (409)
	// and the change fails; removing the app cancels that deployment.
	stuck := gmPlainApp("/gm/stuck", 1)
	stuck.fields["cpus"] = 1000.0
	c.CreateApp(stuck)
	var stuckDeployment string
	e.eventually("/gm/stuck is in a deployment", func() error {
		a := c.App("/gm/stuck")
		if len(a.Deployments) == 0 {
			return fmt.Errorf("no deployment")
		}
		stuckDeployment = a.Deployments[0].ID
		return nil
	})
	events.mark()
	if status, b := c.try(http.MethodPut, appPath("/gm/stuck"), gmScale("/gm/stuck", 2)); status != http.StatusConflict {
		t.Errorf("scale of an app in deployment: %d %s, want 409", status, b)
	}
	events.await(t, "group_change_failed", func(ev gmSeen) bool { return ev.Reason != "" })
	events.mark()
	c.DeleteApp("/gm/stuck")
	events.await(t, "deployment_failed", func(ev gmSeen) bool { return ev.ID == stuckDeployment })

	// Removing the app stops its health check and terminates it.
	events.mark()
	del := c.DeleteApp("/gm/app")
	events.await(t, "deployment_success", func(ev gmSeen) bool { return ev.ID == del.DeploymentID })
	events.await(t, "remove_health_check_event", func(ev gmSeen) bool { return ev.AppID == "/gm/app" })
	events.await(t, "app_terminated_event", func(ev gmSeen) bool { return ev.AppID == "/gm/app" })

	events.mu.Lock()
	defer events.mu.Unlock()
	if len(events.errs) > 0 {
		t.Errorf("events go-marathon cannot decode or that lack keys it reads: %v", events.errs)
	}
	if events.dropped["instance_changed_event"] == 0 {
		t.Errorf("no instance_changed_event (go-marathon drops it, Marathon sends it); dropped %v", events.dropped)
	}
}

// gmHealthApp is an app of test-server tasks with an HTTP health check
// on its one port.
func gmHealthApp(id, bin string, instances int) gmObject {
	return gmApp(gmFields{
		"id": id, "cmd": bin, "cpus": 0.1, "mem": 32.0, "instances": instances,
		"portDefinitions": []gmObject{{layout: gmPortDefinitionLayout, fields: gmFields{"port": 0, "name": "http"}}},
		"healthChecks": []gmObject{{layout: gmHealthCheckLayout, fields: gmFields{
			"protocol": "HTTP", "path": "/healthcheck", "portIndex": 0, "gracePeriodSeconds": 10,
			"intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 2,
		}}},
	})
}

// gmPlainApp is a sleeping app with one service port 0.
func gmPlainApp(id string, instances int) gmObject {
	return gmApp(gmFields{
		"id": id, "cmd": "sleep 600", "cpus": 0.05, "mem": 16.0, "instances": instances,
		"portDefinitions": []gmObject{{layout: gmPortDefinitionLayout, fields: gmFields{"port": 0}}},
	})
}

// healthy waits until app id has n healthy tasks and no deployment.
func (c *gmClient) healthy(e *env, id string, n int) gmAppView {
	c.t.Helper()
	var a gmAppView
	e.eventually(fmt.Sprintf("%s has %d healthy tasks", id, n), func() error {
		a = c.App(id)
		if a.TasksHealthy != n || len(a.Tasks) != n || len(a.Deployments) != 0 {
			return fmt.Errorf("tasksHealthy %d, %d tasks, deployments %v", a.TasksHealthy, len(a.Tasks), a.Deployments)
		}
		return nil
	})
	return a
}

// gmServicePorts lists an app's service ports, or 0 when it has none.
func gmServicePorts(a gmAppView) []int {
	var ports []int
	for _, p := range a.PortDefinitions {
		ports = append(ports, p.Port)
	}
	if len(ports) == 0 {
		ports = append(ports, 0)
	}
	return ports
}
