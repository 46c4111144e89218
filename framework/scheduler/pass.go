package scheduler

import (
	"context"
	"fmt"
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
	now := s.cfg.Now()

	plan := s.computePlan(now)
	wake := plan.Wake
	s.applyPlan(plan, now)
	s.startQueued(ctx, now)
	wake = earliest(wake, s.advanceDeployments(ctx, now))

	wake = earliest(wake, s.podPass(now))
	ids, more := s.waiting(plan.Launch, now, s.launchLimit())
	s.launch(ids, more, now)
	s.st.wantOffers = s.st.wantOffers || s.st.pods.wantOffers
	s.steerRoles()
	wake = earliest(wake, s.steerOffers())
	wake = earliest(wake, s.nextKillRetry(now))
	wake = earliest(wake, s.checkReadiness(ctx, now))
	wake = earliest(wake, s.reconcileUnknown(now))
	if err := s.flush(ctx); err != nil {
		// Memory is the stored state again: plan again once a write
		// may succeed.
		wake = earliest(wake, s.retryAt)
	}
	s.updateHealthTargets(ctx)
	if s.st.dirty {
		s.publish()
	}
	s.emit()
	return wake
}

// applyPlan makes the plan's changes of instances in memory (stored by
// the pass's flush) and sends its kills.
func (s *Scheduler) applyPlan(plan reconcile.Plan, now time.Time) {
	st := s.st
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
}

// earliest returns the earlier of two wake times; zero means none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// planMemo is an app's last plan and what it was computed from.
type planMemo struct {
	gen       uint64
	deploying bool
	plan      reconcile.Plan
}

// computePlan is reconcile.Compute over the loop's state, computed per app
// (reconcile.ComputeApp) and merged. An app's plan is computed again only
// when its generation or deployment status changed or its Wake came:
// ComputeApp promises the same plan until then. At 10,000 instances,
// copying and sorting every instance for Compute on every pass was a large
// part of a pass (bench/README.md).
func (s *Scheduler) computePlan(now time.Time) reconcile.Plan {
	st := s.st
	deploying := map[marathon.PathID]bool{}
	for _, d := range st.deployments {
		if d.Queued() {
			continue
		}
		for _, id := range d.AffectedApps() {
			deploying[id] = true
		}
	}
	ids := st.appIDs()
	plans := make(map[marathon.PathID]reconcile.Plan, len(ids))
	for _, id := range ids {
		if _, known := st.apps[id]; !known && st.heldApps[id] {
			// Its definition could not be read: leave its tasks be.
			continue
		}
		m, ok := st.plans[id]
		if !ok || m.gen != st.gen[id] || m.deploying != deploying[id] || (!m.plan.Wake.IsZero() && !now.Before(m.plan.Wake)) {
			app, known := st.apps[id]
			m = planMemo{gen: st.gen[id], deploying: deploying[id], plan: reconcile.ComputeApp(reconcile.AppInput{
				AppID: id, App: app, Known: known, Instances: st.instancesOf(id), Deploying: deploying[id],
				Backoff: st.backoffs[id], Now: now, TaskLaunchTimeout: s.cfg.TaskLaunchTimeout,
				TaskUnknownTimeout: s.cfg.TaskUnknownTimeout,
			})}
			st.plans[id] = m
		}
		plans[id] = m.plan
	}
	for id := range st.plans {
		if _, ok := plans[id]; !ok {
			delete(st.plans, id)
		}
	}
	return reconcile.Merge(plans)
}

