package reconcile

import (
	"cmp"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// DefaultTaskLaunchTimeout is Marathon's --task_launch_timeout.
const DefaultTaskLaunchTimeout = 5 * time.Minute

// DefaultTaskUnknownTimeout is how long a task that Mesos answers
// TASK_UNKNOWN for keeps its instance before a new task replaces it: the
// time a Mesos master gives an agent to answer its pings before it
// removes the agent (--agent_ping_timeout 15 s × --max_agent_ping_timeouts
// 5), within which an agent re-registers with a master that failed over.
const DefaultTaskUnknownTimeout = 75 * time.Second

// Backoff is an app's launch delay: no task of the app is launched before
// Until. The scheduler grows it on failures and resets it on new versions.
type Backoff struct {
	Delay time.Duration
	Until time.Time
}

// Input is everything Compute looks at.
type Input struct {
	// Apps are the current definitions, by id.
	Apps      map[marathon.PathID]marathon.App
	Instances []state.Instance
	// Deployments are the running deployments; their apps' instance counts
	// are theirs to change.
	Deployments []state.Deployment
	Backoffs    map[marathon.PathID]Backoff
	Now         time.Time
	// TaskLaunchTimeout bounds the time from launch to TASK_RUNNING;
	// default DefaultTaskLaunchTimeout.
	TaskLaunchTimeout time.Duration
	// TaskUnknownTimeout is how long a task unknown to Mesos keeps its
	// instance; default DefaultTaskUnknownTimeout.
	TaskUnknownTimeout time.Duration
}

// Plan is what Compute decided. Every list is sorted for determinism.
type Plan struct {
	// Launch lists the instances that need a task now, interleaved across
	// apps so that one large app cannot starve the others.
	Launch []string
	// Delayed lists the instances that need a task but wait for their
	// app's backoff.
	Delayed []string
	// Kill lists tasks to kill.
	Kill []Kill
	// Create lists instances to create.
	Create []NewInstance
	// Decommission lists instances whose goal becomes Decommissioned.
	Decommission []string
	// Expunge lists instances to forget: decommissioned and without a live
	// task, or unreachable for longer than their app allows.
	Expunge []string
	// Wake is the earliest time at which the plan changes by the clock
	// alone (a backoff ends, a launch times out, an unreachable instance
	// expires); zero when nothing is pending.
	Wake time.Time
}

// Kill names a task to kill and why.
type Kill struct {
	InstanceID string
	TaskID     string
	AgentID    string
	Reason     string
}

// NewInstance asks for a new instance of an app at a version.
type NewInstance struct {
	AppID   marathon.PathID
	Version marathon.Timestamp
}

// Kill reasons.
const (
	ReasonDecommissioned = "decommissioned"
	ReasonLaunchTimeout  = "launch timeout"
	ReasonOverCapacity   = "over capacity"
	ReasonAppRemoved     = "app removed"
	ReasonUnknown        = "unknown to mesos"
)

// Compute returns the plan for in. It is pure: time comes from in.Now.
// It is the merge of one ComputeApp per app id (of the apps and of the
// instances), which lets a caller recompute only the apps that changed.
func Compute(in Input) Plan {
	deploying := map[marathon.PathID]bool{}
	for _, d := range in.Deployments {
		for _, id := range d.AffectedApps() {
			deploying[id] = true
		}
	}
	byApp := make(map[marathon.PathID][]state.Instance, len(in.Apps))
	for id := range in.Apps {
		byApp[id] = nil
	}
	for _, inst := range in.Instances {
		byApp[inst.AppID] = append(byApp[inst.AppID], inst)
	}
	plans := make(map[marathon.PathID]Plan, len(byApp))
	for id, insts := range byApp {
		app, known := in.Apps[id]
		plans[id] = ComputeApp(AppInput{
			AppID: id, App: app, Known: known, Instances: insts, Deploying: deploying[id],
			Backoff: in.Backoffs[id], Now: in.Now, TaskLaunchTimeout: in.TaskLaunchTimeout,
			TaskUnknownTimeout: in.TaskUnknownTimeout,
		})
	}
	return Merge(plans)
}

// AppInput is what ComputeApp looks at: one app id and its instances.
type AppInput struct {
	AppID marathon.PathID
	// App is the current definition; Known is false when the app is gone
	// (its instances are then decommissioned).
	App   marathon.App
	Known bool
	// Instances are the instances of AppID, in any order.
	Instances []state.Instance
	// Deploying says a running deployment affects the app: its instance
	// count is the deployment's to change.
	Deploying bool
	Backoff   Backoff
	Now       time.Time
	// TaskLaunchTimeout and TaskUnknownTimeout as in Input.
	TaskLaunchTimeout  time.Duration
	TaskUnknownTimeout time.Duration
}

// ComputeApp returns the plan for one app id, its lists sorted as
// Compute's (Launch by instance id). It is pure, and its plan changes by
// the clock alone only at its Wake: until then, equal inputs give an equal
// plan.
func ComputeApp(in AppInput) Plan {
	if in.TaskLaunchTimeout <= 0 {
		in.TaskLaunchTimeout = DefaultTaskLaunchTimeout
	}
	if in.TaskUnknownTimeout <= 0 {
		in.TaskUnknownTimeout = DefaultTaskUnknownTimeout
	}
	var p Plan
	active := 0
	isActive := func(inst *state.Instance) bool {
		return in.Known && inst.Goal == state.GoalRunning && countsAsActive(inst, &in.App, in.Now)
	}
	for i := range in.Instances {
		inst := &in.Instances[i]
		switch {
		case inst.Goal != state.GoalRunning:
			p.retire(*inst, &in)
		case !in.Known:
			p.Decommission = append(p.Decommission, inst.ID)
			p.retire(*inst, &in)
		default:
			p.keep(inst, &in)
		}
		if isActive(inst) {
			active++
		}
	}
	if in.Known && !in.Deploying {
		app := in.App
		switch {
		case active < app.Instances:
			for range app.Instances - active {
				p.Create = append(p.Create, NewInstance{AppID: in.AppID, Version: app.Version})
			}
		case active > app.Instances:
			// Only a surplus needs the active instances themselves.
			live := make([]state.Instance, 0, active)
			for i := range in.Instances {
				if isActive(&in.Instances[i]) {
					live = append(live, in.Instances[i])
				}
			}
			for _, victim := range Victims(live, app.KillSelection, active-app.Instances) {
				p.Decommission = append(p.Decommission, victim.ID)
				if hasLiveTask(victim) {
					p.Kill = append(p.Kill, Kill{InstanceID: victim.ID, TaskID: victim.TaskID, AgentID: victim.AgentID, Reason: ReasonOverCapacity})
				}
			}
		}
	}
	slices.Sort(p.Launch)
	p.sort()
	return p
}

// Merge combines the plans of distinct app ids (ComputeApp's) into one, as
// Compute returns it: Launch interleaved across apps in id order, the other
// lists sorted, Wake the earliest.
func Merge(plans map[marathon.PathID]Plan) Plan {
	var p Plan
	launch := make(map[marathon.PathID][]string, len(plans))
	for id, ap := range plans {
		if len(ap.Launch) > 0 {
			launch[id] = ap.Launch
		}
		p.Delayed = append(p.Delayed, ap.Delayed...)
		p.Kill = append(p.Kill, ap.Kill...)
		p.Create = append(p.Create, ap.Create...)
		p.Decommission = append(p.Decommission, ap.Decommission...)
		p.Expunge = append(p.Expunge, ap.Expunge...)
		if !ap.Wake.IsZero() {
			p.wake(ap.Wake)
		}
	}
	p.Launch = interleave(launch)
	p.sort()
	return p
}

// sort orders every list but Launch.
func (p *Plan) sort() {
	slices.Sort(p.Delayed)
	slices.SortFunc(p.Kill, func(a, b Kill) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	slices.SortFunc(p.Create, func(a, b NewInstance) int { return cmp.Compare(a.AppID, b.AppID) })
	slices.Sort(p.Decommission)
	p.Decommission = slices.Compact(p.Decommission)
	slices.Sort(p.Expunge)
}

// retire handles an instance that must go: kill its task, forget it once
// no task is left. A task unknown to Mesos is killed too (its agent may come
// back), and forgotten once its window has passed: Mesos will not answer
// for it.
func (p *Plan) retire(inst state.Instance, in *AppInput) {
	if isUnknown(inst) {
		end := inst.UnknownSince.Add(in.TaskUnknownTimeout)
		if !in.Now.Before(end) {
			p.Expunge = append(p.Expunge, inst.ID)
			return
		}
		p.wake(end)
	}
	if hasLiveTask(inst) {
		if inst.State != mesos.TaskKilling {
			p.Kill = append(p.Kill, Kill{InstanceID: inst.ID, TaskID: inst.TaskID, AgentID: inst.AgentID, Reason: killReason(inst)})
		}
		return
	}
	p.Expunge = append(p.Expunge, inst.ID)
}

func killReason(inst state.Instance) string {
	if inst.Goal == state.GoalRunning {
		return ReasonAppRemoved
	}
	return ReasonDecommissioned
}

// keep handles an instance that should run.
func (p *Plan) keep(inst *state.Instance, in *AppInput) {
	unknown := isUnknown(*inst)
	switch {
	case NeedsTask(*inst, in.Now, in.TaskUnknownTimeout):
		if unknown {
			// Should its agent come back, the old task is not ours.
			p.Kill = append(p.Kill, Kill{InstanceID: inst.ID, TaskID: inst.TaskID, AgentID: inst.AgentID, Reason: ReasonUnknown})
		}
		b := in.Backoff
		if b.Until.After(in.Now) {
			p.Delayed = append(p.Delayed, inst.ID)
			p.wake(b.Until)
			return
		}
		p.Launch = append(p.Launch, inst.ID)
	case unknown:
		p.wake(inst.UnknownSince.Add(in.TaskUnknownTimeout))
	case inst.State == mesos.TaskStaging || inst.State == mesos.TaskStarting:
		deadline := inst.LaunchedAt.Add(in.TaskLaunchTimeout)
		if !inst.LaunchedAt.IsZero() && !in.Now.Before(deadline) {
			p.Kill = append(p.Kill, Kill{InstanceID: inst.ID, TaskID: inst.TaskID, AgentID: inst.AgentID, Reason: ReasonLaunchTimeout})
			return
		}
		p.wake(deadline)
	case isUnreachable(*inst):
		s := in.App.UnreachableStrategy
		if s.Disabled || inst.UnreachableSince.IsZero() {
			return
		}
		expunge := inst.UnreachableSince.Add(time.Duration(s.ExpungeAfterSeconds) * time.Second)
		if !in.Now.Before(expunge) {
			// Marathon expunges it; should the task come back, it is
			// unknown and gets killed.
			p.Expunge = append(p.Expunge, inst.ID)
			return
		}
		p.wake(expunge)
		p.wake(inst.UnreachableSince.Add(time.Duration(s.InactiveAfterSeconds) * time.Second))
	}
}

func (p *Plan) wake(t time.Time) {
	if p.Wake.IsZero() || t.Before(p.Wake) {
		p.Wake = t
	}
}

// NeedsTask reports whether a Running instance needs a new task at now:
// it was never launched, its task ended, or Mesos has not known its task
// for unknownTimeout (TaskUnknownTimeout). A TASK_LOST task is judged as
// unreachable instead (its agent may come back).
func NeedsTask(inst state.Instance, now time.Time, unknownTimeout time.Duration) bool {
	switch {
	case inst.State == "", inst.State == mesos.TaskUnknown:
		// TASK_UNKNOWN as a state: stored before UnknownSince existed.
		return true
	case inst.State.Terminal():
		return inst.State != mesos.TaskLost
	case isUnknown(inst):
		return !now.Before(inst.UnknownSince.Add(unknownTimeout))
	}
	return false
}

// isUnknown reports whether Mesos answered TASK_UNKNOWN for the instance's
// live task.
func isUnknown(inst state.Instance) bool {
	return !inst.UnknownSince.IsZero() && inst.TaskID != "" && inst.State != "" && !inst.State.Terminal()
}

// isUnreachable reports whether the instance's agent stopped answering: the
// task may still run.
func isUnreachable(inst state.Instance) bool {
	return inst.State == mesos.TaskUnreachable || inst.State == mesos.TaskLost
}

// hasLiveTask reports whether the instance has a task that may be running.
func hasLiveTask(inst state.Instance) bool {
	return inst.TaskID != "" && inst.State != "" && !inst.State.Terminal() && inst.State != mesos.TaskUnknown
}

// countsAsActive reports whether a Running instance fills a slot of its
// app: an unreachable one stops counting once the app's inactiveAfter has
// passed, so that a replacement is created.
func countsAsActive(inst *state.Instance, app *marathon.App, now time.Time) bool {
	if !isUnreachable(*inst) {
		return true
	}
	s := app.UnreachableStrategy
	if s.Disabled || inst.UnreachableSince.IsZero() {
		return true
	}
	return now.Before(inst.UnreachableSince.Add(time.Duration(s.InactiveAfterSeconds) * time.Second))
}

// interleave takes one instance of each app in turn, apps in id order;
// each app's list is sorted already.
func interleave(byApp map[marathon.PathID][]string) []string {
	ids := make([]marathon.PathID, 0, len(byApp))
	total := 0
	for id, insts := range byApp {
		ids = append(ids, id)
		total += len(insts)
	}
	slices.Sort(ids)
	// The lists in id order, each round dropping those used up: a map
	// lookup per app per round was most of a pass's Merge with 100,000
	// instances waiting (issue 17).
	lists := make([][]string, 0, len(ids))
	for _, id := range ids {
		if len(byApp[id]) > 0 {
			lists = append(lists, byApp[id])
		}
	}
	out := make([]string, 0, total)
	for i := 0; len(lists) > 0; i++ {
		left := lists[:0]
		for _, l := range lists {
			out = append(out, l[i])
			if i+1 < len(l) {
				left = append(left, l)
			}
		}
		lists = left
	}
	return out
}
