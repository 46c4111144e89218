package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Pods are the scheduler's second kind of runnable (docs/pods.md): a pod
// instance is one task per container, launched as one LAUNCH_GROUP
// (podlaunch.go) and living and dying as a whole. Pod instances are
// state.Instances with Pod set, kept apart from the apps' instances
// (podState) and stored through the same change as theirs, so that a
// launch goes out, and an API call answers, only after the store write.

// podState is the loop's memory of the pods.
type podState struct {
	defs  map[marathon.PathID]marathon.Pod
	insts map[string]*state.Instance
	// byTask maps every task id of an instance to the instance id.
	byTask map[string]string
	// retryAt is when an instance whose tasks all ended may launch again
	// (the pod's backoff), by instance id.
	retryAt map[string]time.Time
	// wantOffers says that instances wait for an offer.
	wantOffers bool
	// pendingLaunches wait for the pass's change to be stored.
	pendingLaunches []mesos.Accept
	// deps are the running deployments of the pods, one per pod, in
	// memory only: a new leader starts without them.
	deps map[marathon.PathID]*marathon.Deployment
	// queueSince is when a pod's instances started waiting for a launch
	// (GET /v2/queue), for the pods with waiting instances.
	queueSince map[marathon.PathID]time.Time
}

func newPodState(snap state.Snapshot) podState {
	ps := podState{
		defs:    make(map[marathon.PathID]marathon.Pod, len(snap.Pods)),
		insts:   map[string]*state.Instance{},
		byTask:  map[string]string{},
		retryAt: map[string]time.Time{},
		deps:    map[marathon.PathID]*marathon.Deployment{},

		queueSince: map[marathon.PathID]time.Time{},
	}
	for _, p := range snap.Pods {
		ps.defs[p.ID] = p
	}
	for i := range snap.Instances {
		if inst := snap.Instances[i]; inst.Pod {
			ps.index(&inst)
		}
	}
	return ps
}

// index remembers inst and its tasks.
func (ps *podState) index(inst *state.Instance) {
	ps.insts[inst.ID] = inst
	for _, t := range inst.Tasks {
		ps.byTask[t.TaskID] = inst.ID
	}
}

// putPodInstance records inst as changed: stored with the pass, and shown.
func (st *loopState) putPodInstance(inst *state.Instance) {
	st.change.PutInstances = append(st.change.PutInstances, *inst)
	st.dirty = true
}

// expungePodInstance forgets a pod instance.
func (st *loopState) expungePodInstance(inst *state.Instance) {
	for _, t := range inst.Tasks {
		delete(st.pods.byTask, t.TaskID)
		delete(st.kills, t.TaskID)
	}
	delete(st.pods.insts, inst.ID)
	delete(st.pods.retryAt, inst.ID)
	st.change.DeleteInstances = append(st.change.DeleteInstances, inst.ID)
	st.dirty = true
}

