package taskinfo

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// podOf admits a pod body as the API does and stamps a version.
func podOf(t *testing.T, body string) marathon.Pod {
	t.Helper()
	p, err := marathon.ParsePod([]byte(body), marathon.NormalizeOptions{})
	if err != nil {
		t.Fatalf("ParsePod: %v", err)
	}
	p.Version, _ = marathon.ParseTimestamp("2026-12-07T10:00:00.000Z")
	return p
}

func scalar(name string, v float64, role string) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}, Role: role}
}

func portsRes(ports ...uint64) mesos.Resource {
	r := mesos.Resource{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{}}
	for _, p := range ports {
		r.Ranges.Range = append(r.Ranges.Range, mesos.Range{Begin: p, End: p})
	}
	return r
}

const hostPod = `{"id":"/prod/web","labels":{"team":"a"},"environment":{"MODE":"pod","SHARED":"pod"},
	"networks":[{"mode":"host"}],"volumes":[{"name":"shared"}],
	"containers":[
		{"name":"server","resources":{"cpus":0.5,"mem":64},"exec":{"command":{"shell":"serve --port $ENDPOINT_HTTP"}},
		 "endpoints":[{"name":"http","protocol":["tcp"]}],"environment":{"SHARED":"server"},"labels":{"c":"1"},
		 "healthCheck":{"http":{"endpoint":"http","path":"/health"},"intervalSeconds":2,"timeoutSeconds":1,"gracePeriodSeconds":10,"delaySeconds":0},
		 "volumeMounts":[{"name":"shared","mountPath":"/data"}],"lifecycle":{"killGracePeriodSeconds":1.5}},
		{"name":"sidecar","resources":{"cpus":0.25,"mem":32},"exec":{"command":{"argv":["/bin/poll","http://127.0.0.1"]}},
		 "volumeMounts":[{"name":"shared","mountPath":"/data","readOnly":true}],"user":"nobody"}]}`

