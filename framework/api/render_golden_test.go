package api

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// tricky holds the characters encoding/json escapes (or, with HTML
// escaping off, deliberately does not): quotes, backslashes, <, >, &,
// non-ASCII, control characters, U+2028/U+2029 and invalid UTF-8.
const tricky = "q\"uo'te back\\slash <b>&amp; é日本🚀 ctl\x01\x1f\t\n\r\b\f del\x7f ls\u2028ps\u2029 bad\xff\xfe end"

// seedRender seeds apps that cover what the app and task renderers write:
// host and bridge networking, docker with the legacy mirrors, user
// networks, health and readiness checks, labels and env with characters
// that encoding/json escapes, and tasks active and inactive, with and
// without health results.
func seedRender(h *harness) {
	t := h.t
	t.Helper()
	host := mustApp(t, `{"id":"/render/host","cmd":"python3 -m http.server $PORT0 && echo \"<&>\"","instances":3,
		"cpus":0.25,"mem":64.5,"disk":10,
		"labels":{"HAPROXY_GROUP":"external","HAPROXY_0_VHOST":"a.example.com,b.example.com","empty":""},
		"env":{"PLAIN":"x","HTML":"<script>alert('&')</script>","SECRET_REF":{"secret":"pw"}},
		"secrets":{"pw":{"source":"consul:db/password"}},
		"portDefinitions":[{"port":10001,"name":"http","labels":{"VIP_0":"/web:80"}},{"port":10002,"protocol":"udp"}],
		"healthChecks":[{"protocol":"HTTP","path":"/health?a=1&b=<2>","portIndex":0},{"protocol":"TCP","portIndex":1},
			{"protocol":"COMMAND","command":{"value":"curl -f \"http://$HOST:$PORT0/\""}}],
		"readinessChecks":[{"name":"ready","portName":"http","httpStatusCodesForReady":[200,204]}],
		"constraints":[["hostname","UNIQUE"],["rack","LIKE","r<1>&"]],
		"fetch":[{"uri":"https://example.com/a.tgz?x=1&y=2"}],
		"upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0.2},
		"unreachableStrategy":{"inactiveAfterSeconds":60,"expungeAfterSeconds":120},
		"taskKillGracePeriodSeconds":7,
		"acceptedResourceRoles":["*"],
		"user":"nobody"}`)
	host.Labels["tricky"] = tricky
	host.Labels[tricky] = "key"
	host.Env["TRICKY"] = marathon.EnvVar{Value: tricky}

	bridge := mustApp(t, `{"id":"/render/bridge","instances":2,"args":["--listen",":8080","<&>"],
		"container":{"type":"DOCKER","docker":{"image":"registry.example.com/web:1.2","privileged":false,
			"parameters":[{"key":"label","value":"a=<b>"}],"forcePullImage":true},
			"portMappings":[{"containerPort":8080,"hostPort":0,"servicePort":10010,"name":"http","labels":{"x":"y"}},
				{"containerPort":9090,"protocol":"udp"}],
			"volumes":[{"containerPath":"/data","hostPath":"/srv/data","mode":"RW"}]},
		"networks":[{"mode":"container/bridge"}],
		"healthChecks":[{"protocol":"MESOS_HTTP","path":"/","portIndex":0}],
		"labels":{"tier":"front"}}`)

	dockerHost := mustApp(t, `{"id":"/render/docker-host","cmd":"nginx -g 'daemon off;'",
		"container":{"type":"DOCKER","docker":{"image":"nginx:1.22"}},
		"networks":[{"mode":"host"}],"portDefinitions":[{"port":0}],
		"unreachableStrategy":"disabled"}`)

	user := mustApp(t, `{"id":"/render/user","cmd":"sleep 1000",
		"container":{"type":"DOCKER","docker":{"image":"busybox"},
			"portMappings":[{"containerPort":80,"name":"web"}]},
		"networks":[{"mode":"container","name":"overlay"}]}`)

	mesosC := mustApp(t, `{"id":"/render/mesos","cmd":"sleep 1000",
		"container":{"type":"MESOS","docker":{"image":"alpine"}},
		"check":{"http":{"portIndex":0,"path":"/ping"}},
		"instances":0}`)

	bare := mustApp(t, `{"id":"/render/z/bare","cmd":"true","portDefinitions":[]}`)

	h.be.seed(host, bridge, dockerHost, user, mesosC, bare)

	// Tasks of /render/host: healthy, unhealthy, unknown health, staged,
	// starting, IPv6, lost, killing, inactive, not tasks.
	mk := func(app marathon.PathID, n int, st mesos.TaskState) state.Instance {
		in := running(app, n, "agent-"+string(rune('a'+n))+".example.com", uint32(31000+n), uint32(31100+n))
		in.State = st
		return in
	}
	healthy := mk("/render/host", 1, mesos.TaskRunning)
	healthy.Healthy = boolp(true)
	unhealthy := mk("/render/host", 2, mesos.TaskRunning)
	unhealthy.Healthy = boolp(false)
	unhealthy.Hostname = tricky
	unknown := mk("/render/host", 3, mesos.TaskRunning)
	unknown.IPAddresses = []string{"10.0.0.7", "fd00::7", "::ffff:10.0.0.8", "fe80::1%eth0", "not-an-ip"}
	staged := mk("/render/host", 4, "")
	staged.StartedAt = time.Time{}
	starting := mk("/render/host", 5, mesos.TaskStarting)
	starting.StartedAt = time.Time{}
	starting.StagedAt = time.Time{}
	lost := mk("/render/host", 6, mesos.TaskLost)
	lost.HostPorts = nil
	lost.IPAddresses = nil
	killing := mk("/render/host", 7, mesos.TaskKilling)
	killing.Healthy = boolp(true)
	killing.AgentID = ""
	// Launched before times were recorded and without a version: inactive.
	inactive := state.Instance{ID: "render_host.instance-inactive", AppID: "/render/host", Goal: state.GoalRunning,
		TaskID: "render_host.instance-inactive._app.1", State: mesos.TaskStaging, Hostname: "h", AgentID: "agent-x"}
	inactiveHealthy := inactive
	inactiveHealthy.ID, inactiveHealthy.TaskID = "render_host.instance-inactive2", "render_host.instance-inactive2._app.1"
	inactiveHealthy.Healthy = boolp(false)
	inactiveHealthy.HostPorts = []uint32{1, 2}
	finished := mk("/render/host", 8, mesos.TaskFinished)
	scheduled := state.Instance{ID: "render_host.instance-00000009", AppID: "/render/host", Goal: state.GoalRunning}
	h.be.instances["/render/host"] = []state.Instance{healthy, unhealthy, unknown, staged, starting, lost, killing,
		inactive, inactiveHealthy, finished, scheduled}

	b1, b2 := mk("/render/bridge", 1, mesos.TaskRunning), mk("/render/bridge", 2, mesos.TaskRunning)
	b1.Healthy = boolp(true)
	b2.AppVersion = marathon.NewTimestamp(t0.Add(-time.Hour))
	b2.StartedAt = t0.Add(3*time.Second + 123456789)
	h.be.instances["/render/bridge"] = []state.Instance{b1, b2}
	h.be.instances["/render/docker-host"] = []state.Instance{mk("/render/docker-host", 1, mesos.TaskRunning)}
	h.be.instances["/render/user"] = []state.Instance{mk("/render/user", 1, mesos.TaskStaging)}

	h.be.failures["/render/host"] = &marathon.TaskFailure{AppID: "/render/host", Host: "h9", Message: "boom " + tricky,
		State: marathon.TaskFailed, TaskID: "render_host.instance-x._app.1", Timestamp: marathon.NewTimestamp(t0),
		Version: marathon.NewTimestamp(t0), SlaveID: "agent-9"}
	h.be.deployments = []scheduler.DeploymentView{{
		Deployment: state.Deployment{ID: "dep-1", Version: marathon.NewTimestamp(t0),
			Steps: []state.Step{{Actions: []state.Action{{Type: marathon.DeploymentAction("ScaleApplication"), AppID: "/render/host"},
				{Type: marathon.DeploymentAction("RestartApplication"), AppID: "/render/bridge"}}}}},
		CurrentActions: []scheduler.ActionView{{Action: state.Action{Type: "ScaleApplication", AppID: "/render/host"},
			ReadinessCheckResults: []marathon.ReadinessCheckResult{{Name: "ready", TaskID: healthy.TaskID, Ready: false,
				LastResponse: &marathon.ReadinessResponse{Status: 503, ContentType: "text/plain", Body: tricky}}}}},
	}}
}

