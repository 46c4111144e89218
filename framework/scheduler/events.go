package scheduler

import (
	"context"
	"slices"
	"time"

	"github.com/stadionhq/stadion/framework/reconcile"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// handleEvent dispatches one Mesos event.
func (s *Scheduler) handleEvent(ctx context.Context, ev mesos.Event) {
	switch ev.Type {
	case mesos.EventSubscribed:
		s.handleSubscribed(ctx, ev.Subscribed)
	case mesos.EventOffers:
		s.counters.OffersIncoming.Add(uint64(len(ev.Offers.Offers)))
		for _, o := range ev.Offers.Offers {
			s.st.offers[o.ID.Value] = o
		}
	case mesos.EventRescind:
		delete(s.st.offers, ev.Rescind.OfferID.Value)
	case mesos.EventUpdate:
		s.handleUpdate(ctx, ev.Update.Status)
	case mesos.EventError:
		s.log.Error("mesos refused the framework", "message", ev.Error.Message)
	}
}

func (s *Scheduler) handleSubscribed(ctx context.Context, sub *mesos.Subscribed) {
	st := s.st
	first := st.frameworkID == ""
	st.frameworkID = sub.FrameworkID.Value
	st.subscribed = true
	st.suppressed = false
	s.subscribedRoles(sub)
	// A master may keep refuse filters across a failover: revive once if
	// anything waits.
	st.newWork = true
	st.offers = map[string]mesos.Offer{}
	st.dirty = true
	typ := marathon.EventSchedulerReregistered
	if first {
		typ = marathon.EventSchedulerRegistered
	}
	s.cfg.Events.Publish(marathon.SchedulerEvent{FrameworkID: st.frameworkID, EventMeta: marathon.Meta(typ, s.cfg.Now())})
	s.log.Info("subscribed to mesos", "framework_id", st.frameworkID)
	s.reconcileTasks(ctx, true)
}

// reconcileTasks asks Mesos for the state of every task we know
// (explicitly) and of every task it knows (implicitly): tasks it reports
// that we do not know are killed as they come in.
func (s *Scheduler) reconcileTasks(ctx context.Context, explicit bool) {
	if !s.st.subscribed {
		return
	}
	if explicit {
		var tasks []mesos.ReconcileTask
		for _, inst := range s.st.instances {
			if inst.TaskID == "" || inst.State == "" || inst.State.Terminal() {
				continue
			}
			rt := mesos.ReconcileTask{TaskID: mesos.TaskID{Value: inst.TaskID}}
			if inst.AgentID != "" {
				rt.AgentID = &mesos.AgentID{Value: inst.AgentID}
			}
			tasks = append(tasks, rt)
		}
		tasks = append(tasks, s.st.podReconcileTasks()...)
		if len(tasks) > 0 {
			s.calls.reconcile(tasks)
		}
	}
	s.calls.reconcile(nil)
}

// handleUpdate applies a task status to its instance.
func (s *Scheduler) handleUpdate(ctx context.Context, status mesos.TaskStatus) {
	st := s.st
	now := s.cfg.Now()
	s.counters.addUpdate(status.State)
	if len(status.UUID) > 0 {
		st.acks = append(st.acks, status)
	}
	if s.podUpdate(status, now) {
		return
	}
	inst := st.instances[st.byTask[status.TaskID.Value]]
	if inst == nil || inst.TaskID != status.TaskID.Value {
		s.unknownTask(status)
		return
	}
	if status.State == mesos.TaskUnknown {
		s.taskUnknown(inst, now)
		return
	}
	app, known := st.apps[inst.AppID]
	prev := *inst
	prevState := inst.State
	inst.State = status.State
	if !inst.UnknownSince.IsZero() {
		s.log.Info("task known to mesos again", "task_id", inst.TaskID, "state", status.State)
		inst.UnknownSince = time.Time{}
		delete(st.unknown, inst.ID)
	}
	inst.Message = status.Message
	if status.AgentID != nil && status.AgentID.Value != "" {
		inst.AgentID = status.AgentID.Value
	}
	if ips := statusIPs(status); len(ips) > 0 {
		inst.IPAddresses = ips
	}
	switch {
	case status.State == mesos.TaskRunning:
		inst.StartedAt = startedAt(inst.StartedAt, status, now)
		inst.UnreachableSince = time.Time{}
		if status.Healthy != nil && known {
			if app, ok := s.appOf(ctx, inst); ok {
				s.foldMesosHealth(inst, app, *status.Healthy, status.Message, now)
			}
		}
	case status.State == mesos.TaskUnreachable || status.State == mesos.TaskLost:
		if inst.UnreachableSince.IsZero() {
			inst.UnreachableSince = now
			if status.UnreachableTime != nil {
				inst.UnreachableSince = time.Unix(0, status.UnreachableTime.Nanoseconds)
			}
		}
	case status.State.Terminal():
		delete(st.kills, inst.TaskID)
		healthKill := status.State == mesos.TaskKilled && (st.healthKills[inst.TaskID] || status.Healthy != nil && !*status.Healthy)
		delete(st.healthKills, inst.TaskID)
		if known && inst.AppVersion == app.Version && isBackoffState(status.State, healthKill) {
			st.backoffs[inst.AppID] = grow(st.backoffs[inst.AppID], app, now)
		}
		if isFailure(status.State) {
			st.lastFailure[inst.AppID] = &marathon.TaskFailure{
				AppID: inst.AppID, Host: inst.Hostname, Message: status.Message, State: marathon.TaskState(status.State),
				TaskID: inst.TaskID, Timestamp: marathon.NewTimestamp(now), Version: inst.AppVersion, SlaveID: inst.AgentID,
			}
		}
		if healthKill && status.Healthy != nil {
			// Killed by the agent's check; ours publish when they kill.
			s.cfg.Events.Publish(marathon.UnhealthyInstanceKillEvent{
				AppID: inst.AppID, TaskID: inst.TaskID, InstanceID: inst.ID, Version: inst.AppVersion,
				Reason: status.Message, Host: inst.Hostname, SlaveID: inst.AgentID,
				EventMeta: marathon.Meta(marathon.EventUnhealthyInstanceKill, now),
			})
		}
		inst.Healthy, inst.Health, inst.Ready = nil, nil, nil
		st.waitingSince[inst.ID] = now
	}
	st.trackLaunch(inst)
	if changedByStatus(prev, *inst) {
		// A reconciliation answers every task with what we already
		// know: storing 10,000 unchanged instances again cost a new
		// leader a second (bench/README.md, failover).
		st.putInstance(inst)
	}
	if prevState != inst.State {
		s.cfg.Events.Publish(marathon.StatusUpdateEvent{
			SlaveID: inst.AgentID, TaskID: inst.TaskID, TaskStatus: marathon.TaskState(inst.State), Message: status.Message,
			AppID: inst.AppID, Host: inst.Hostname, IPAddresses: ipAddrs(inst.IPAddresses), Ports: inst.HostPorts,
			Version: inst.AppVersion, EventMeta: marathon.Meta(marathon.EventStatusUpdate, now),
		})
		if c := conditionOf(prevState); c != conditionOf(inst.State) {
			s.instanceChanged(inst, conditionOf(inst.State), now)
		}
	}
}

// instanceChanged publishes instance_changed_event: the instance is now
// in condition c (Marathon publishes it after the status_update_event of
// the same change).
func (s *Scheduler) instanceChanged(inst *state.Instance, c string, now time.Time) {
	s.cfg.Events.Publish(marathon.InstanceChangedEvent{
		InstanceID: inst.ID, Condition: c, RunSpecID: inst.AppID, AgentID: inst.AgentID, Host: inst.Hostname,
		RunSpecVersion: inst.AppVersion, EventMeta: marathon.Meta(marathon.EventInstanceChanged, now),
	})
}

// Instance conditions of Marathon (core/condition/Condition.scala) that
// Stadion's instances take.
const (
	conditionProvisioned = "Provisioned"
	conditionUnreachable = "Unreachable"
)

// conditionOf is the Marathon condition of an instance whose task is in
// state st, as Marathon names it in instance_changed_event.
func conditionOf(st mesos.TaskState) string {
	switch st {
	case mesos.TaskStaging:
		return "Staging"
	case mesos.TaskStarting:
		return "Starting"
	case mesos.TaskRunning:
		return "Running"
	case mesos.TaskKilling:
		return "Killing"
	case mesos.TaskFinished:
		return "Finished"
	case mesos.TaskFailed:
		return "Failed"
	case mesos.TaskKilled:
		return "Killed"
	case mesos.TaskError:
		return "Error"
	case mesos.TaskLost, mesos.TaskUnreachable:
		return conditionUnreachable
	case mesos.TaskDropped:
		return "Dropped"
	case mesos.TaskGone, mesos.TaskGoneByOperator:
		return "Gone"
	case mesos.TaskUnknown:
		return "Unknown"
	}
	return "Scheduled"
}

// startedAt is when a task that reports TASK_RUNNING started: the time
// already known (stored, so a new leader keeps it), else the time of
// Mesos's TASK_RUNNING. A reconciliation answer carries the time of the
// answer, not of the start: it gives now, and the task's own
// TASK_RUNNING, which the agent resends until a leader acknowledges it,
// corrects that to the earlier time it started (a leader that was down
// when the task started hears the answer first).
func startedAt(known time.Time, status mesos.TaskStatus, now time.Time) time.Time {
	var reported time.Time
	if status.Timestamp > 0 && status.Reason != mesos.ReasonReconciliation {
		reported = time.Unix(0, int64(status.Timestamp*float64(time.Second)))
	}
	switch {
	case known.IsZero() && reported.IsZero():
		return now
	case known.IsZero():
		return reported
	case !reported.IsZero() && reported.Before(known):
		return reported
	}
	return known
}

// changedByStatus reports whether a status update changed what the
// instance stores (health changes are stored by setHealth).
func changedByStatus(a, b state.Instance) bool {
	return a.State != b.State || a.Message != b.Message || a.AgentID != b.AgentID ||
		!slices.Equal(a.IPAddresses, b.IPAddresses) || !a.StartedAt.Equal(b.StartedAt) ||
		!a.UnreachableSince.Equal(b.UnreachableSince) || !a.UnknownSince.Equal(b.UnknownSince) || !sameHealth(a.Healthy, b.Healthy) ||
		len(a.Health) != len(b.Health) || !sameHealth(a.Ready, b.Ready)
}

// taskUnknown handles TASK_UNKNOWN for an instance's task. Mesos answers
// it for tasks on agents it does not know, such as every agent that has
// not re-registered yet after the master restarted with an in-memory
// registry: the task may well be running. The instance keeps its last
// known state, marked unknown (UnknownSince), stays listed (and so in
// Consul), and is asked about again (reconcileUnknown); reconcile
// replaces its task once TaskUnknownTimeout has passed.
func (s *Scheduler) taskUnknown(inst *state.Instance, now time.Time) {
	if inst.State == "" || inst.State.Terminal() || inst.State == mesos.TaskUnknown || !inst.UnknownSince.IsZero() {
		return
	}
	s.log.Warn("task unknown to mesos, keeping it until its agent's window passes",
		"task_id", inst.TaskID, "agent_id", inst.AgentID, "state", inst.State, "timeout", s.cfg.TaskUnknownTimeout)
	inst.UnknownSince = now
	s.st.unknown[inst.ID] = struct{}{}
	s.st.putInstance(inst)
}

// Tasks unknown to Mesos are reconciled again after unknownRecheckMin,
// doubling up to unknownRecheckMax: an agent that re-registers makes the
// master know them, but Mesos sends no update for them on its own.
const (
	unknownRecheckMin = time.Second
	unknownRecheckMax = 10 * time.Second
)

// reconcileUnknown asks Mesos about the unknown tasks again when their
// recheck is due, and returns when to ask next.
func (s *Scheduler) reconcileUnknown(now time.Time) time.Time {
	st := s.st
	if len(st.unknown) == 0 || !st.subscribed {
		st.unknownRecheck = 0
		return time.Time{}
	}
	if st.unknownRecheck == 0 {
		st.unknownRecheck, st.unknownChecked = unknownRecheckMin, now
	}
	if next := st.unknownChecked.Add(st.unknownRecheck); now.Before(next) {
		return next
	}
	var tasks []mesos.ReconcileTask
	for id := range st.unknown {
		inst := st.instances[id]
		if inst == nil || inst.UnknownSince.IsZero() {
			delete(st.unknown, id)
			continue
		}
		rt := mesos.ReconcileTask{TaskID: mesos.TaskID{Value: inst.TaskID}}
		if inst.AgentID != "" {
			rt.AgentID = &mesos.AgentID{Value: inst.AgentID}
		}
		tasks = append(tasks, rt)
	}
	if len(tasks) == 0 {
		return time.Time{}
	}
	st.unknownChecked = now
	st.unknownRecheck = min(2*st.unknownRecheck, unknownRecheckMax)
	s.calls.reconcile(tasks)
	return now.Add(st.unknownRecheck)
}

// unknownTask handles an update for a task no instance owns: a live one is
// killed, as Marathon kills tasks it does not know.
func (s *Scheduler) unknownTask(status mesos.TaskStatus) {
	if status.State.Terminal() || status.State == mesos.TaskUnreachable {
		s.unknownTerminated(status)
	}
	if status.State.Terminal() {
		return
	}
	agent := ""
	if status.AgentID != nil {
		agent = status.AgentID.Value
	}
	last, sent := s.st.kills[status.TaskID.Value]
	if sent && s.cfg.Now().Sub(last) < s.cfg.KillRetry {
		return
	}
	s.st.kills[status.TaskID.Value] = s.cfg.Now()
	s.log.Info("killing unknown task", "task_id", status.TaskID.Value, "agent_id", agent, "state", status.State)
	s.st.pendingKills = append(s.st.pendingKills, killCall{taskID: status.TaskID.Value, agentID: agent})
}

// unknownTerminated publishes unknown_instance_terminated_event for a
// terminal or unreachable status of a task whose instance is not known,
// as Marathon does; a stale task of a known instance publishes nothing.
func (s *Scheduler) unknownTerminated(status mesos.TaskStatus) {
	appID, instanceID, err := marathon.ParseTaskID(status.TaskID.Value)
	if err != nil || s.st.instances[instanceID] != nil {
		return
	}
	s.cfg.Events.Publish(marathon.UnknownInstanceTerminatedEvent{
		InstanceID: instanceID, RunSpecID: appID, Condition: conditionOf(status.State),
		EventMeta: marathon.Meta(marathon.EventUnknownInstanceTerminated, s.cfg.Now()),
	})
}

// isBackoffState reports whether a terminal state grows the launch delay:
// failures, finishes and health-check kills do; plain kills do not.
func isBackoffState(st mesos.TaskState, healthKill bool) bool {
	switch st {
	case mesos.TaskFailed, mesos.TaskFinished, mesos.TaskError:
		return true
	}
	return healthKill
}

// isFailure reports whether a terminal state is recorded as the app's last
// task failure.
func isFailure(st mesos.TaskState) bool {
	switch st {
	case mesos.TaskFailed, mesos.TaskError, mesos.TaskLost, mesos.TaskDropped, mesos.TaskGone, mesos.TaskGoneByOperator, mesos.TaskUnknown:
		return true
	}
	return false
}

// grow returns the next launch delay: backoffSeconds first, then multiplied
// by backoffFactor up to maxLaunchDelaySeconds.
func grow(b reconcile.Backoff, app marathon.App, now time.Time) reconcile.Backoff {
	maxDelay := time.Duration(app.MaxLaunchDelaySeconds) * time.Second
	if b.Delay == 0 {
		b.Delay = time.Duration(app.BackoffSeconds) * time.Second
	} else {
		b.Delay = time.Duration(float64(b.Delay) * app.BackoffFactor)
	}
	b.Delay = min(b.Delay, maxDelay)
	b.Until = now.Add(b.Delay)
	return b
}

func statusIPs(status mesos.TaskStatus) []string {
	cs := status.ContainerStatus
	if cs == nil {
		return nil
	}
	var ips []string
	for _, n := range cs.NetworkInfos {
		for _, ip := range n.IPAddresses {
			if ip.IPAddress != "" {
				ips = append(ips, ip.IPAddress)
			}
		}
	}
	return ips
}

func ipAddrs(ips []string) []marathon.IPAddr {
	out := make([]marathon.IPAddr, 0, len(ips))
	for _, ip := range ips {
		proto := "IPv4"
		for _, c := range ip {
			if c == ':' {
				proto = "IPv6"
				break
			}
		}
		out = append(out, marathon.IPAddr{IPAddress: ip, Protocol: marathon.IPProtocol(proto)})
	}
	return out
}

func sameHealth(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
