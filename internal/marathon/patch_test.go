package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergePatch(t *testing.T) {
	current := mustApp(t, `{"id":"/a","cmd":"x","instances":3,"env":{"A":"1","B":"2"},"portDefinitions":[{"port":0,"name":"http"}],
		"uris":["http://h/a.zip"],"labels":{"l":"v"}}`)
	tests := []struct {
		name  string
		patch string
		check func(t *testing.T, a App)
	}{
		{
			name:  "instances only",
			patch: `{"id":"/ignored","instances":5}`,
			check: func(t *testing.T, a App) {
				if a.ID != "/a" || a.Instances != 5 || a.Cmd != "x" || a.Env["B"].Value != "2" {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name:  "nulls keep the current values",
			patch: `{"id":"/a","instances":5,"ports":null,"dependencies":null,"env":null,"labels":null,"uris":null,"cmd":null,"container":null}`,
			check: func(t *testing.T, a App) {
				if a.Instances != 5 || a.Cmd != "x" || a.Env["B"].Value != "2" || a.Labels["l"] != "v" ||
					len(a.PortDefinitions) != 1 || a.PortDefinitions[0].Name != "http" || len(a.Fetch)+len(a.URIs) == 0 {
					t.Errorf("got %+v", a)
				}
				if IsUpgrade(current, a) {
					t.Error("a scale with nulls is an upgrade")
				}
			},
		},
		{
			name:  "maps are replaced, not merged",
			patch: `{"env":{"C":"3"}}`,
			check: func(t *testing.T, a App) {
				if diff := cmp.Diff(map[string]EnvVar{"C": {Value: "3"}}, a.Env); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			},
		},
		{
			name:  "legacy ports replace port definitions",
			patch: `{"ports":[0,0]}`,
			check: func(t *testing.T, a App) {
				n, err := Normalize(a, NormalizeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(n.PortDefinitions) != 2 || n.PortDefinitions[0].Name != "" {
					t.Errorf("portDefinitions = %+v", n.PortDefinitions)
				}
			},
		},
		{
			name:  "legacy uris replace fetch",
			patch: `{"uris":["http://h/b"]}`,
			check: func(t *testing.T, a App) {
				n, err := Normalize(a, NormalizeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]Artifact{{URI: "http://h/b"}}, n.Fetch); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			},
		},
		{
			name:  "docker network replaces networks",
			patch: `{"cmd":null,"container":{"docker":{"image":"i","network":"BRIDGE"}}}`,
			check: func(t *testing.T, a App) {
				n, err := Normalize(a, NormalizeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !n.IsBridgeNetworking() || n.PortDefinitions != nil {
					t.Errorf("networks = %+v portDefinitions = %+v", n.Networks, n.PortDefinitions)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergePatch(current, []byte(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, got)
		})
	}
	t.Run("type errors have the patch's paths", func(t *testing.T) {
		_, err := MergePatch(current, []byte(`{"instances":"many"}`))
		if diff := cmp.Diff(map[string][]string{"/instances": {"error.expected.jsnumber"}}, details(t, err)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestIsUpgrade(t *testing.T) {
	base := mustApp(t, `{"id":"/a","cmd":"x","instances":1}`)
	tests := []struct {
		name    string
		change  func(a *App)
		upgrade bool
		scale   bool
	}{
		{name: "nothing", change: func(a *App) {}},
		{name: "instances", change: func(a *App) { a.Instances = 4 }, scale: true},
		{name: "version only", change: func(a *App) { a.Version = NewTimestamp(mustTime("2020-01-01T00:00:00Z")) }},
		{name: "cmd", change: func(a *App) { a.Cmd = "y" }, upgrade: true},
		{name: "env", change: func(a *App) { a.Env = map[string]EnvVar{"A": {Value: "1"}} }, upgrade: true},
		{name: "labels", change: func(a *App) { a.Labels = map[string]string{"a": "b"} }, upgrade: true},
		{name: "cpus and instances", change: func(a *App) { a.Cpus = 2; a.Instances = 3 }, upgrade: true},
		{name: "nil vs empty env", change: func(a *App) { a.Env = map[string]EnvVar{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := base
			tc.change(&n)
			if got := IsUpgrade(base, n); got != tc.upgrade {
				t.Errorf("IsUpgrade = %v, want %v", got, tc.upgrade)
			}
			if got := IsScaleOnly(base, n); got != tc.scale {
				t.Errorf("IsScaleOnly = %v, want %v", got, tc.scale)
			}
		})
	}
}
