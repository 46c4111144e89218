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
	// roles are the framework's roles (roles.go); rolesSent those its
	// subscription carries. localRegion is the master's region.
	roles       map[string]bool
	rolesSent   map[string]bool
	localRegion string

	apps   map[marathon.PathID]marathon.App
	groups map[marathon.PathID]state.Group
	// buckets are the stored buckets of app references of large groups
	// (versionBuckets), by id; they are no groups of the API.
	buckets   map[marathon.PathID]state.Group
	instances map[string]*state.Instance
	byTask    map[string]string // task id → instance id
	// byApp indexes instances by app id, sorted by instance id; an app id
	// without instances has no entry. gen[app] changes with every change of the app's
	// instances, definition or backoff (touch), so that a pass redoes
	// only the work of the apps that changed: snapshots, plans (see
	// bench/README.md, "Where the time goes").
	byApp  map[marathon.PathID][]*state.Instance // sorted by id
	gen    map[marathon.PathID]uint64
	genSeq uint64
	snaps  map[marathon.PathID]snapshot
	plans  map[marathon.PathID]planMemo
	// steady remembers the deployments whose last Next changed nothing,
	// with the generations it saw.
	steady map[string]deploymentMemo
	// appViews are the published AppViews, shared by the Views while
	// their app stays the same (appView).
	appViews map[marathon.PathID]appViewMemo
	// sortedIDs are the apps' ids, sorted, unless appIDsStale.
	sortedIDs   []marathon.PathID
	appIDsStale bool
	// depViews are the published views of the running deployments.
	depViews    map[*state.Deployment]deploymentViewMemo
	deployments map[string]*state.Deployment
	offers      map[string]mesos.Offer
	backoffs    map[marathon.PathID]reconcile.Backoff
	lastFailure map[marathon.PathID]*marathon.TaskFailure
	// kills remembers when each task was last asked to die, so that kills
	// are resent only after KillRetry.
	kills map[string]time.Time
	// unknown holds the instances whose task Mesos answered TASK_UNKNOWN
	// for (UnknownSince set), unknownChecked when they were last
	// reconciled, and unknownRecheck how long until the next time.
	unknown map[string]struct{}
	// launching holds the instances whose task was launched and is not
	// running yet (TASK_STAGING, TASK_STARTING): launches wait while
	// there are maxLaunching (launchLimit).
	launching      map[string]struct{}
	unknownChecked time.Time
	unknownRecheck time.Duration // 0: not rechecking
	// heldApps are apps whose definition the store could not decode
	// (state.SetAside): without it the scheduler cannot know what they
	// want, so their instances and tasks are left as they are, never
	// killed or replaced, until the app is put again (docs/state.md). An
	// instance record that cannot be decoded is not held: its task is
	// unknown, killed and replaced, so that the app keeps its count.
	heldApps map[marathon.PathID]bool
	// waitingSince is when each instance started waiting for a task.
	waitingSince map[string]time.Time
	unplaced     map[marathon.PathID]map[string]int
	offerStats   map[marathon.PathID]*offerStat

	// versions caches the older app versions that instances still run
	// (appOf); healthStale says the health checks' targets changed;
	// healthKills are the tasks killed for failing their checks.
	versions    map[versionKey]cachedVersion
	healthStale bool
	healthKills map[string]bool
	// checked are the app versions whose health checks the events
	// reported as added (healthCheckEvents).
	checked map[versionKey][]marathon.HealthCheck
	// ready holds the readiness probes of deploying tasks, by instance id.
	ready map[string]*readinessProbe

	// fresh are the instances created in this pass; wantOffers says
	// whether anything waits for an offer.
	fresh      []string
	wantOffers bool
	// newWork says instances were created since the last REVIVE.
	newWork    bool
	lastRevive time.Time
	// pendingLaunches and pendingKills wait for the pass's change to be
	// stored.
	pendingLaunches []launchCall
	pendingKills    []killCall

	// change and acks are the pass's pending writes: acknowledgements go out
	// only after the change is stored.
	change state.Change
	acks   []mesos.TaskStatus
	// pods are the pods and their instances (pods.go).
	pods  podState
	dirty bool
	seq   uint64
}

type offerStat struct{ processed, unused int }

