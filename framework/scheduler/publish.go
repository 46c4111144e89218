package scheduler

import (
	"cmp"
	"maps"
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// publish builds a new View from the loop's state and makes it current.
// Nothing in it is shared with what the loop goes on changing: the apps'
// instance lists are the loop's immutable per-app snapshots (instancesOf),
// shared with the previous View while the app does not change, so that a
// publish copies only the instances of the apps that changed.
func (s *Scheduler) publish() {
	st := s.st
	st.seq++
	st.dirty = false
	now := s.cfg.Now()

	// The apps with an instance waiting for a task: only they have a queue.
	waits := map[marathon.PathID]bool{}
	for id := range st.waitingSince {
		if inst := st.instances[id]; inst != nil && inst.Goal == state.GoalRunning {
			waits[inst.AppID] = true
		}
	}
	deps := st.sortedDeployments()
	depsByApp := map[marathon.PathID][]string{}
	views := make([]DeploymentView, 0, len(deps))
	live := make(map[*state.Deployment]bool, len(deps))
	for _, d := range deps {
		live[d] = true
		dv := st.deploymentView(d)
		if len(st.ready) > 0 {
			dv.CurrentActions = slices.Clone(dv.CurrentActions)
			for i, a := range dv.CurrentActions {
				dv.CurrentActions[i].ReadinessCheckResults = st.readinessResults(a.AppID)
			}
		}
		views = append(views, dv)
		for _, id := range d.AffectedApps() {
			depsByApp[id] = append(depsByApp[id], d.ID)
		}
	}

	for d := range st.depViews {
		if !live[d] {
			delete(st.depViews, d)
		}
	}

	v := &View{Seq: st.seq, At: now, FrameworkID: st.frameworkID, Deployments: views, Store: s.storeHealth, Counters: &s.counters}
	ids := slices.Sorted(maps.Keys(st.apps))
	v.Apps = make([]*AppView, 0, len(ids))
	for _, id := range ids {
		insts := st.instancesOf(id)
		av := &AppView{App: st.apps[id], Instances: insts, Deployments: depsByApp[id]}
		if f := st.lastFailure[id]; f != nil {
			c := *f
			av.LastTaskFailure = &c
		}
		if waits[id] {
			av.Queue = s.queueOf(id, insts)
		}
		v.Apps = append(v.Apps, av)
	}
	for _, g := range st.groups {
		v.Groups = append(v.Groups, g)
	}
	slices.SortFunc(v.Groups, func(a, b state.Group) int { return cmp.Compare(a.ID, b.ID) })
	v.Pods, v.PodDeployments = st.podViews(), st.podDeployments()
	v.index()
	s.view.Store(v)
	s.healthCheckEvents(now)
	s.emit()
}

// queueOf is an app's launch queue entry, nil when nothing waits.
func (s *Scheduler) queueOf(id marathon.PathID, insts []state.Instance) *QueueView {
	st := s.st
	var q QueueView
	for _, inst := range insts {
		since, waits := st.waitingSince[inst.ID]
		if !waits || inst.Goal != state.GoalRunning {
			continue
		}
		q.Count++
		if q.Since.IsZero() || since.Before(q.Since) {
			q.Since = since
		}
	}
	if q.Count == 0 {
		return nil
	}
	q.DelayUntil = st.backoffs[id].Until
	q.Unplaced = maps.Clone(st.unplaced[id])
	if o := st.offerStats[id]; o != nil {
		q.ProcessedOffers, q.UnusedOffers = o.processed, o.unused
	}
	return &q
}

// deploymentView returns the view of a running deployment: a copy, made
// again only when its current step moved (the loop changes nothing else of
// a running deployment). Its slices and maps are shared by the Views.
func (st *loopState) deploymentView(d *state.Deployment) DeploymentView {
	if c, ok := st.depViews[d]; ok && c.step == d.CurrentStep {
		return c.view
	}
	dv := DeploymentView{Deployment: cloneDeployment(*d)}
	if i := max(d.CurrentStep, 1) - 1; i < len(d.Steps) {
		for _, a := range d.Steps[i].Actions {
			dv.CurrentActions = append(dv.CurrentActions, ActionView{Action: a})
		}
	}
	st.depViews[d] = deploymentViewMemo{step: d.CurrentStep, view: dv}
	return dv
}

type deploymentViewMemo struct {
	step int
	view DeploymentView
}

func cloneDeployment(d state.Deployment) state.Deployment {
	d.Steps = slices.Clone(d.Steps)
	for i := range d.Steps {
		d.Steps[i].Actions = slices.Clone(d.Steps[i].Actions)
	}
	d.Original = maps.Clone(d.Original)
	d.Target = maps.Clone(d.Target)
	return d
}
