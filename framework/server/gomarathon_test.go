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

	"github.com/stadionhq/stadion/internal/testenv"
)

// This file holds a Marathon client that sends its requests the way
// gambol99/go-marathon (the last release, 94e7bcb) does: its Application
// and Group structs with the same JSON tags (pointer fields with
// omitempty, but "ports" and "dependencies" without, so they marshal as
// null), its Application.MarshalJSON (env and secrets omitted when empty),
// and its SSE listener that decodes every event type it knows into its
// event structs. go-marathon is not on the module proxy, so the shapes are
// written here; only the fields go-marathon's requests can carry are kept.

// gmApplication is go-marathon's Application.
type gmApplication struct {
	ID                    string                `json:"id,omitempty"`
	Cmd                   *string               `json:"cmd,omitempty"`
	Args                  *[]string             `json:"args,omitempty"`
	Constraints           *[][]string           `json:"constraints,omitempty"`
	CPUs                  float64               `json:"cpus,omitempty"`
	GPUs                  *float64              `json:"gpus,omitempty"`
	Disk                  *float64              `json:"disk,omitempty"`
	Env                   *map[string]string    `json:"-"`
	Executor              *string               `json:"executor,omitempty"`
	HealthChecks          *[]gmHealthCheck      `json:"healthChecks,omitempty"`
	Instances             *int                  `json:"instances,omitempty"`
	Mem                   *float64              `json:"mem,omitempty"`
	Tasks                 []*gmTask             `json:"tasks,omitempty"`
	Ports                 []int                 `json:"ports"`
	PortDefinitions       *[]gmPortDefinition   `json:"portDefinitions,omitempty"`
	RequirePorts          *bool                 `json:"requirePorts,omitempty"`
	BackoffSeconds        *float64              `json:"backoffSeconds,omitempty"`
	BackoffFactor         *float64              `json:"backoffFactor,omitempty"`
	MaxLaunchDelaySeconds *float64              `json:"maxLaunchDelaySeconds,omitempty"`
	TaskKillGracePeriod   *float64              `json:"taskKillGracePeriodSeconds,omitempty"`
	Deployments           []map[string]string   `json:"deployments,omitempty"`
	Dependencies          []string              `json:"dependencies"`
	TasksRunning          int                   `json:"tasksRunning,omitempty"`
	TasksStaged           int                   `json:"tasksStaged,omitempty"`
	TasksHealthy          int                   `json:"tasksHealthy,omitempty"`
	TasksUnhealthy        int                   `json:"tasksUnhealthy,omitempty"`
	User                  string                `json:"user,omitempty"`
	UpgradeStrategy       *gmUpgradeStrategy    `json:"upgradeStrategy,omitempty"`
	KillSelection         string                `json:"killSelection,omitempty"`
	Uris                  *[]string             `json:"uris,omitempty"`
	Version               string                `json:"version,omitempty"`
	VersionInfo           *gmVersionInfo        `json:"versionInfo,omitempty"`
	Labels                *map[string]string    `json:"labels,omitempty"`
	AcceptedResourceRoles []string              `json:"acceptedResourceRoles,omitempty"`
	LastTaskFailure       *map[string]any       `json:"lastTaskFailure,omitempty"`
	Fetch                 *[]map[string]any     `json:"fetch,omitempty"`
	Role                  *string               `json:"role,omitempty"`
	Secrets               *map[string]gmSecret  `json:"-"`
	ReadinessCheckResults *[]map[string]any     `json:"readinessCheckResults,omitempty"`
	TaskStats             map[string]gmTaskStat `json:"taskStats,omitempty"`
}

type gmSecret struct {
	EnvVar string
	Source string
}

type gmTaskStat struct {
	Stats map[string]any `json:"stats"`
}

// gmAppAlias drops gmApplication's methods for MarshalJSON.
type gmAppAlias gmApplication

// MarshalJSON is go-marathon's: env and secrets are built from their own
// fields and left out when empty.
func (a *gmApplication) MarshalJSON() ([]byte, error) {
	env := map[string]any{}
	secrets := map[string]map[string]string{}
	if a.Env != nil {
		for k, v := range *a.Env {
			env[k] = v
		}
	}
	if a.Secrets != nil {
		for k, v := range *a.Secrets {
			env[v.EnvVar] = map[string]string{"secret": k}
			secrets[k] = map[string]string{"source": v.Source}
		}
	}
	return json.Marshal(&struct {
		*gmAppAlias
		Env     map[string]any               `json:"env,omitempty"`
		Secrets map[string]map[string]string `json:"secrets,omitempty"`
	}{gmAppAlias: (*gmAppAlias)(a), Env: env, Secrets: secrets})
}