func TestBuildGroupHost(t *testing.T) {
	in := GroupInput{
		Pod:         podOf(t, hostPod),
		InstanceID:  "prod_web.instance-u1",
		Incarnation: 2,
		FrameworkID: "fw",
		AgentID:     mesos.AgentID{Value: "a1"},
		Hostname:    "h1",
		Resources:   []mesos.Resource{scalar("cpus", 1, "*"), scalar("mem", 64, "*"), scalar("mem", 100, "web"), scalar("disk", 10, "*"), portsRes(31001)},
		HostPorts:   []uint32{31001},
	}
	lg, err := BuildGroup(in)
	if err != nil {
		t.Fatal(err)
	}
	ex := lg.Executor
	if ex.Type != mesos.ExecutorDefault || ex.ExecutorID.Value != "instance-prod_web.u1" || ex.FrameworkID.Value != "fw" {
		t.Errorf("executor = %+v", ex)
	}
	wantEx := []mesos.Resource{scalar("cpus", 0.1, "*"), scalar("mem", 32, "*"), scalar("disk", 10, "*"), portsRes(31001)}
	if diff := cmp.Diff(wantEx, ex.Resources); diff != "" {
		t.Errorf("executor resources (-want +got):\n%s", diff)
	}
	if len(ex.Container.NetworkInfos) != 0 || string(ex.Container.LinuxInfo) != `{"share_cgroups":false}` {
		t.Errorf("executor container = %+v (linux %s)", ex.Container, ex.Container.LinuxInfo)
	}
	if len(lg.TaskGroup.Tasks) != 2 {
		t.Fatalf("%d tasks", len(lg.TaskGroup.Tasks))
	}
	server, sidecar := lg.TaskGroup.Tasks[0], lg.TaskGroup.Tasks[1]
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "task ids", got: []string{server.TaskID.Value, sidecar.TaskID.Value},
			want: []string{"prod_web.instance-u1.server.2", "prod_web.instance-u1.sidecar.2"}},
		{name: "names", got: []string{server.Name, sidecar.Name}, want: []string{"server", "sidecar"}},
		// mem spans two roles: 32 of "*" went to the executor, the rest
		// of "*" and then "web" to the tasks.
		{name: "server resources", got: server.Resources,
			want: []mesos.Resource{scalar("cpus", 0.5, "*"), scalar("mem", 32, "*"), scalar("mem", 32, "web")}},
		{name: "sidecar resources", got: sidecar.Resources,
			want: []mesos.Resource{scalar("cpus", 0.25, "*"), scalar("mem", 32, "web")}},
		{name: "server command", got: []any{*server.Command.Shell, *server.Command.Value, server.Command.Arguments},
			want: []any{true, "serve --port $ENDPOINT_HTTP", []string(nil)}},
		{name: "sidecar command", got: []any{*sidecar.Command.Shell, sidecar.Command.Value, sidecar.Command.Arguments, sidecar.Command.User},
			want: []any{false, (*string)(nil), []string{"/bin/poll", "http://127.0.0.1"}, "nobody"}},
		{name: "health check", got: server.HealthCheck, want: &mesos.HealthCheck{
			DelaySeconds: ptr(0.0), IntervalSeconds: ptr(2.0), TimeoutSeconds: ptr(1.0), ConsecutiveFailures: ptr(uint32(3)), GracePeriodSeconds: ptr(10.0),
			Type: mesos.HealthCheckHTTP, HTTP: &mesos.HTTPCheckInfo{Scheme: "http", Port: 31001, Path: "/health"}}},
		{name: "kill policy", got: server.KillPolicy.GracePeriod.Nanoseconds, want: int64(1_500_000_000)},
		{name: "volumes", got: []string{string(server.Container.Volumes[0].Source), server.Container.Volumes[0].Mode, sidecar.Container.Volumes[0].Mode},
			want: []string{`{"type":"SANDBOX_PATH","sandbox_path":{"type":"PARENT","path":"volumes/shared"}}`, "RW", "RO"}},
		{name: "discovery", got: server.Discovery, want: &mesos.DiscoveryInfo{Visibility: "FRAMEWORK", Name: "web.prod",
			Ports: &mesos.Ports{Ports: []mesos.Port{{Number: 31001, Name: "http", Protocol: "tcp"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	env := envOf(server)
	wantEnv := map[string]string{
		"MODE": "pod", "SHARED": "server", "HOST": "h1",
		"MESOS_TASK_ID": "prod_web.instance-u1.server.2", "MESOS_EXECUTOR_ID": "instance-prod_web.u1",
		"MARATHON_APP_ID": "/prod/web", "MARATHON_APP_VERSION": "2026-12-07T10:00:00.000Z", "MARATHON_CONTAINER_ID": "server",
		"MARATHON_APP_ENFORCE_GROUP_ROLE":  "FALSE",
		"MARATHON_CONTAINER_RESOURCE_CPUS": "0.5", "MARATHON_CONTAINER_RESOURCE_MEM": "64.0",
		"MARATHON_CONTAINER_RESOURCE_DISK": "0.0", "MARATHON_CONTAINER_RESOURCE_GPUS": "0",
		"MARATHON_APP_LABELS": "C TEAM", "MARATHON_APP_LABEL_C": "1", "MARATHON_APP_LABEL_TEAM": "a",
		"ENDPOINT_HTTP": "31001", "EP_HOST_HTTP": "31001",
	}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("server env (-want +got):\n%s", diff)
	}
	if got := envOf(sidecar); got["ENDPOINT_HTTP"] != "31001" || got["SHARED"] != "pod" || got["MARATHON_CONTAINER_ID"] != "sidecar" {
		t.Errorf("sidecar env lacks the pod-wide endpoint or pod env: %v", got)
	}
	op, err := mesos.LaunchGroupOperation(lg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := op.DecodeLaunchGroup()
	if err != nil || !cmp.Equal(lg, back) {
		t.Errorf("LAUNCH_GROUP does not round-trip: %v %s", err, cmp.Diff(lg, back))
	}
}

func envOf(ti mesos.TaskInfo) map[string]string {
	out := map[string]string{}
	for _, v := range ti.Command.Environment.Variables {
		if v.Value != nil {
			out[v.Name] = *v.Value
		}
	}
	return out
}

func TestBuildGroupBridge(t *testing.T) {
	p := podOf(t, `{"id":"/web","networks":[{"mode":"container/bridge","labels":{"n":"1"}}],
		"containers":[{"name":"server","resources":{"cpus":0.5,"mem":64},"image":{"kind":"DOCKER","id":"srv:1","forcePull":true},
			"endpoints":[{"name":"http","containerPort":8080,"protocol":["tcp","udp"]},{"name":"admin","hostPort":0,"protocol":["tcp"]}],
			"healthCheck":{"tcp":{"endpoint":"admin"},"intervalSeconds":5,"timeoutSeconds":2}}]}`)
	lg, err := BuildGroup(GroupInput{
		Pod: p, InstanceID: "web.instance-u2", Incarnation: 1, FrameworkID: "fw", AgentID: mesos.AgentID{Value: "a"}, Hostname: "h",
		Resources: []mesos.Resource{scalar("cpus", 0.6, "*"), scalar("mem", 96, "*"), scalar("disk", 10, "*"), portsRes(31005, 31006)},
		HostPorts: []uint32{31005, 31006},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantNet := []mesos.NetworkInfo{{Name: DefaultBridgeName, Labels: &mesos.Labels{Labels: []mesos.Label{{Key: "n", Value: "1"}}}, PortMappings: []mesos.PortMapping{
		{HostPort: 31005, ContainerPort: 8080, Protocol: "tcp"},
		{HostPort: 31005, ContainerPort: 8080, Protocol: "udp"},
		{HostPort: 31006, ContainerPort: 31006, Protocol: "tcp"},
	}}}
	if diff := cmp.Diff(wantNet, lg.Executor.Container.NetworkInfos); diff != "" {
		t.Errorf("executor networks (-want +got):\n%s", diff)
	}
	ti := lg.TaskGroup.Tasks[0]
	if ti.Container.NetworkInfos != nil {
		t.Errorf("task has networks: %+v", ti.Container.NetworkInfos)
	}
	if got := string(ti.Container.Mesos); got != `{"image":{"type":"DOCKER","docker":{"name":"srv:1"},"cached":false}}` {
		t.Errorf("image = %s", got)
	}
	// The admin endpoint has container port 0: the mapping is host port
	// onto itself, and the check probes it.
	if hc := ti.HealthCheck; hc.Type != mesos.HealthCheckTCP || hc.TCP.Port != 31006 {
		t.Errorf("health check = %+v", hc)
	}
	env := envOf(ti)
	for k, want := range map[string]string{"ENDPOINT_HTTP": "8080", "EP_HOST_HTTP": "31005", "EP_CONTAINER_HTTP": "8080", "EP_HOST_ADMIN": "31006"} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["ENDPOINT_ADMIN"]; ok {
		t.Errorf("ENDPOINT_ADMIN set for an endpoint without container port in bridge mode")
	}
	var scopes []string
	for _, port := range ti.Discovery.Ports.Ports {
		scopes = append(scopes, port.Name+"/"+port.Protocol+"/"+port.Labels.Labels[0].Value)
	}
	if diff := cmp.Diff([]string{"http/tcp/host", "http/udp/host", "admin/tcp/host"}, scopes); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}
}

func TestBuildGroupInputs(t *testing.T) {
	p := podOf(t, hostPod)
	base := GroupInput{Pod: p, InstanceID: "prod_web.instance-u1", Incarnation: 1, HostPorts: []uint32{31001},
		Resources: []mesos.Resource{scalar("cpus", 1, "*"), scalar("mem", 256, "*"), scalar("disk", 10, "*"), portsRes(31001)}}
	secret := podOf(t, strings.NewReplacer(`"MODE":"pod",`, `"MODE":{"secret":"s"},`,
		`"labels":{"team":"a"},`, `"labels":{"team":"a"},"secrets":{"s":{"source":"consul:x"}},`).Replace(hostPod))
	tests := []struct {
		name   string
		mutate func(in *GroupInput)
		want   string
	}{
		{name: "host ports do not match endpoints", mutate: func(in *GroupInput) { in.HostPorts = nil }, want: "0 host ports for the 1 endpoints"},
		{name: "too few resources", mutate: func(in *GroupInput) { in.Resources = in.Resources[:1] }, want: "lack mem"},
		{name: "no incarnation", mutate: func(in *GroupInput) { in.Incarnation = 0 }, want: "no instance id"},
		{name: "unresolved secret", mutate: func(in *GroupInput) { in.Pod = secret }, want: `secret "s"`},
	}
	t.Run("resolved secret", func(t *testing.T) {
		in := base
		in.Pod, in.Secrets = secret, map[string]string{"s": "hunter2"}
		lg, err := BuildGroup(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range lg.TaskGroup.Tasks {
			var found bool
			for _, v := range ti.Command.Environment.Variables {
				if v.Name != "MODE" {
					continue
				}
				data, err := v.SecretData()
				found = err == nil && v.Type == mesos.VariableSecret && v.Value == nil && string(data) == "hunter2"
			}
			if !found {
				t.Errorf("task %s: MODE is not the SECRET variable of s: %+v", ti.Name, ti.Command.Environment.Variables)
			}
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.mutate(&in)
			_, err := BuildGroup(in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}

// TestLaunchGroupWire checks the LAUNCH_GROUP JSON field names against
// mesos.proto (Offer.Operation.LaunchGroup, ExecutorInfo, TaskGroupInfo).
func TestLaunchGroupWire(t *testing.T) {
	lg, err := BuildGroup(GroupInput{Pod: podOf(t, hostPod), InstanceID: "prod_web.instance-u1", Incarnation: 1, FrameworkID: "fw",
		AgentID: mesos.AgentID{Value: "a"}, HostPorts: []uint32{31001},
		Resources: []mesos.Resource{scalar("cpus", 1, "*"), scalar("mem", 256, "*"), scalar("disk", 10, "*"), portsRes(31001)}})
	if err != nil {
		t.Fatal(err)
	}
	op, err := mesos.LaunchGroupOperation(lg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) any {
		var v any = m
		for _, k := range path {
			v = v.(map[string]any)[k]
		}
		return v
	}
	if get("type") != "LAUNCH_GROUP" || get("launch_group", "executor", "type") != "DEFAULT" ||
		get("launch_group", "executor", "executor_id", "value") != "instance-prod_web.u1" ||
		get("launch_group", "executor", "framework_id", "value") != "fw" ||
		get("launch_group", "executor", "container", "type") != "MESOS" {
		t.Errorf("wire form: %s", b)
	}
	tasks := get("launch_group", "task_group", "tasks").([]any)
	if len(tasks) != 2 || tasks[0].(map[string]any)["task_id"].(map[string]any)["value"] != "prod_web.instance-u1.server.1" {
		t.Errorf("tasks: %s", b)
	}
	if _, ok := get("launch_group", "executor").(map[string]any)["command"]; ok {
		t.Errorf("a DEFAULT executor must not have a command: %s", b)
	}
}