// createInstance adds a new instance of an app, waiting for an offer.
func (s *Scheduler) createInstance(appID marathon.PathID, version marathon.Timestamp, now time.Time) {
	inst := &state.Instance{ID: marathon.NewInstanceID(appID), AppID: appID, AppVersion: version, Goal: state.GoalRunning}
	s.st.addInstance(inst)
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
	s.st.pendingKills = append(s.st.pendingKills, killCall{taskID: taskID, agentID: agentID, policy: policy})
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

// advanceDeployments runs each deployment's current step once, fails the
// deployments past their progress deadline, and returns the next
// deadline.
func (s *Scheduler) advanceDeployments(ctx context.Context, now time.Time) time.Time {
	st := s.st
	// Each deployment gets only its apps' instances (Next looks at no
	// others), from the per-app snapshots; one whose last Next changed
	// nothing is skipped while its apps stay the same (deploymentMemo).
	// Listing every instance for every deployment cost O(deployments ×
	// instances) a pass (bench/README.md).
	for id := range st.steady {
		if _, ok := st.deployments[id]; !ok {
			delete(st.steady, id)
		}
	}
	var wake time.Time
	for _, d := range st.sortedDeployments() {
		if d.Queued() || st.deployments[d.ID] != d {
			continue
		}
		if !d.Deadline.IsZero() && !now.Before(d.Deadline) {
			s.failDeployment(ctx, d, now)
			continue
		}
		if !d.Deadline.IsZero() && (wake.IsZero() || d.Deadline.Before(wake)) {
			wake = d.Deadline
		}
		apps := d.AffectedApps()
		if m, ok := st.steady[d.ID]; ok && m.valid(d, apps, st) {
			continue
		}
		delete(st.steady, d.ID)
		insts := st.instancesOfApps(apps)
		out := deployment.Next(deployment.Input{
			Deployment: *d,
			Apps:       st.apps,
			Instances:  insts,
			Now:        now,
		})
		if len(out.Create) == 0 && len(out.Kill) == 0 && !out.Done && out.Step == d.CurrentStep && !clockBound(insts) {
			st.steady[d.ID] = newDeploymentMemo(d, apps, st)
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
			continue
		case out.Step != d.CurrentStep:
			moved := d.CurrentStep != 0 || out.Step != 1
			d.CurrentStep = out.Step
			d.Progress = noProgress
			st.change.PutDeployments = append(st.change.PutDeployments, *d)
			st.dirty = true
			if moved {
				s.cfg.Events.Publish(marathon.DeploymentInfoEvent{
					Plan: planOf(*d), CurrentStep: currentStep(*d), EventMeta: marathon.Meta(marathon.EventDeploymentInfo, now),
				})
			}
		}
		if p := deployment.Progress(out); d.ProgressDeadline > 0 && p > d.Progress {
			// Progress: the deadline moves on.
			d.Progress = p
			d.Deadline = now.Add(d.ProgressDeadline)
			st.change.PutDeployments = append(st.change.PutDeployments, *d)
			st.dirty = true
		}
	}
	return wake
}

// failDeployment ends a deployment that missed its progress deadline:
// deployment_step_failure and deployment_failed, then, when it asks for
// it, the rollback to the versions it replaced.
func (s *Scheduler) failDeployment(ctx context.Context, d *state.Deployment, now time.Time) {
	reason := fmt.Sprintf("no progress for %s (progress deadline)", d.ProgressDeadline)
	s.log.Warn("deployment failed", "deployment_id", d.ID, "reason", reason, "rollback", d.Rollback)
	s.cfg.Events.Publish(marathon.DeploymentInfoEvent{
		Plan: planOf(*d), CurrentStep: currentStep(*d), EventMeta: marathon.Meta(marathon.EventDeploymentStepFailure, now),
	})
	if !d.Rollback {
		s.cancel(d.ID, reason, now)
		return
	}
	res, err := s.rollBack(ctx, *d, reason+"; rolled back", now)
	if err != nil {
		s.log.Error("cannot roll back a failed deployment", "deployment_id", d.ID, "error", err)
		s.cancel(d.ID, reason, now)
		return
	}
	s.log.Info("rolling back", "deployment_id", d.ID, "rollback_deployment_id", res.DeploymentID)
}

// deploymentMemo records that deployment.Next changed nothing for a
// deployment at a step, with the generations of its apps. Next is pure and
// looks only at the deployment, its apps and their instances, and at the
// clock only for unreachable instances (clockBound): while none of these
// changed, it would change nothing again.
type deploymentMemo struct {
	step int
	gens []uint64
}

func newDeploymentMemo(d *state.Deployment, apps []marathon.PathID, st *loopState) deploymentMemo {
	m := deploymentMemo{step: d.CurrentStep, gens: make([]uint64, len(apps))}
	for i, id := range apps {
		m.gens[i] = st.gen[id]
	}
	return m
}

func (m deploymentMemo) valid(d *state.Deployment, apps []marathon.PathID, st *loopState) bool {
	if m.step != d.CurrentStep || len(m.gens) != len(apps) {
		return false
	}
	for i, id := range apps {
		if st.gen[id] != m.gens[i] {
			return false
		}
	}
	return true
}

// clockBound reports whether an instance is unreachable: whether it fills
// its app's slot depends on the time.
func clockBound(insts []state.Instance) bool {
	for _, inst := range insts {
		if inst.State == mesos.TaskUnreachable || inst.State == mesos.TaskLost {
			return true
		}
	}
	return false
}

// instancesOfApps lists the instances of apps, app after app.
func (st *loopState) instancesOfApps(apps []marathon.PathID) []state.Instance {
	if len(apps) == 1 {
		return st.instancesOf(apps[0])
	}
	var out []state.Instance
	for _, id := range apps {
		out = append(out, st.instancesOf(id)...)
	}
	return out
}

// launchLimit bounds the waiting instances one pass looks at: twice what
// the held offers can take (--max_instances_per_offer each), and at least
// minLaunchLook. The plan interleaves the apps, so each app with waiting
// instances is among them; the others wait for the next pass, which comes
// with the next offers. Without the bound every pass copied every waiting
// instance with its app for placement: at 100,000 waiting instances that
// was most of the launch (issue 17). No bound when offers have no cap.
//
// Launches also wait while maxLaunching tasks are launched and not running
// yet: a launch faster than the cluster reports back only piles up tasks
// in TASK_STAGING, status updates and acknowledgements in the master and
// the agents. At 100,000 tasks the whole launch went out within seconds
// and the built-in cluster, with 98,000 tasks staging or starting, ran
// them slower than a window does (issue 17; Marathon's launch tokens
// bound it too).
func (s *Scheduler) launchLimit() int {
	room := maxLaunching - len(s.st.launching)
	if room <= 0 {
		return 0
	}
	perOffer := s.cfg.MaxInstancesPerOffer
	if perOffer == 0 {
		perOffer = placement.DefaultMaxPerOffer
	}
	if perOffer < 0 {
		return room
	}
	return min(room, max(2*perOffer*len(s.st.offers), 2*len(s.st.apps), minLaunchLook))
}

// minLaunchLook is the least launchLimit with room for launches;
// maxLaunching is the most tasks launched and not running yet.
const (
	minLaunchLook = 1000
	maxLaunching  = 5000
)

// launch places the instances that wait for a task on the held offers;
// more says that other instances wait too, beyond the pass's limit.
func (s *Scheduler) launch(ids []string, more bool, now time.Time) {
	st := s.st
	st.wantOffers = len(ids) > 0 || more
	// An instance whose app's secrets are not resolved yet waits; asking
	// starts their fetch, even before offers come.
	secrets := map[marathon.PathID]map[string]string{}
	unresolved := map[marathon.PathID]bool{}
	for _, id := range ids {
		appID := st.instances[id].AppID
		if _, seen := secrets[appID]; seen || unresolved[appID] {
			continue
		}
		app := st.apps[appID]
		if values, ok := s.appSecrets(&app); ok {
			secrets[appID] = values
		} else {
			unresolved[appID] = true
		}
	}
	if len(st.offers) == 0 || len(ids) == 0 && more {
		// Nothing now, more later (maxLaunching): the offers are kept
		// for when launched tasks run.
		return
	}
	var pending []placement.Pending
	for _, id := range ids {
		inst := st.instances[id]
		if unresolved[inst.AppID] {
			continue
		}
		pending = append(pending, placement.Pending{Instance: *inst, App: st.apps[inst.AppID]})
	}
	offers := slices.Collect(maps.Values(st.offers))
	slices.SortFunc(offers, func(a, b mesos.Offer) int { return compareStrings(a.ID.Value, b.ID.Value) })
	st.offers = map[string]mesos.Offer{}
	if len(pending) == 0 {
		d := s.cfg.DeclineOfferDuration
		if len(ids) > 0 || st.pods.wantOffers {
			d = 5 * time.Second // instances wait for their secrets, or pods wait
		}
		s.declineAll(offers, d)
		return
	}
	res := placement.Fit(placement.Request{
		Offers:      offers,
		Pending:     pending,
		Running:     st.placed(pending),
		MaxPerOffer: s.cfg.MaxInstancesPerOffer,
		LocalRegion: st.localRegion,
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
		st.launching[inst.ID] = struct{}{}
		inst.AgentID = l.AgentID.Value
		inst.Hostname = l.Hostname
		inst.HostPorts = l.HostPorts
		inst.AppVersion = app.Version
		inst.Healthy, inst.Ready, inst.Health = nil, nil, nil
		inst.LaunchedAt, inst.StagedAt, inst.StartedAt = now, now, time.Time{}
		inst.UnreachableSince, inst.UnknownSince = time.Time{}, time.Time{}
		inst.Message = ""
		inst.Attributes = l.Attributes
		inst.Role = l.Role
		task, err := taskinfo.Build(taskinfo.Input{App: app, Instance: *inst, Launch: l, EnvPrefix: s.cfg.EnvVarsPrefix, DefaultUser: s.cfg.MesosUser, Secrets: secrets[app.ID]})
		if err != nil {
			// Validation admits only apps that build; a failure here
			// is a bug, not bad input. Keep the instance waiting.
			s.log.Error("cannot build task", "app_id", app.ID, "instance_id", inst.ID, "error", err)
			inst.Incarnation--
			inst.TaskID, inst.State = "", ""
			delete(st.launching, inst.ID)
			st.touch(inst.AppID)
			continue
		}
		st.byTask[inst.TaskID] = inst.ID
		delete(st.waitingSince, inst.ID)
		st.putInstance(inst)
		s.instanceChanged(inst, conditionProvisioned, now)
		if _, seen := byOffer[l.OfferID.Value]; !seen {
			order = append(order, l.OfferID)
		}
		byOffer[l.OfferID.Value] = append(byOffer[l.OfferID.Value], task)
	}
	st.wantOffers = len(res.Launches) < len(ids) || more
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

// placed lists what placement.Fit needs of the running instances: those of
// the pending instances' apps that have constraints. Fit looks only at the
// instances of the apps it places, and only through their constraints
// (counts per field value, and whether there are any); for an app without
// constraints they change no decision.
func (st *loopState) placed(pending []placement.Pending) []state.Instance {
	var out []state.Instance
	seen := map[marathon.PathID]bool{}
	for _, p := range pending {
		id := p.Instance.AppID
		if seen[id] {
			continue
		}
		seen[id] = true
		if len(p.App.Constraints) > 0 {
			out = append(out, st.instancesOf(id)...)
		}
	}
	return out
}

// waiting lists the instances that need a task now, at most limit (no
// bound when negative): the plan's, then those created in this pass,
// skipping any that a later step of the pass retired. more reports that
// the limit left some out.
func (s *Scheduler) waiting(planned []string, now time.Time, limit int) (ids []string, more bool) {
	st := s.st
	if len(st.fresh) > 0 {
		st.newWork = true
	}
	seen := map[string]bool{}
	for _, list := range [][]string{planned, st.fresh} {
		for _, id := range list {
			inst := st.instances[id]
			if seen[id] || inst == nil || inst.Goal != state.GoalRunning || !reconcile.NeedsTask(*inst, now, s.cfg.TaskUnknownTimeout) {
				continue
			}
			if st.backoffs[inst.AppID].Until.After(now) {
				continue
			}
			if limit >= 0 && len(ids) == limit {
				more = true
				break
			}
			seen[id] = true
			ids = append(ids, id)
		}
	}
	st.fresh = st.fresh[:0]
	return ids, more
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
	// The queue's offer statistics change with every offer looked at:
	// publish them even when no instance changed.
	st.dirty = true
	st.unplaced = map[marathon.PathID]map[string]int{}
	// Every waiting instance of an app was tried against the same offers,
	// so the first one's rejections are the app's: offers declined per
	// Marathon reason name (NoOfferMatchReason), as /v2/queue reports them.
	for _, u := range res.Unplaced {
		app := appOf[u.InstanceID]
		if st.unplaced[app] != nil {
			continue
		}
		counts := map[string]int{}
		for _, r := range u.Rejections {
			if r.Reason == placement.ReasonOfferFull {
				continue // Marathon has no reason for a full offer
			}
			counts[string(r.Reason)] += r.Offers
		}
		st.unplaced[app] = counts
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

// flush stores the pending change, then makes the calls that must follow
// it: launches (their task ids are stored first, so that a crash cannot
// lose a launched task) and acknowledgements (Mesos resends what is not
// acked). When the write fails nothing is sent, memory goes back to what
// the store holds (revert), and the error is returned: a command answers
// 503 with it, and nothing it changed is seen by anyone.
func (s *Scheduler) flush(ctx context.Context) error {
	st := s.st
	c := st.takeChange()
	if !c.Empty() {
		if err := s.cfg.Store.Apply(ctx, c); err != nil {
			s.returnOffers(st.pendingLaunches)
			s.returnPodOffers()
			s.writeFailed(ctx, err)
			return err
		}
		s.writeSucceeded()
	}
	for _, k := range st.pendingKills {
		s.calls.kill(k.taskID, k.agentID, k.policy)
	}
	st.pendingKills = st.pendingKills[:0]
	for _, l := range st.pendingLaunches {
		s.calls.launch([]mesos.OfferID{l.offer}, l.tasks, l.filters)
	}
	st.pendingLaunches = st.pendingLaunches[:0]
	s.flushPodLaunches()
	for _, a := range st.acks {
		s.calls.acknowledge(a)
	}
	st.acks = st.acks[:0]
	return nil
}

// returnOffers declines the offers of launches that will not go out, so
// that Mesos offers their resources again rather than holding them for a
// framework that forgot them.
func (s *Scheduler) returnOffers(launches []launchCall) {
	if len(launches) == 0 {
		return
	}
	ids := make([]mesos.OfferID, len(launches))
	for i, l := range launches {
		ids[i] = l.offer
	}
	s.calls.decline(ids, &mesos.Filters{RefuseSeconds: new(writeRetry.Seconds())})
}

// minReviveInterval spaces REVIVE calls (Marathon's
// --min_revive_offers_interval, 5 s there).
const minReviveInterval = time.Second

// killCall is one KILL waiting for the pass's change to be stored: a
// decommissioned instance is stored as such before its task dies.
type killCall struct {
	taskID, agentID string
	policy          *mesos.KillPolicy
}

// launchCall is one ACCEPT waiting for its state to be stored.
type launchCall struct {
	offer   mesos.OfferID
	tasks   []mesos.TaskInfo
	filters *mesos.Filters // nil: the master's default refusal
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
