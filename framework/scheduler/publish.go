package scheduler

import (
	"cmp"
	"maps"
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// publish builds a new View from the loop's state and makes it current.
// Everything in it is copied: the loop goes on changing its own state.
func (s *Scheduler) publish() {
	st := s.st
	st.seq++
	st.dirty = false
	now := s.cfg.Now()

	byApp := map[marathon.PathID][]state.Instance{}
	for _, inst := range st.instances {
		c := *inst
		c.HostPorts = slices.Clone(inst.HostPorts)
		c.IPAddresses = slices.Clone(inst.IPAddresses)
		byApp[inst.AppID] = append(byApp[inst.AppID], c)
	}
	deps := st.sortedDeployments()
	depsByApp := map[marathon.PathID][]string{}
	views := make([]DeploymentView, 0, len(deps))
	for _, d := range deps {
		dv := DeploymentView{Deployment: cloneDeployment(*d)}
		if i := max(d.CurrentStep, 1) - 1; i < len(d.Steps) {
			for _, a := range d.Steps[i].Actions {
				dv.CurrentActions = append(dv.CurrentActions, ActionView{Action: a})
			}
		}
		views = append(views, dv)
		for _, id := range d.AffectedApps() {
			depsByApp[id] = append(depsByApp[id], d.ID)
		}
	}

	v := &View{Seq: st.seq, At: now, FrameworkID: st.frameworkID, Deployments: views}
	ids := slices.Sorted(maps.Keys(st.apps))
	v.Apps = make([]*AppView, 0, len(ids))
	for _, id := range ids {
		insts := byApp[id]
		slices.SortFunc(insts, func(a, b state.Instance) int { return cmp.Compare(a.ID, b.ID) })
		av := &AppView{App: st.apps[id], Instances: insts, Deployments: depsByApp[id]}
		if f := st.lastFailure[id]; f != nil {
			c := *f
			av.LastTaskFailure = &c
		}
		av.Queue = s.queueOf(id, insts)
		v.Apps = append(v.Apps, av)
	}
	for _, g := range st.groups {
		v.Groups = append(v.Groups, g)
	}
	slices.SortFunc(v.Groups, func(a, b state.Group) int { return cmp.Compare(a.ID, b.ID) })
	v.index()
	s.view.Store(v)
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

func cloneDeployment(d state.Deployment) state.Deployment {
	d.Steps = slices.Clone(d.Steps)
	for i := range d.Steps {
		d.Steps[i].Actions = slices.Clone(d.Steps[i].Actions)
	}
	d.Original = maps.Clone(d.Original)
	d.Target = maps.Clone(d.Target)
	return d
}
