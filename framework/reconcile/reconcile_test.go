package reconcile

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

var (
	t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v1 = marathon.NewTimestamp(t0.Add(-time.Hour))
)

// Builders keep the tables readable.

func app(id string, opts ...func(*marathon.App)) marathon.App {
	a := marathon.NewApp(marathon.PathID(id))
	a.Version = v1
	for _, o := range opts {
		o(&a)
	}
	return a
}

func instances(n int) func(*marathon.App) { return func(a *marathon.App) { a.Instances = n } }

func unreachable(inactive, expunge int) func(*marathon.App) {
	return func(a *marathon.App) {
		a.UnreachableStrategy = marathon.UnreachableStrategy{InactiveAfterSeconds: inactive, ExpungeAfterSeconds: expunge}
	}
}

func inst(id, appID string, opts ...func(*state.Instance)) state.Instance {
	i := state.Instance{ID: id, AppID: marathon.PathID(appID), AppVersion: v1, Goal: state.GoalRunning}
	for _, o := range opts {
		o(&i)
	}
	return i
}

func task(st mesos.TaskState) func(*state.Instance) {
	return func(i *state.Instance) {
		i.State = st
		i.TaskID = i.ID + "._app.1"
		i.AgentID = "agent-1"
		i.LaunchedAt = t0.Add(-time.Minute)
		i.StagedAt = t0.Add(-time.Minute)
	}
}

func goal(g state.Goal) func(*state.Instance) { return func(i *state.Instance) { i.Goal = g } }

func launchedAt(t time.Time) func(*state.Instance) {
	return func(i *state.Instance) { i.LaunchedAt = t }
}

func unreachableSince(t time.Time) func(*state.Instance) {
	return func(i *state.Instance) { i.UnreachableSince = t }
}

func unknownSince(t time.Time) func(*state.Instance) {
	return func(i *state.Instance) { i.UnknownSince = t }
}

func healthy(h bool) func(*state.Instance) { return func(i *state.Instance) { i.Healthy = &h } }

func stagedAt(t time.Time) func(*state.Instance) { return func(i *state.Instance) { i.StagedAt = t } }

func apps(list ...marathon.App) map[marathon.PathID]marathon.App {
	m := map[marathon.PathID]marathon.App{}
	for _, a := range list {
		m[a.ID] = a
	}
	return m
}

