package deployer

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
)

// staging are the deploy-time values of the tests.
var staging = map[string]string{"environment": "staging", "instances": "2", "tag": "v1"}

// lines joins template lines, so positions in the tests are easy to read.
func lines(ls ...string) string { return strings.Join(ls, "\n") }

func TestPrepareTextErrors(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		vars    map[string]string
		message string
		want    []Problem
		status  int // of the scheduler's error; 0 when there is none
	}{
		{
			name:    "placeholder without a value",
			tmpl:    lines(`{`, `  "id": "/app/$environment/web",`, `  "container": {"docker": {"image": "web:$tag"}}`, `}`),
			vars:    map[string]string{"environment": "staging", "instances": "1"},
			message: MsgUnrendered,
			want:    []Problem{{Line: 3, Column: 42, Message: "placeholder $tag has no value"}},
		},
		{
			name:    "missing comma",
			tmpl:    lines(`{`, `  "id": "/web"`, `  "cmd": "sleep 1"`, `}`),
			vars:    staging,
			message: marathon.MsgInvalidJSON,
			want:    []Problem{{Line: 3, Column: 3, Message: "invalid character '\"' after object key:value pair"}},
			status:  400,
		},
		{
			name:    "unquoted placeholder of a string",
			tmpl:    lines(`{`, `  "id": "/web",`, `  "cmd": $cmd`, `}`),
			vars:    staging,
			message: marathon.MsgInvalidJSON,
			want:    []Problem{{Line: 3, Column: 10, Message: "invalid character '$' looking for beginning of value (placeholder $cmd is not rendered)"}},
			status:  400,
		},
		{
			name:    "truncated",
			tmpl:    lines(`{`, `  "id": "/web",`, `  "cmd": "sleep 1"`),
			vars:    staging,
			message: marathon.MsgInvalidJSON,
			want:    []Problem{{Line: 3, Column: 19, Message: "unexpected end of JSON input"}},
			status:  400,
		},
		{
			name:    "data after the object",
			tmpl:    lines(`{"id": "/web", "cmd": "sleep 1"}`, `{}`),
			vars:    staging,
			message: marathon.MsgInvalidJSON,
			want:    []Problem{{Line: 2, Column: 1, Message: "unexpected data after the top-level value"}},
			status:  400,
		},
		{
			name:    "empty",
			tmpl:    "  \n",
			vars:    staging,
			message: marathon.MsgNoJSON,
			status:  400,
		},
		{
			name:    "wrong types",
			tmpl:    lines(`{`, `  "id": "/web",`, `  "cmd": "sleep 1",`, `  "cpus": "a lot",`, `  "container": {"type": "DOCKER", "docker": {"image": 7}}`, `}`),
			vars:    staging,
			message: marathon.MsgInvalidJSON,
			want: []Problem{
				{Line: 5, Column: 55, Path: "/container/docker/image", Message: "error.expected.jsstring"},
				{Line: 4, Column: 11, Path: "/cpus", Message: "error.expected.jsnumber"},
			},
			status: 422,
		},
		{
			name:    "missing id points at the object",
			tmpl:    lines(``, `  {"cmd": "sleep 1"}`),
			vars:    staging,
			message: marathon.MsgInvalidJSON,
			want:    []Problem{{Line: 2, Column: 3, Path: "/id", Message: "error.path.missing"}},
			status:  422,
		},
		{
			name: "invalid values",
			tmpl: lines(`{`, `  "id": "/app/$environment/web",`, `  "cmd": "sleep 1",`, `  "instances": $instances,`,
				`  "cpus": 0,`, `  "upgradeStrategy": {"minimumHealthCapacity": 1.5}`, `}`),
			vars:    staging,
			message: marathon.MsgNotValid,
			want: []Problem{
				{Line: 5, Column: 11, Path: "/cpus", Message: "is less than 0.001"},
				{Line: 6, Column: 48, Path: "/upgradeStrategy/minimumHealthCapacity", Message: "is greater than 1"},
			},
			status: 422,
		},
		{
			name:    "constraint in an array",
			tmpl:    lines(`{"id": "/web", "cmd": "x",`, ` "constraints": [["hostname", "UNIQUE"], ["hostname", "NEAR", "x"]]}`),
			vars:    staging,
			message: marathon.MsgNotValid,
			want:    []Problem{{Line: 2, Column: 42, Path: "/constraints(1)", Message: "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"}},
			status:  422,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PrepareText("service.json", []byte(tc.tmpl), tc.vars)
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T), want a *TemplateError", err, err)
			}
			if te.Message != tc.message {
				t.Errorf("message %q, want %q", te.Message, tc.message)
			}
			if diff := cmp.Diff(tc.want, te.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nerror:\n%v", diff, err)
			}
			var me *marathon.Error
			switch {
			case tc.status == 0 && errors.As(err, &me):
				t.Errorf("error wraps the scheduler's %v; want none", me)
			case tc.status != 0 && (!errors.As(err, &me) || me.Status != tc.status):
				t.Errorf("error does not wrap the scheduler's %d error: %v", tc.status, err)
			}
			for _, p := range te.Problems {
				if p.Line > 0 && !strings.Contains(err.Error(), "service.json:"+p.String()) {
					t.Errorf("error text lacks %q:\n%v", "service.json:"+p.String(), err)
				}
			}
		})
	}
}

