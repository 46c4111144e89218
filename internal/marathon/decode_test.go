package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeAppErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{
			name:       "number for string",
			body:       `{"id":123}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/id","errors":["error.expected.jsstring"]}]}`,
		},
		{
			name:       "missing id",
			body:       `{"cmd":"sleep 1"}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/id","errors":["error.path.missing"]}]}`,
		},
		{
			name:       "nested path",
			body:       `{"id":"/a","container":{"docker":{"image":5}}}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/container/docker/image","errors":["error.expected.jsstring"]}]}`,
		},
		{
			name:       "missing docker image",
			body:       `{"id":"/a","container":{"docker":{}}}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/container/docker/image","errors":["error.path.missing"]}]}`,
		},
		{
			name:       "every error is collected, sorted by path",
			body:       `{"id":"/a","cpus":"1","instances":1.5,"env":{"A":1},"constraints":[["a",1]],"labels":[],"healthChecks":{}}`,
			wantStatus: 422,
			wantBody: `{"message":"Invalid JSON","details":[` +
				`{"path":"/constraints(0)(1)","errors":["error.expected.jsstring"]},` +
				`{"path":"/cpus","errors":["error.expected.jsnumber"]},` +
				`{"path":"/env/A","errors":["error.expected.jsstring"]},` +
				`{"path":"/healthChecks","errors":["error.expected.jsarray"]},` +
				`{"path":"/instances","errors":["error.expected.int"]},` +
				`{"path":"/labels","errors":["error.expected.jsobject"]}]}`,
		},
		{
			name:       "unknown enum literal",
			body:       `{"id":"/a","killSelection":"RANDOM","healthChecks":[{"protocol":"UDP"}]}`,
			wantStatus: 422,
			wantBody: `{"message":"Invalid JSON","details":[` +
				`{"path":"/healthChecks(0)/protocol","errors":["error.unknown.enum.literal"]},` +
				`{"path":"/killSelection","errors":["error.unknown.enum.literal"]}]}`,
		},
		{
			name:       "boolean",
			body:       `{"id":"/a","requirePorts":"yes"}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/requirePorts","errors":["error.expected.jsboolean"]}]}`,
		},
		{
			name:       "int out of int32 range",
			body:       `{"id":"/a","instances":4294967296}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/instances","errors":["error.expected.int"]}]}`,
		},
		{
			name:       "bad version date",
			body:       `{"id":"/a","version":"yesterday"}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/version","errors":["error.expected.date.isoformat"]}]}`,
		},
		{
			name:       "bad unreachable strategy",
			body:       `{"id":"/a","unreachableStrategy":"sometimes"}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/unreachableStrategy","errors":["error.unknown.enum.literal"]}]}`,
		},
		{
			name:       "env secret without name",
			body:       `{"id":"/a","env":{"P":{"x":1}}}`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/env/P/secret","errors":["error.path.missing"]}]}`,
		},
		{
			name:       "not an object",
			body:       `[]`,
			wantStatus: 422,
			wantBody:   `{"message":"Invalid JSON","details":[{"path":"/","errors":["error.expected.jsobject"]}]}`,
		},
		{
			name:       "malformed",
			body:       `{"id":"/test"`,
			wantStatus: 400,
			wantBody:   `{"message":"Invalid JSON","details":"unexpected EOF"}`,
		},
		{
			name:       "trailing data",
			body:       `{"id":"/test"} {}`,
			wantStatus: 400,
			wantBody:   `{"message":"Invalid JSON","details":"unexpected data after the top-level value at offset 16"}`,
		},
		{
			name:       "empty",
			body:       "  ",
			wantStatus: 400,
			wantBody:   `{"message":"Please specify data in JSON format","details":"No content to map due to end-of-input"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeApp([]byte(tc.body))
			status, body := errBody(t, err)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
			if body != tc.wantBody {
				t.Errorf("body =\n%s\nwant\n%s", body, tc.wantBody)
			}
		})
	}
}

func TestDecodeAppDefaults(t *testing.T) {
	app, err := DecodeApp([]byte(`{"id":"/a","cmd":"x","healthChecks":[{}],"portDefinitions":[{}],
		"readinessChecks":[{}],"fetch":[{"uri":"http://x/y"}],"networks":[{}],"upgradeStrategy":{"minimumHealthCapacity":0.5},
		"container":{"docker":{"image":"i"},"portMappings":[{}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := NewApp("/a")
	want.Cmd = "x"
	want.HealthChecks = []HealthCheck{NewHealthCheck(ProtocolHTTP)}
	want.PortDefinitions = []PortDefinition{{Protocol: "tcp"}}
	want.ReadinessChecks = []ReadinessCheck{{Name: "readinessCheck", Protocol: SchemeHTTP, Path: "/", PortName: "http-api", IntervalSeconds: 30, TimeoutSeconds: 10}}
	want.Fetch = []Artifact{{URI: "http://x/y", Extract: true}}
	want.Networks = []Network{{Mode: NetworkContainer}}
	want.UpgradeStrategy = UpgradeStrategy{MinimumHealthCapacity: 0.5, MaximumOverCapacity: 1}
	want.Container = &Container{Type: ContainerDocker, Docker: &Docker{Image: "i"}, PortMappings: []PortMapping{{Protocol: "tcp"}}}
	if diff := cmp.Diff(want, app); diff != "" {
		t.Errorf("DecodeApp (-want +got):\n%s", diff)
	}
}

// Explicit nulls read as absent fields, nested ones too, as Marathon's
// readers (readNullable, read.orElse(default)) do.
func TestDecodeAppNulls(t *testing.T) {
	withNulls, err := DecodeApp([]byte(`{"id":"/a","cmd":"x","ports":null,"portDefinitions":null,"dependencies":null,
		"env":null,"labels":null,"constraints":null,"healthChecks":null,"instances":null,"cpus":null,"user":null,
		"upgradeStrategy":{"minimumHealthCapacity":null},"container":{"type":null,"docker":{"image":"i","network":null},"portMappings":null},
		"residency":null,"secrets":null,"networks":null,"role":null,"versionInfo":null}`))
	if err != nil {
		t.Fatal(err)
	}
	absent, err := DecodeApp([]byte(`{"id":"/a","cmd":"x","upgradeStrategy":{},"container":{"docker":{"image":"i"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(absent, withNulls); diff != "" {
		t.Errorf("nulls (-absent +nulls):\n%s", diff)
	}
	if _, err := DecodeApp([]byte(`{"id":null,"cmd":"x"}`)); err == nil {
		t.Error("a null id is accepted")
	}
}

func TestDecodeAppLenient(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, a App)
	}{
		{
			name: "unknown fields ignored",
			body: `{"id":"/a","cmd":"x","whatever":{"deep":[1]}}`,
			check: func(t *testing.T, a App) {
				if a.Cmd != "x" {
					t.Errorf("cmd = %q", a.Cmd)
				}
			},
		},
		{
			name: "keys are case sensitive",
			body: `{"id":"/a","CMD":"x","Cpus":"not a number"}`,
			check: func(t *testing.T, a App) {
				if a.Cmd != "" || a.Cpus != DefaultCpus {
					t.Errorf("cmd = %q cpus = %v, want defaults", a.Cmd, a.Cpus)
				}
			},
		},
		{
			name: "nulls are absent",
			body: `{"id":"/a","args":null,"user":null,"container":null,"acceptedResourceRoles":null,"cpus":null}`,
			check: func(t *testing.T, a App) {
				if a.Args != nil || a.Container != nil || a.AcceptedResourceRoles != nil || a.Cpus != DefaultCpus {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name: "enum case is canonicalised",
			body: `{"id":"/a","killSelection":"oldest_first","container":{"type":"docker","docker":{"image":"i","network":"bridge"}},"healthChecks":[{"protocol":"mesos_http"}]}`,
			check: func(t *testing.T, a App) {
				if a.KillSelection != OldestFirst || a.Container.Type != ContainerDocker || a.Container.Docker.Network != DockerBridge || a.HealthChecks[0].Protocol != ProtocolMesosHTTP {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name: "integral number with fraction",
			body: `{"id":"/a","instances":2.0,"backoffSeconds":1e1}`,
			check: func(t *testing.T, a App) {
				if a.Instances != 2 || a.BackoffSeconds != 10 {
					t.Errorf("instances = %d backoff = %d", a.Instances, a.BackoffSeconds)
				}
			},
		},
		{
			name: "env secret and unreachable disabled",
			body: `{"id":"/a","env":{"A":"1","P":{"secret":"pw"}},"unreachableStrategy":"disabled","constraints":[["hostname","UNIQUE"],["rack","GROUP_BY","3"]]}`,
			check: func(t *testing.T, a App) {
				want := map[string]EnvVar{"A": {Value: "1"}, "P": {Secret: "pw"}}
				if diff := cmp.Diff(want, a.Env); diff != "" {
					t.Errorf("env (-want +got):\n%s", diff)
				}
				if !a.UnreachableStrategy.Disabled {
					t.Error("unreachableStrategy not disabled")
				}
				wantC := []Constraint{{Field: "hostname", Operator: OpUnique, Arity: 2}, {Field: "rack", Operator: OpGroupBy, Value: "3", Arity: 3}}
				if diff := cmp.Diff(wantC, a.Constraints); diff != "" {
					t.Errorf("constraints (-want +got):\n%s", diff)
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
			tc.check(t, a)
		})
	}
}

func TestDecodeApps(t *testing.T) {
	apps, err := DecodeApps(readExample(t, "apps_create.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[1].ID != "/test/sleep120" {
		t.Fatalf("apps = %+v", apps)
	}
	_, err = DecodeApps([]byte(`[{"id":"/a"},{"cmd":"x"}]`))
	if diff := cmp.Diff(map[string][]string{"(1)/id": {"error.path.missing"}}, details(t, err)); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

func TestDecodeGroupUpdate(t *testing.T) {
	tests := []struct {
		name string
		body string
		want GroupUpdate
	}{
		{name: "scaleBy", body: `{"scaleBy":1.5}`, want: GroupUpdate{ScaleBy: new(1.5)}},
		{name: "version", body: `{"version":"2015-09-17T09:32:36.583Z"}`, want: GroupUpdate{Version: &Timestamp{mustTime("2015-09-17T09:32:36.583Z")}}},
		{name: "definition", body: `{"id":"/g","apps":[{"id":"a","cmd":"x"}]}`, want: GroupUpdate{ID: "/g", Apps: []App{func() App { a := NewApp("a"); a.Cmd = "x"; return a }()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeGroupUpdate([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