func kill(instanceID, reason string) Kill {
	return Kill{InstanceID: instanceID, TaskID: instanceID + "._app.1", AgentID: "agent-1", Reason: reason}
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want Plan
	}{
		{
			name: "nothing to do",
			in:   Input{Apps: apps(app("/a", instances(1))), Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskRunning))}, Now: t0},
		},
		{
			name: "new app gets its instances",
			in:   Input{Apps: apps(app("/a", instances(2))), Now: t0},
			want: Plan{Create: []NewInstance{{AppID: "/a", Version: v1}, {AppID: "/a", Version: v1}}},
		},
		{
			name: "deployment owns the count",
			in: Input{
				Apps:        apps(app("/a", instances(2))),
				Deployments: []state.Deployment{{ID: "d1", Steps: []state.Step{{Actions: []state.Action{{Type: marathon.StartApplication, AppID: "/a"}}}}}},
				Now:         t0,
			},
		},
		{
			name: "scheduled instances launch, interleaved across apps",
			in: Input{
				Apps:      apps(app("/a", instances(2)), app("/b", instances(1))),
				Instances: []state.Instance{inst("a.2", "/a"), inst("a.1", "/a"), inst("b.1", "/b")},
				Now:       t0,
			},
			want: Plan{Launch: []string{"a.1", "b.1", "a.2"}},
		},
		{
			name: "failed task relaunches after the backoff",
			in: Input{
				Apps:      apps(app("/a", instances(1))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskFailed))},
				Backoffs:  map[marathon.PathID]Backoff{"/a": {Delay: 10 * time.Second, Until: t0.Add(5 * time.Second)}},
				Now:       t0,
			},
			want: Plan{Delayed: []string{"a.1"}, Wake: t0.Add(5 * time.Second)},
		},
		{
			name: "backoff over",
			in: Input{
				Apps:      apps(app("/a", instances(1))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskFinished))},
				Backoffs:  map[marathon.PathID]Backoff{"/a": {Delay: 10 * time.Second, Until: t0}},
				Now:       t0,
			},
			want: Plan{Launch: []string{"a.1"}},
		},
		{
			name: "launch timeout kills a task stuck in staging",
			in: Input{
				Apps:              apps(app("/a", instances(2))),
				Instances:         []state.Instance{inst("a.1", "/a", task(mesos.TaskStaging), launchedAt(t0.Add(-6*time.Minute))), inst("a.2", "/a", task(mesos.TaskStarting))},
				Now:               t0,
				TaskLaunchTimeout: 5 * time.Minute,
			},
			want: Plan{Kill: []Kill{kill("a.1", ReasonLaunchTimeout)}, Wake: t0.Add(4 * time.Minute)},
		},
		{
			name: "decommissioned: kill the live task, forget the ended one",
			in: Input{
				Apps: apps(app("/a", instances(0))),
				Instances: []state.Instance{
					inst("a.1", "/a", task(mesos.TaskRunning), goal(state.GoalDecommissioned)),
					inst("a.2", "/a", task(mesos.TaskKilled), goal(state.GoalDecommissioned)),
					inst("a.3", "/a", goal(state.GoalDecommissioned)),
					inst("a.4", "/a", task(mesos.TaskKilling), goal(state.GoalDecommissioned)),
				},
				Now: t0,
			},
			want: Plan{Kill: []Kill{kill("a.1", ReasonDecommissioned)}, Expunge: []string{"a.2", "a.3"}},
		},
		{
			name: "instances of a removed app are decommissioned",
			in: Input{
				Apps:      apps(),
				Instances: []state.Instance{inst("x.1", "/x", task(mesos.TaskRunning)), inst("x.2", "/x")},
				Now:       t0,
			},
			want: Plan{Kill: []Kill{kill("x.1", ReasonAppRemoved)}, Decommission: []string{"x.1", "x.2"}, Expunge: []string{"x.2"}},
		},
		{
			name: "over capacity: unreachable and unhealthy go first",
			in: Input{
				Apps: apps(app("/a", instances(2), unreachable(60, 600))),
				Instances: []state.Instance{
					inst("a.1", "/a", task(mesos.TaskRunning), healthy(true)),
					inst("a.2", "/a", task(mesos.TaskRunning), healthy(false)),
					inst("a.3", "/a", task(mesos.TaskRunning), healthy(true)),
					inst("a.4", "/a", task(mesos.TaskUnreachable), unreachableSince(t0)),
				},
				Now: t0,
			},
			want: Plan{
				Kill:         []Kill{kill("a.2", ReasonOverCapacity), kill("a.4", ReasonOverCapacity)},
				Decommission: []string{"a.2", "a.4"},
				Wake:         t0.Add(60 * time.Second),
			},
		},
		{
			name: "unreachable: counts until inactiveAfter",
			in: Input{
				Apps:      apps(app("/a", instances(1), unreachable(60, 600))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskUnreachable), unreachableSince(t0.Add(-30*time.Second)))},
				Now:       t0,
			},
			want: Plan{Wake: t0.Add(30 * time.Second)},
		},
		{
			name: "unreachable past inactiveAfter gets a replacement",
			in: Input{
				Apps:      apps(app("/a", instances(1), unreachable(60, 600))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskUnreachable), unreachableSince(t0.Add(-90*time.Second)))},
				Now:       t0,
			},
			want: Plan{Create: []NewInstance{{AppID: "/a", Version: v1}}, Wake: t0.Add(-30 * time.Second)},
		},
		{
			name: "unreachable past expungeAfter is forgotten",
			in: Input{
				Apps: apps(app("/a", instances(1), unreachable(0, 0))),
				Instances: []state.Instance{
					inst("a.1", "/a", task(mesos.TaskUnreachable), unreachableSince(t0)),
					inst("a.2", "/a", task(mesos.TaskRunning)),
				},
				Now: t0,
			},
			want: Plan{Expunge: []string{"a.1"}},
		},
		{
			name: "default unreachable strategy replaces and forgets at once",
			in: Input{
				Apps:      apps(app("/a", instances(1))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskUnreachable), unreachableSince(t0))},
				Now:       t0,
			},
			want: Plan{Create: []NewInstance{{AppID: "/a", Version: v1}}, Expunge: []string{"a.1"}},
		},
		{
			name: "unreachable strategy disabled: keep waiting",
			in: Input{
				Apps: apps(app("/a", instances(1), func(a *marathon.App) {
					a.UnreachableStrategy = marathon.UnreachableStrategy{Disabled: true}
				})),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskUnreachable), unreachableSince(t0.Add(-time.Hour)))},
				Now:       t0,
			},
		},
		{
			name: "unknown to mesos: kept, counted, looked at again when the window ends",
			in: Input{
				Apps:      apps(app("/a", instances(1))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskRunning), unknownSince(t0.Add(-10*time.Second)))},
				Now:       t0,
			},
			want: Plan{Wake: t0.Add(DefaultTaskUnknownTimeout - 10*time.Second)},
		},
		{
			name: "unknown to mesos past the window: old task killed, instance relaunched",
			in: Input{
				Apps:               apps(app("/a", instances(1))),
				Instances:          []state.Instance{inst("a.1", "/a", task(mesos.TaskRunning), unknownSince(t0.Add(-30*time.Second)))},
				Now:                t0,
				TaskUnknownTimeout: 30 * time.Second,
			},
			want: Plan{Launch: []string{"a.1"}, Kill: []Kill{kill("a.1", ReasonUnknown)}},
		},
		{
			name: "unknown while staging: the unknown window, not the launch timeout",
			in: Input{
				Apps:      apps(app("/a", instances(1))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskStaging), launchedAt(t0.Add(-time.Hour)), unknownSince(t0))},
				Now:       t0,
			},
			want: Plan{Wake: t0.Add(DefaultTaskUnknownTimeout)},
		},
		{
			name: "TASK_UNKNOWN stored as a state (older stores) relaunches",
			in: Input{
				Apps:      apps(app("/a", instances(1))),
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskUnknown))},
				Now:       t0,
			},
			want: Plan{Launch: []string{"a.1"}},
		},
		{
			name: "unknown instance of a removed app: killed, kept until its task is known gone",
			in: Input{
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskRunning), unknownSince(t0))},
				Now:       t0,
			},
			want: Plan{Decommission: []string{"a.1"}, Kill: []Kill{kill("a.1", ReasonAppRemoved)}, Wake: t0.Add(DefaultTaskUnknownTimeout)},
		},
		{
			name: "decommissioned and unknown past the window: forgotten",
			in: Input{
				Apps:      apps(app("/a", instances(0))),
				Instances: []state.Instance{inst("a.1", "/a", goal(state.GoalDecommissioned), task(mesos.TaskRunning), unknownSince(t0.Add(-DefaultTaskUnknownTimeout)))},
				Now:       t0,
			},
			want: Plan{Expunge: []string{"a.1"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(tc.in)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVictims(t *testing.T) {
	running := func(id string, staged time.Duration) state.Instance {
		return inst(id, "/a", task(mesos.TaskRunning), stagedAt(t0.Add(staged)))
	}
	all := []state.Instance{
		running("old", -3*time.Hour),
		running("mid", -2*time.Hour),
		running("young", -time.Hour),
		inst("staging", "/a", task(mesos.TaskStaging)),
		inst("sick", "/a", task(mesos.TaskRunning), healthy(false)),
		inst("gone", "/a", task(mesos.TaskUnreachable)),
		inst("waiting", "/a"),
	}
	tests := []struct {
		name string
		sel  marathon.KillSelection
		n    int
		want []string
	}{
		{name: "none", sel: marathon.YoungestFirst, n: 0},
		{name: "youngest first", sel: marathon.YoungestFirst, n: 6, want: []string{"gone", "sick", "waiting", "staging", "young", "mid"}},
		{name: "oldest first", sel: marathon.OldestFirst, n: 6, want: []string{"gone", "sick", "staging", "waiting", "old", "mid"}},
		{name: "more than there are", sel: marathon.YoungestFirst, n: 10, want: []string{"gone", "sick", "waiting", "staging", "young", "mid", "old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range Victims(all, tc.sel, tc.n) {
				got = append(got, v.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("victims (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputeAppUntilWake checks what the scheduler relies on to reuse an
// app's plan: with equal inputs, ComputeApp's plan stays the same until its
// Wake, and Compute is the Merge of the apps' plans.
func TestComputeAppUntilWake(t *testing.T) {
	cases := []struct {
		name  string
		in    AppInput
		wakes bool // the plan changes at Wake
	}{
		{
			name: "launch timeout",
			in: AppInput{AppID: "/a", App: app("/a", instances(1)), Known: true,
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskStaging), launchedAt(t0.Add(-time.Minute)))}},
			wakes: true,
		},
		{
			name: "backoff",
			in: AppInput{AppID: "/a", App: app("/a", instances(2)), Known: true,
				Instances: []state.Instance{inst("a.1", "/a"), inst("a.2", "/a", task(mesos.TaskRunning))},
				Backoff:   Backoff{Delay: time.Minute, Until: t0.Add(time.Minute)}},
			wakes: true,
		},
		{
			name: "unreachable becomes inactive, then expunged",
			in: AppInput{AppID: "/a", App: app("/a", instances(1), unreachable(60, 600)), Known: true,
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskUnreachable), unreachableSince(t0.Add(-30*time.Second)))}},
			wakes: true,
		},
		{
			name: "nothing pending",
			in: AppInput{AppID: "/a", App: app("/a", instances(1)), Known: true,
				Instances: []state.Instance{inst("a.1", "/a", task(mesos.TaskRunning))}},
		},
		{
			name: "removed app",
			in:   AppInput{AppID: "/gone", Instances: []state.Instance{inst("g.1", "/gone", task(mesos.TaskRunning))}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Now = t0
			first := ComputeApp(in)
			if tc.wakes != !first.Wake.IsZero() {
				t.Fatalf("Wake = %v, want set: %v", first.Wake, tc.wakes)
			}
			later := t0.Add(time.Hour)
			if tc.wakes {
				later = first.Wake.Add(-time.Nanosecond)
			}
			in.Now = later
			if diff := cmp.Diff(first, ComputeApp(in), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("plan changed before Wake (-first +later):\n%s", diff)
			}
			if tc.wakes {
				in.Now = first.Wake
				if cmp.Equal(first, ComputeApp(in), cmpopts.EquateEmpty()) {
					t.Errorf("plan unchanged at Wake %v", first.Wake)
				}
			}
			apps := map[marathon.PathID]marathon.App{}
			if in.Known {
				apps[in.AppID] = in.App
			}
			in.Now = t0
			whole := Compute(Input{Apps: apps, Instances: in.Instances, Backoffs: map[marathon.PathID]Backoff{in.AppID: in.Backoff}, Now: t0})
			if diff := cmp.Diff(whole, Merge(map[marathon.PathID]Plan{in.AppID: ComputeApp(in)}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Compute differs from Merge of ComputeApp (-Compute +Merge):\n%s", diff)
			}
		})
	}
}