func TestPrepareTextValid(t *testing.T) {
	tmpl := lines(
		`{`,
		`  "id": "/app/$environment/test-server",`,
		`  "labels": {"version": "$tag", "environment": "$environment"},`,
		`  "env": {"SERVICE_TAGS": "$environment,internal-listen-http-3000", "SERVICE_NAME": "test-server"},`,
		`  "cpus": 0.05, "mem": 64.0, "instances": $instances,`,
		`  "instnces": 3,`,
		`  "args": ["service-wrapper.sh", "dockerhost:18080", "dockerhost:18500", "app/$environment/test-server", "node", "/app/server.js"],`,
		`  "container": {"type": "DOCKER", "docker": {"image": "registry.local/test-server:$tag", "forcePullImage": true,`,
		`    "network": "BRIDGE", "portMappings": [{"containerPort": 3000}]}},`,
		`  "healthChecks": [{"protocol": "HTTP", "path": "/healthcheck", "gracePeriodSeconds": 2, "intervalSeconds": 10, "maxConsecutiveFailures": 3}],`,
		`  "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.5}`,
		`}`)
	def, err := PrepareText("service.json", []byte(tmpl), staging)
	if err != nil {
		t.Fatal(err)
	}
	a := def.App
	if a.ID != "/app/staging/test-server" || a.Instances != 2 || a.Labels["version"] != "v1" ||
		a.Container == nil || a.Container.Docker == nil || a.Container.Docker.Image != "registry.local/test-server:v1" {
		t.Errorf("app %+v", a)
	}
	if len(a.Networks) != 1 || a.Networks[0].Mode != marathon.NetworkBridge {
		t.Errorf("networks %+v: legacy docker.network not normalised", a.Networks)
	}
	if !strings.Contains(string(def.JSON), `"instances": 2,`) {
		t.Errorf("JSON is not the rendered text:\n%s", def.JSON)
	}
	want := []Problem{{Line: 6, Column: 15, Path: "/instnces", Message: "unknown field, ignored by the scheduler"}}
	if diff := cmp.Diff(want, def.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestPositionOf(t *testing.T) {
	text := []byte(lines(`{`, `  "a": {"b": [1, {"c": true}]},`, `  "d": "x"`, `}`))
	idx := valuePositions(text)
	tests := []struct {
		name string
		path string
		line int
		col  int
	}{
		{name: "root", path: "/", line: 1, col: 1},
		{name: "object", path: "/a", line: 2, col: 8},
		{name: "array", path: "/a/b", line: 2, col: 14},
		{name: "array element", path: "/a/b(0)", line: 2, col: 15},
		{name: "nested in array", path: "/a/b(1)/c", line: 2, col: 24},
		{name: "string", path: "/d", line: 3, col: 8},
		{name: "missing key points at its object", path: "/a/x", line: 2, col: 8},
		{name: "missing element points at its array", path: "/a/b(7)/c", line: 2, col: 14},
		{name: "missing top-level key points at the root", path: "/id", line: 1, col: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			off, ok := positionOf(idx, tc.path)
			if !ok {
				t.Fatalf("%s not found", tc.path)
			}
			if line, col := lineCol(text, off); line != tc.line || col != tc.col {
				t.Errorf("%s at %d:%d, want %d:%d", tc.path, line, col, tc.line, tc.col)
			}
		})
	}
	if _, ok := positionOf(map[string]int{}, "/a"); ok {
		t.Error("positionOf found a path in an empty index")
	}
}
