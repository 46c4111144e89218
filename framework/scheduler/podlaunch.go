package scheduler

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/framework/taskinfo"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Acceptor is the part of a Mesos client that sends ACCEPT calls with any
// operations (*mesos.Client); pods launch only with a Mesos client that
// has it.
type Acceptor interface {
	Accept(ctx context.Context, accept mesos.Accept) error
}

// podOffer is what is left of one held offer while pods are placed on it.
type podOffer struct {
	offer  mesos.Offer
	scalar map[string]float64
	ports  []uint32
	ops    []mesos.Operation
}

func newPodOffer(o mesos.Offer) *podOffer {
	po := &podOffer{offer: o, scalar: map[string]float64{}}
	for _, r := range o.Resources {
		if !unreserved(r) {
			continue
		}
		switch {
		case r.Scalar != nil:
			po.scalar[r.Name] += r.Scalar.Value
		case r.Name == "ports" && r.Ranges != nil:
			for _, rg := range r.Ranges.Range {
				for p := rg.Begin; p <= rg.End && len(po.ports) < 1<<16; p++ {
					po.ports = append(po.ports, uint32(p))
				}
			}
		}
	}
	return po
}

func unreserved(r mesos.Resource) bool {
	return (r.Role == "" || r.Role == "*") && len(r.Reservation) == 0 && len(r.Reservations) == 0 && len(r.Revocable) == 0 && len(r.Disk) == 0
}

// podNeeds returns the scalars an instance of pod needs: the executor's
// and every container's.
func podNeeds(pod marathon.Pod) map[string]float64 {
	ex := pod.ExecutorResources
	need := map[string]float64{"cpus": ex.Cpus, "mem": ex.Mem, "disk": ex.Disk}
	for _, c := range pod.Containers {
		need["cpus"] += c.Resources.Cpus
		need["mem"] += c.Resources.Mem
		need["disk"] += c.Resources.Disk
		need["gpus"] += float64(c.Resources.Gpus)
	}
	return need
}

// take matches one instance of pod on the offer: the resources for
// BuildGroup and the host port of every endpoint (0 for one without).
// ok is false when the offer lacks something.
func (po *podOffer) take(pod marathon.Pod) (res []mesos.Resource, hostPorts []uint32, ok bool) {
	need := podNeeds(pod)
	for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
		if need[name] > 0 && po.scalar[name]+1e-9 < need[name] {
			return nil, nil, false
		}
	}
	free := slices.Clone(po.ports)
	var used []uint32
	for _, c := range pod.Containers {
		for _, e := range c.Endpoints {
			switch {
			case e.HostPort == nil:
				hostPorts = append(hostPorts, 0)
			case *e.HostPort == 0:
				if len(free) == 0 {
					return nil, nil, false
				}
				hostPorts, used, free = append(hostPorts, free[0]), append(used, free[0]), free[1:]
			default:
				i := slices.Index(free, uint32(*e.HostPort))
				if i < 0 {
					return nil, nil, false
				}
				hostPorts, used, free = append(hostPorts, free[i]), append(used, free[i]), slices.Delete(free, i, i+1)
			}
		}
	}
	for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
		if need[name] <= 0 {
			continue
		}
		po.scalar[name] -= need[name]
		res = append(res, mesos.Resource{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: need[name]}, Role: "*"})
	}
	if len(used) > 0 {
		rs := make([]mesos.Range, len(used))
		for i, p := range used {
			rs[i] = mesos.Range{Begin: uint64(p), End: uint64(p)}
		}
		res = append(res, mesos.Resource{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: rs}, Role: "*"})
	}
	po.ports = free
	return res, hostPorts, true
}

// waitingPodInstances are the instances that need a launch, by id.
func (st *loopState) waitingPodInstances() []*state.Instance {
	var out []*state.Instance
	for _, inst := range st.pods.insts {
		if inst.Goal == state.GoalRunning && len(inst.Tasks) == 0 {
			if _, known := st.pods.defs[inst.AppID]; known {
				out = append(out, inst)
			}
		}
	}
	slices.SortFunc(out, byInstanceID)
	return out
}

