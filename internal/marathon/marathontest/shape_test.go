package marathontest

import (
	"slices"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	app := Obj(map[string]Shape{
		"id":     Str,
		"cpus":   Num,
		"count":  Int,
		"labels": Map(Str),
		"tasks":  Arr(Obj(map[string]Shape{"id": Str})),
		"strat":  Union(Str, Obj(map[string]Shape{"after": Int})),
	}).Maybe(map[string]Shape{"cmd": Str})
	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{name: "conforms", body: `{"id":"/a","cpus":1,"count":2,"labels":{},"tasks":[{"id":"t"}],"strat":"disabled","extra":null}`},
		{name: "union object", body: `{"id":"/a","cpus":0.5,"count":2,"labels":{"k":"v"},"tasks":[],"strat":{"after":3}}`},
		{name: "missing keys", body: `{"id":"/a","labels":{},"tasks":[],"strat":"x"}`,
			want: []string{"missing .count", "missing .cpus"}},
		{name: "wrong types", body: `{"id":5,"cpus":"1","count":1.5,"labels":{"k":1},"tasks":[{"id":null}],"strat":{}}`,
			want: []string{
				"missing .strat.after",
				"type of .count: number, want integer",
				"type of .cpus: string, want number",
				"type of .id: integer, want string",
				"type of .labels.k: integer, want string",
				"type of .tasks[].id: null, want string",
			}},
		{name: "optional key present", body: `{"id":"/a","cpus":1,"count":2,"labels":{},"tasks":[],"strat":"x","cmd":"sleep"}`},
		{name: "optional key of the wrong type", body: `{"id":"/a","cpus":1,"count":2,"labels":{},"tasks":[],"strat":"x","cmd":1}`,
			want: []string{"type of .cmd: integer, want string"}},
		{name: "not an object", body: `[]`, want: []string{"type of the body: array, want object"}},
		{name: "not JSON", body: `{`, want: []string{"not JSON: unexpected EOF"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Check([]byte(tc.body), app)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Check(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

// TestExamplesConform checks the RAML shapes against Marathon's own
// example payloads: every key they share must have the type the shape
// says. Missing keys are not reported: the examples predate fields that
// Marathon 1.10 always writes (gpus, role, networks, killSelection,
// unreachableStrategy, a task's localVolumes...).
func TestExamplesConform(t *testing.T) {
	for _, tc := range []struct {
		example string
		shape   Shape
	}{
		{example: "deployments_result.json", shape: DeploymentResult},
		{example: "app_tasks.json", shape: TaskList},
		{example: "tasks.json", shape: TaskList},
		{example: "info.json", shape: Info},
		{example: "deployments.json", shape: Arr(DeploymentInfo)},
		{example: "queue.json", shape: Queue},
		{example: "app_list.json", shape: AppList},
	} {
		t.Run(tc.example, func(t *testing.T) {
			for _, p := range Check(Example(t, tc.example), tc.shape) {
				if !strings.HasPrefix(p, "missing ") {
					t.Errorf("%s: %s", tc.example, p)
				}
			}
		})
	}
}