// renderGoldens are the requests whose bodies are compared byte for byte
// with testdata/golden, captured from the encoder as it was before the
// renderer of GET /v2/apps was written by hand.
var renderGoldens = []struct{ name, path string }{
	{"apps", "/v2/apps"},
	{"apps_tasks", "/v2/apps?embed=apps.tasks"},
	{"apps_all", "/v2/apps?embed=apps.tasks&embed=apps.readiness&embed=apps.lastTaskFailure&embed=apps.taskStats&embed=apps.deployments"},
	{"apps_filtered", "/v2/apps?embed=apps.tasks&label=tier==front"},
	{"apps_none", "/v2/apps?embed=apps.tasks&id=nothing"},
	{"app", "/v2/apps/render/host"},
	{"app_group", "/v2/apps/render/*?embed=apps.taskStats"},
	{"app_tasks", "/v2/apps/render/host/tasks"},
	{"tasks", "/v2/tasks"},
	{"groups", "/v2/groups"},
	{"groups_tasks", "/v2/groups?embed=group.apps.tasks&embed=group.groups"},
}

func TestRenderGolden(t *testing.T) {
	h := newHarness(t)
	seedRender(h)
	for _, g := range renderGoldens {
		t.Run(g.name, func(t *testing.T) {
			for _, method := range []string{"GET", "HEAD"} {
				r := h.do(method, g.path, "")
				if r.status != 200 {
					t.Fatalf("%s %s: status %d: %s", method, g.path, r.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("%s Content-Type %q", method, ct)
				}
				file := filepath.Join("testdata", "golden", g.name+".json")
				if method == "HEAD" {
					want, _ := os.ReadFile(file)
					if len(r.body) != 0 || r.header.Get("Content-Length") != strconv.Itoa(len(want)) {
						t.Errorf("HEAD: body %d bytes, Content-Length %q, want 0 and %d", len(r.body), r.header.Get("Content-Length"), len(want))
					}
					continue
				}
				if cl := r.header.Get("Content-Length"); cl != strconv.Itoa(len(r.body)) {
					t.Errorf("Content-Length %q, body %d bytes", cl, len(r.body))
				}
				if *updateGolden {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, r.body, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test -run TestRenderGolden -update)", err)
				}
				if !bytes.Equal(r.body, want) {
					t.Errorf("GET %s differs from %s at byte %d:\n got %q\nwant %q", g.path, file,
						firstDiff(r.body, want), around(r.body, firstDiff(r.body, want)), around(want, firstDiff(r.body, want)))
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(b []byte, i int) []byte {
	return b[max(0, i-80):min(len(b), i+80)]
}

// TestRenderGoldenStreamed renders the goldens with every body streamed
// as it is built (spillAt 1): the bytes are the same, and the app and
// task lists go out without a Content-Length.
func TestRenderGoldenStreamed(t *testing.T) {
	h := newHarness(t)
	seedRender(h)
	defer func(n int) { spillAt = n }(spillAt)
	spillAt = 1
	streamed := map[string]bool{"apps": true, "tasks": true, "app_tasks": true}
	for _, g := range renderGoldens {
		t.Run(g.name, func(t *testing.T) {
			r := h.do("GET", g.path, "")
			if r.status != 200 {
				t.Fatalf("GET %s: status %d: %s", g.path, r.status, r.body)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "golden", g.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.body, want) {
				i := firstDiff(r.body, want)
				t.Errorf("GET %s streamed differs at byte %d:\n got %q\nwant %q", g.path, i, around(r.body, i), around(want, i))
			}
			if cl := r.header.Get("Content-Length"); streamed[g.name] && cl != "" {
				t.Errorf("GET %s: Content-Length %q on a streamed body", g.path, cl)
			}
		})
	}
}
