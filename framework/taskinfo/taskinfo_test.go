package taskinfo

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// base is the TaskInfo every case starts from, environment left out (it is
// checked by TestBuildEnvironment).
func base(command *mesos.CommandInfo, more ...func(*mesos.TaskInfo)) mesos.TaskInfo {
	ti := mesos.TaskInfo{
		Name:      "web.prod",
		TaskID:    mesos.TaskID{Value: "prod_web.instance-1._app.1"},
		AgentID:   mesos.AgentID{Value: "S1"},
		Resources: []mesos.Resource{cpusRes},
		Command:   command,
		Discovery: &mesos.DiscoveryInfo{Visibility: "FRAMEWORK", Name: "web.prod", Ports: &mesos.Ports{}},
	}
	for _, m := range more {
		m(&ti)
	}
	return ti
}

func shell(v string) *mesos.CommandInfo { return &mesos.CommandInfo{Shell: ptr(true), Value: ptr(v)} }

var ignoreEnv = cmpopts.IgnoreFields(mesos.CommandInfo{}, "Environment")

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want mesos.TaskInfo
	}{
		{
			name: "shell command",
			in:   input(app()),
			want: base(shell("serve")),
		},
		{
			name: "args without a container: value is argv[0]",
			in:   input(app(args("/bin/server", "--port", "80"))),
			want: base(&mesos.CommandInfo{Shell: ptr(false), Value: ptr("/bin/server"), Arguments: []string{"/bin/server", "--port", "80"}}),
		},
		{
			name: "fetch, user, labels and kill policy",
			in: input(app(
				user("nobody"), label("b", "2"), label("a", "1"), killGrace(30),
				fetch(marathon.Artifact{URI: "http://x/app.tgz", Extract: true, Cache: true, DestPath: "app.tgz"}),
				fetch(marathon.Artifact{URI: "http://x/run", Executable: true}),
			)),
			want: base(&mesos.CommandInfo{
				Shell: ptr(true), Value: ptr("serve"), User: "nobody",
				URIs: []mesos.CommandURI{
					{Value: "http://x/app.tgz", Extract: ptr(true), Executable: ptr(false), Cache: ptr(true), OutputFile: "app.tgz"},
					{Value: "http://x/run", Extract: ptr(false), Executable: ptr(true), Cache: ptr(false)},
				},
			}, func(ti *mesos.TaskInfo) {
				ti.Labels = mlabels("a", "1", "b", "2")
				ti.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: 30e9}}
			}),
		},
		{
			name: "host ports: discovery with names, labels and split protocols; MESOS_TCP on the host port",
			in: input(app(
				portDef(0, "tcp", "http", map[string]string{"VIP": "1.2.3.4:80"}),
				portDef(10001, "tcp,udp", "", nil),
				check(hcheck(marathon.ProtocolMesosTCP, 1)),
			), 31000, 31001),
			want: base(shell("serve"), func(ti *mesos.TaskInfo) {
				ti.Discovery.Ports = ports(
					mesos.Port{Number: 31000, Name: "http", Protocol: "tcp", Labels: mlabels("VIP", "1.2.3.4:80")},
					mesos.Port{Number: 31001, Protocol: "tcp"},
					mesos.Port{Number: 31001, Protocol: "udp"},
				)
				ti.HealthCheck = &mesos.HealthCheck{
					Type: mesos.HealthCheckTCP, TCP: &mesos.TCPCheckInfo{Port: 31001},
					DelaySeconds: ptr(15.0), IntervalSeconds: ptr(60.0), TimeoutSeconds: ptr(20.0),
					ConsecutiveFailures: ptr(uint32(3)), GracePeriodSeconds: ptr(300.0),
				}
			}),
		},
		{
			name: "docker bridge: mappings, container-only port, volumes, parameters, MESOS_HTTP on the container port",
			in: input(app(
				cmd(""),
				docker("nginx:1.25", marathon.NetworkBridge),
				dockerOpts(func(d *marathon.Docker) {
					d.Privileged = true
					d.Parameters = []marathon.Parameter{{Key: "label", Value: "a=b"}}
				}),
				mapping(80, 0, "tcp", "http", nil),
				mapping(0, 0, "tcp,udp", "dns", nil),
				mapping(9000, -1, "tcp", "admin", map[string]string{"x": "y"}),
				volume(marathon.Volume{ContainerPath: "/data", HostPath: "/srv/data", Mode: marathon.VolumeRO}),
				volume(marathon.Volume{ContainerPath: "/tmp"}),
				check(hcheck(marathon.ProtocolHTTP, 0)),
				check(hcheck(marathon.ProtocolMesosHTTP, 0, func(hc *marathon.HealthCheck) { hc.Path = "/health"; hc.MaxConsecutiveFailures = 0 })),
			), 31005, 31006, 0),
			want: base(&mesos.CommandInfo{Shell: ptr(false)}, func(ti *mesos.TaskInfo) {
				ti.Container = &mesos.ContainerInfo{
					Type:    mesos.ContainerDocker,
					Volumes: []mesos.Volume{{ContainerPath: "/data", HostPath: "/srv/data", Mode: "RO"}},
					Docker: &mesos.DockerInfo{
						Image: "nginx:1.25", Network: mesos.NetworkBridge, Privileged: ptr(true), ForcePullImage: ptr(false),
						PortMappings: []mesos.PortMapping{
							{HostPort: 31005, ContainerPort: 80, Protocol: "tcp"},
							{HostPort: 31006, ContainerPort: 31006, Protocol: "tcp"},
							{HostPort: 31006, ContainerPort: 31006, Protocol: "udp"},
						},
						Parameters: []mesos.Parameter{{Key: "label", Value: "a=b"}},
					},
				}
				ti.Discovery.Ports = ports(
					mesos.Port{Number: 31005, Name: "http", Protocol: "tcp", Labels: mlabels("network-scope", "host")},
					mesos.Port{Number: 31006, Name: "dns", Protocol: "tcp", Labels: mlabels("network-scope", "host")},
					mesos.Port{Number: 31006, Name: "dns", Protocol: "udp", Labels: mlabels("network-scope", "host")},
					mesos.Port{Number: 9000, Name: "admin", Protocol: "tcp", Labels: mlabels("network-scope", "container", "x", "y")},
				)
				ti.HealthCheck = &mesos.HealthCheck{
					Type: mesos.HealthCheckHTTP, HTTP: &mesos.HTTPCheckInfo{Scheme: "http", Port: 80, Path: "/health"},
					DelaySeconds: ptr(15.0), IntervalSeconds: ptr(60.0), TimeoutSeconds: ptr(20.0),
					ConsecutiveFailures: ptr(uint32(0)), GracePeriodSeconds: ptr(300.0),
				}
			}),
		},
		{
			name: "docker with args: no value, arguments for the entrypoint",
			in:   input(app(args("--verbose"), docker("img", marathon.NetworkHost), dockerOpts(func(d *marathon.Docker) { d.ForcePullImage = true }))),
			want: base(&mesos.CommandInfo{Shell: ptr(false), Arguments: []string{"--verbose"}}, func(ti *mesos.TaskInfo) {
				ti.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker, Docker: &mesos.DockerInfo{
					Image: "img", Network: mesos.NetworkHost, Privileged: ptr(false), ForcePullImage: ptr(true),
				}}
			}),
		},
		{
			name: "docker on a user network",
			in:   input(app(docker("img", marathon.NetworkContainer), mapping(80, -1, "tcp", "", nil)), 0),
			want: base(shell("serve"), func(ti *mesos.TaskInfo) {
				ti.Container = &mesos.ContainerInfo{
					Type:         mesos.ContainerDocker,
					Docker:       &mesos.DockerInfo{Image: "img", Network: mesos.NetworkUser, Privileged: ptr(false), ForcePullImage: ptr(false)},
					NetworkInfos: []mesos.NetworkInfo{{Name: "overlay"}},
				}
				ti.Discovery.Ports = ports(mesos.Port{Number: 80, Protocol: "tcp", Labels: mlabels("network-scope", "container")})
			}),
		},
		{
			name: "mesos container with a docker image on the bridge",
			in:   input(app(mesosContainer("img", marathon.NetworkBridge), mapping(80, 0, "tcp", "", nil)), 31000),
			want: base(shell("serve"), func(ti *mesos.TaskInfo) {
				ti.Container = &mesos.ContainerInfo{
					Type:  mesos.ContainerMesos,
					Mesos: json.RawMessage(`{"image":{"type":"DOCKER","docker":{"name":"img"},"cached":true}}`),
					NetworkInfos: []mesos.NetworkInfo{{
						IPAddresses: []mesos.IPAddress{{}}, Name: "mesos-bridge",
						PortMappings: []mesos.PortMapping{{HostPort: 31000, ContainerPort: 80, Protocol: "tcp"}},
					}},
				}
				ti.Discovery.Ports = ports(mesos.Port{Number: 31000, Protocol: "tcp", Labels: mlabels("network-scope", "host")})
			}),
		},
		{
			name: "command health check; only the first agent-side check is used",
			in: input(app(
				check(hcheck(marathon.ProtocolTCP, -1)),
				check(hcheck(marathon.ProtocolCommand, -1, func(hc *marathon.HealthCheck) {
					hc.Command = &marathon.CommandCheck{Value: "curl -f localhost"}
					hc.IntervalSeconds, hc.TimeoutSeconds, hc.DelaySeconds, hc.GracePeriodSeconds = 5, 2, 1, 10
				})),
				check(hcheck(marathon.ProtocolMesosTCP, -1, func(hc *marathon.HealthCheck) { hc.Port = ptr(8080) })),
			)),
			want: base(shell("serve"), func(ti *mesos.TaskInfo) {
				ti.HealthCheck = &mesos.HealthCheck{
					Type: mesos.HealthCheckCommand, Command: &mesos.CommandInfo{Value: ptr("curl -f localhost")},
					DelaySeconds: ptr(1.0), IntervalSeconds: ptr(5.0), TimeoutSeconds: ptr(2.0),
					ConsecutiveFailures: ptr(uint32(3)), GracePeriodSeconds: ptr(10.0),
				}
			}),
		},
		{
			name: "MESOS_HTTPS with a fixed port and IPv6",
			in: input(app(check(hcheck(marathon.ProtocolMesosHTTPS, -1, func(hc *marathon.HealthCheck) {
				hc.Port, hc.IPProtocol = ptr(8443), marathon.IPv6
			})))),
			want: base(shell("serve"), func(ti *mesos.TaskInfo) {
				ti.HealthCheck = &mesos.HealthCheck{
					Type: mesos.HealthCheckHTTP, HTTP: &mesos.HTTPCheckInfo{Scheme: "https", Port: 8443, Protocol: "IPv6"},
					DelaySeconds: ptr(15.0), IntervalSeconds: ptr(60.0), TimeoutSeconds: ptr(20.0),
					ConsecutiveFailures: ptr(uint32(3)), GracePeriodSeconds: ptr(300.0),
				}
			}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(tc.in)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got.Command == nil || got.Command.Environment == nil {
				t.Fatal("no environment")
			}
			if diff := cmp.Diff(tc.want, got, ignoreEnv); diff != "" {
				t.Errorf("Build (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildEnvironment(t *testing.T) {
	in := input(app(
		portDef(0, "tcp", "http", nil),
		env("A", "1"), env("PORT0", "mine"), secretEnv("DB_PASSWORD", "db"),
		label("team", "x"),
	), 31000)
	in.EnvPrefix = "APP_"
	in.Secrets = map[string]string{"db": "s3cr3t"}
	got, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	vars := got.Command.Environment.Variables
	if !slices.IsSortedFunc(vars, func(a, b mesos.Variable) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("variables not sorted by name")
	}
	env := map[string]string{}
	for _, v := range vars {
		if v.Type == mesos.VariableSecret {
			if v.Value != nil {
				t.Errorf("secret variable %s has a plain value", v.Name)
			}
			data, err := v.SecretData()
			if err != nil {
				t.Fatal(err)
			}
			env[v.Name] = "secret:" + string(data)
			continue
		}
		env[v.Name] = *v.Value
	}
	want := map[string]string{
		"MESOS_TASK_ID":        "prod_web.instance-1._app.1",
		"MARATHON_APP_ID":      "/prod/web",
		"MARATHON_APP_VERSION": "2015-09-17T09:32:36.583Z",
		"MARATHON_APP_LABELS":  "TEAM", "MARATHON_APP_LABEL_TEAM": "x",
		"MARATHON_APP_RESOURCE_CPUS": "0.5", "MARATHON_APP_RESOURCE_MEM": "64.0", "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0",
		"APP_PORT0": "31000", "APP_PORT": "31000", "APP_PORTS": "31000", "APP_PORT_HTTP": "31000", "APP_PORT_31000": "31000",
		"APP_HOST": "agent-1",
		"A":        "1", "PORT0": "mine",
		"DB_PASSWORD": "secret:s3cr3t",
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestBuildAppEnvWinsOverTaskID(t *testing.T) {
	got, err := Build(input(app(env("MESOS_TASK_ID", "mine"))))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got.Command.Environment.Variables {
		if v.Name == "MESOS_TASK_ID" && *v.Value != "mine" {
			t.Errorf("MESOS_TASK_ID = %q, want the app's", *v.Value)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	noTask := input(app())
	noTask.Instance.TaskID = ""
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{name: "no task id", in: noTask, want: "has no task id"},
		{name: "host ports do not match the ports", in: input(app(portDef(0, "tcp", "", nil))), want: "0 host ports for the 1 ports"},
		{name: "health check port index out of range", in: input(app(portDef(0, "tcp", "", nil), check(hcheck(marathon.ProtocolMesosHTTP, 3))), 31000), want: "portIndex 3 out of range"},
		{name: "command check without command", in: input(app(check(hcheck(marathon.ProtocolCommand, -1)))), want: "without a command"},
		{name: "custom executor", in: input(app(executor("/opt/exec"))), want: "custom executor"},
		{name: "docker without image", in: input(app(docker("", marathon.NetworkHost))), want: "without an image"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build error = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	for id, want := range map[marathon.PathID]string{"/web": "web", "/prod/web": "web.prod", "/a/b/c": "c.b.a"} {
		if got := Name(id); got != want {
			t.Errorf("Name(%s) = %q, want %q", id, got, want)
		}
	}
}

// bridgeInput is the app of the Mesos reference §7.3: nginx on BRIDGE with
// 31005→80, an HTTP check on /, a kill grace period, a label, a docker
// parameter.
func bridgeInput() Input {
	a := app(
		cmd(""), label("app", "web"), killGrace(10),
		docker("nginx:1.25", marathon.NetworkBridge),
		dockerOpts(func(d *marathon.Docker) {
			d.Parameters = []marathon.Parameter{{Key: "label", Value: "owner=go-docker-sched"}}
		}),
		mapping(80, 0, "tcp", "http", nil),
		check(hcheck(marathon.ProtocolMesosHTTP, 0, func(hc *marathon.HealthCheck) {
			hc.Path, hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds, hc.GracePeriodSeconds = "/", 5, 10, 5, 30
		})),
	)
	in := input(a, 31005)
	in.Launch.Resources = []mesos.Resource{
		{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.5}, Role: "*"},
		{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 128}, Role: "*"},
		{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: []mesos.Range{{Begin: 31005, End: 31005}}}, Role: "*"},
	}
	return in
}

func TestBuildRoundTrip(t *testing.T) {
	ti, err := Build(bridgeInput())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ti)
	if err != nil {
		t.Fatal(err)
	}
	var back mesos.TaskInfo
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ti, back); diff != "" {
		t.Errorf("round trip (-built +decoded):\n%s", diff)
	}
}

func TestBuildMatchesMesosShape(t *testing.T) {
	ti, err := Build(bridgeInput())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ti)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile(filepath.Join("testdata", "mesos-v1-api-7.3-task_info.json"))
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := leaves(t, b), leaves(t, ref)
	if len(theirs) < 30 {
		t.Fatalf("reference has only %d leaf paths", len(theirs))
	}
	var missing []string
	for path := range theirs {
		if _, ok := ours[path]; !ok {
			missing = append(missing, path)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fields of the reference TaskInfo missing from ours: %v", missing)
	}
	// Values that must agree with the reference; discovery visibility is
	// FRAMEWORK, as Marathon sets it, where the reference has EXTERNAL.
	for _, path := range []string{
		"container.type", "container.docker.image", "container.docker.network",
		"container.docker.port_mappings[].host_port", "container.docker.port_mappings[].container_port",
		"container.docker.port_mappings[].protocol", "container.docker.force_pull_image",
		"container.docker.parameters[].key", "container.docker.parameters[].value",
		"command.shell", "health_check.type", "health_check.http.scheme", "health_check.http.port",
		"health_check.http.path", "health_check.delay_seconds", "health_check.interval_seconds",
		"health_check.timeout_seconds", "health_check.consecutive_failures", "health_check.grace_period_seconds",
		"kill_policy.grace_period.nanoseconds", "labels.labels[].key", "labels.labels[].value",
		"discovery.ports.ports[].number", "discovery.ports.ports[].name", "discovery.ports.ports[].protocol",
		"resources[].name", "resources[].type", "resources[].scalar.value", "resources[].ranges.range[].begin",
	} {
		if !cmp.Equal(ours[path], theirs[path]) {
			t.Errorf("%s = %v, reference has %v", path, ours[path], theirs[path])
		}
	}
}

// leaves flattens a JSON document into path → values, arrays written
// "[]" and their elements' values collected in order.
func leaves(t *testing.T, doc []byte) map[string][]any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string][]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		default:
			out[prefix] = append(out[prefix], x)
		}
	}
	walk("", v)
	return out
}

func TestBuildUser(t *testing.T) {
	tests := []struct {
		name        string
		app         marathon.App
		defaultUser string
		want        string
	}{
		{name: "app user", app: app(user("nobody")), defaultUser: "root", want: "nobody"},
		{name: "default user", app: app(), defaultUser: "stadion", want: "stadion"},
		{name: "neither", app: app(), want: ""},
		{name: "docker with app user", app: app(docker("busybox", marathon.NetworkHost), user("nobody")), defaultUser: "root", want: "nobody"},
		{name: "docker without: the image's user", app: app(docker("busybox", marathon.NetworkHost)), defaultUser: "root", want: ""},
		{name: "mesos container without app user", app: app(mesosContainer("", marathon.NetworkHost)), defaultUser: "stadion", want: "stadion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(tc.app)
			in.DefaultUser = tc.defaultUser
			ti, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			if ti.Command.User != tc.want {
				t.Errorf("command user = %q, want %q", ti.Command.User, tc.want)
			}
		})
	}
}

func TestBuildUnresolvedSecret(t *testing.T) {
	_, err := Build(input(app(secretEnv("DB_PASSWORD", "db"))))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Build without the secret's value: %v, want ErrInvalid", err)
	}
}
