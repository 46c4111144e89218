package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/framework/reconcile"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// loopState is the scheduler's memory, owned by the loop goroutine.
type loopState struct {
	frameworkID string
	subscribed  bool
	suppressed  bool

	apps        map[marathon.PathID]marathon.App
	groups      map[marathon.PathID]state.Group
	instances   map[string]*state.Instance
	byTask      map[string]string // task id → instance id
	deployments map[string]*state.Deployment
	offers      map[string]mesos.Offer
	backoffs    map[marathon.PathID]reconcile.Backoff
	lastFailure map[marathon.PathID]*marathon.TaskFailure
	// kills remembers when each task was last asked to die, so that kills
	// are resent only after KillRetry.
	kills map[string]time.Time
	// waitingSince is when each instance started waiting for a task.
	waitingSince map[string]time.Time
	unplaced     map[marathon.PathID]map[string]int
	offerStats   map[marathon.PathID]*offerStat

	// fresh are the instances created in this pass; wantOffers says
	// whether anything waits for an offer.
	fresh      []string
	wantOffers bool
	// newWork says instances were created since the last REVIVE.
	newWork    bool
	lastRevive time.Time
	// pendingLaunches wait for the pass's change to be stored.
	pendingLaunches []launchCall

	// change and acks are the pass's pending writes: acknowledgements go out
	// only after the change is stored.
	change state.Change
	acks   []mesos.TaskStatus
	dirty  bool
	seq    uint64
}

type offerStat struct{ processed, unused int }

func newLoopState(snap state.Snapshot, now time.Time) *loopState {
	st := &loopState{
		frameworkID:  snap.FrameworkID,
		apps:         make(map[marathon.PathID]marathon.App, len(snap.Apps)),
		groups:       make(map[marathon.PathID]state.Group, len(snap.Groups)),
		instances:    make(map[string]*state.Instance, len(snap.Instances)),
		byTask:       make(map[string]string, len(snap.Instances)),
		deployments:  make(map[string]*state.Deployment, len(snap.Deployments)),
		offers:       map[string]mesos.Offer{},
		backoffs:     map[marathon.PathID]reconcile.Backoff{},
		lastFailure:  map[marathon.PathID]*marathon.TaskFailure{},
		kills:        map[string]time.Time{},
		waitingSince: map[string]time.Time{},
		unplaced:     map[marathon.PathID]map[string]int{},
		offerStats:   map[marathon.PathID]*offerStat{},
		dirty:        true,
	}
	for _, a := range snap.Apps {
		st.apps[a.ID] = a
	}
	for _, g := range snap.Groups {
		st.groups[g.ID] = g
	}
	for i := range snap.Instances {
		inst := snap.Instances[i]
		st.instances[inst.ID] = &inst
		if inst.TaskID != "" {
			st.byTask[inst.TaskID] = inst.ID
		}
		if inst.State == "" {
			st.waitingSince[inst.ID] = now
		}
	}
	for i := range snap.Deployments {
		d := snap.Deployments[i]
		st.deployments[d.ID] = &d
	}
	return st
}

// putInstance records inst as changed: stored with the pass, and shown.
func (st *loopState) putInstance(inst *state.Instance) {
	st.change.PutInstances = append(st.change.PutInstances, *inst)
	st.dirty = true
}

// expunge forgets an instance.
func (st *loopState) expunge(id string) {
	inst := st.instances[id]
	if inst == nil {
		return
	}
	delete(st.instances, id)
	if inst.TaskID != "" {
		delete(st.byTask, inst.TaskID)
		delete(st.kills, inst.TaskID)
	}
	delete(st.waitingSince, id)
	st.change.DeleteInstances = append(st.change.DeleteInstances, id)
	st.dirty = true
}

// takeChange returns the pending change and starts a new one. Instances put
// several times in a pass are written once, in their latest form.
func (st *loopState) takeChange() state.Change {
	c := st.change
	st.change = state.Change{}
	if len(c.PutInstances) > 0 {
		latest := make(map[string]int, len(c.PutInstances))
		for i, inst := range c.PutInstances {
			latest[inst.ID] = i
		}
		deleted := make(map[string]bool, len(c.DeleteInstances))
		for _, id := range c.DeleteInstances {
			deleted[id] = true
		}
		puts := c.PutInstances[:0:0]
		for i, inst := range c.PutInstances {
			if latest[inst.ID] == i && !deleted[inst.ID] {
				puts = append(puts, inst)
			}
		}
		c.PutInstances = puts
	}
	return c
}

// sortedDeployments returns the running deployments, oldest first.
func (st *loopState) sortedDeployments() []*state.Deployment {
	ds := slices.Collect(maps.Values(st.deployments))
	slices.SortFunc(ds, func(a, b *state.Deployment) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return ds
}

// instanceList returns copies of every instance, sorted by id. It sorts
// the pointers and copies once: swapping the large structs themselves made
// the sort most of a pass's CPU at 10,000 instances (bench/README.md).
func (st *loopState) instanceList() []state.Instance {
	ptrs := slices.Collect(maps.Values(st.instances))
	slices.SortFunc(ptrs, func(a, b *state.Instance) int { return cmp.Compare(a.ID, b.ID) })
	out := make([]state.Instance, len(ptrs))
	for i, inst := range ptrs {
		out[i] = *inst
	}
	return out
}
