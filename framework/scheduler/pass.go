package scheduler

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/framework/deployment"
	"github.com/stadionhq/stadion/framework/placement"
	"github.com/stadionhq/stadion/framework/reconcile"
	"github.com/stadionhq/stadion/framework/taskinfo"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// pass is one round of observe → compute → act. It returns when the loop
// should look again without an event.
func (s *Scheduler) pass(ctx context.Context) time.Time {
	st := s.st
	now := s.cfg.Now()

	plan := reconcile.Compute(reconcile.Input{
		Apps:              st.apps,
		Instances:         st.instanceList(),
		Deployments:       derefDeployments(st.sortedDeployments()),
		Backoffs:          st.backoffs,
		Now:               now,
		TaskLaunchTimeout: s.cfg.TaskLaunchTimeout,
	})
	wake := plan.Wake

	for _, id := range plan.Decommission {
		if inst := st.instances[id]; inst != nil && inst.Goal != state.GoalDecommissioned {
			inst.Goal = state.GoalDecommissioned
			st.putInstance(inst)
		}
	}
	for _, id := range plan.Expunge {
		st.expunge(id)
	}
	for _, n := range plan.Create {
		s.createInstance(n.AppID, n.Version, now)
	}
	for _, k := range plan.Kill {
		s.kill(k.InstanceID, k.TaskID, k.AgentID, k.Reason, now)
	}
	s.advanceDeployments(now)

	s.launch(s.waiting(plan.Launch, now), now)
	if next := s.steerOffers(); !next.IsZero() && (wake.IsZero() || next.Before(wake)) {
		wake = next
	}

	if next := s.nextKillRetry(now); !next.IsZero() && (wake.IsZero() || next.Before(wake)) {
		wake = next
	}
	s.flush(ctx)
	if st.dirty {
		s.publish()
	}
	return wake
}

// createInstance adds a new instance of an app, waiting for an offer.
func (s *Scheduler) createInstance(appID marathon.PathID, version marathon.Timestamp, now time.Time) {
	inst := &state.Instance{ID: marathon.NewInstanceID(appID), AppID: appID, AppVersion: version, Goal: state.GoalRunning}
	s.st.instances[inst.ID] = inst
	s.st.fresh = append(s.st.fresh, inst.ID)
	s.st.waitingSince[inst.ID] = now
	s.st.putInstance(inst)
}

// kill asks Mesos to kill a task unless that was asked within KillRetry.
func (s *Scheduler) kill(instanceID, taskID, agentID, reason string, now time.Time) {
	if last, sent := s.st.kills[taskID]; sent && now.Sub(last) < s.cfg.KillRetry {
		return
	}
	s.st.kills[taskID] = now
	var policy *mesos.KillPolicy
	if inst := s.st.instances[instanceID]; inst != nil {
		if app, ok := s.st.apps[inst.AppID]; ok && app.TaskKillGracePeriodSeconds != nil {
			policy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(*app.TaskKillGracePeriodSeconds) * int64(time.Second)}}
		}
	}
	s.log.Debug("killing task", "task_id", taskID, "instance_id", instanceID, "reason", reason)
	s.calls.kill(taskID, agentID, policy)
}

