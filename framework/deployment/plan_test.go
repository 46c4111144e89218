package deployment

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

func TestPlan(t *testing.T) {
	db := app(id("/db"))
	web := app(id("/web"), dependsOn("/db"))
	cases := []struct {
		name     string
		original map[marathon.PathID]marathon.App
		target   map[marathon.PathID]marathon.App
		want     []state.Step // nil with changed false
	}{
		{
			name:   "new app starts",
			target: apps(app()),
			want:   []state.Step{stepOf(act(marathon.StartApplication, "/a"))},
		},
		{
			name:     "removed app stops",
			original: apps(app()),
			want:     []state.Step{stepOf(act(marathon.StopApplication, "/a"))},
		},
		{
			name:     "instances only scales",
			original: apps(app(instances(2))),
			target:   apps(app(instances(5), version(v2))),
			want:     []state.Step{stepOf(act(marathon.ScaleApplication, "/a"))},
		},
		{
			name:     "changed command restarts",
			original: apps(app()),
			target:   apps(app(cmd("sleep 2000"), instances(3), version(v2))),
			want:     []state.Step{stepOf(act(marathon.RestartApplication, "/a"))},
		},
		{
			name:     "new lastConfigChangeAt restarts",
			original: apps(app(configChangedAt(v1))),
			target:   apps(app(configChangedAt(v2), version(v2))),
			want:     []state.Step{stepOf(act(marathon.RestartApplication, "/a"))},
		},
		{
			name:     "unchanged apps need nothing",
			original: apps(app(), db),
			target:   apps(app(version(v2)), db),
		},
		{
			name:   "independent apps share a step",
			target: apps(app(id("/x")), app(id("/y"))),
			want:   []state.Step{stepOf(act(marathon.StartApplication, "/x"), act(marathon.StartApplication, "/y"))},
		},
		{
			name:   "dependencies start first",
			target: apps(web, db),
			want: []state.Step{
				stepOf(act(marathon.StartApplication, "/db")),
				stepOf(act(marathon.StartApplication, "/web")),
			},
		},
		{
			name:     "dependents stop first",
			original: apps(web, db),
			want: []state.Step{
				stepOf(act(marathon.StopApplication, "/web")),
				stepOf(act(marathon.StopApplication, "/db")),
			},
		},
		{
			name:     "dependencies scale and upgrade first",
			original: apps(web, db),
			target:   apps(app(id("/web"), dependsOn("/db"), instances(3)), app(id("/db"), cmd("db --v2"))),
			want: []state.Step{
				stepOf(act(marathon.RestartApplication, "/db")),
				stepOf(act(marathon.ScaleApplication, "/web")),
			},
		},
		{
			name:     "stops come before starts",
			original: apps(app(id("/old"))),
			target:   apps(app(id("/new"))),
			want: []state.Step{
				stepOf(act(marathon.StopApplication, "/old")),
				stepOf(act(marathon.StartApplication, "/new")),
			},
		},
		{
			name:     "an unchanged app in the middle still orders its neighbours",
			original: apps(app(id("/b"), dependsOn("/c"))),
			target:   apps(app(id("/a"), dependsOn("/b")), app(id("/b"), dependsOn("/c")), app(id("/c"))),
			want: []state.Step{
				stepOf(act(marathon.StartApplication, "/c")),
				stepOf(act(marathon.StartApplication, "/a")),
			},
		},
		{
			name:   "a group dependency means every app under it",
			target: apps(app(id("/prod/web"), dependsOn("../data")), app(id("/data/db")), app(id("/data/cache"))),
			want: []state.Step{
				stepOf(act(marathon.StartApplication, "/data/cache"), act(marathon.StartApplication, "/data/db")),
				stepOf(act(marathon.StartApplication, "/prod/web")),
			},
		},
		{
			name:   "dependencies on unknown apps are ignored",
			target: apps(app(dependsOn("/nowhere"))),
			want:   []state.Step{stepOf(act(marathon.StartApplication, "/a"))},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, changed, err := Plan(tc.original, tc.target, v3, "d1")
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if changed != (tc.want != nil) {
				t.Fatalf("changed = %v, want %v", changed, tc.want != nil)
			}
			if diff := cmp.Diff(tc.want, d.Steps); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanRecordsVersions(t *testing.T) {
	original := apps(app(id("/gone")), app(id("/kept")), app(id("/scaled")))
	target := apps(app(id("/kept")), app(id("/scaled"), instances(3), version(v2)), app(id("/new"), version(v2)))
	d, changed, err := Plan(original, target, v3, "d1")
	if err != nil || !changed {
		t.Fatalf("Plan = %v, %v", changed, err)
	}
	want := state.Deployment{
		ID: "d1", Version: v3, CurrentStep: 1, CreatedAt: v3.Time,
		Steps: []state.Step{
			stepOf(act(marathon.StopApplication, "/gone")),
			stepOf(act(marathon.StartApplication, "/new"), act(marathon.ScaleApplication, "/scaled")),
		},
		Original: map[marathon.PathID]marathon.Timestamp{"/gone": v1, "/scaled": v1},
		Target:   map[marathon.PathID]marathon.Timestamp{"/new": v2, "/scaled": v2},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("deployment (-want +got):\n%s", diff)
	}
}

func TestPlanCycle(t *testing.T) {
	cases := []struct {
		name   string
		target map[marathon.PathID]marathon.App
		want   []marathon.PathID
	}{
		{
			name:   "two apps",
			target: apps(app(id("/a"), dependsOn("/b")), app(id("/b"), dependsOn("/a"))),
			want:   []marathon.PathID{"/a", "/b"},
		},
		{
			name:   "three apps through a group",
			target: apps(app(id("/a"), dependsOn("/g")), app(id("/g/b"), dependsOn("/c")), app(id("/c"), dependsOn("/a"))),
			want:   []marathon.PathID{"/a", "/g/b", "/c"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Plan(nil, tc.target, v3, "d1")
			var cycle *CycleError
			if !errors.As(err, &cycle) {
				t.Fatalf("Plan error = %v, want a *CycleError", err)
			}
			if diff := cmp.Diff(tc.want, cycle.Cycle); diff != "" {
				t.Errorf("cycle (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestart(t *testing.T) {
	got := Restart(app(instances(3)), v3, "d9")
	want := state.Deployment{
		ID: "d9", Version: v3, CurrentStep: 1, CreatedAt: v3.Time,
		Steps:    []state.Step{stepOf(act(marathon.RestartApplication, "/a"))},
		Original: map[marathon.PathID]marathon.Timestamp{"/a": v1},
		Target:   map[marathon.PathID]marathon.Timestamp{"/a": v3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Restart (-want +got):\n%s", diff)
	}
}

func TestConflicts(t *testing.T) {
	running := func(depID string, ids ...marathon.PathID) state.Deployment {
		var s state.Step
		for _, appID := range ids {
			s.Actions = append(s.Actions, act(marathon.ScaleApplication, appID))
		}
		return state.Deployment{ID: depID, Steps: []state.Step{s}}
	}
	all := []state.Deployment{running("r1", "/a"), running("r2", "/b", "/c"), running("r3", "/c"), running("r4", "/d")}
	cases := []struct {
		name string
		d    state.Deployment
		want []string
	}{
		{name: "no overlap", d: running("new", "/x"), want: nil},
		{name: "one app", d: running("new", "/a"), want: []string{"r1"}},
		{name: "shared app in several", d: running("new", "/c", "/d"), want: []string{"r2", "r3", "r4"}},
		{name: "itself is no conflict", d: running("r1", "/a"), want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Conflicts(all, tc.d)); diff != "" {
				t.Errorf("Conflicts (-want +got):\n%s", diff)
			}
		})
	}
}
