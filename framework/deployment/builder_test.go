package deployment

import (
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Builders keep the tables readable: app(id("/a"), instances(4),
// strategy(0.5, 0.5)) and inst(id("a1"), version(v1), running(), healthy()).

var (
	t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v1 = marathon.NewTimestamp(t0.Add(-2 * time.Hour))
	v2 = marathon.NewTimestamp(t0.Add(-time.Hour))
	v3 = marathon.NewTimestamp(t0)
)

type appOption interface{ applyApp(*marathon.App) }

type instOption interface{ applyInst(*state.Instance) }

type appFunc func(*marathon.App)

func (f appFunc) applyApp(a *marathon.App) { f(a) }

type instFunc func(*state.Instance)

func (f instFunc) applyInst(i *state.Instance) { f(i) }

// id names an app or an instance.
type id string

func (s id) applyApp(a *marathon.App)         { a.ID = marathon.PathID(s) }
func (s id) applyInst(i *state.Instance)      { i.ID = string(s) }
func (v version) applyApp(a *marathon.App)    { a.Version = marathon.Timestamp(v) }
func (v version) applyInst(i *state.Instance) { i.AppVersion = marathon.Timestamp(v) }

// version is an app's version or the version an instance runs.
type version marathon.Timestamp

// app returns /a at v1 with one instance and Marathon's defaults.
func app(opts ...appOption) marathon.App {
	a := marathon.NewApp("/a")
	a.Version = v1
	a.Cmd = "sleep 1000"
	for _, o := range opts {
		o.applyApp(&a)
	}
	return a
}

func instances(n int) appFunc { return func(a *marathon.App) { a.Instances = n } }

func strategy(minHealth, maxOver float64) appFunc {
	return func(a *marathon.App) {
		a.UpgradeStrategy = marathon.UpgradeStrategy{MinimumHealthCapacity: minHealth, MaximumOverCapacity: maxOver}
	}
}

func unreachableAfter(inactive int) appFunc {
	return func(a *marathon.App) {
		a.UnreachableStrategy = marathon.UnreachableStrategy{InactiveAfterSeconds: inactive, ExpungeAfterSeconds: 2 * inactive}
	}
}

func cmd(c string) appFunc { return func(a *marathon.App) { a.Cmd = c } }

func dependsOn(ids ...marathon.PathID) appFunc {
	return func(a *marathon.App) { a.Dependencies = ids }
}

func killSelection(k marathon.KillSelection) appFunc {
	return func(a *marathon.App) { a.KillSelection = k }
}

func healthChecked() appFunc {
	return func(a *marathon.App) { a.HealthChecks = []marathon.HealthCheck{{Protocol: "HTTP", Path: "/"}} }
}

func readinessChecked() appFunc {
	return func(a *marathon.App) {
		a.ReadinessChecks = []marathon.ReadinessCheck{{Name: "readinessCheck", Path: "/"}}
	}
}

func configChangedAt(ts marathon.Timestamp) appFunc {
	return func(a *marathon.App) {
		a.VersionInfo = &marathon.VersionInfo{LastScalingAt: ts, LastConfigChangeAt: ts}
	}
}

func apps(list ...marathon.App) map[marathon.PathID]marathon.App {
	m := map[marathon.PathID]marathon.App{}
	for _, a := range list {
		m[a.ID] = a
	}
	return m
}

// inst returns an instance of /a at v1 with Goal Running, waiting for an
// offer (no task yet).
func inst(opts ...instOption) state.Instance {
	i := state.Instance{ID: "a0", AppID: "/a", AppVersion: v1, Goal: state.GoalRunning}
	for _, o := range opts {
		o.applyInst(&i)
	}
	return i
}

func of(appID marathon.PathID) instFunc { return func(i *state.Instance) { i.AppID = appID } }

func taskState(st mesos.TaskState) instFunc {
	return func(i *state.Instance) {
		i.State = st
		i.TaskID = i.ID + "._app.1"
		if i.StagedAt.IsZero() {
			i.StagedAt = t0.Add(-time.Minute)
		}
	}
}

func running() instFunc { return taskState(mesos.TaskRunning) }

func staging() instFunc { return taskState(mesos.TaskStaging) }

func healthy() instFunc { return func(i *state.Instance) { h := true; i.Healthy = &h } }

func unhealthy() instFunc { return func(i *state.Instance) { h := false; i.Healthy = &h } }

func ready() instFunc { return func(i *state.Instance) { r := true; i.Ready = &r } }

func decommissioned() instFunc { return func(i *state.Instance) { i.Goal = state.GoalDecommissioned } }

func stagedAt(t time.Time) instFunc { return func(i *state.Instance) { i.StagedAt = t } }

func unreachableSince(t time.Time) instFunc {
	return func(i *state.Instance) {
		taskState(mesos.TaskUnreachable)(i)
		i.UnreachableSince = t
	}
}

// fleet returns n instances of /a named prefix1..prefixN at version v,
// running and healthy, staged one minute apart (prefix1 the oldest).
func fleet(prefix string, n int, v marathon.Timestamp, opts ...instOption) []state.Instance {
	var out []state.Instance
	for k := 1; k <= n; k++ {
		base := []instOption{
			id(fmt.Sprintf("%s%d", prefix, k)), version(v),
			stagedAt(t0.Add(time.Duration(k-20) * time.Minute)), running(), healthy(), ready(),
		}
		out = append(out, inst(append(base, opts...)...))
	}
	return out
}

func deployment(steps ...state.Step) state.Deployment {
	return state.Deployment{ID: "d1", Version: v3, Steps: steps, CurrentStep: 1}
}

func stepOf(actions ...state.Action) state.Step { return state.Step{Actions: actions} }

func act(t marathon.DeploymentAction, appID marathon.PathID) state.Action {
	return state.Action{Type: t, AppID: appID}
}

func newInstances(n int, appID marathon.PathID, v marathon.Timestamp) []NewInstance {
	var out []NewInstance
	for range n {
		out = append(out, NewInstance{AppID: appID, Version: v})
	}
	return out
}