// UnmarshalJSON is go-marathon's: env values must be strings or secret
// references.
func (a *gmApplication) UnmarshalJSON(b []byte) error {
	aux := &struct {
		*gmAppAlias
		Env map[string]any `json:"env"`
	}{gmAppAlias: (*gmAppAlias)(a)}
	if err := json.Unmarshal(b, aux); err != nil {
		return fmt.Errorf("malformed application definition %w", err)
	}
	env := map[string]string{}
	for k, v := range aux.Env {
		switch x := v.(type) {
		case string:
			env[k] = x
		case map[string]any:
		default:
			return fmt.Errorf("unexpected environment variable type %T", x)
		}
	}
	a.Env = &env
	return nil
}

type gmHealthCheck struct {
	PortIndex              *int    `json:"portIndex,omitempty"`
	Port                   *int    `json:"port,omitempty"`
	Path                   *string `json:"path,omitempty"`
	MaxConsecutiveFailures *int    `json:"maxConsecutiveFailures,omitempty"`
	Protocol               string  `json:"protocol,omitempty"`
	GracePeriodSeconds     int     `json:"gracePeriodSeconds,omitempty"`
	IntervalSeconds        int     `json:"intervalSeconds,omitempty"`
	TimeoutSeconds         int     `json:"timeoutSeconds,omitempty"`
	IgnoreHTTP1xx          *bool   `json:"ignoreHttp1xx,omitempty"`
}

type gmPortDefinition struct {
	Port     *int               `json:"port,omitempty"`
	Protocol string             `json:"protocol,omitempty"`
	Name     string             `json:"name,omitempty"`
	Labels   *map[string]string `json:"labels,omitempty"`
}

type gmUpgradeStrategy struct {
	MinimumHealthCapacity *float64 `json:"minimumHealthCapacity,omitempty"`
	MaximumOverCapacity   *float64 `json:"maximumOverCapacity,omitempty"`
}

type gmVersionInfo struct {
	LastScalingAt      string `json:"lastScalingAt,omitempty"`
	LastConfigChangeAt string `json:"lastConfigChangeAt,omitempty"`
}

type gmTask struct {
	ID                 string `json:"id"`
	AppID              string `json:"appId"`
	Host               string `json:"host"`
	HealthCheckResults []*struct {
		Alive               bool   `json:"alive"`
		ConsecutiveFailures int    `json:"consecutiveFailures"`
		FirstSuccess        string `json:"firstSuccess"`
		LastFailure         string `json:"lastFailure"`
		LastFailureCause    string `json:"lastFailureCause"`
		LastSuccess         string `json:"lastSuccess"`
		TaskID              string `json:"taskId"`
	} `json:"healthCheckResults"`
	Ports        []int          `json:"ports"`
	ServicePorts []int          `json:"servicePorts"`
	SlaveID      string         `json:"slaveId"`
	StagedAt     string         `json:"stagedAt"`
	StartedAt    string         `json:"startedAt"`
	State        string         `json:"state"`
	IPAddresses  []*gmIPAddress `json:"ipAddresses"`
	Version      string         `json:"version"`
}

type gmIPAddress struct {
	IPAddress string `json:"ipAddress"`
	Protocol  string `json:"protocol"`
}

// gmGroup is go-marathon's Group: nothing is omitempty.
type gmGroup struct {
	ID           string           `json:"id"`
	Apps         []*gmApplication `json:"apps"`
	Dependencies []string         `json:"dependencies"`
	Groups       []*gmGroup       `json:"groups"`
}

type gmDeploymentID struct {
	DeploymentID string `json:"deploymentId"`
	Version      string `json:"version"`
}

// gmClient sends go-marathon's requests: JSON bodies with Content-Type and
// Accept application/json.
type gmClient struct {
	t   *testing.T
	url string
}

