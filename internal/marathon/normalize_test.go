package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		opts  NormalizeOptions
		check func(t *testing.T, a App)
	}{
		{
			name: "defaults for a command app",
			body: `{"id":"web","cmd":"sleep 1"}`,
			check: func(t *testing.T, a App) {
				want := NewApp("/web")
				want.Cmd = "sleep 1"
				want.Networks = []Network{{Mode: NetworkHost}}
				want.PortDefinitions = []PortDefinition{{Port: 0, Protocol: "tcp", Name: "default"}}
				want.Role = "*"
				if diff := cmp.Diff(want, a); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "explicitly no ports stays empty",
			body: `{"id":"/a","cmd":"x","portDefinitions":[]}`,
			check: func(t *testing.T, a App) {
				if a.PortDefinitions == nil || len(a.PortDefinitions) != 0 {
					t.Errorf("portDefinitions = %#v, want []", a.PortDefinitions)
				}
			},
		},
		{
			name: "relative id and dependencies against base",
			body: `{"id":"web","cmd":"x","dependencies":["../db","cache"]}`,
			opts: NormalizeOptions{Base: "/prod/front"},
			check: func(t *testing.T, a App) {
				if a.ID != "/prod/front/web" {
					t.Errorf("id = %q", a.ID)
				}
				if diff := cmp.Diff([]PathID{"/prod/db", "/prod/front/cache"}, a.Dependencies); diff != "" {
					t.Errorf("dependencies (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "legacy ports become port definitions",
			body: `{"id":"/a","cmd":"x","ports":[10013,0]}`,
			check: func(t *testing.T, a App) {
				want := []PortDefinition{{Port: 10013, Protocol: "tcp"}, {Port: 0, Protocol: "tcp"}}
				if diff := cmp.Diff(want, a.PortDefinitions); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if a.Ports != nil {
					t.Errorf("ports not cleared: %v", a.Ports)
				}
			},
		},
		{
			name: "legacy uris become fetch",
			body: `{"id":"/a","cmd":"x","uris":["http://h/a.tar.gz","http://h/run.sh"]}`,
			check: func(t *testing.T, a App) {
				want := []Artifact{{URI: "http://h/a.tar.gz", Extract: true}, {URI: "http://h/run.sh"}}
				if diff := cmp.Diff(want, a.Fetch); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "docker BRIDGE with docker port mappings",
			body: `{"id":"/a","container":{"type":"DOCKER","docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80}]}}}`,
			check: func(t *testing.T, a App) {
				if diff := cmp.Diff([]Network{{Mode: NetworkBridge}}, a.Networks); diff != "" {
					t.Errorf("networks (-want +got):\n%s", diff)
				}
				wantPM := []PortMapping{{ContainerPort: 80, HostPort: intp(0), Protocol: "tcp"}}
				if diff := cmp.Diff(wantPM, a.Container.PortMappings); diff != "" {
					t.Errorf("portMappings (-want +got):\n%s", diff)
				}
				if a.Container.Docker.Network != "" || a.Container.Docker.PortMappings != nil {
					t.Errorf("legacy docker fields not cleared: %+v", a.Container.Docker)
				}
				if a.PortDefinitions != nil {
					t.Errorf("portDefinitions = %v, want nil for bridge", a.PortDefinitions)
				}
			},
		},
		{
			name: "docker HOST",
			body: `{"id":"/a","container":{"docker":{"image":"nginx","network":"HOST"}}}`,
			check: func(t *testing.T, a App) {
				if diff := cmp.Diff([]Network{{Mode: NetworkHost}}, a.Networks); diff != "" {
					t.Errorf("networks (-want +got):\n%s", diff)
				}
				if len(a.PortDefinitions) != 1 || a.Container.PortMappings != nil {
					t.Errorf("ports = %v mappings = %v", a.PortDefinitions, a.Container.PortMappings)
				}
			},
		},
		{
			name: "docker USER takes the default network name",
			body: `{"id":"/a","container":{"docker":{"image":"nginx","network":"USER"}}}`,
			opts: NormalizeOptions{DefaultNetworkName: "dcos"},
			check: func(t *testing.T, a App) {
				if diff := cmp.Diff([]Network{{Mode: NetworkContainer, Name: "dcos"}}, a.Networks); diff != "" {
					t.Errorf("networks (-want +got):\n%s", diff)
				}
				want := []PortMapping{{Protocol: "tcp", Name: "default"}}
				if diff := cmp.Diff(want, a.Container.PortMappings); diff != "" {
					t.Errorf("default port mapping (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "container networking drops port definitions, requirePorts, adds mappings for ports",
			body: `{"id":"/a","networks":[{"mode":"container/bridge"}],"requirePorts":true,"ports":[0,0],"container":{"docker":{"image":"i"},"portMappings":[{"containerPort":8080}]}}`,
			check: func(t *testing.T, a App) {
				if a.RequirePorts || a.PortDefinitions != nil {
					t.Errorf("requirePorts = %v portDefinitions = %v", a.RequirePorts, a.PortDefinitions)
				}
				if len(a.Container.PortMappings) != 2 {
					t.Errorf("portMappings = %+v, want 2", a.Container.PortMappings)
				}
			},
		},
		{
			name: "ipAddress without container gives a MESOS container",
			body: `{"id":"/a","cmd":"x","ipAddress":{"networkName":"dev","discovery":{"ports":[{"number":80,"name":"http","protocol":"tcp"}]}}}`,
			check: func(t *testing.T, a App) {
				if a.Container == nil || a.Container.Type != ContainerMesos {
					t.Fatalf("container = %+v", a.Container)
				}
				want := []PortMapping{{ContainerPort: 80, Name: "http", Protocol: "tcp"}}
				if diff := cmp.Diff(want, a.Container.PortMappings); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]Network{{Mode: NetworkContainer, Name: "dev"}}, a.Networks); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "health check gets portIndex 0",
			body: `{"id":"/a","cmd":"x","portDefinitions":[{"port":0}],"healthChecks":[{"protocol":"HTTP"},{"protocol":"COMMAND","command":{"value":"true"}},{"protocol":"TCP","port":80}]}`,
			check: func(t *testing.T, a App) {
				if a.HealthChecks[0].PortIndex == nil || *a.HealthChecks[0].PortIndex != 0 {
					t.Errorf("HTTP check portIndex = %v", a.HealthChecks[0].PortIndex)
				}
				if a.HealthChecks[1].PortIndex != nil || a.HealthChecks[2].PortIndex != nil {
					t.Errorf("COMMAND or port check got a portIndex")
				}
			},
		},
		{
			name: "readiness status codes and role",
			body: `{"id":"/a","cmd":"x","portDefinitions":[{"name":"http-api"}],"readinessChecks":[{}]}`,
			opts: NormalizeOptions{DefaultRole: "prod"},
			check: func(t *testing.T, a App) {
				if diff := cmp.Diff([]int{200}, a.ReadinessChecks[0].HTTPStatusCodesForReady); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if a.Role != "prod" {
					t.Errorf("role = %q", a.Role)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeApp([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			n, err := Normalize(a, tc.opts)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			tc.check(t, n)
		})
	}
}

func TestNormalizeConflicts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string][]string
	}{
		{
			name: "uris and fetch",
			body: `{"id":"/a","cmd":"x","uris":["http://a"],"fetch":[{"uri":"http://b"}]}`,
			want: map[string][]string{"/uris": {"may not be set in conjunction with fetch"}},
		},
		{
			name: "ports and portDefinitions",
			body: `{"id":"/a","cmd":"x","ports":[1],"portDefinitions":[{"port":2}]}`,
			want: map[string][]string{"/": {"cannot specify both ports and port definitions"}},
		},
		{
			name: "duplicate legacy ports",
			body: `{"id":"/a","cmd":"x","ports":[1,1,0,0]}`,
			want: map[string][]string{"/": {"ports must be unique"}},
		},
		{
			name: "docker network and networks disagree",
			body: `{"id":"/a","networks":[{"mode":"host"}],"container":{"docker":{"image":"i","network":"BRIDGE"}}}`,
			want: map[string][]string{"/": {"must not specify both container.docker.network and networks"}},
		},
		{
			name: "both port mapping places",
			body: `{"id":"/a","networks":[{"mode":"container/bridge"}],"container":{"docker":{"image":"i","portMappings":[{"containerPort":1}]},"portMappings":[{"containerPort":2}]}}`,
			want: map[string][]string{"/container": {"cannot specify both portMappings and docker.portMappings"}},
		},
		{
			name: "docker network NONE",
			body: `{"id":"/a","container":{"docker":{"image":"i","network":"NONE"}}}`,
			want: map[string][]string{"/container/docker/network": {"unsupported docker network type NONE"}},
		},
		{
			name: "discovery with docker",
			body: `{"id":"/a","ipAddress":{"discovery":{"ports":[{"number":1,"name":"a","protocol":"tcp"}]}},"container":{"docker":{"image":"i"}}}`,
			want: map[string][]string{"/ipAddress": {"ipAddress/discovery is not allowed for Docker containers"}},
		},
		{
			name: "agreeing legacy fields are no conflict",
			body: `{"id":"/a","networks":[{"mode":"container/bridge"}],"ports":[10000],"portDefinitions":[],
				"container":{"type":"DOCKER","docker":{"image":"i","network":"BRIDGE","portMappings":[{"containerPort":1,"hostPort":0,"servicePort":10000}]},
				"portMappings":[{"containerPort":1,"hostPort":0,"servicePort":10000}]}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeApp([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Normalize(a, NormalizeOptions{})
			if diff := cmp.Diff(tc.want, details(t, err)); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeGroup(t *testing.T) {
	g, err := DecodeGroup(readExample(t, "group.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.Groups[0].Apps[0].ID = "oauth-server" // relative to /tools
	n, err := NormalizeGroup(g, NormalizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Groups[0].Apps[0].ID; got != "/tools/oauth-server" {
		t.Errorf("id = %q", got)
	}
	if err := ValidateGroup(n); err != nil {
		t.Errorf("ValidateGroup: %v", err)
	}
	n.Groups[0].Apps[0].ID = "/elsewhere/x"
	want := map[string][]string{"/groups(0)/apps(0)/id": {"Identifier is not child of /tools. Hint: use relative paths."}}
	if diff := cmp.Diff(want, details(t, ValidateGroup(n))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