// launchPods places waiting pod instances on the held offers; the offers
// it uses leave st.offers, to be accepted once the pass's change is
// stored (flushPodLaunches).
func (s *Scheduler) launchPods(now time.Time) {
	st := s.st
	waiting := st.waitingPodInstances()
	st.pods.wantOffers = len(waiting) > 0
	if len(waiting) == 0 || len(st.offers) == 0 {
		return
	}
	if _, ok := s.cfg.Mesos.(Acceptor); !ok {
		s.log.Error("the Mesos client cannot launch task groups")
		return
	}
	offers := slices.Collect(maps.Values(st.offers))
	slices.SortFunc(offers, func(a, b mesos.Offer) int { return compareStrings(a.ID.Value, b.ID.Value) })
	pos := make([]*podOffer, len(offers))
	for i, o := range offers {
		pos[i] = newPodOffer(o)
	}
	placed := 0
	for _, inst := range waiting {
		pod := st.pods.defs[inst.AppID]
		secrets, ok := s.podSecrets(pod)
		if !ok {
			continue // waits for its secrets
		}
		for _, po := range pos {
			if len(po.ops) >= s.cfg.MaxInstancesPerOffer {
				continue
			}
			if s.placePod(po, pod, inst, secrets, now) {
				placed++
				break
			}
		}
	}
	st.pods.wantOffers = placed < len(waiting)
	var filters *mesos.Filters
	if st.pods.wantOffers {
		filters = &mesos.Filters{RefuseSeconds: new(0.0)}
	}
	for _, po := range pos {
		if len(po.ops) == 0 {
			continue
		}
		delete(st.offers, po.offer.ID.Value)
		st.pods.pendingLaunches = append(st.pods.pendingLaunches, mesos.Accept{OfferIDs: []mesos.OfferID{po.offer.ID}, Operations: po.ops, Filters: filters})
	}
}

// placePod builds the LAUNCH_GROUP of inst on po when it fits.
func (s *Scheduler) placePod(po *podOffer, pod marathon.Pod, inst *state.Instance, secrets map[string]string, now time.Time) bool {
	st := s.st
	saved := *po
	saved.scalar, saved.ports = maps.Clone(po.scalar), slices.Clone(po.ports)
	res, hostPorts, ok := po.take(pod)
	if !ok {
		return false
	}
	lg, err := taskinfo.BuildGroup(taskinfo.GroupInput{
		Pod: pod, InstanceID: inst.ID, Incarnation: inst.Incarnation + 1, FrameworkID: st.frameworkID,
		AgentID: po.offer.AgentID, Hostname: po.offer.Hostname, Resources: res, HostPorts: hostPorts,
		EnvPrefix: s.cfg.EnvVarsPrefix, Secrets: secrets,
	})
	var op mesos.Operation
	if err == nil {
		op, err = mesos.LaunchGroupOperation(lg)
	}
	if err != nil {
		// Validation admits only pods that build: a bug, not bad input.
		s.log.Error("cannot build task group", "pod_id", pod.ID, "instance_id", inst.ID, "error", err)
		*po = saved
		return false
	}
	po.ops = append(po.ops, op)
	inst.Incarnation++
	inst.AppVersion = pod.Version
	inst.AgentID, inst.Hostname, inst.HostPorts = po.offer.AgentID.Value, po.offer.Hostname, hostPorts
	inst.LaunchedAt, inst.StagedAt = now, now
	inst.State = mesos.TaskStaging
	inst.Tasks = nil
	for _, t := range lg.TaskGroup.Tasks {
		inst.Tasks = append(inst.Tasks, state.PodTask{Container: t.Name, TaskID: t.TaskID.Value, State: mesos.TaskStaging})
		st.pods.byTask[t.TaskID.Value] = inst.ID
	}
	st.putPodInstance(inst)
	return true
}

// flushPodLaunches sends the pods' ACCEPTs once their instances are
// stored.
func (s *Scheduler) flushPodLaunches() {
	acceptor, ok := s.cfg.Mesos.(Acceptor)
	for _, a := range s.st.pods.pendingLaunches {
		if !ok {
			break
		}
		s.calls.enqueue(func(ctx context.Context) error { return acceptor.Accept(ctx, a) })
	}
	s.st.pods.pendingLaunches = s.st.pods.pendingLaunches[:0]
}

// returnPodOffers declines the offers of pod launches that will not go
// out because their write failed.
func (s *Scheduler) returnPodOffers() {
	var calls []launchCall
	for _, a := range s.st.pods.pendingLaunches {
		calls = append(calls, launchCall{offer: a.OfferIDs[0]})
	}
	s.returnOffers(calls)
	s.st.pods.pendingLaunches = nil
}

// podSecrets returns the values of the secrets the environment of pod and
// of its containers refers to, by secret name; ok is false while one is
// not known yet (see appSecrets).
func (s *Scheduler) podSecrets(pod marathon.Pod) (map[string]string, bool) {
	out := map[string]string{}
	envs := []map[string]marathon.EnvVar{pod.Environment}
	for _, c := range pod.Containers {
		envs = append(envs, c.Environment)
	}
	for _, env := range envs {
		for _, v := range env {
			if !v.IsSecret() {
				continue
			}
			if _, done := out[v.Secret]; done {
				continue
			}
			if s.cfg.Secrets == nil {
				return nil, false
			}
			value, ok, _ := s.cfg.Secrets.Value(pod.Secrets[v.Secret].Source)
			if !ok {
				return nil, false
			}
			out[v.Secret] = value
		}
	}
	return out, true
}