func (c *gmClient) call(method, path string, body, result any) {
	c.t.Helper()
	if status, b := c.try(method, path, body, result); status < 200 || status > 299 {
		c.t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
}

// try is call that returns a status other than 2xx with its body, as
// go-marathon's APIError carries them.
func (c *gmClient) try(method, path string, body, result any) (int, []byte) {
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
	req.Header.Add("Content-Type", "application/json")
	req.Header.Add("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, b
	}
	if result != nil {
		if err := json.Unmarshal(b, result); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, b
}

// scaleBody is what ScaleApplicationInstances marshals.
func scaleBody(id string, instances int) *gmApplication {
	return &gmApplication{ID: id, Instances: &instances}
}

// ScaleApplicationInstances is go-marathon's: a PUT of an Application
// with only id and instances set.
func (c *gmClient) ScaleApplicationInstances(id string, instances int) gmDeploymentID {
	var res gmDeploymentID
	c.call(http.MethodPut, "/v2/apps/"+strings.TrimPrefix(id, "/"), scaleBody(id, instances), &res)
	return res
}

// CreateApplication is go-marathon's POST /v2/apps.
func (c *gmClient) CreateApplication(a *gmApplication) *gmApplication {
	var res gmApplication
	c.call(http.MethodPost, "/v2/apps", a, &res)
	return &res
}

// Application is go-marathon's GET /v2/apps/{id}.
func (c *gmClient) Application(id string) *gmApplication {
	var wrap struct {
		App gmApplication `json:"app"`
	}
	c.call(http.MethodGet, "/v2/apps/"+strings.TrimPrefix(id, "/"), nil, &wrap)
	return &wrap.App
}

// DeleteApplication is go-marathon's DELETE /v2/apps/{id}.
func (c *gmClient) DeleteApplication(id string) gmDeploymentID {
	var res gmDeploymentID
	c.call(http.MethodDelete, "/v2/apps/"+strings.TrimPrefix(id, "/"), nil, &res)
	return res
}

// CreateGroup is go-marathon's POST /v2/groups; it drops the answer.
func (c *gmClient) CreateGroup(g *gmGroup) { c.call(http.MethodPost, "/v2/groups", g, nil) }

// UpdateGroup is go-marathon's PUT /v2/groups/{id}.
func (c *gmClient) UpdateGroup(id string, g *gmGroup) gmDeploymentID {
	var res gmDeploymentID
	c.call(http.MethodPut, "/v2/groups/"+strings.TrimPrefix(id, "/"), g, &res)
	return res
}

// Group is go-marathon's GET /v2/groups/{id}.
func (c *gmClient) Group(id string) *gmGroup {
	var g gmGroup
	c.call(http.MethodGet, "/v2/groups/"+strings.TrimPrefix(id, "/"), nil, &g)
	return &g
}

// go-marathon's event structs, by the event type names it knows
// (events.go eventTypesMap). Types it does not know are skipped by its
// listener.
type gmHealthCheckDef struct {
	GracePeriodSeconds     float64 `json:"gracePeriodSeconds"`
	IntervalSeconds        float64 `json:"intervalSeconds"`
	MaxConsecutiveFailures float64 `json:"maxConsecutiveFailures"`
	Path                   string  `json:"path"`
	PortIndex              float64 `json:"portIndex"`
	Protocol               string  `json:"protocol"`
	TimeoutSeconds         float64 `json:"timeoutSeconds"`
}

type gmStepActions struct {
	Actions []struct {
		Action string `json:"action"`
		Type   string `json:"type"`
		App    string `json:"app"`
	}
}

type gmDeploymentPlan struct {
	ID       string           `json:"id"`
	Version  string           `json:"version"`
	Original *gmGroup         `json:"original"`
	Target   *gmGroup         `json:"target"`
	Steps    []*gmStepActions `json:"steps"`
}

type gmEvent struct {
	EventType     string            `json:"eventType"`
	Timestamp     string            `json:"timestamp"`
	ClientIP      string            `json:"clientIp"`
	URI           string            `json:"uri"`
	AppDefinition *gmApplication    `json:"appDefinition"`
	SlaveID       string            `json:"slaveId"`
	TaskID        string            `json:"taskId"`
	TaskStatus    string            `json:"taskStatus"`
	Message       string            `json:"message"`
	AppID         string            `json:"appId"`
	Host          string            `json:"host"`
	Ports         []int             `json:"ports"`
	IPAddresses   []*gmIPAddress    `json:"ipAddresses"`
	Version       string            `json:"version"`
	ExecutorID    string            `json:"executorId"`
	CallbackURL   string            `json:"callbackUrl"`
	RemoteAddress string            `json:"remoteAddress"`
	HealthCheck   *gmHealthCheckDef `json:"healthCheck"`
	Alive         bool              `json:"alive"`
	GroupID       string            `json:"groupId"`
	Reason        string            `json:"reason"`
	ID            string            `json:"id"`
	Plan          *gmDeploymentPlan `json:"plan"`
	CurrentStep   *gmStepActions    `json:"currentStep"`
}

// gmEventTypes are the event types go-marathon decodes, each with the
// fields of its struct; decoding an event into gmEvent uses the union of
// those fields with their types.
var gmEventTypes = []string{
	"api_post_event", "status_update_event", "framework_message_event",
	"subscribe_event", "unsubscribe_event", "event_stream_attached",
	"event_stream_detached", "add_health_check_event",
	"remove_health_check_event", "failed_health_check_event",
	"health_status_changed_event", "group_change_success",
	"group_change_failed", "deployment_success", "deployment_failed",
	"deployment_info", "deployment_step_success", "deployment_step_failure",
	"app_terminated_event",
}

// gmListener is go-marathon's SSE subscription with a listener on every
// event type: it reads data lines, takes eventType from the JSON and
// decodes the known types into go-marathon's structs.
type gmListener struct {
	mu      sync.Mutex
	events  []gmEvent
	skipped map[string]int
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

// gmListen subscribes as go-marathon's SSE subscription does (GET
// /v2/events, Accept: text/event-stream, no event_type filter) and hands
// the data of every event to handle.
func (e *env) gmListen() *gmListener {
	e.t.Helper()
	s := e.stream("/v2/events")
	if s.status != http.StatusOK {
		e.t.Fatalf("GET /v2/events: %d", s.status)
	}
	l := &gmListener{skipped: map[string]int{}, notify: make(chan struct{}, 1)}
	go func() {
		for f := range s.frames {
			l.handle(f.data)
		}
	}()
	return l
}

// handle is go-marathon's handleEvent.
func (l *gmListener) handle(data string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var typ struct {
		EventType string `json:"eventType"`
	}
	if err := json.Unmarshal([]byte(data), &typ); err != nil {
		l.errs = append(l.errs, fmt.Sprintf("failed to decode the event type, content: %s, error: %v", data, err))
		return
	}
	if !slices.Contains(gmEventTypes, typ.EventType) {
		l.skipped[typ.EventType]++
		return
	}
	var ev gmEvent
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		l.errs = append(l.errs, fmt.Sprintf("failed to decode the event %s: %v", data, err))
		return
	}
	l.events = append(l.events, ev)
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// await waits for an event of type typ for which match is true.
func (l *gmListener) await(t *testing.T, typ string, match func(gmEvent) bool) gmEvent {
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
			t.Fatalf("no matching %s within %v; seen %v, skipped %v, errors %v", typ, waitFor, seen, l.skipped, l.errs)
		}
	}
}

// TestGoMarathonScaleBody pins the bytes go-marathon's
// ScaleApplicationInstances sends, which TestGoMarathonClient relies on.
func TestGoMarathonScaleBody(t *testing.T) {
	b, err := json.Marshal(scaleBody("/gm/app", 3))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"/gm/app","instances":3,"ports":null,"dependencies":null}`; string(b) != want {
		t.Errorf("scale body %s, want %s", b, want)
	}
	g, err := json.Marshal(&gmGroup{ID: "/g", Apps: []*gmApplication{{ID: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"/g","apps":[{"id":"a","ports":null,"dependencies":null}],"dependencies":null,"groups":null}`; string(g) != want {
		t.Errorf("group body %s, want %s", g, want)
	}
}