// podInstancesOf returns the instances of a pod, sorted by id.
func (st *loopState) podInstancesOf(id marathon.PathID) []*state.Instance {
	var out []*state.Instance
	for _, inst := range st.pods.insts {
		if inst.AppID == id {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, byInstanceID)
	return out
}

func byInstanceID(a, b *state.Instance) int { return compareStrings(a.ID, b.ID) }

// PodView is one pod with its instances.
type PodView struct {
	Pod marathon.Pod
	// Instances are the pod's instances, sorted by id.
	Instances []state.Instance
	// Queue is the pod's launch queue entry; nil when nothing waits. It
	// counts no offers (the reasons a pod does not fit are not kept).
	Queue *QueueView
}

// Pod returns the pod with id, or nil.
func (v *View) Pod(id marathon.PathID) *PodView {
	if v == nil {
		return nil
	}
	i, found := slices.BinarySearchFunc(v.Pods, id, func(p *PodView, id marathon.PathID) int { return compareStrings(string(p.Pod.ID), string(id)) })
	if !found {
		return nil
	}
	return v.Pods[i]
}

// podViews is the pods part of a View.
func (st *loopState) podViews() []*PodView {
	ids := slices.Sorted(maps.Keys(st.pods.defs))
	out := make([]*PodView, 0, len(ids))
	for _, id := range ids {
		pv := &PodView{Pod: st.pods.defs[id]}
		for _, inst := range st.podInstancesOf(id) {
			c := *inst
			c.Tasks = slices.Clone(inst.Tasks)
			pv.Instances = append(pv.Instances, c)
		}
		pv.Queue = st.podQueue(id)
		out = append(out, pv)
	}
	return out
}

// podWaits reports whether a pod instance waits for a launch: it should
// run and has no task, or all its tasks ended (then it waits for the
// pod's backoff, st.pods.retryAt).
func podWaits(inst *state.Instance) bool {
	if inst.Goal != state.GoalRunning {
		return false
	}
	for _, t := range inst.Tasks {
		if !t.State.Terminal() {
			return false
		}
	}
	return true
}

// trackPodQueue records since when each pod has waiting instances.
func (st *loopState) trackPodQueue(now time.Time) {
	waiting := map[marathon.PathID]bool{}
	for _, inst := range st.pods.insts {
		if _, known := st.pods.defs[inst.AppID]; known && podWaits(inst) {
			waiting[inst.AppID] = true
		}
	}
	for id := range waiting {
		if _, ok := st.pods.queueSince[id]; !ok {
			st.pods.queueSince[id] = now
		}
	}
	for id := range st.pods.queueSince {
		if !waiting[id] {
			delete(st.pods.queueSince, id)
		}
	}
}

// podQueue is the queue entry of pod id: its waiting instances and the
// end of the latest backoff among them; nil when none waits.
func (st *loopState) podQueue(id marathon.PathID) *QueueView {
	since, ok := st.pods.queueSince[id]
	if !ok {
		return nil
	}
	q := &QueueView{Since: since}
	for _, inst := range st.podInstancesOf(id) {
		if podWaits(inst) {
			q.Count++
			if at := st.pods.retryAt[inst.ID]; at.After(q.DelayUntil) {
				q.DelayUntil = at
			}
		}
	}
	if q.Count == 0 {
		return nil
	}
	return q
}

// PodObservation is what marathon.PodInstanceStatusOf needs of a pod
// instance.
func PodObservation(pod marathon.Pod, inst state.Instance) marathon.PodInstanceObservation {
	o := marathon.PodInstanceObservation{
		ID: inst.ID, RunSpecVersion: inst.AppVersion, AgentHostname: inst.Hostname, AgentID: inst.AgentID,
		Role: pod.Role, Since: inst.StagedAt,
	}
	if len(inst.IPAddresses) > 0 {
		o.Networks = []marathon.NetworkStatus{{Addresses: slices.Clone(inst.IPAddresses)}}
	}
	first := 0
	for _, c := range pod.Containers {
		var ports []uint32
		for j, e := range c.Endpoints {
			if e.HostPort != nil && first+j < len(inst.HostPorts) {
				ports = append(ports, inst.HostPorts[first+j])
			}
		}
		first += len(c.Endpoints)
		for _, t := range inst.Tasks {
			if t.Container != c.Name {
				continue
			}
			o.Tasks = append(o.Tasks, marathon.PodTaskObservation{
				Container: c.Name, TaskID: t.TaskID, State: string(t.State), Healthy: t.Healthy,
				HostPorts: ports, Message: t.Message, StagedAt: inst.StagedAt, StartedAt: t.StartedAt,
			})
		}
	}
	return o
}

// PutPod creates or replaces a pod (POST and PUT /v2/pods). The pod must
// be admitted (marathon.AdmitPod); its version is set here. It answers
// once the pod is stored. create refuses an existing pod with 409, as
// POST does; a running deployment of the pod answers 409 unless force.
func (s *Scheduler) PutPod(ctx context.Context, pod marathon.Pod, create, force bool) (PodResult, error) {
	var res PodResult
	err := s.write(ctx, func(context.Context) error {
		st := s.st
		old, exists := st.pods.defs[pod.ID]
		if exists && create {
			return &marathon.Error{Status: http.StatusConflict, Message: "A pod with id [" + string(pod.ID) + "] already exists."}
		}
		if err := st.podLocked(pod.ID, force); err != nil {
			return err
		}
		if err := st.podClashesWithApps(pod.ID); err != nil {
			return err
		}
		v := marathon.NewTimestamp(s.cfg.Now())
		if exists && !old.Version.Time.Before(v.Time) {
			v = marathon.NewTimestamp(old.Version.Time.Add(time.Millisecond))
		}
		pod.Version = v
		action := marathon.RestartPod
		switch {
		case !exists:
			action = marathon.StartPod
		case onlyScaled(old, pod):
			action = marathon.ScalePod
		}
		if action == marathon.ScalePod {
			// A change of the count alone is no upgrade: the instances
			// stay and run the new version.
			for _, inst := range st.podInstancesOf(pod.ID) {
				if inst.Goal == state.GoalRunning && inst.AppVersion == old.Version {
					inst.AppVersion = v
					st.putPodInstance(inst)
				}
			}
		}
		st.pods.defs[pod.ID] = pod
		st.addRole(pod.Role)
		st.change.PutPods = append(st.change.PutPods, pod)
		st.dirty = true
		res = PodResult{Pod: pod, Created: !exists, DeploymentID: st.startPodDeployment(pod.ID, action, v)}
		s.planPods(s.cfg.Now())
		return nil
	})
	return res, err
}

// Marathon validates the whole tree after every change (Group.validGroup)
// and answers a 422 on "/" when an app and a pod share an id, or when a
// pod's id is the group of an app or pod (Groups and Pods) or an app's id
// the group of a pod (Groups and Applications).
const (
	msgAppsAndPods   = "Applications and Pods may not share the same id"
	msgGroupsAndPods = "Groups and Pods may not have the same identifier."
	msgGroupsAndApps = "Groups and Applications may not have the same identifier."
)

func treeInvalid(msg string) error {
	return marathon.NotValid(marathon.Detail{Path: "/", Errors: []string{msg}})
}

// appsClashWithPods refuses apps of a deployment whose ids clash with a
// stored pod's.
func (st *loopState) appsClashWithPods(apps []marathon.App) error {
	if len(st.pods.defs) == 0 {
		return nil
	}
	for _, a := range apps {
		if _, isPod := st.pods.defs[a.ID]; isPod {
			return treeInvalid(msgAppsAndPods)
		}
		for id := a.ID.Parent(); !id.IsRoot(); id = id.Parent() {
			if _, isPod := st.pods.defs[id]; isPod {
				return treeInvalid(msgGroupsAndPods)
			}
		}
		for pid := range st.pods.defs {
			if pid.IsChildOf(a.ID) {
				return treeInvalid(msgGroupsAndApps)
			}
		}
	}
	return nil
}

// podClashesWithApps refuses a pod id that clashes with a stored app's or
// lies below another pod.
func (st *loopState) podClashesWithApps(id marathon.PathID) error {
	if _, isApp := st.apps[id]; isApp {
		return treeInvalid(msgAppsAndPods)
	}
	for p := id.Parent(); !p.IsRoot(); p = p.Parent() {
		if _, isApp := st.apps[p]; isApp {
			return treeInvalid(msgGroupsAndApps)
		}
		if _, isPod := st.pods.defs[p]; isPod {
			return treeInvalid(msgGroupsAndPods)
		}
	}
	for aid := range st.apps {
		if aid.IsChildOf(id) {
			return treeInvalid(msgGroupsAndPods)
		}
	}
	for pid := range st.pods.defs {
		if pid.IsChildOf(id) {
			return treeInvalid(msgGroupsAndPods)
		}
	}
	return nil
}

// onlyScaled says whether b differs from a in its count alone, which
// Marathon does not take for an upgrade (PodDefinition.isUpgrade).
func onlyScaled(a, b marathon.Pod) bool {
	a.Scaling, a.Version = b.Scaling, b.Version
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// PodResult answers PutPod and DeletePod. DeploymentID is the
// deployment of the change (View.PodDeployments while it runs).
type PodResult struct {
	Pod          marathon.Pod
	Created      bool
	DeploymentID string
}

// DeletePod removes a pod and kills its instances (DELETE /v2/pods/{id}).
func (s *Scheduler) DeletePod(ctx context.Context, id marathon.PathID, force bool) (PodResult, error) {
	var res PodResult
	err := s.write(ctx, func(context.Context) error {
		st := s.st
		if _, ok := st.pods.defs[id]; !ok {
			return podNotFound(id)
		}
		if err := st.podLocked(id, force); err != nil {
			return err
		}
		res = PodResult{Pod: st.pods.defs[id], DeploymentID: st.startPodDeployment(id, marathon.StopPod, marathon.NewTimestamp(s.cfg.Now()))}
		delete(st.pods.defs, id)
		st.change.DeletePods = append(st.change.DeletePods, id)
		st.dirty = true
		s.planPods(s.cfg.Now())
		return nil
	})
	return res, err
}

// KillPodInstances kills instances of a pod (DELETE
// /v2/pods/{id}::instances): as Marathon, the same instance is launched
// again, or, with wipe, it is forgotten and a new one replaces it. No ids
// kill every instance. It answers
// the instances as they were when killed.
func (s *Scheduler) KillPodInstances(ctx context.Context, id marathon.PathID, ids []string, wipe bool) ([]state.Instance, error) {
	var killed []state.Instance
	err := s.write(ctx, func(context.Context) error {
		st := s.st
		if _, ok := st.pods.defs[id]; !ok {
			return podNotFound(id)
		}
		now := s.cfg.Now()
		for _, inst := range st.podInstancesOf(id) {
			if len(ids) > 0 && !slices.Contains(ids, inst.ID) {
				continue
			}
			killed = append(killed, *inst)
			if wipe {
				inst.Goal = state.GoalDecommissioned
				st.putPodInstance(inst)
			}
			s.killPodTasks(inst, "killed by request", now)
		}
		if len(ids) > 0 && len(killed) != len(ids) {
			killed = nil
			return &marathon.Error{Status: http.StatusNotFound, Message: "Instance(s) not found in pod " + string(id)}
		}
		s.planPods(now)
		return nil
	})
	return killed, err
}

// PodVersions lists a pod's stored versions, oldest first.
func (s *Scheduler) PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.cfg.Store.PodVersions(ctx, id)
}

// PodVersion returns one stored version of a pod.
func (s *Scheduler) PodVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (marathon.Pod, bool, error) {
	return s.cfg.Store.PodVersion(ctx, id, v)
}

func podNotFound(id marathon.PathID) *marathon.Error {
	return &marathon.Error{Status: http.StatusNotFound, Message: "Pod '" + string(id) + "' does not exist"}
}

// podPass is the pods' part of a pass: it plans the instances and places
// the waiting ones on the held offers (before the apps, which decline
// what is left). It returns when to look again.
func (s *Scheduler) podPass(now time.Time) time.Time {
	wake := s.planPods(now)
	s.launchPods(now)
	return wake
}

// planPods brings every pod's instances to its definition: it creates and
// decommissions instances for its count, replaces instances of older
// versions, kills the rest of an instance whose task ended, relaunches an
// instance whose tasks all ended and forgets decommissioned instances
// without live tasks. It returns when a backoff ends.
func (s *Scheduler) planPods(now time.Time) time.Time {
	st := s.st
	var wake time.Time
	for _, inst := range slices.Collect(maps.Values(st.pods.insts)) {
		pod, known := st.pods.defs[inst.AppID]
		if !known && inst.Goal == state.GoalRunning {
			inst.Goal = state.GoalDecommissioned
			st.putPodInstance(inst)
		}
		wake = earliest(wake, s.settlePodInstance(inst, pod, now))
	}
	for _, id := range slices.Sorted(maps.Keys(st.pods.defs)) {
		s.scalePod(st.pods.defs[id], now)
	}
	st.finishPodDeployments()
	st.trackPodQueue(now)
	return wake
}

// podLocked is Marathon's 409 for a change of a pod that a deployment
// changes; with force that deployment is dropped for the new one.
func (st *loopState) podLocked(id marathon.PathID, force bool) error {
	d := st.pods.deps[id]
	switch {
	case d == nil:
		return nil
	case force:
		delete(st.pods.deps, id)
		return nil
	}
	return marathon.AppLocked(d.ID)
}

// startPodDeployment records the deployment of one change of a pod and
// returns its id.
func (st *loopState) startPodDeployment(id marathon.PathID, action marathon.DeploymentAction, v marathon.Timestamp) string {
	d := &marathon.Deployment{
		ID: newDeploymentID(), Version: v, AffectedPods: []marathon.PathID{id},
		Steps:          []marathon.Step{{Actions: []marathon.Action{{Action: action, Pod: id}}}},
		CurrentActions: []marathon.CurrentAction{{Action: action, Pod: id}},
		CurrentStep:    1, TotalSteps: 1,
	}
	st.pods.deps[id] = d
	st.dirty = true
	return d.ID
}

// finishPodDeployments ends the deployments whose pod runs as defined:
// its count of stable instances of the current version and nothing else,
// or, once deleted, no instance at all.
func (st *loopState) finishPodDeployments() {
	for id := range st.pods.deps {
		pod, exists := st.pods.defs[id]
		done := true
		n := 0
		for _, inst := range st.podInstancesOf(id) {
			switch {
			case !exists, inst.Goal != state.GoalRunning, inst.AppVersion != pod.Version, !podInstanceStable(pod, inst):
				done = false
			default:
				n++
			}
		}
		if done && (!exists || n == pod.Scaling.Instances) {
			delete(st.pods.deps, id)
			st.dirty = true
		}
	}
}

// podDeployments are the running pod deployments, oldest first.
func (st *loopState) podDeployments() []marathon.Deployment {
	out := make([]marathon.Deployment, 0, len(st.pods.deps))
	for _, d := range st.pods.deps {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b marathon.Deployment) int {
		if c := a.Version.Compare(b.Version.Time); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out
}

// settlePodInstance acts on one instance's tasks.
func (s *Scheduler) settlePodInstance(inst *state.Instance, pod marathon.Pod, now time.Time) time.Time {
	st := s.st
	if !inst.UnknownSince.IsZero() {
		if at := inst.UnknownSince.Add(s.cfg.TaskUnknownTimeout); now.Before(at) {
			return at
		}
		// Not heard of for too long: its tasks are gone.
		for i := range inst.Tasks {
			if !inst.Tasks[i].State.Terminal() {
				inst.Tasks[i].State = mesos.TaskGone
			}
		}
		inst.UnknownSince = time.Time{}
		st.putPodInstance(inst)
	}
	live, ended := 0, 0
	for _, t := range inst.Tasks {
		if t.State.Terminal() {
			ended++
		} else {
			live++
		}
	}
	switch {
	case inst.Goal != state.GoalRunning && live == 0:
		st.expungePodInstance(inst)
	case inst.Goal != state.GoalRunning:
		s.killPodTasks(inst, "decommissioned", now)
	case ended > 0 && live > 0:
		// A container ended: its instance ends whole.
		s.killPodTasks(inst, "a container of the instance ended", now)
	case ended > 0:
		// All ended: launch it again after the pod's backoff.
		at, ok := st.pods.retryAt[inst.ID]
		if !ok {
			at = now.Add(time.Duration(pod.Scheduling.Backoff.Backoff * float64(time.Second)))
			st.pods.retryAt[inst.ID] = at
		}
		if now.Before(at) {
			return at
		}
		delete(st.pods.retryAt, inst.ID)
		for _, t := range inst.Tasks {
			delete(st.pods.byTask, t.TaskID)
			delete(st.kills, t.TaskID)
		}
		inst.Tasks, inst.State, inst.AgentID, inst.Hostname, inst.HostPorts = nil, "", "", "", nil
		st.putPodInstance(inst)
	}
	return time.Time{}
}

// scalePod creates or decommissions instances for the pod's count
// (waiting instances go first, then the newest) and replaces the
// instances of older versions (upgradePod).
func (s *Scheduler) scalePod(pod marathon.Pod, now time.Time) {
	st := s.st
	var current, old []*state.Instance
	for _, inst := range st.podInstancesOf(pod.ID) {
		switch {
		case inst.Goal != state.GoalRunning:
		case inst.AppVersion == pod.Version:
			current = append(current, inst)
		default:
			old = append(old, inst)
		}
	}
	if len(old) > 0 {
		s.upgradePod(pod, current, old, now)
		return
	}
	for n := len(current); n < pod.Scaling.Instances; n++ {
		s.newPodInstance(pod)
	}
	if extra := len(current) - pod.Scaling.Instances; extra > 0 {
		slices.SortStableFunc(current, func(a, b *state.Instance) int {
			switch {
			case len(a.Tasks) == 0 && len(b.Tasks) > 0:
				return -1
			case len(b.Tasks) == 0 && len(a.Tasks) > 0:
				return 1
			}
			return b.StagedAt.Compare(a.StagedAt)
		})
		for _, inst := range current[:extra] {
			s.decommissionPodInstance(inst, pod, now)
		}
	}
}

// upgradePod replaces the old instances of a pod by new ones with the
// arithmetic of Marathon's TaskReplaceActor: at least
// ceil(instances × minimumHealthCapacity) stable instances stay, at most
// floor(instances × (1 + maximumOverCapacity)) run at once; old instances
// that are not stable go first, the next stable one once a new one is.
func (s *Scheduler) upgradePod(pod marathon.Pod, current, old []*state.Instance, now time.Time) {
	n := pod.Scaling.Instances
	up := pod.Scheduling.Upgrade
	minStable := int(math.Ceil(float64(n) * up.MinimumHealthCapacity))
	maxTotal := max(n, int(math.Floor(float64(n)*(1+up.MaximumOverCapacity))))
	stable := 0
	for _, inst := range append(slices.Clone(current), old...) {
		if podInstanceStable(pod, inst) {
			stable++
		}
	}
	slices.SortStableFunc(old, func(a, b *state.Instance) int {
		sa, sb := podInstanceStable(pod, a), podInstanceStable(pod, b)
		switch {
		case !sa && sb:
			return -1
		case sa && !sb:
			return 1
		}
		return 0
	})
	left := len(old)
	waiting := false // a new instance is not stable yet
	for _, inst := range current {
		waiting = waiting || !podInstanceStable(pod, inst)
	}
	for _, inst := range old {
		switch {
		case !podInstanceStable(pod, inst):
			// Unstable old instances give no capacity: they go first.
		case left+len(current) > n && stable-1 >= minStable:
			stable--
		case len(current) >= n && left+len(current) > maxTotal:
			stable--
		default:
			continue
		}
		s.decommissionPodInstance(inst, pod, now)
		left--
	}
	created := false
	for len(current) < n && left+len(current) < maxTotal {
		current = append(current, s.newPodInstance(pod))
		created = true
	}
	if !created && !waiting && left > 0 && len(current) < n && left+len(current) >= maxTotal {
		// No room to start a new instance and none to wait for
		// (maximumOverCapacity 0 with minimumHealthCapacity 1): one
		// old instance goes, as Marathon's ignition strategy does.
		for _, inst := range old {
			if inst.Goal == state.GoalRunning {
				s.decommissionPodInstance(inst, pod, now)
				break
			}
		}
	}
}

// podInstanceStable says whether every task of an instance runs and is
// healthy where its container has a health check (instance STABLE).
func podInstanceStable(pod marathon.Pod, inst *state.Instance) bool {
	if len(inst.Tasks) != len(pod.Containers) {
		return false
	}
	for _, t := range inst.Tasks {
		if t.State != mesos.TaskRunning {
			return false
		}
		i := slices.IndexFunc(pod.Containers, func(c marathon.PodContainer) bool { return c.Name == t.Container })
		if i >= 0 && pod.Containers[i].HealthCheck != nil && (t.Healthy == nil || !*t.Healthy) {
			return false
		}
	}
	return true
}

// newPodInstance adds an instance of pod, waiting for an offer.
func (s *Scheduler) newPodInstance(pod marathon.Pod) *state.Instance {
	inst := &state.Instance{ID: marathon.NewInstanceID(pod.ID), AppID: pod.ID, AppVersion: pod.Version, Goal: state.GoalRunning, Pod: true}
	s.st.pods.index(inst)
	s.st.putPodInstance(inst)
	s.st.newWork = true
	return inst
}

// decommissionPodInstance ends an instance for good.
func (s *Scheduler) decommissionPodInstance(inst *state.Instance, pod marathon.Pod, now time.Time) {
	inst.Goal = state.GoalDecommissioned
	s.st.putPodInstance(inst)
	s.settlePodInstance(inst, pod, now)
}

// killPodTasks kills the live tasks of an instance.
func (s *Scheduler) killPodTasks(inst *state.Instance, reason string, now time.Time) {
	var policy *mesos.KillPolicy
	if pod, ok := s.st.pods.defs[inst.AppID]; ok {
		for _, c := range pod.Containers {
			if c.Lifecycle != nil && c.Lifecycle.KillGracePeriodSeconds != nil {
				policy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(*c.Lifecycle.KillGracePeriodSeconds * float64(time.Second))}}
			}
		}
	}
	for _, t := range inst.Tasks {
		if t.State.Terminal() {
			continue
		}
		if last, sent := s.st.kills[t.TaskID]; sent && now.Sub(last) < s.cfg.KillRetry {
			continue
		}
		s.st.kills[t.TaskID] = now
		s.log.Debug("killing pod task", "task_id", t.TaskID, "instance_id", inst.ID, "reason", reason)
		s.st.pendingKills = append(s.st.pendingKills, killCall{taskID: t.TaskID, agentID: inst.AgentID, policy: policy})
	}
}

