package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// publish builds a new View from the loop's state and makes it current.
// Nothing in it is shared with what the loop goes on changing: the AppViews
// of the apps that did not change are the previous View's (appView), and
// the instance lists are the loop's immutable per-app snapshots
// (instancesOf), so that a publish builds only the apps that changed.
func (s *Scheduler) publish() {
	st := s.st
	st.seq++
	st.dirty = false
	now := s.cfg.Now()

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
	ids := st.sortedAppIDs()
	v.Apps = make([]*AppView, 0, len(ids))
	for _, id := range ids {
		v.Apps = append(v.Apps, s.appView(id, depsByApp[id]))
	}
	if len(st.appViews) > len(ids) {
		for id := range st.appViews {
			if _, ok := st.apps[id]; !ok {
				delete(st.appViews, id)
			}
		}
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

// appViewMemo is an app's published AppView and what it was built from,
// with its count of waiting instances and the oldest wait at gen.
type appViewMemo struct {
	gen         uint64
	deployments []string
	failure     *marathon.TaskFailure
	view        *AppView
	waiting     int
	since       time.Time
}

// appView returns the AppView of an app for a new View: the previous
// View's, shared, while the app's generation (definition, instances,
// backoff), deployments and last failure are the same and nothing of it
// waits for an offer (its queue entry changes with every offer). Sharing
// the AppView keeps what readers derived from it (the API's cached
// definition JSON) and makes a publish cost the apps that changed, not
// every app (issue 17).
func (s *Scheduler) appView(id marathon.PathID, deployments []string) *AppView {
	st := s.st
	failure := st.lastFailure[id]
	m, ok := st.appViews[id]
	same := ok && m.gen == st.gen[id]
	if same && m.waiting == 0 && m.failure == failure && slices.Equal(m.deployments, deployments) {
		return m.view
	}
	insts := st.instancesOf(id)
	av := &AppView{App: st.apps[id], Instances: insts, Deployments: deployments}
	if failure != nil {
		c := *failure
		av.LastTaskFailure = &c
	}
	if !same {
		m.waiting, m.since = st.waitingOf(insts)
	}
	// Only apps with an instance waiting for a task have a queue.
	av.Queue = s.queueOf(id, m.waiting, m.since)
	st.appViews[id] = appViewMemo{gen: st.gen[id], deployments: deployments, failure: failure, view: av, waiting: m.waiting, since: m.since}
	return av
}

// waitingOf counts the instances of insts that wait for a task, and
// returns when the oldest of them started waiting. An instance whose task
// is launched and not ended has no waitingSince (launch removes it; it is
// set only for an instance without a task or whose task ended), so only the
// others are looked up: at 100,000 instances the lookups in the large map,
// per instance of every changed app on every publish, were 6 % of the
// scheduler's CPU during a launch (issue 17).
func (st *loopState) waitingOf(insts []state.Instance) (n int, since time.Time) {
	for _, inst := range insts {
		if inst.State != "" && !inst.State.Terminal() {
			continue
		}
		at, waits := st.waitingSince[inst.ID]
		if !waits || inst.Goal != state.GoalRunning {
			continue
		}
		n++
		if since.IsZero() || at.Before(since) {
			since = at
		}
	}
	return n, since
}

// sortedAppIDs returns the ids of the current apps, sorted; the slice is
// kept until an app is added or removed (appsChanged).
func (st *loopState) sortedAppIDs() []marathon.PathID {
	if st.appIDsStale || len(st.sortedIDs) != len(st.apps) {
		st.sortedIDs = slices.Sorted(maps.Keys(st.apps))
		st.appIDsStale = false
	}
	return st.sortedIDs
}

// queueOf is an app's launch queue entry, nil when nothing waits: count
// instances wait, the oldest since then (waitingOf).
func (s *Scheduler) queueOf(id marathon.PathID, count int, since time.Time) *QueueView {
	st := s.st
	if count == 0 {
		return nil
	}
	q := QueueView{Count: count, Since: since}
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
