package registrator

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/docker"
)

// ctr builds a running container for ComputeDocker's tests.
func ctr(name string, opts ...func(*docker.Container)) docker.Container {
	c := docker.Container{
		ID:     "id-" + name,
		Name:   "/" + name,
		Config: docker.ContainerConfig{Image: "registry.local:5000/team/web:1.2", Labels: map[string]string{}, ExposedPorts: map[string]struct{}{}},
		NetworkSettings: docker.NetworkSettings{IPAddress: "172.17.0.5", Ports: map[string][]docker.PortBinding{},
			Networks: map[string]docker.EndpointSetting{"bridge": {IPAddress: "172.17.0.5"}}},
		HostConfig: docker.HostConfig{NetworkMode: "default"},
		State:      docker.State{Status: "running", Running: true},
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func cenv(kv ...string) func(*docker.Container) {
	return func(c *docker.Container) { c.Config.Env = append(c.Config.Env, kv...) }
}

func clabel(k, v string) func(*docker.Container) {
	return func(c *docker.Container) { c.Config.Labels[k] = v }
}

func image(i string) func(*docker.Container) { return func(c *docker.Container) { c.Config.Image = i } }

// published publishes port ("80/tcp") on hostIP:hostPort.
func published(port, hostIP, hostPort string) func(*docker.Container) {
	return func(c *docker.Container) {
		c.Config.ExposedPorts[port] = struct{}{}
		c.NetworkSettings.Ports[port] = []docker.PortBinding{{HostIP: hostIP, HostPort: hostPort}}
	}
}

// exposed exposes port without publishing it.
func exposed(port string) func(*docker.Container) {
	return func(c *docker.Container) {
		c.Config.ExposedPorts[port] = struct{}{}
		c.NetworkSettings.Ports[port] = nil
	}
}

func hostNetwork(c *docker.Container) {
	c.HostConfig.NetworkMode = "host"
	c.NetworkSettings = docker.NetworkSettings{Networks: map[string]docker.EndpointSetting{"host": {}}}
}

func exited(code int) func(*docker.Container) {
	return func(c *docker.Container) { c.State = docker.State{Status: "exited", ExitCode: code} }
}

func health(status string) func(*docker.Container) {
	return func(c *docker.Container) {
		c.State.Health = &docker.Health{Status: status, Log: []docker.HealthLog{{ExitCode: 1, Output: "boom"}}}
	}
}

func dockerOpts() DockerOptions {
	return DockerOptions{Owner: "stadion", Hostname: "h1", HostIP: "10.0.0.1", Deregister: DeregisterAlways, TTL: time.Minute}
}

// svc is the part of a service the table compares.
type svc struct {
	ID, Name, Address string
	Port              int
	Tags              []string
	Meta              map[string]string
	Checks            []Check
}

func summarize(d Desired) []svc {
	var out []svc
	for _, s := range d.Services {
		m := map[string]string{}
		for k, v := range s.Meta {
			switch k {
			case MetaOwner, MetaHash, MetaSource, MetaHost, MetaContainerID, MetaContainerName:
			default:
				m[k] = v
			}
		}
		out = append(out, svc{ID: s.ID, Name: s.Name, Address: s.Address, Port: s.Port, Tags: s.Tags, Meta: m, Checks: s.Checks})
	}
	return out
}

func TestComputeDocker(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	noMeta := map[string]string{}
	tests := []struct {
		name    string
		view    DockerView
		opts    func(*DockerOptions)
		want    []svc
		skipped int
	}{
		{
			name: "one published port: image basename, host address and port",
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "0.0.0.0", "32768"))}},
			want: []svc{{ID: "h1:web:80", Name: "web", Address: "10.0.0.1", Port: 32768, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "a binding on one address is used as it is",
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "127.0.0.1", "32768"))}},
			want: []svc{{ID: "h1:web:80", Name: "web", Address: "127.0.0.1", Port: 32768, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "-ip overrides every binding",
			opts: func(o *DockerOptions) { o.IP = "10.0.0.9" },
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "127.0.0.1", "32768"))}},
			want: []svc{{ID: "h1:web:80", Name: "web", Address: "10.0.0.9", Port: 32768, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "two ports: -<port> suffix unless the name is port-specific; port keys beat generic ones, labels beat env",
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "", "1080"), published("443/tcp", "", "1443"),
				cenv("SERVICE_NAME=site", "SERVICE_443_NAME=tls", "SERVICE_TAGS=env", "SERVICE_443_TAGS=secure,\\,x", "SERVICE_REGION=eu"),
				clabel("SERVICE_TAGS", "a, b,,a"), clabel("SERVICE_com.acme.x", "dropped"), clabel("SERVICE_CONSUL-X", "reserved by consul"), clabel("SERVICE_LONG", strings.Repeat("x", 513)))}},
			want: []svc{
				{ID: "h1:web:443", Name: "tls", Address: "10.0.0.1", Port: 1443, Tags: []string{"secure", ",x"}, Meta: map[string]string{"region": "eu"}},
				{ID: "h1:web:80", Name: "site-80", Address: "10.0.0.1", Port: 1080, Tags: []string{"a", "b"}, Meta: map[string]string{"region": "eu"}},
			},
		},
		{
			name: "unpublished ports are skipped; SERVICE_IGNORE and SERVICE_<port>_IGNORE",
			view: DockerView{Containers: []docker.Container{
				ctr("web", published("80/tcp", "", "1080"), published("81/tcp", "", "1081"), exposed("9000/tcp"), cenv("SERVICE_81_IGNORE=yes")),
				ctr("ignored", published("80/tcp", "", "2080"), cenv("SERVICE_IGNORE=true")),
				ctr("not-ignored", published("80/tcp", "", "3080"), cenv("SERVICE_IGNORE=false")),
			}},
			want: []svc{
				{ID: "h1:not-ignored:80", Name: "web", Address: "10.0.0.1", Port: 3080, Tags: []string{}, Meta: noMeta},
				{ID: "h1:web:80", Name: "web-80", Address: "10.0.0.1", Port: 1080, Tags: []string{}, Meta: noMeta},
			},
		},
		{
			name: "-internal: the container's address and every exposed port",
			opts: func(o *DockerOptions) { o.Internal = true },
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "", "1080"), exposed("9000/tcp"))}},
			want: []svc{
				{ID: "h1:web:80", Name: "web-80", Address: "172.17.0.5", Port: 80, Tags: []string{}, Meta: noMeta},
				{ID: "h1:web:9000", Name: "web-9000", Address: "172.17.0.5", Port: 9000, Tags: []string{}, Meta: noMeta},
			},
		},
		{
			name: "-internal on a user-defined network takes that network's address",
			opts: func(o *DockerOptions) { o.Internal = true },
			view: DockerView{Containers: []docker.Container{ctr("web", exposed("80/tcp"), func(c *docker.Container) {
				c.HostConfig.NetworkMode = "backend"
				c.NetworkSettings.IPAddress = ""
				c.NetworkSettings.Networks = map[string]docker.EndpointSetting{"backend": {IPAddress: "10.9.0.2"}, "another": {IPAddress: "10.8.0.2"}}
			})}},
			want: []svc{{ID: "h1:web:80", Name: "web", Address: "10.9.0.2", Port: 80, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "host networking: exposed ports on the host's address, with and without -internal",
			view: DockerView{Containers: []docker.Container{ctr("web", hostNetwork, func(c *docker.Container) {
				c.Config.ExposedPorts = map[string]struct{}{"8500/tcp": {}}
			})}},
			want: []svc{{ID: "h1:web:8500", Name: "web", Address: "10.0.0.1", Port: 8500, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "udp: id suffix and tag; SERVICE_ID replaces the id; -tags added",
			opts: func(o *DockerOptions) { o.Tags = []string{"dc1"} },
			view: DockerView{Containers: []docker.Container{
				ctr("dns", published("53/udp", "", "1053")),
				ctr("web", published("80/tcp", "", "1080"), cenv("SERVICE_ID=web-main")),
			}},
			want: []svc{
				{ID: "h1:dns:53:udp", Name: "web", Address: "10.0.0.1", Port: 1053, Tags: []string{"dc1", "udp"}, Meta: noMeta},
				{ID: "web-main", Name: "web", Address: "10.0.0.1", Port: 1080, Tags: []string{"dc1"}, Meta: noMeta},
			},
		},
		{
			name: "-explicit registers named ports only",
			opts: func(o *DockerOptions) { o.Explicit = true },
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "", "1080"), published("81/tcp", "", "1081"), cenv("SERVICE_81_NAME=admin"))}},
			want: []svc{{ID: "h1:web:81", Name: "admin", Address: "10.0.0.1", Port: 1081, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "-useIpFromLabel, without its CIDR suffix",
			opts: func(o *DockerOptions) { o.IPLabel = "ip" },
			view: DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "", "1080"), clabel("ip", "192.168.1.9/24"))}},
			want: []svc{{ID: "h1:web:80", Name: "web", Address: "192.168.1.9", Port: 1080, Tags: []string{}, Meta: noMeta}},
		},
		{
			name:    "no host address for a port on all addresses: skipped, not registered on a wrong one",
			opts:    func(o *DockerOptions) { o.HostIP = "" },
			view:    DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "0.0.0.0", "1080"))}},
			skipped: 1,
		},
		{
			name: "digest image references",
			view: DockerView{Containers: []docker.Container{ctr("web", image("web@sha256:abc"), published("80/tcp", "", "1080"))}},
			want: []svc{{ID: "h1:web:80", Name: "web", Address: "10.0.0.1", Port: 1080, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "Mesos and Stadion containers, stopped ones and those asked to stop are left out",
			view: DockerView{
				Containers: []docker.Container{
					ctr("mesos-1234", published("80/tcp", "", "1080")),
					ctr("task", published("80/tcp", "", "1081"), clabel("stadion.task_id", "web.1")),
					ctr("exited", published("80/tcp", "", "1082"), exited(0)),
					ctr("stopping", published("80/tcp", "", "1083")),
					ctr("outlived", published("80/tcp", "", "1084")),
				},
				Stopping: map[string]time.Time{"id-stopping": now.Add(time.Second), "id-outlived": now},
			},
			want: []svc{{ID: "h1:outlived:80", Name: "web", Address: "10.0.0.1", Port: 1084, Tags: []string{}, Meta: noMeta}},
		},
		{
			name: "on-success keeps a container that failed, not one that succeeded or was killed",
			opts: func(o *DockerOptions) { o.Deregister = DeregisterOnSuccess },
			view: DockerView{Containers: []docker.Container{
				ctr("failed", published("80/tcp", "", "1080"), exited(1)),
				ctr("ok", published("80/tcp", "", "1081"), exited(0)),
				ctr("killed", published("80/tcp", "", "1082"), exited(137)),
			}},
			want: []svc{{ID: "h1:failed:80", Name: "web", Address: "10.0.0.1", Port: 1080, Tags: []string{}, Meta: noMeta}},
		},
		{
			name:    "a SERVICE_ID shared by two ports: the second is skipped",
			view:    DockerView{Containers: []docker.Container{ctr("web", published("80/tcp", "", "1080"), published("81/tcp", "", "1081"), cenv("SERVICE_ID=same"))}},
			want:    []svc{{ID: "same", Name: "web-80", Address: "10.0.0.1", Port: 1080, Tags: []string{}, Meta: noMeta}},
			skipped: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := dockerOpts()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			d := ComputeDocker(tc.view, opts, now)
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if len(d.Skipped) != tc.skipped {
				t.Errorf("skipped %v, want %d", d.Skipped, tc.skipped)
			}
			for _, s := range d.Skipped {
				if !errors.Is(s.Err, ErrBadContainer) {
					t.Errorf("skip error %v is not ErrBadContainer", s.Err)
				}
			}
		})
	}
}

