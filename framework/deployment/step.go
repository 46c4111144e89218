package deployment

import (
	"time"

	"github.com/stadionhq/stadion/framework/reconcile"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Input is everything Next looks at.
type Input struct {
	// Deployment is the running deployment as stored.
	Deployment state.Deployment
	// Apps are the current definitions, by id: the deployment's targets.
	// A stopped app is absent.
	Apps map[marathon.PathID]marathon.App
	// Instances are all instances, of any app, as stored; instances the
	// scheduler decommissioned (Goal Decommissioned) stay until their task
	// is terminal.
	Instances []state.Instance
	// Now is the time of the pass.
	Now time.Time
}

// Output is what Next decided for one pass.
type Output struct {
	// Create lists instances to create with Goal Running; they wait for
	// offers like any other instance.
	Create []NewInstance
	// Kill lists the instances to decommission (Goal Decommissioned) and
	// whose tasks to kill, in victim order.
	Kill []string
	// Step is the 1-based index of the step that is current after this
	// pass; the scheduler stores it as Deployment.CurrentStep.
	Step int
	// StepDone reports that the step that was current on input finished
	// in this pass. Several may finish in one pass: every step from the
	// input's CurrentStep up to Step (exclusive; inclusive when Done) did,
	// one deployment_step_success each.
	StepDone bool
	// Done reports that every step finished: the deployment succeeded.
	Done bool
	// CurrentActions is the progress of each action of step Step, in step
	// order, for GET /v2/deployments (currentActions).
	CurrentActions []ActionStatus
}

// NewInstance asks for a new instance of an app at a version.
type NewInstance struct {
	AppID   marathon.PathID
	Version marathon.Timestamp
}

// ActionStatus is the progress of one action of the current step.
type ActionStatus struct {
	state.Action
	// Instances is the instance count the action works towards (0 for a
	// stop).
	Instances int
	// Running counts the app's instances with Goal Running that fill a
	// slot (for a restart: of the target version only).
	Running int
	// Healthy and Ready count those of them that are healthy, and healthy
	// and ready.
	Healthy int
	Ready   int
	// Old counts the instances of other versions still there, killed or
	// not (restart only).
	Old int
	// Done reports that the action reached its target.
	Done bool
}

// Next computes one pass of deployment in.Deployment: it evaluates the
// current step's actions against the instances and, when they are all done,
// moves on to the next step in the same pass. It keeps no state of its own:
// counts of old, new, healthy and killed instances come from in.Instances,
// so a restarted scheduler resumes a deployment from what it stored.
//
// Per action:
//   - StartApplication and ScaleApplication create instances up to the
//     app's count, or kill the surplus in Marathon's victim order
//     (reconcile.Victims); done when exactly that many fill a slot, all
//     healthy and ready, and no killed task is left.
//   - StopApplication kills every instance; done when no task is left.
//   - RestartApplication replaces the instances of other versions as
//     Marathon's TaskReplaceActor does (see restart).
//
// An action whose app is missing from in.Apps is a stop: the app is gone.
func Next(in Input) Output {
	d := in.Deployment
	byApp := groupByApp(in.Instances)
	first := max(d.CurrentStep, 1)
	out := Output{Step: first}
	for out.Step <= len(d.Steps) {
		out.Create, out.Kill, out.CurrentActions = nil, nil, nil
		done := true
		for _, a := range d.Steps[out.Step-1].Actions {
			r := evaluate(a, in.Apps, byApp[a.AppID], in.Now)
			out.Create = append(out.Create, r.create...)
			out.Kill = append(out.Kill, r.kill...)
			out.CurrentActions = append(out.CurrentActions, r.status)
			done = done && r.status.Done
		}
		if !done {
			break
		}
		out.Step++
	}
	if out.Step > len(d.Steps) {
		out.Done = true
		out.Step = max(len(d.Steps), 1)
	}
	out.StepDone = out.Done || out.Step > first
	return out
}

// Progress scores how far the current step of out got: the instances of
// its actions' targets that run, plus those that are healthy and ready.
// A deployment whose score does not rise over its progress deadline
// fails.
func Progress(out Output) int {
	p := 0
	for _, a := range out.CurrentActions {
		p += a.Running + a.Ready
		if a.Type == marathon.StopApplication && a.Done {
			p++
		}
	}
	return p
}

// groupByApp groups instances by app, keeping their order. Instances that
// come grouped already (each app's in one run, as the scheduler lists them)
// are sub-sliced rather than copied: nothing here modifies them.
func groupByApp(instances []state.Instance) map[marathon.PathID][]state.Instance {
	byApp := map[marathon.PathID][]state.Instance{}
	start := 0
	for i := 1; i <= len(instances); i++ {
		if i < len(instances) && instances[i].AppID == instances[start].AppID {
			continue
		}
		id := instances[start].AppID
		if _, seen := byApp[id]; seen {
			// Not grouped: copy, in order.
			byApp = map[marathon.PathID][]state.Instance{}
			for _, inst := range instances {
				byApp[inst.AppID] = append(byApp[inst.AppID], inst)
			}
			return byApp
		}
		byApp[id] = instances[start:i:i]
		start = i
	}
	return byApp
}

// result is what one action asks for.
type result struct {
	status ActionStatus
	create []NewInstance
	kill   []string
}

func evaluate(a state.Action, apps map[marathon.PathID]marathon.App, insts []state.Instance, now time.Time) result {
	app, ok := apps[a.AppID]
	switch {
	case !ok || a.Type == marathon.StopApplication:
		return stop(a, insts)
	case a.Type == marathon.RestartApplication:
		return restart(a, app, insts, now)
	default:
		return scale(a, app, insts, now)
	}
}

// scale brings the app to app.Instances instances, of whatever version.
// It reads the instances in place: copying each instance and the app per
// instance was 6 % of the scheduler's CPU in a 100,000-task launch, where
// every changed app is scaled on every pass (issue 17).
func scale(a state.Action, app marathon.App, insts []state.Instance, now time.Time) result {
	r := result{status: ActionStatus{Action: a, Instances: app.Instances}}
	active := make([]*state.Instance, 0, len(insts))
	dying := 0
	for i := range insts {
		inst := &insts[i]
		switch {
		case inst.Goal != state.GoalRunning:
			if hasLiveTask(*inst) {
				dying++
			}
		case fillsSlot(inst, &app, now):
			active = append(active, inst)
		}
	}
	for range app.Instances - len(active) {
		r.create = append(r.create, NewInstance{AppID: app.ID, Version: app.Version})
	}
	var killed map[string]bool
	if n := len(active) - app.Instances; n > 0 {
		values := make([]state.Instance, len(active))
		for i, inst := range active {
			values[i] = *inst
		}
		killed = map[string]bool{}
		for _, v := range reconcile.Victims(values, app.KillSelection, n) {
			r.kill = append(r.kill, v.ID)
			killed[v.ID] = true
		}
	}
	checked, readiness := len(app.HealthChecks) > 0, len(app.ReadinessChecks) > 0
	for _, inst := range active {
		if killed[inst.ID] {
			continue
		}
		r.status.Running++
		if healthyWith(inst, checked) {
			r.status.Healthy++
			if readyWith(inst, readiness) {
				r.status.Ready++
			}
		}
	}
	r.status.Done = len(active) == app.Instances && dying == 0 && r.status.Ready >= app.Instances
	return r
}

// stop kills every instance of the app.
func stop(a state.Action, insts []state.Instance) result {
	r := result{status: ActionStatus{Action: a}}
	var live []state.Instance
	dying := 0
	for _, inst := range insts {
		switch {
		case inst.Goal == state.GoalRunning:
			live = append(live, inst)
		case hasLiveTask(inst):
			dying++
		}
	}
	for _, v := range reconcile.Victims(live, marathon.YoungestFirst, len(live)) {
		r.kill = append(r.kill, v.ID)
	}
	r.status.Done = len(live) == 0 && dying == 0
	return r
}

// restart replaces the app's instances of other versions (old) by instances
// of app.Version (new), as Marathon's TaskReplaceActor does, recomputed
// from the instances on every pass:
//
//   - healthy = healthy old instances + healthy and ready new ones, and
//     minHealthy, maxCapacity come from RestartCounts(app.Instances, ...,
//     healthy).
//   - Old instances are killed in victim order (unhealthy first). An
//     unhealthy one costs no health and is always killed; a healthy one
//     only while healthy stays >= minHealthy afterwards. At the start, with
//     every old instance healthy, this kills exactly killImmediately; afterwards every new instance that
//     becomes healthy and ready lets one more old instance go, as
//     Marathon's killNextOldInstance does. Killed instances (Goal
//     Decommissioned) never count as healthy.
//   - New instances are created up to min(instances − new, maxCapacity −
//     occupied), where occupied counts old and new instances with Goal
//     Running and killed ones whose task is not terminal yet: a killed task
//     frees its capacity only when it is gone, so the app never has more
//     than maxCapacity tasks.
//   - Done when app.Instances new instances are healthy and ready and no
//     old or killed instance is left.
func restart(a state.Action, app marathon.App, insts []state.Instance, now time.Time) result {
	r := result{status: ActionStatus{Action: a, Instances: app.Instances}}
	var oldLive, newLive []state.Instance
	dying := 0
	for _, inst := range insts {
		isNew := inst.AppVersion.Equal(app.Version.Time)
		switch {
		case inst.Goal != state.GoalRunning:
			if hasLiveTask(inst) {
				dying++
				if !isNew {
					r.status.Old++
				}
			}
		case !isNew:
			oldLive = append(oldLive, inst)
			r.status.Old++
		case fillsSlot(&inst, &app, now):
			newLive = append(newLive, inst)
		}
	}
	healthyOld, newReady := count(oldLive, app, isHealthy), count(newLive, app, isReady)
	minHealthy, maxCapacity, _ := RestartCounts(app.Instances, app.UpgradeStrategy, healthyOld+newReady)
	budget := healthyOld + newReady - minHealthy

	killed := map[string]bool{}
	victim := func(inst state.Instance, costs bool) {
		if costs {
			if budget <= 0 {
				return
			}
			budget--
		}
		r.kill = append(r.kill, inst.ID)
		killed[inst.ID] = true
	}
	for _, v := range reconcile.Victims(oldLive, app.KillSelection, len(oldLive)) {
		victim(v, isHealthy(v, app))
	}
	// New instances beyond the count (left by a superseded deployment) go
	// too, the least ready first.
	for _, v := range reconcile.Victims(newLive, app.KillSelection, len(newLive)-app.Instances) {
		victim(v, isReady(v, app))
	}

	occupied := len(oldLive) + len(newLive) + dying
	stillNew := len(newLive)
	for _, inst := range newLive {
		if killed[inst.ID] {
			stillNew--
			continue
		}
		r.status.Running++
		if isHealthy(inst, app) {
			r.status.Healthy++
		}
		if isReady(inst, app) {
			r.status.Ready++
		}
	}
	for range max(0, min(app.Instances-stillNew, maxCapacity-occupied)) {
		r.create = append(r.create, NewInstance{AppID: app.ID, Version: app.Version})
	}
	r.status.Done = r.status.Old == 0 && dying == 0 && len(newLive) == app.Instances && newReady >= app.Instances
	return r
}

func count(insts []state.Instance, app marathon.App, pred func(state.Instance, marathon.App) bool) int {
	n := 0
	for _, inst := range insts {
		if pred(inst, app) {
			n++
		}
	}
	return n
}

// isHealthy reports whether an instance serves: its task runs and, when the
// app has health checks, the latest result is healthy. The target app's
// checks decide for every version, so an upgrade that adds health checks
// waits for results rather than trusting the old instances blindly.
func isHealthy(inst state.Instance, app marathon.App) bool {
	return healthyWith(&inst, len(app.HealthChecks) > 0)
}

// healthyWith is isHealthy for an app with health checks or (checked false)
// without.
func healthyWith(inst *state.Instance, checked bool) bool {
	if inst.Goal != state.GoalRunning || inst.State != mesos.TaskRunning {
		return false
	}
	if !checked {
		return true
	}
	return inst.Healthy != nil && *inst.Healthy
}

// readyWith is isReady for a healthy instance of an app with readiness checks
// or (readiness false) without.
func readyWith(inst *state.Instance, readiness bool) bool {
	return !readiness || inst.Ready != nil && *inst.Ready
}

// isReady reports whether an instance is healthy and, when the app has
// readiness checks, ready.
func isReady(inst state.Instance, app marathon.App) bool {
	if !isHealthy(inst, app) {
		return false
	}
	return readyWith(&inst, len(app.ReadinessChecks) > 0)
}

// hasLiveTask reports whether the instance has a task that may still run.
func hasLiveTask(inst state.Instance) bool {
	return inst.State != "" && !inst.State.Terminal() && inst.State != mesos.TaskUnknown
}

// fillsSlot reports whether an instance with Goal Running counts towards
// its app's instances: an unreachable one stops counting once the app's
// inactiveAfterSeconds has passed, so that a replacement is created
// (reconcile expunges it later).
func fillsSlot(inst *state.Instance, app *marathon.App, now time.Time) bool {
	if inst.State != mesos.TaskUnreachable && inst.State != mesos.TaskLost {
		return true
	}
	s := app.UnreachableStrategy
	if s.Disabled || inst.UnreachableSince.IsZero() {
		return true
	}
	return now.Before(inst.UnreachableSince.Add(time.Duration(s.InactiveAfterSeconds) * time.Second))
}
