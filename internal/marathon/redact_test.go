package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]EnvVar
		want map[string]EnvVar
	}{
		{name: "no env", env: nil, want: nil},
		{name: "values redacted, names kept", env: map[string]EnvVar{"DB_PASSWORD": {Value: "hunter2"}, "EMPTY": {}},
			want: map[string]EnvVar{"DB_PASSWORD": {Value: RedactedValue}, "EMPTY": {Value: RedactedValue}}},
		{name: "secret references kept", env: map[string]EnvVar{"TOKEN": {Secret: "secret0"}, "MODE": {Value: "prod"}},
			want: map[string]EnvVar{"TOKEN": {Secret: "secret0"}, "MODE": {Value: RedactedValue}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := App{ID: "/a", Env: tc.env}
			before := cmp.Diff(map[string]EnvVar(nil), tc.env)
			got := RedactEnv(orig)
			if d := cmp.Diff(tc.want, got.Env); d != "" {
				t.Errorf("RedactEnv env (-want +got):\n%s", d)
			}
			if after := cmp.Diff(map[string]EnvVar(nil), tc.env); after != before {
				t.Errorf("RedactEnv changed the app's own env")
			}
		})
	}
}

func TestRedactGroup(t *testing.T) {
	g := Group{ID: "/", Groups: []Group{{ID: "/a", Apps: []App{{ID: "/a/x", Env: map[string]EnvVar{"K": {Value: "v"}}}}}}}
	got := RedactGroup(g)
	if v := got.Groups[0].Apps[0].Env["K"].Value; v != RedactedValue {
		t.Errorf("nested app env = %q, want %q", v, RedactedValue)
	}
	if v := g.Groups[0].Apps[0].Env["K"].Value; v != "v" {
		t.Errorf("RedactGroup changed the original group: %q", v)
	}
}