func newLoopState(snap state.Snapshot, now time.Time) *loopState {
	st := &loopState{
		frameworkID:  snap.FrameworkID,
		apps:         make(map[marathon.PathID]marathon.App, len(snap.Apps)),
		groups:       make(map[marathon.PathID]state.Group, len(snap.Groups)),
		buckets:      map[marathon.PathID]state.Group{},
		instances:    make(map[string]*state.Instance, len(snap.Instances)),
		byTask:       make(map[string]string, len(snap.Instances)),
		byApp:        map[marathon.PathID][]*state.Instance{},
		gen:          map[marathon.PathID]uint64{},
		snaps:        map[marathon.PathID]snapshot{},
		plans:        map[marathon.PathID]planMemo{},
		steady:       map[string]deploymentMemo{},
		depViews:     map[*state.Deployment]deploymentViewMemo{},
		appViews:     map[marathon.PathID]appViewMemo{},
		deployments:  make(map[string]*state.Deployment, len(snap.Deployments)),
		offers:       map[string]mesos.Offer{},
		backoffs:     map[marathon.PathID]reconcile.Backoff{},
		lastFailure:  map[marathon.PathID]*marathon.TaskFailure{},
		kills:        map[string]time.Time{},
		waitingSince: map[string]time.Time{},
		unknown:      map[string]struct{}{},
		launching:    map[string]struct{}{},
		heldApps:     map[marathon.PathID]bool{},
		unplaced:     map[marathon.PathID]map[string]int{},
		offerStats:   map[marathon.PathID]*offerStat{},
		versions:     map[versionKey]cachedVersion{},
		healthKills:  map[string]bool{},
		ready:        map[string]*readinessProbe{},
		healthStale:  true,
		dirty:        true,
		pods:         newPodState(snap),
	}
	for _, a := range snap.Apps {
		st.apps[a.ID] = a
	}
	for _, g := range snap.Groups {
		if isBucket(g.ID) {
			st.buckets[g.ID] = g
			continue
		}
		st.groups[g.ID] = g
	}
	for _, r := range snap.SetAside {
		if _, ok := st.apps[marathon.PathID(r.ID)]; r.Kind == state.KindApp && !ok {
			st.heldApps[marathon.PathID(r.ID)] = true
		}
	}
	for i := range snap.Instances {
		inst := snap.Instances[i]
		if inst.Pod {
			continue // st.pods has it
		}
		st.addInstance(&inst)
		if inst.TaskID != "" {
			st.byTask[inst.TaskID] = inst.ID
		}
		if inst.State == "" {
			st.waitingSince[inst.ID] = now
		}
		if !inst.UnknownSince.IsZero() {
			st.unknown[inst.ID] = struct{}{}
		}
		st.trackLaunch(&inst)
	}
	for i := range snap.Deployments {
		d := snap.Deployments[i]
		st.deployments[d.ID] = &d
	}
	return st
}

// touch records that an app's instances, definition or backoff changed.
func (st *loopState) touch(id marathon.PathID) {
	st.genSeq++
	st.gen[id] = st.genSeq
	st.healthStale = true
}

// putHealth records a change of an instance's health results only: stored
// and shown like putInstance, but the health checks' targets stay.
func (st *loopState) putHealth(inst *state.Instance) {
	st.change.PutInstances = append(st.change.PutInstances, *inst)
	st.dirty = true
	st.genSeq++
	st.gen[inst.AppID] = st.genSeq
}

// showHealth records a change of an instance's health results that is
// shown but not stored (setHealth): only the View changes.
func (st *loopState) showHealth(inst *state.Instance) {
	st.dirty = true
	st.genSeq++
	st.gen[inst.AppID] = st.genSeq
}

// addInstance indexes a new instance (not yet stored: see putInstance).
func (st *loopState) addInstance(inst *state.Instance) {
	st.instances[inst.ID] = inst
	list := st.byApp[inst.AppID]
	i, _ := slices.BinarySearchFunc(list, inst.ID, byID)
	st.byApp[inst.AppID] = slices.Insert(list, i, inst)
	st.touch(inst.AppID)
}

// putInstance records inst as changed: stored with the pass, and shown.
func (st *loopState) putInstance(inst *state.Instance) {
	st.change.PutInstances = append(st.change.PutInstances, *inst)
	st.dirty = true
	st.touch(inst.AppID)
}

// trackLaunch records whether inst's task is launched and not running yet.
func (st *loopState) trackLaunch(inst *state.Instance) {
	if inst.State == mesos.TaskStaging || inst.State == mesos.TaskStarting {
		st.launching[inst.ID] = struct{}{}
	} else {
		delete(st.launching, inst.ID)
	}
}

// expunge forgets an instance.
func (st *loopState) expunge(id string) {
	inst := st.instances[id]
	if inst == nil {
		return
	}
	delete(st.instances, id)
	list := st.byApp[inst.AppID]
	if i, found := slices.BinarySearchFunc(list, id, byID); found {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(st.byApp, inst.AppID)
	} else {
		st.byApp[inst.AppID] = list
	}
	st.touch(inst.AppID)
	if inst.TaskID != "" {
		delete(st.byTask, inst.TaskID)
		delete(st.kills, inst.TaskID)
	}
	delete(st.waitingSince, id)
	delete(st.launching, id)
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

// snapshot is an immutable copy of one app's instances at a generation.
type snapshot struct {
	gen       uint64
	instances []state.Instance
}

// instancesOf returns copies of an app's instances, sorted by id; nil when
// it has none. The slice is shared (with the pure cores and the published
// Views) and never modified: a change of the app makes a new one. Its
// HostPorts and IPAddresses are copies too; Attributes and Healthy/Ready
// are replaced, never modified, by the loop.
func (st *loopState) instancesOf(id marathon.PathID) []state.Instance {
	g := st.gen[id]
	if s, ok := st.snaps[id]; ok && s.gen == g {
		return s.instances
	}
	ptrs := st.byApp[id]
	if len(ptrs) == 0 {
		delete(st.snaps, id)
		return nil
	}
	out := make([]state.Instance, len(ptrs))
	for i, inst := range ptrs {
		out[i] = *inst
		out[i].HostPorts = slices.Clone(inst.HostPorts)
		out[i].IPAddresses = slices.Clone(inst.IPAddresses)
	}
	st.snaps[id] = snapshot{gen: g, instances: out}
	return out
}

func byID(inst *state.Instance, id string) int { return cmp.Compare(inst.ID, id) }

// appIDs lists the ids of the current apps and of the apps that still have
// instances, unsorted.
func (st *loopState) appIDs() []marathon.PathID {
	ids := make([]marathon.PathID, 0, len(st.apps)+len(st.byApp))
	for id := range st.apps {
		ids = append(ids, id)
	}
	for id := range st.byApp {
		if _, ok := st.apps[id]; !ok {
			ids = append(ids, id)
		}
	}
	return ids
}