// podUpdate applies a status of a pod task; it reports whether the task
// is one.
func (s *Scheduler) podUpdate(status mesos.TaskStatus, now time.Time) bool {
	st := s.st
	inst := st.pods.insts[st.pods.byTask[status.TaskID.Value]]
	if inst == nil {
		return false
	}
	i := slices.IndexFunc(inst.Tasks, func(t state.PodTask) bool { return t.TaskID == status.TaskID.Value })
	if i < 0 {
		return false
	}
	t := &inst.Tasks[i]
	if status.State == mesos.TaskUnknown {
		// Its agent may not have re-registered with a new master yet:
		// the task keeps its state until TaskUnknownTimeout
		// (settlePodInstance).
		if inst.UnknownSince.IsZero() {
			inst.UnknownSince = now
			st.putPodInstance(inst)
		}
		return true
	}
	inst.UnknownSince = time.Time{}
	t.State = status.State
	t.Message = status.Message
	if status.Healthy != nil {
		t.Healthy = new(*status.Healthy)
	}
	if status.State == mesos.TaskRunning && t.StartedAt.IsZero() {
		t.StartedAt = now
	}
	if ips := statusIPs(status); len(ips) > 0 {
		inst.IPAddresses = ips
	}
	if status.State.Terminal() {
		delete(st.kills, t.TaskID)
	}
	prev := inst.State
	inst.State = podInstanceState(inst.Tasks)
	st.putPodInstance(inst)
	if c := conditionOf(inst.State); c != conditionOf(prev) {
		s.instanceChanged(inst, c, now)
	}
	return true
}