// TestGoMarathonClient drives Stadion as go-marathon does: a scale sent
// with its explicit nulls keeps the tasks, two apps of one group with port
// 0 get distinct service ports (and keep them, with their tasks, when the
// group is sent again with more instances), and a listener on every event
// type receives the group (success and failure), deployment (info, step,
// success, failure), status, instance and health events, each decoding
// into go-marathon's structs.
func TestGoMarathonClient(t *testing.T) {
	t.Parallel()
	e := start(t)
	bin := testenv.TestServer(t)
	c := &gmClient{t: t, url: e.url}
	events := e.gmListen()
	events.await(t, "event_stream_attached", func(gmEvent) bool { return true })

	app := gmHealthApp("/gm/app", bin, 2)
	created := c.CreateApplication(app)
	if created.ID != "/gm/app" {
		t.Fatalf("created %+v", created)
	}
	events.await(t, "group_change_success", func(ev gmEvent) bool { return ev.Version != "" && ev.GroupID != "" })
	events.await(t, "add_health_check_event", func(ev gmEvent) bool {
		return ev.AppID == "/gm/app" && ev.HealthCheck != nil && ev.HealthCheck.Path == "/healthcheck"
	})
	events.await(t, "health_status_changed_event", func(ev gmEvent) bool { return ev.AppID == "/gm/app" && ev.Alive })
	before := e.gmHealthy(c, "/gm/app", 2)

	// Scale as go-marathon does: {"id", "instances", "ports": null,
	// "dependencies": null}. The tasks stay, the port stays, the config
	// does not change.
	events.mark()
	dep := c.ScaleApplicationInstances("/gm/app", 3)
	events.await(t, "deployment_success", func(ev gmEvent) bool { return ev.ID == dep.DeploymentID && ev.Plan != nil })
	after := e.gmHealthy(c, "/gm/app", 3)
	for _, id := range gmTaskIDs(before) {
		if !slices.Contains(gmTaskIDs(after), id) {
			t.Errorf("scale replaced task %s: before %v, after %v", id, gmTaskIDs(before), gmTaskIDs(after))
		}
	}
	if gmServicePorts(after)[0] != gmServicePorts(before)[0] || after.VersionInfo.LastConfigChangeAt != before.VersionInfo.LastConfigChangeAt {
		t.Errorf("scale changed the config: ports %v -> %v, lastConfigChangeAt %s -> %s",
			gmServicePorts(before), gmServicePorts(after), before.VersionInfo.LastConfigChangeAt, after.VersionInfo.LastConfigChangeAt)
	}
	events.await(t, "deployment_info", func(ev gmEvent) bool {
		return ev.Plan != nil && ev.Plan.ID == dep.DeploymentID && ev.CurrentStep != nil
	})
	events.await(t, "deployment_step_success", func(ev gmEvent) bool { return ev.Plan != nil && ev.Plan.ID == dep.DeploymentID })
	events.await(t, "status_update_event", func(ev gmEvent) bool {
		return ev.AppID == "/gm/app" && ev.TaskStatus == "TASK_RUNNING" && !slices.Contains(gmTaskIDs(before), ev.TaskID) && len(ev.Ports) == 1
	})

	// A group of two apps with port 0, created and then re-sent with
	// more instances, as go-marathon's CreateGroup and UpdateGroup send it.
	events.await(t, "api_post_event", func(ev gmEvent) bool {
		return ev.AppDefinition != nil && ev.AppDefinition.ID == "/gm/app" && ev.AppDefinition.Instances != nil && *ev.AppDefinition.Instances == 3
	})
	events.mark()
	c.CreateGroup(&gmGroup{ID: "/gm/grp", Apps: []*gmApplication{gmPlainApp("a", 1), gmPlainApp("b", 1)}})
	events.await(t, "group_change_success", func(ev gmEvent) bool { return strings.HasPrefix("/gm/grp", ev.GroupID) && ev.GroupID != "" })
	e.idle()
	grp := c.Group("/gm/grp")
	ports := gmGroupPorts(t, grp)
	if len(ports) != 2 || ports["/gm/grp/a"] == ports["/gm/grp/b"] || ports["/gm/grp/a"] == 0 || ports["/gm/grp/b"] == 0 ||
		ports["/gm/grp/a"] == gmServicePorts(after)[0] || ports["/gm/grp/b"] == gmServicePorts(after)[0] {
		t.Errorf("service ports of the group %v and of /gm/app %v, want distinct", ports, gmServicePorts(after))
	}
	running := map[string][]string{}
	for _, id := range []string{"/gm/grp/a", "/gm/grp/b"} {
		running[id] = taskIDs(e.running(id, 1).Tasks)
	}
	events.mark()
	up := c.UpdateGroup("/gm/grp", &gmGroup{ID: "/gm/grp", Apps: []*gmApplication{gmPlainApp("a", 2), gmPlainApp("b", 2)}})
	events.await(t, "group_change_success", func(ev gmEvent) bool { return ev.Version == up.Version })
	events.await(t, "deployment_success", func(ev gmEvent) bool { return ev.ID == up.DeploymentID })
	if again := gmGroupPorts(t, c.Group("/gm/grp")); again["/gm/grp/a"] != ports["/gm/grp/a"] || again["/gm/grp/b"] != ports["/gm/grp/b"] {
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
	stuck.CPUs = 1000
	c.CreateApplication(stuck)
	var stuckDeployment string
	e.eventually("/gm/stuck is in a deployment", func() error {
		a := c.Application("/gm/stuck")
		if len(a.Deployments) == 0 {
			return fmt.Errorf("no deployment")
		}
		stuckDeployment = a.Deployments[0]["id"]
		return nil
	})
	events.mark()
	if status, b := c.try(http.MethodPut, "/v2/apps/gm/stuck", scaleBody("/gm/stuck", 2), nil); status != http.StatusConflict {
		t.Errorf("scale of an app in deployment: %d %s, want 409", status, b)
	}
	events.await(t, "group_change_failed", func(ev gmEvent) bool { return ev.Reason != "" })
	events.mark()
	c.DeleteApplication("/gm/stuck")
	events.await(t, "deployment_failed", func(ev gmEvent) bool { return ev.ID == stuckDeployment })

	// Removing the app stops its health check and terminates it.
	events.mark()
	del := c.DeleteApplication("/gm/app")
	events.await(t, "deployment_success", func(ev gmEvent) bool { return ev.ID == del.DeploymentID })
	events.await(t, "remove_health_check_event", func(ev gmEvent) bool { return ev.AppID == "/gm/app" })
	events.await(t, "app_terminated_event", func(ev gmEvent) bool { return ev.AppID == "/gm/app" })

	events.mu.Lock()
	defer events.mu.Unlock()
	if len(events.errs) > 0 {
		t.Errorf("events go-marathon cannot decode: %v", events.errs)
	}
	if events.skipped["instance_changed_event"] == 0 {
		t.Errorf("no instance_changed_event (go-marathon skips it, Marathon sends it); skipped %v", events.skipped)
	}
}

// gmHealthApp is an app of test-server tasks with an HTTP health check,
// as a go-marathon user builds it.
func gmHealthApp(id, bin string, instances int) *gmApplication {
	cpus, mem, port, portIndex, failures, path := 0.1, 32.0, 0, 0, 2, "/healthcheck"
	return &gmApplication{
		ID: id, Cmd: &bin, CPUs: cpus, Mem: &mem, Instances: &instances,
		PortDefinitions: &[]gmPortDefinition{{Port: &port, Name: "http"}},
		HealthChecks: &[]gmHealthCheck{{Protocol: "HTTP", Path: &path, PortIndex: &portIndex,
			GracePeriodSeconds: 10, IntervalSeconds: 1, TimeoutSeconds: 1, MaxConsecutiveFailures: &failures}},
	}
}

// gmPlainApp is a sleeping app with one service port 0.
func gmPlainApp(id string, instances int) *gmApplication {
	cmd, mem, port := "sleep 600", 16.0, 0
	return &gmApplication{ID: id, Cmd: &cmd, CPUs: 0.05, Mem: &mem, Instances: &instances,
		PortDefinitions: &[]gmPortDefinition{{Port: &port}}}
}

// gmHealthy waits until app id has n healthy running tasks and no
// deployment, read through the go-marathon client.
func (e *env) gmHealthy(c *gmClient, id string, n int) *gmApplication {
	e.t.Helper()
	var a *gmApplication
	e.eventually(fmt.Sprintf("%s has %d healthy tasks", id, n), func() error {
		a = c.Application(id)
		if a.TasksHealthy != n || len(a.Tasks) != n || len(a.Deployments) != 0 {
			return fmt.Errorf("tasksHealthy %d, %d tasks, deployments %v", a.TasksHealthy, len(a.Tasks), a.Deployments)
		}
		return nil
	})
	return a
}

func gmTaskIDs(a *gmApplication) []string {
	var ids []string
	for _, t := range a.Tasks {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids
}

func gmServicePorts(a *gmApplication) []int {
	var ports []int
	if a.PortDefinitions != nil {
		for _, p := range *a.PortDefinitions {
			if p.Port != nil {
				ports = append(ports, *p.Port)
			}
		}
	}
	if len(ports) == 0 {
		ports = append(ports, 0)
	}
	return ports
}

// gmGroupPorts maps each app of g to its first service port.
func gmGroupPorts(t *testing.T, g *gmGroup) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, a := range g.Apps {
		out[a.ID] = gmServicePorts(a)[0]
	}
	return out
}