func (s *Scheduler) nextKillRetry(now time.Time) time.Time {
	var next time.Time
	for _, at := range s.st.kills {
		t := at.Add(s.cfg.KillRetry)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// advanceDeployments runs each deployment's current step once.
func (s *Scheduler) advanceDeployments(now time.Time) {
	st := s.st
	// Group the instances by app once per pass, and again only after a
	// deployment changed them, and give each deployment only its apps'
	// instances: Next looks at no others. Listing every instance for every
	// deployment cost O(deployments × instances) a pass, most of the loop's
	// CPU with 100 deployments of 100 instances (bench/README.md).
	var byApp map[marathon.PathID][]state.Instance
	for _, d := range st.sortedDeployments() {
		if byApp == nil {
			byApp = instancesByApp(st.instanceList())
		}
		out := deployment.Next(deployment.Input{
			Deployment: *d,
			Apps:       st.apps,
			Instances:  instancesOf(*d, byApp),
			Now:        now,
		})
		if len(out.Create) > 0 || len(out.Kill) > 0 {
			byApp = nil
		}
		for _, n := range out.Create {
			s.createInstance(n.AppID, n.Version, now)
		}
		for _, id := range out.Kill {
			inst := st.instances[id]
			if inst == nil {
				continue
			}
			if inst.Goal != state.GoalDecommissioned {
				inst.Goal = state.GoalDecommissioned
				st.putInstance(inst)
			}
			if inst.TaskID != "" && inst.State != "" && !inst.State.Terminal() {
				s.kill(inst.ID, inst.TaskID, inst.AgentID, "deployment", now)
			}
		}
		from := max(d.CurrentStep, 1)
		for step := from; step < out.Step || (out.Done && step <= len(d.Steps)); step++ {
			s.cfg.Events.Publish(marathon.DeploymentInfoEvent{
				Plan: planOf(*d), CurrentStep: stepOf(d.Steps[step-1]),
				EventMeta: marathon.Meta(marathon.EventDeploymentStepSuccess, now),
			})
		}
		switch {
		case out.Done:
			delete(st.deployments, d.ID)
			st.change.DeleteDeployments = append(st.change.DeleteDeployments, d.ID)
			st.dirty = true
			s.cfg.Events.Publish(marathon.DeploymentStatusEvent{
				ID: d.ID, Plan: planOf(*d), EventMeta: marathon.Meta(marathon.EventDeploymentSuccess, now),
			})
			s.log.Info("deployment finished", "deployment_id", d.ID)
		case out.Step != d.CurrentStep:
			d.CurrentStep = out.Step
			st.change.PutDeployments = append(st.change.PutDeployments, *d)
			st.dirty = true
		}
	}
}

// instancesByApp groups instances by app, keeping their order.
func instancesByApp(instances []state.Instance) map[marathon.PathID][]state.Instance {
	byApp := map[marathon.PathID][]state.Instance{}
	for _, inst := range instances {
		byApp[inst.AppID] = append(byApp[inst.AppID], inst)
	}
	return byApp
}

// instancesOf lists the instances of the apps that d's actions name.
func instancesOf(d state.Deployment, byApp map[marathon.PathID][]state.Instance) []state.Instance {
	var out []state.Instance
	seen := map[marathon.PathID]bool{}
	for _, step := range d.Steps {
		for _, a := range step.Actions {
			if !seen[a.AppID] {
				seen[a.AppID] = true
				out = append(out, byApp[a.AppID]...)
			}
		}
	}
	return out
}

// launch places the instances that wait for a task on the held offers.
func (s *Scheduler) launch(ids []string, now time.Time) {
	st := s.st
	st.wantOffers = len(ids) > 0
	if len(st.offers) == 0 {
		return
	}
	var pending []placement.Pending
	for _, id := range ids {
		inst := st.instances[id]
		pending = append(pending, placement.Pending{Instance: *inst, App: st.apps[inst.AppID]})
	}
	offers := slices.Collect(maps.Values(st.offers))
	slices.SortFunc(offers, func(a, b mesos.Offer) int { return compareStrings(a.ID.Value, b.ID.Value) })
	st.offers = map[string]mesos.Offer{}
	if len(pending) == 0 {
		s.declineAll(offers, s.cfg.DeclineOfferDuration)
		return
	}
	res := placement.Fit(placement.Request{
		Offers:      offers,
		Pending:     pending,
		Running:     st.instanceList(),
		MaxPerOffer: s.cfg.MaxInstancesPerOffer,
	})
	s.recordUnplaced(res, pending, len(offers))

	byOffer := map[string][]mesos.TaskInfo{}
	var order []mesos.OfferID
	for _, l := range res.Launches {
		inst := st.instances[l.InstanceID]
		app := st.apps[inst.AppID]
		inst.Incarnation++
		inst.TaskID = marathon.TaskIDForInstance(inst.ID, inst.Incarnation)
		inst.State = mesos.TaskStaging
		inst.AgentID = l.AgentID.Value
		inst.Hostname = l.Hostname
		inst.HostPorts = l.HostPorts
		inst.AppVersion = app.Version
		inst.Healthy, inst.Ready = nil, nil
		inst.LaunchedAt, inst.StagedAt, inst.StartedAt = now, now, time.Time{}
		inst.UnreachableSince = time.Time{}
		inst.Message = ""
		inst.Attributes = l.Attributes
		task, err := taskinfo.Build(taskinfo.Input{App: app, Instance: *inst, Launch: l, EnvPrefix: s.cfg.EnvVarsPrefix})
		if err != nil {
			// Validation admits only apps that build; a failure here
			// is a bug, not bad input. Keep the instance waiting.
			s.log.Error("cannot build task", "app_id", app.ID, "instance_id", inst.ID, "error", err)
			inst.Incarnation--
			inst.TaskID, inst.State = "", ""
			continue
		}
		st.byTask[inst.TaskID] = inst.ID
		delete(st.waitingSince, inst.ID)
		st.putInstance(inst)
		if _, seen := byOffer[l.OfferID.Value]; !seen {
			order = append(order, l.OfferID)
		}
		byOffer[l.OfferID.Value] = append(byOffer[l.OfferID.Value], task)
	}
	st.wantOffers = len(res.Launches) < len(pending)
	// The master refuses what an ACCEPT leaves of its offer for 5 s by
	// default; while instances still wait, have it offered again at once.
	var filters *mesos.Filters
	if st.wantOffers {
		filters = &mesos.Filters{RefuseSeconds: new(0.0)}
	}
	st.pendingLaunches = st.pendingLaunches[:0]
	for _, id := range order {
		st.pendingLaunches = append(st.pendingLaunches, launchCall{offer: id, tasks: byOffer[id.Value], filters: filters})
	}
	var unused []mesos.Offer
	for _, o := range offers {
		if _, used := byOffer[o.ID.Value]; !used {
			unused = append(unused, o)
		}
	}
	// Something still waits: refuse these offers only briefly.
	s.declineAll(unused, 5*time.Second)
}

// waiting lists the instances that need a task now: the plan's, then those
// created in this pass, skipping any that a later step of the pass retired.
func (s *Scheduler) waiting(planned []string, now time.Time) []string {
	st := s.st
	ids := append(slices.Clone(planned), st.fresh...)
	if len(st.fresh) > 0 {
		st.newWork = true
	}
	st.fresh = st.fresh[:0]
	out := ids[:0]
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		inst := st.instances[id]
		if seen[id] || inst == nil || inst.Goal != state.GoalRunning || (inst.State != "" && !inst.State.Terminal()) {
			continue
		}
		if st.backoffs[inst.AppID].Until.After(now) {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// recordUnplaced keeps, per app, why its instances did not fit and how
// many offers were looked at, for GET /v2/queue.
func (s *Scheduler) recordUnplaced(res placement.Result, pending []placement.Pending, offers int) {
	st := s.st
	appOf := make(map[string]marathon.PathID, len(pending))
	for _, p := range pending {
		appOf[p.Instance.ID] = p.App.ID
	}
	launched := map[marathon.PathID]int{}
	for _, l := range res.Launches {
		launched[appOf[l.InstanceID]]++
	}
	st.unplaced = map[marathon.PathID]map[string]int{}
	for _, u := range res.Unplaced {
		app := appOf[u.InstanceID]
		if st.unplaced[app] == nil {
			st.unplaced[app] = map[string]int{}
		}
		st.unplaced[app][u.Reason]++
	}
	for _, app := range appOf {
		o := st.offerStats[app]
		if o == nil {
			o = &offerStat{}
			st.offerStats[app] = o
		}
		o.processed += offers
		if launched[app] == 0 {
			o.unused += offers
		}
	}
}

func (s *Scheduler) declineAll(offers []mesos.Offer, refuse time.Duration) {
	if len(offers) == 0 {
		return
	}
	ids := make([]mesos.OfferID, len(offers))
	for i, o := range offers {
		ids[i] = o.ID
	}
	secs := refuse.Seconds()
	s.calls.decline(ids, &mesos.Filters{RefuseSeconds: &secs})
}

// steerOffers suppresses offers when nothing waits and revives them when
// something does. A REVIVE held back by minReviveInterval returns when it
// is due, so that the loop wakes for it rather than waiting for the next
// Mesos event (a heartbeat, 15 s away).
func (s *Scheduler) steerOffers() time.Time {
	st := s.st
	if !st.subscribed {
		return time.Time{}
	}
	wants := st.wantOffers
	now := s.cfg.Now()
	switch {
	case wants && (st.suppressed || st.newWork) && now.Sub(st.lastRevive) < minReviveInterval:
		return st.lastRevive.Add(minReviveInterval)
	case wants && (st.suppressed || st.newWork):
		// REVIVE also clears the refuse filters of offers declined
		// while this work was not there yet.
		st.suppressed, st.newWork, st.lastRevive = false, false, now
		s.calls.revive()
	case !wants && !st.suppressed:
		st.suppressed = true
		s.calls.suppress()
	}
	return time.Time{}
}

// flush stores the pass's change, then makes the calls that must follow it:
// launches (their task ids are stored first, so that a crash cannot lose a
// launched task) and acknowledgements (Mesos resends what is not acked).
func (s *Scheduler) flush(ctx context.Context) {
	st := s.st
	c := st.takeChange()
	if !c.Empty() {
		if err := s.cfg.Store.Apply(ctx, c); err != nil {
			// Without the write the launches must not go out; the
			// updates will be redelivered and acknowledged later.
			s.log.Error("cannot store state", "error", err)
			st.change = mergeChange(c, st.change)
			st.pendingLaunches = st.pendingLaunches[:0]
			st.acks = st.acks[:0]
			return
		}
	}
	for _, l := range st.pendingLaunches {
		s.calls.launch([]mesos.OfferID{l.offer}, l.tasks, l.filters)
	}
	st.pendingLaunches = st.pendingLaunches[:0]
	for _, a := range st.acks {
		s.calls.acknowledge(a)
	}
	st.acks = st.acks[:0]
}

// minReviveInterval spaces REVIVE calls (Marathon's
// --min_revive_offers_interval, 5 s there).
const minReviveInterval = time.Second

// launchCall is one ACCEPT waiting for its state to be stored.
type launchCall struct {
	offer   mesos.OfferID
	tasks   []mesos.TaskInfo
	filters *mesos.Filters // nil: the master's default refusal
}

// mergeChange puts a failed change back in front of newer writes.
func mergeChange(old, newer state.Change) state.Change {
	if newer.FrameworkID != "" {
		old.FrameworkID = newer.FrameworkID
	}
	old.PutApps = append(old.PutApps, newer.PutApps...)
	old.DeleteApps = append(old.DeleteApps, newer.DeleteApps...)
	old.PutGroups = append(old.PutGroups, newer.PutGroups...)
	old.DeleteGroups = append(old.DeleteGroups, newer.DeleteGroups...)
	old.PutInstances = append(old.PutInstances, newer.PutInstances...)
	old.DeleteInstances = append(old.DeleteInstances, newer.DeleteInstances...)
	old.PutDeployments = append(old.PutDeployments, newer.PutDeployments...)
	old.DeleteDeployments = append(old.DeleteDeployments, newer.DeleteDeployments...)
	return old
}

func derefDeployments(ds []*state.Deployment) []state.Deployment {
	out := make([]state.Deployment, len(ds))
	for i, d := range ds {
		out[i] = *d
	}
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
