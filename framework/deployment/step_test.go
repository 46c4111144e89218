package deployment

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// pass is what one call of Next is expected to ask for.
type pass struct {
	Create   []NewInstance
	Kill     []string
	Step     int
	StepDone bool
	Done     bool
}

func summary(o Output) pass {
	return pass{Create: o.Create, Kill: o.Kill, Step: o.Step, StepDone: o.StepDone, Done: o.Done}
}

func cat(lists ...[]state.Instance) []state.Instance { return slices.Concat(lists...) }

func TestNextOnePass(t *testing.T) {
	scaleA := deployment(stepOf(act(marathon.ScaleApplication, "/a")))
	restartA := deployment(stepOf(act(marathon.RestartApplication, "/a")))
	cases := []struct {
		name  string
		d     state.Deployment
		apps  map[marathon.PathID]marathon.App
		insts []state.Instance
		want  pass
	}{
		{
			name: "start creates the instances",
			d:    deployment(stepOf(act(marathon.StartApplication, "/a"))),
			apps: apps(app(instances(3))),
			want: pass{Create: newInstances(3, "/a", v1), Step: 1},
		},
		{
			name:  "start waits for running instances",
			d:     deployment(stepOf(act(marathon.StartApplication, "/a"))),
			apps:  apps(app(instances(2))),
			insts: []state.Instance{inst(id("a1"), running()), inst(id("a2"), staging())},
			want:  pass{Step: 1},
		},
		{
			name:  "start waits for health when the app has checks",
			d:     deployment(stepOf(act(marathon.StartApplication, "/a"))),
			apps:  apps(app(instances(2), healthChecked())),
			insts: []state.Instance{inst(id("a1"), running(), healthy()), inst(id("a2"), running())},
			want:  pass{Step: 1},
		},
		{
			name:  "start waits for readiness when the app has readiness checks",
			d:     deployment(stepOf(act(marathon.StartApplication, "/a"))),
			apps:  apps(app(instances(2), readinessChecked())),
			insts: []state.Instance{inst(id("a1"), running(), ready()), inst(id("a2"), running())},
			want:  pass{Step: 1},
		},
		{
			name:  "start is done when all run",
			d:     deployment(stepOf(act(marathon.StartApplication, "/a"))),
			apps:  apps(app(instances(2))),
			insts: fleet("a", 2, v1),
			want:  pass{Step: 1, StepDone: true, Done: true},
		},
		{
			name:  "scale up creates the missing ones at the app's version",
			d:     scaleA,
			apps:  apps(app(instances(5), version(v2))),
			insts: fleet("a", 3, v1),
			want:  pass{Create: newInstances(2, "/a", v2), Step: 1},
		},
		{
			name:  "scale up counts instances waiting for offers",
			d:     scaleA,
			apps:  apps(app(instances(3))),
			insts: cat(fleet("a", 2, v1), []state.Instance{inst(id("a3"))}),
			want:  pass{Step: 1},
		},
		{
			name: "scale down kills unreachable, unhealthy, staging, then the youngest",
			d:    scaleA,
			apps: apps(app(instances(2), unreachableAfter(300))),
			insts: cat(fleet("a", 3, v1), []state.Instance{
				inst(id("u1"), unreachableSince(t0.Add(-time.Second)), stagedAt(t0.Add(-time.Hour))),
				inst(id("h1"), running(), unhealthy(), stagedAt(t0.Add(-time.Hour))),
				inst(id("s1"), staging(), stagedAt(t0.Add(-time.Hour))),
			}),
			want: pass{Kill: []string{"u1", "h1", "s1", "a3"}, Step: 1},
		},
		{
			name:  "scale down with OLDEST_FIRST",
			d:     scaleA,
			apps:  apps(app(instances(1), killSelection(marathon.OldestFirst))),
			insts: fleet("a", 3, v1),
			want:  pass{Kill: []string{"a1", "a2"}, Step: 1},
		},
		{
			name:  "scale down waits for killed tasks to end",
			d:     scaleA,
			apps:  apps(app(instances(2))),
			insts: cat(fleet("a", 2, v1), []state.Instance{inst(id("a3"), running(), decommissioned())}),
			want:  pass{Step: 1},
		},
		{
			name:  "scale down is done when the killed tasks are gone",
			d:     scaleA,
			apps:  apps(app(instances(2))),
			insts: cat(fleet("a", 2, v1), []state.Instance{inst(id("a3"), taskState(mesos.TaskKilled), decommissioned())}),
			want:  pass{Step: 1, StepDone: true, Done: true},
		},
		{
			name:  "an unreachable instance past inactiveAfter is replaced",
			d:     scaleA,
			apps:  apps(app(instances(2))),
			insts: cat(fleet("a", 1, v1), []state.Instance{inst(id("u1"), unreachableSince(t0.Add(-time.Second)))}),
			want:  pass{Create: newInstances(1, "/a", v1), Step: 1},
		},
		{
			name:  "stop kills everything",
			d:     deployment(stepOf(act(marathon.StopApplication, "/a"))),
			insts: cat(fleet("a", 2, v1), []state.Instance{inst(id("w1")), inst(id("b1"), of("/b"), running())}),
			want:  pass{Kill: []string{"w1", "a2", "a1"}, Step: 1},
		},
		{
			name:  "stop waits for the tasks to end",
			d:     deployment(stepOf(act(marathon.StopApplication, "/a"))),
			insts: []state.Instance{inst(id("a1"), running(), decommissioned())},
			want:  pass{Step: 1},
		},
		{
			name:  "stop is done when nothing is left",
			d:     deployment(stepOf(act(marathon.StopApplication, "/a"))),
			insts: []state.Instance{inst(id("a1"), taskState(mesos.TaskKilled), decommissioned()), inst(id("a2"), decommissioned())},
			want:  pass{Step: 1, StepDone: true, Done: true},
		},
		{
			// Marathon docs, defaults (1, 1), N=10: kill 0, start 10 new.
			name:  "restart with defaults starts all new beside the old",
			d:     restartA,
			apps:  apps(app(instances(10), version(v2))),
			insts: fleet("a", 10, v1),
			want:  pass{Create: newInstances(10, "/a", v2), Step: 1},
		},
		{
			// Marathon docs, 0.5/0, N=10: kill 5; the 5 new start as the
			// killed tasks end (maximumOverCapacity 0).
			name:  "restart 0.5/0 kills half first",
			d:     restartA,
			apps:  apps(app(instances(10), strategy(0.5, 0), version(v2))),
			insts: fleet("a", 10, v1),
			want:  pass{Kill: []string{"a10", "a9", "a8", "a7", "a6"}, Step: 1},
		},
		{
			name: "restart 0.5/0 starts new ones as killed tasks end",
			d:    restartA,
			apps: apps(app(instances(10), strategy(0.5, 0), version(v2))),
			insts: cat(fleet("a", 5, v1), []state.Instance{
				inst(id("a6"), taskState(mesos.TaskKilled), decommissioned()),
				inst(id("a7"), taskState(mesos.TaskKilled), decommissioned()),
				inst(id("a8"), running(), decommissioned()),
			}),
			// 5 old + 1 killed task of maxCapacity 10.
			want: pass{Create: newInstances(4, "/a", v2), Step: 1},
		},
		{
			name:  "restart with minimumHealthCapacity 0 kills all at once",
			d:     restartA,
			apps:  apps(app(instances(4), strategy(0, 0), version(v2))),
			insts: fleet("a", 4, v1),
			want:  pass{Kill: []string{"a4", "a3", "a2", "a1"}, Step: 1},
		},
		{
			name:  "restart 1/0 gets the extra instance",
			d:     restartA,
			apps:  apps(app(instances(3), strategy(1, 0), version(v2))),
			insts: fleet("a", 3, v1),
			want:  pass{Create: newInstances(1, "/a", v2), Step: 1},
		},
		{
			name: "restart kills unhealthy old instances first and for free",
			d:    restartA,
			apps: apps(app(instances(4), strategy(0.5, 0.5), version(v2), healthChecked())),
			insts: cat(fleet("a", 3, v1), []state.Instance{
				inst(id("h1"), version(v1), running(), unhealthy(), stagedAt(t0.Add(-time.Hour))),
			}),
			// healthy 3, minHealthy 2: h1 costs nothing, one healthy may
			// go; 4 tasks of maxCapacity 6 leave room for 2 new.
			want: pass{Create: newInstances(2, "/a", v2), Kill: []string{"h1", "a3"}, Step: 1},
		},
		{
			name: "restart never over-kills: killed instances are not healthy",
			d:    restartA,
			apps: apps(app(instances(4), strategy(0.5, 0.5), version(v2))),
			insts: cat(fleet("a", 2, v1), []state.Instance{
				inst(id("a3"), version(v1), running(), decommissioned()),
				inst(id("a4"), version(v1), running(), decommissioned()),
				inst(id("n1"), version(v2)), inst(id("n2"), version(v2), staging()),
			}),
			// 2 healthy old = minHealthy, new ones not ready: no kill;
			// 6 tasks = maxCapacity: no start.
			want: pass{Step: 1},
		},
		{
			name: "restart kills one old for each new ready instance",
			d:    restartA,
			apps: apps(app(instances(4), strategy(0.5, 0.5), version(v2), readinessChecked())),
			insts: cat(fleet("a", 2, v1), []state.Instance{
				inst(id("n1"), version(v2), running(), ready()),
				inst(id("n2"), version(v2), running()), // healthy, not ready
				inst(id("n3"), version(v2), running()),
				inst(id("n4"), version(v2), staging()),
			}),
			want: pass{Kill: []string{"a2"}, Step: 1},
		},
		{
			name: "restart launches the rest when old ones are gone",
			d:    restartA,
			apps: apps(app(instances(4), strategy(0.5, 0), version(v2))),
			insts: []state.Instance{
				inst(id("n1"), version(v2), running()), inst(id("n2"), version(v2), running()),
				inst(id("a1"), taskState(mesos.TaskKilled), decommissioned()),
			},
			want: pass{Create: newInstances(2, "/a", v2), Step: 1},
		},
		{
			name: "restart waits for the last killed old task",
			d:    restartA,
			apps: apps(app(instances(2), version(v2))),
			insts: []state.Instance{
				inst(id("n1"), version(v2), running()), inst(id("n2"), version(v2), running()),
				inst(id("a1"), running(), decommissioned()),
			},
			want: pass{Step: 1},
		},
		{
			name:  "restart is done when all new are ready and no old is left",
			d:     restartA,
			apps:  apps(app(instances(2), version(v2))),
			insts: fleet("n", 2, v2),
			want:  pass{Step: 1, StepDone: true, Done: true},
		},
		{
			name:  "restart kills new instances beyond the count",
			d:     restartA,
			apps:  apps(app(instances(2), version(v2))),
			insts: cat(fleet("n", 2, v2), []state.Instance{inst(id("n9"), version(v2), staging())}),
			want:  pass{Kill: []string{"n9"}, Step: 1},
		},
		{
			name: "restart to fewer instances",
			d:    restartA,
			apps: apps(app(instances(2), strategy(0.5, 0.5), version(v2))),
			// minHealthy 1, maxCapacity 3: three may go at once.
			insts: fleet("a", 4, v1),
			want:  pass{Kill: []string{"a4", "a3", "a2"}, Step: 1},
		},
		{
			name:  "a missing app is stopped",
			d:     scaleA,
			insts: []state.Instance{inst(id("a1"), running())},
			want:  pass{Kill: []string{"a1"}, Step: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Next(Input{Deployment: tc.d, Apps: tc.apps, Instances: tc.insts, Now: t0})
			if diff := cmp.Diff(tc.want, summary(got)); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextSteps(t *testing.T) {
	db := app(id("/db"), instances(1))
	web := app(id("/web"), instances(2), dependsOn("/db"))
	d, _, err := Plan(nil, apps(db, web), v3, "d1")
	if err != nil {
		t.Fatal(err)
	}
	dbUp := inst(id("db1"), of("/db"), running())
	webUp := []state.Instance{inst(id("w1"), of("/web"), running()), inst(id("w2"), of("/web"), running())}
	cases := []struct {
		name  string
		step  int
		insts []state.Instance
		want  pass
	}{
		{
			name: "first step starts the dependency only",
			step: 1,
			want: pass{Create: newInstances(1, "/db", v1), Step: 1},
		},
		{
			name:  "first step waits for the dependency",
			step:  1,
			insts: []state.Instance{inst(id("db1"), of("/db"), staging())},
			want:  pass{Step: 1},
		},
		{
			name:  "the next step starts in the same pass",
			step:  1,
			insts: []state.Instance{dbUp},
			want:  pass{Create: newInstances(2, "/web", v1), Step: 2, StepDone: true},
		},
		{
			name:  "resumed at step 2",
			step:  2,
			insts: []state.Instance{dbUp, webUp[0]},
			want:  pass{Create: newInstances(1, "/web", v1), Step: 2},
		},
		{
			name:  "done",
			step:  2,
			insts: cat([]state.Instance{dbUp}, webUp),
			want:  pass{Step: 2, StepDone: true, Done: true},
		},
		{
			name:  "a zero CurrentStep is the first",
			step:  0,
			insts: []state.Instance{dbUp},
			want:  pass{Create: newInstances(2, "/web", v1), Step: 2, StepDone: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dd := d
			dd.CurrentStep = tc.step
			got := Next(Input{Deployment: dd, Apps: apps(db, web), Instances: tc.insts, Now: t0})
			if diff := cmp.Diff(tc.want, summary(got)); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextActionStatus(t *testing.T) {
	a := app(instances(4), version(v2), healthChecked(), readinessChecked())
	insts := cat(fleet("a", 2, v1), []state.Instance{
		inst(id("a3"), running(), decommissioned()),
		inst(id("n1"), version(v2), running(), healthy(), ready()),
		inst(id("n2"), version(v2), running(), healthy()),
		inst(id("n3"), version(v2), staging()),
	})
	got := Next(Input{Deployment: deployment(stepOf(act(marathon.RestartApplication, "/a"))), Apps: apps(a), Instances: insts, Now: t0})
	want := []ActionStatus{{
		Action: act(marathon.RestartApplication, "/a"), Instances: 4,
		Running: 3, Healthy: 2, Ready: 1, Old: 3,
	}}
	if diff := cmp.Diff(want, got.CurrentActions); diff != "" {
		t.Errorf("Actions (-want +got):\n%s", diff)
	}
}

// world simulates the scheduler and the cluster around Next: it applies
// the outputs and moves tasks along at random, one event at a time.
type world struct {
	t     *testing.T
	app   marathon.App
	insts []state.Instance
	seq   int
	rng   *rand.Rand
}

// apply does what the scheduler does with an Output.
func (w *world) apply(o Output) {
	for _, victim := range o.Kill {
		i := slices.IndexFunc(w.insts, func(x state.Instance) bool { return x.ID == victim })
		if w.insts[i].Goal != state.GoalRunning {
			w.t.Fatalf("%s killed twice", victim)
		}
		w.insts[i].Goal = state.GoalDecommissioned
	}
	for _, c := range o.Create {
		w.seq++
		w.insts = append(w.insts, inst(id(fmt.Sprintf("n%d", w.seq)), of(c.AppID), version(version(c.Version))))
	}
}

// event moves one instance one step: a waiting instance gets a task, a
// staging task runs, a running new task turns healthy, then ready, a killed
// task ends and is expunged. It reports false when nothing can move.
func (w *world) event() bool {
	var movable []int
	for k, inst := range w.insts {
		if w.next(inst) != nil {
			movable = append(movable, k)
		}
	}
	if len(movable) == 0 {
		return false
	}
	k := movable[w.rng.IntN(len(movable))]
	w.next(w.insts[k])(&w.insts[k])
	w.insts = slices.DeleteFunc(w.insts, func(x state.Instance) bool { return x.State == mesos.TaskKilled })
	return true
}

func (w *world) next(inst state.Instance) instFunc {
	switch {
	case inst.Goal != state.GoalRunning && hasLiveTask(inst):
		return taskState(mesos.TaskKilled)
	case inst.Goal != state.GoalRunning:
		return taskState(mesos.TaskKilled) // no task: expunged
	case inst.State == "":
		return staging()
	case inst.State == mesos.TaskStaging:
		return running()
	case len(w.app.HealthChecks) > 0 && inst.Healthy == nil:
		return healthy()
	case len(w.app.ReadinessChecks) > 0 && inst.Ready == nil:
		return ready()
	}
	return nil
}

// String lists the instances compactly: id, old or new, goal, state,
// health and readiness.
func (w *world) String() string {
	var b strings.Builder
	for _, inst := range w.insts {
		age := "old"
		if inst.AppVersion.Equal(w.app.Version.Time) {
			age = "new"
		}
		fmt.Fprintf(&b, "\n  %s %s %s %q healthy=%v ready=%v", inst.ID, age, inst.Goal, inst.State, isHealthy(inst, w.app), isReady(inst, w.app))
	}
	return b.String()
}

// tasks counts the instances that hold or will hold a task.
func (w *world) tasks() int {
	n := 0
	for _, inst := range w.insts {
		if inst.Goal == state.GoalRunning || hasLiveTask(inst) {
			n++
		}
	}
	return n
}

// serving counts the instances that serve: not killed, healthy, and ready
// when new.
func (w *world) serving() int {
	n := 0
	for _, inst := range w.insts {
		if inst.AppVersion.Equal(w.app.Version.Time) && isReady(inst, w.app) || !inst.AppVersion.Equal(w.app.Version.Time) && isHealthy(inst, w.app) {
			n++
		}
	}
	return n
}

// upgrade runs a restart of w.app over w.insts to the end, checking after
// every pass and every event that at least minServing instances serve and at
// most maxTasks tasks exist. It returns the number of passes and the kills
// of the first pass.
func (w *world) upgrade(minServing, maxTasks int) (passes int, firstKills []string) {
	d := deployment(stepOf(act(marathon.RestartApplication, w.app.ID)))
	check := func(when string) {
		if s := w.serving(); s < minServing {
			w.t.Fatalf("%s: %d serving, want >= %d: %s", when, s, minServing, w)
		}
		if n := w.tasks(); n > maxTasks {
			w.t.Fatalf("%s: %d tasks, want <= %d: %s", when, n, maxTasks, w)
		}
	}
	for passes = 1; passes < 1000; passes++ {
		out := Next(Input{Deployment: d, Apps: apps(w.app), Instances: w.insts, Now: t0})
		if passes == 1 {
			firstKills = out.Kill
		}
		if out.Done {
			if len(out.Kill)+len(out.Create) > 0 {
				w.t.Fatalf("done with work left: %+v", out)
			}
			for _, inst := range w.insts {
				if !inst.AppVersion.Equal(w.app.Version.Time) || !isReady(inst, w.app) {
					w.t.Fatalf("done with %+v", inst)
				}
			}
			if len(w.insts) != w.app.Instances {
				w.t.Fatalf("done with %d instances, want %d", len(w.insts), w.app.Instances)
			}
			return passes, firstKills
		}
		w.apply(out)
		check(fmt.Sprintf("pass %d", passes))
		if !w.event() {
			w.t.Fatalf("pass %d: stuck: %s", passes, w)
		}
		check(fmt.Sprintf("after event of pass %d", passes))
	}
	w.t.Fatalf("no end after %d passes", passes)
	return passes, nil
}

func TestNextRollingUpgrade(t *testing.T) {
	cases := []struct {
		name       string
		app        marathon.App
		old        int
		minServing int
		maxTasks   int
		firstKills int
	}{
		{
			name: "4 instances at 0.5/0.5", app: app(instances(4), strategy(0.5, 0.5), healthChecked()),
			old: 4, minServing: 2, maxTasks: 6, firstKills: 2,
		},
		{
			name: "4 instances at 0.5/0.5 with readiness", app: app(instances(4), strategy(0.5, 0.5), healthChecked(), readinessChecked()),
			old: 4, minServing: 2, maxTasks: 6, firstKills: 2,
		},
		{
			name: "defaults 1/1", app: app(instances(4)),
			old: 4, minServing: 4, maxTasks: 8, firstKills: 0,
		},
		{
			name: "0/0 kills all at once", app: app(instances(4), strategy(0, 0)),
			old: 4, minServing: 0, maxTasks: 4, firstKills: 4,
		},
		{
			name: "1/0 uses the extra instance", app: app(instances(3), strategy(1, 0), healthChecked()),
			old: 3, minServing: 3, maxTasks: 4, firstKills: 0,
		},
		{
			name: "3 × 0.7 keeps all", app: app(instances(3), strategy(0.7, 0.5), healthChecked()),
			old: 3, minServing: 3, maxTasks: 4, firstKills: 0,
		},
		{
			name: "scale up during the upgrade", app: app(instances(6), strategy(0.5, 0.5), healthChecked()),
			old: 2, minServing: 2, maxTasks: 9, firstKills: 0,
		},
		{
			name: "scale down during the upgrade", app: app(instances(2), strategy(0.5, 0)),
			old: 5, minServing: 1, maxTasks: 5, firstKills: 4,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.app.Version = v2
			for seed := range uint64(50) {
				w := &world{t: t, app: tc.app, insts: fleet("a", tc.old, v1), rng: rand.New(rand.NewPCG(seed, 7))}
				_, kills := w.upgrade(tc.minServing, tc.maxTasks)
				if len(kills) != tc.firstKills {
					t.Fatalf("seed %d: first pass killed %v, want %d", seed, kills, tc.firstKills)
				}
			}
		})
	}
}

func TestNextScaleScenario(t *testing.T) {
	a := app(instances(2), version(v2), healthChecked())
	w := &world{t: t, app: a, insts: fleet("a", 5, v1), rng: rand.New(rand.NewPCG(1, 2))}
	w.insts[1].Healthy = new(bool) // a2 unhealthy
	d := deployment(stepOf(act(marathon.ScaleApplication, "/a")))
	out := Next(Input{Deployment: d, Apps: apps(a), Instances: w.insts, Now: t0})
	if diff := cmp.Diff([]string{"a2", "a5", "a4"}, out.Kill); diff != "" {
		t.Fatalf("victims (-want +got):\n%s", diff)
	}
	w.apply(out)
	for range 3 {
		if out := Next(Input{Deployment: d, Apps: apps(a), Instances: w.insts, Now: t0}); out.Done || len(out.Kill)+len(out.Create) > 0 {
			t.Fatalf("while kills run: %+v", summary(out))
		}
		w.event()
	}
	if out := Next(Input{Deployment: d, Apps: apps(a), Instances: w.insts, Now: t0}); !out.Done {
		t.Fatalf("not done with %+v", w.insts)
	}
}

// TestNextResume stops an upgrade half way, round-trips the stored state
// through JSON as a new leader would load it, and checks that the next pass
// asks for the same as the old leader would have, and that the upgrade
// finishes within bounds from there.
func TestNextResume(t *testing.T) {
	a := app(instances(4), strategy(0.5, 0.5), healthChecked(), version(v2))
	w := &world{t: t, app: a, insts: fleet("a", 4, v1), rng: rand.New(rand.NewPCG(3, 4))}
	d := deployment(stepOf(act(marathon.RestartApplication, "/a")))
	for range 7 {
		w.apply(Next(Input{Deployment: d, Apps: apps(a), Instances: w.insts, Now: t0}))
		w.event()
	}
	before := Next(Input{Deployment: d, Apps: apps(a), Instances: w.insts, Now: t0})

	var stored struct {
		Deployment state.Deployment
		Apps       []marathon.App
		Instances  []state.Instance
	}
	b, err := json.Marshal(struct {
		Deployment state.Deployment
		Apps       []marathon.App
		Instances  []state.Instance
	}{d, []marathon.App{a}, w.insts})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	after := Next(Input{Deployment: stored.Deployment, Apps: apps(stored.Apps...), Instances: stored.Instances, Now: t0.Add(time.Hour)})
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("resumed pass differs (-old leader +new leader):\n%s", diff)
	}
	if len(before.Kill)+len(before.Create) == 0 && before.Done {
		t.Fatalf("the scenario should stop mid-upgrade: %+v", before)
	}
	w.insts = stored.Instances
	w.upgrade(2, 6)
}

func TestGroupByApp(t *testing.T) {
	a1 := state.Instance{ID: "a.1", AppID: "/a"}
	a2 := state.Instance{ID: "a.2", AppID: "/a"}
	b1 := state.Instance{ID: "b.1", AppID: "/b"}
	cases := []struct {
		name string
		in   []state.Instance
		want map[marathon.PathID][]state.Instance
	}{
		{name: "none", in: nil, want: map[marathon.PathID][]state.Instance{}},
		{name: "grouped", in: []state.Instance{a1, a2, b1}, want: map[marathon.PathID][]state.Instance{"/a": {a1, a2}, "/b": {b1}}},
		{name: "interleaved", in: []state.Instance{a1, b1, a2}, want: map[marathon.PathID][]state.Instance{"/a": {a1, a2}, "/b": {b1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := groupByApp(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("groupByApp (-want +got):\n%s", diff)
			}
			for id, insts := range got {
				if len(insts) != cap(insts) {
					t.Errorf("%s: cap %d > len %d: an append would overwrite the next app", id, cap(insts), len(insts))
				}
			}
		})
	}
}
