package registrator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/marathon"
)

func TestServiceEnv(t *testing.T) {
	p3000 := portSpec{label: "3000"}
	tests := []struct {
		name    string
		env     serviceEnv
		port    portSpec
		ports   int
		want    string
		tags    []string
		ignored bool
	}{
		{name: "defaults", env: serviceEnv{}, port: p3000, ports: 1, want: "web", tags: []string{"stadion"}},
		{name: "several ports", env: serviceEnv{}, port: p3000, ports: 2, want: "web-3000", tags: []string{"stadion"}},
		{name: "port keys win", env: serviceEnv{"SERVICE_NAME": "a", "SERVICE_3000_NAME": "b", "SERVICE_TAGS": "x", "SERVICE_3000_TAGS": "y"},
			port: p3000, ports: 2, want: "b", tags: []string{"y", "stadion"}},
		{name: "another port's keys do not apply", env: serviceEnv{"SERVICE_3010_NAME": "b", "SERVICE_3010_IGNORE": "1"},
			port: p3000, ports: 2, want: "web-3000", tags: []string{"stadion"}},
		{name: "case of the suffix does not matter", env: serviceEnv{"SERVICE_name": "lower", "SERVICE_3000_Tags": "t"},
			port: p3000, ports: 1, want: "lower", tags: []string{"t", "stadion"}},
		{name: "exact spelling wins", env: serviceEnv{"SERVICE_NAME": "exact", "SERVICE_Name": "other"},
			port: p3000, ports: 1, want: "exact", tags: []string{"stadion"}},
		{name: "blank values are unset", env: serviceEnv{"SERVICE_NAME": " ", "SERVICE_TAGS": ""},
			port: p3000, ports: 1, want: "web", tags: []string{"stadion"}},
		{name: "the owner tag once", env: serviceEnv{"SERVICE_TAGS": "stadion,a,stadion"},
			port: p3000, ports: 1, want: "web", tags: []string{"stadion", "a"}},
		{name: "ignore", env: serviceEnv{"SERVICE_IGNORE": "true"}, port: p3000, ports: 1, want: "web", tags: []string{"stadion"}, ignored: true},
		{name: "ignore off", env: serviceEnv{"SERVICE_IGNORE": "Off"}, port: p3000, ports: 1, want: "web", tags: []string{"stadion"}},
		{name: "named port", env: serviceEnv{"SERVICE_http_NAME": "front"}, port: portSpec{label: "http"}, ports: 2, want: "front", tags: []string{"stadion"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.env.serviceName("/prod/web", tc.port, tc.ports); got != tc.want {
				t.Errorf("name %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.tags, tc.env.tags(tc.port, "stadion")); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if got := tc.env.ignored(tc.port); got != tc.ignored {
				t.Errorf("ignored %v, want %v", got, tc.ignored)
			}
		})
	}
}

func TestEnvOf(t *testing.T) {
	a := marathon.NewApp("/web")
	a.Env = map[string]marathon.EnvVar{"SERVICE_NAME": {Value: "env"}, "SERVICE_TAGS": {Value: "e"}, "SERVICE_3000_NAME": {Secret: "s"}}
	a.Labels = map[string]string{"SERVICE_NAME": "label"}
	want := serviceEnv{"SERVICE_NAME": "label", "SERVICE_TAGS": "e"}
	if diff := cmp.Diff(want, envOf(a)); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}