// podInstanceState is the worst state of an instance's tasks, as an
// instance's condition is (Instance.scala).
func podInstanceState(tasks []state.PodTask) mesos.TaskState {
	worst, rank := mesos.TaskState(""), -1
	order := []mesos.TaskState{mesos.TaskFinished, mesos.TaskKilled, mesos.TaskRunning, mesos.TaskStaging, mesos.TaskStarting, mesos.TaskKilling, mesos.TaskUnreachable, mesos.TaskLost, mesos.TaskDropped, mesos.TaskGone, mesos.TaskFailed, mesos.TaskError}
	for _, t := range tasks {
		if r := slices.Index(order, t.State); r > rank {
			worst, rank = t.State, r
		}
	}
	return worst
}

// podReconcileTasks are the live pod tasks for an explicit
// reconciliation.
func (st *loopState) podReconcileTasks() []mesos.ReconcileTask {
	var out []mesos.ReconcileTask
	for _, inst := range st.pods.insts {
		for _, t := range inst.Tasks {
			if t.State == "" || t.State.Terminal() {
				continue
			}
			rt := mesos.ReconcileTask{TaskID: mesos.TaskID{Value: t.TaskID}}
			if inst.AgentID != "" {
				rt.AgentID = &mesos.AgentID{Value: inst.AgentID}
			}
			out = append(out, rt)
		}
	}
	return out
}