func TestComputeDockerChecks(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		health  string
		want    []Check
		skipped bool
	}{
		{name: "none", want: nil},
		{
			name: "http with interval, timeout, method, initial status and deregister-after",
			env: []string{"SERVICE_CHECK_HTTP=/health", "SERVICE_CHECK_HTTP_METHOD=HEAD", "SERVICE_CHECK_INTERVAL=5s", "SERVICE_CHECK_TIMEOUT=2s",
				"SERVICE_CHECK_INITIAL_STATUS=passing", "SERVICE_CHECK_DEREGISTER_AFTER=10m"},
			want: []Check{{ID: "service:h1:web:80", Name: "HTTP /health", Kind: CheckHTTP, HTTP: "http://10.0.0.1:1080/health", Method: "HEAD",
				Interval: 5 * time.Second, Timeout: 2 * time.Second, InitialStatus: StatusPassing, DeregisterAfter: 10 * time.Minute}},
		},
		{
			name: "https before tcp, skip-verify",
			env:  []string{"SERVICE_CHECK_TCP=true", "SERVICE_CHECK_HTTPS=/h", "SERVICE_CHECK_TLS_SKIP_VERIFY=true"},
			want: []Check{{ID: "service:h1:web:80", Name: "HTTPS /h", Kind: CheckHTTP, HTTP: "https://10.0.0.1:1080/h", TLSSkipVerify: true, Interval: 10 * time.Second}},
		},
		{
			name: "script through a shell, with the address substituted",
			env:  []string{"SERVICE_CHECK_SCRIPT=nc -z $SERVICE_IP $SERVICE_PORT"},
			want: []Check{{ID: "service:h1:web:80", Name: "script", Kind: CheckScript, Args: []string{"/bin/sh", "-c", "nc -z 10.0.0.1 1080"}, Interval: 10 * time.Second}},
		},
		{
			name: "ttl passed by the container",
			env:  []string{"SERVICE_CHECK_TTL=30s"},
			want: []Check{{ID: "service:h1:web:80", Name: "TTL 30s", Kind: CheckTTL, TTL: 30 * time.Second}},
		},
		{
			name: "tcp",
			env:  []string{"SERVICE_CHECK_TCP=true"},
			want: []Check{{ID: "service:h1:web:80", Name: "TCP 10.0.0.1:1080", Kind: CheckTCP, TCP: "10.0.0.1:1080", Interval: 10 * time.Second}},
		},
		{
			name: "grpc with TLS",
			env:  []string{"SERVICE_CHECK_GRPC=true", "SERVICE_CHECK_GRPC_USE_TLS=true"},
			want: []Check{{ID: "service:h1:web:80", Name: "gRPC 10.0.0.1:1080", Kind: CheckGRPC, GRPC: "10.0.0.1:1080", GRPCUseTLS: true, Interval: 10 * time.Second}},
		},
		{
			name:   "HEALTHCHECK unhealthy: a critical status check beside the SERVICE_CHECK",
			env:    []string{"SERVICE_CHECK_TCP=true"},
			health: docker.HealthUnhealthy,
			want: []Check{
				{ID: "service:h1:web:80", Name: "TCP 10.0.0.1:1080", Kind: CheckTCP, TCP: "10.0.0.1:1080", Interval: 10 * time.Second},
				{ID: "h1:web:80:docker-health", Name: "Docker HEALTHCHECK of web", Kind: CheckStatus, TTL: time.Minute, Status: StatusCritical,
					Output: "docker health: unhealthy (last run: exit 1: boom)", Notes: "set by stadion registrator from the container's Docker HEALTHCHECK"},
			},
		},
		{
			name:   "HEALTHCHECK starting is not ready",
			health: docker.HealthStarting,
			want: []Check{{ID: "h1:web:80:docker-health", Name: "Docker HEALTHCHECK of web", Kind: CheckStatus, TTL: time.Minute, Status: StatusCritical,
				Output: "docker health: starting (last run: exit 1: boom)", Notes: "set by stadion registrator from the container's Docker HEALTHCHECK"}},
		},
		{name: "bad interval", env: []string{"SERVICE_CHECK_HTTP=/", "SERVICE_CHECK_INTERVAL=often"}, skipped: true},
		{name: "bad initial status", env: []string{"SERVICE_CHECK_TCP=1", "SERVICE_CHECK_INITIAL_STATUS=fine"}, skipped: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []func(*docker.Container){published("80/tcp", "", "1080"), cenv(tc.env...)}
			if tc.health != "" {
				opts = append(opts, health(tc.health))
			}
			d := ComputeDocker(DockerView{Containers: []docker.Container{ctr("web", opts...)}}, dockerOpts(), time.Now())
			if tc.skipped {
				if len(d.Services) != 0 || len(d.Skipped) != 1 {
					t.Fatalf("services %v, skipped %v: want the port skipped", d.Services, d.Skipped)
				}
				return
			}
			if len(d.Services) != 1 {
				t.Fatalf("services %v, skipped %v", d.Services, d.Skipped)
			}
			if diff := cmp.Diff(tc.want, d.Services[0].Checks); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitTags(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "empty", in: "", want: nil},
		{name: "order kept, blanks trimmed", in: "a, b ,,c", want: []string{"a", "b", "c"}},
		{name: "escaped comma", in: `x\,y,z`, want: []string{"x,y", "z"}},
		{name: "a lone backslash stays", in: `a\b`, want: []string{`a\b`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitTags(tc.in); !cmp.Equal(got, tc.want) {
				t.Errorf("splitTags(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestReadMetaPrecedence(t *testing.T) {
	m := readMeta([]string{"SERVICE_80_NAME=port-env", "SERVICE_NAME=generic-env", "SERVICE_TAGS=env", "SERVICE_81_TAGS=other-port", "SERVICE_REGION="},
		map[string]string{"SERVICE_NAME": "generic-label", "SERVICE_TAGS": "label", "NOT_SERVICE_X": "y"}, "80")
	want := map[string]string{"name": "port-env", "tags": "label"}
	if diff := cmp.Diff(want, m.values); diff != "" || !m.portName {
		t.Errorf("meta (-want +got):\n%s\nportName %v", diff, m.portName)
	}
	if strings.Contains(strings.Join(mapKeys(m.values), ","), "region") {
		t.Error("an empty value counts as set")
	}
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
