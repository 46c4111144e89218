package scheduler

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/framework/placement"
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

// placementApp is what placement.Fit needs to place one instance of pod:
// the executor's and every container's scalars together, a host port
// request per endpoint (none without hostPort, any for 0, that port
// otherwise; as the port mappings of container networking), the pod's
// role, accepted roles and constraints.
func placementApp(pod marathon.Pod) marathon.App {
	ex := pod.ExecutorResources
	app := marathon.App{
		ID: pod.ID, Version: pod.Version, Cpus: ex.Cpus, Mem: ex.Mem, Disk: ex.Disk, Role: pod.Role,
		AcceptedResourceRoles: pod.Scheduling.Placement.AcceptedResourceRoles,
		Networks:              []marathon.Network{{Mode: marathon.NetworkBridge}},
		Container:             &marathon.Container{Type: marathon.ContainerMesos},
	}
	for _, c := range pod.Containers {
		app.Cpus += c.Resources.Cpus
		app.Mem += c.Resources.Mem
		app.Disk += c.Resources.Disk
		app.Gpus += c.Resources.Gpus
		for _, e := range c.Endpoints {
			app.Container.PortMappings = append(app.Container.PortMappings, marathon.PortMapping{HostPort: e.HostPort})
		}
	}
	for _, c := range pod.Scheduling.Placement.Constraints {
		app.Constraints = append(app.Constraints, c.Constraint())
	}
	return app
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

// launchPods places waiting pod instances on the held offers with
// placement.Fit (resources in the pod's roles, host ports, constraints);
// the offers it uses leave st.offers, to be accepted once the pass's
// change is stored (flushPodLaunches).
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
	secrets := map[marathon.PathID]map[string]string{}
	apps := map[marathon.PathID]marathon.App{}
	var pending []placement.Pending
	var running []state.Instance
	for _, inst := range waiting {
		pod := st.pods.defs[inst.AppID]
		if _, seen := apps[pod.ID]; !seen {
			values, ok := s.podSecrets(pod)
			if !ok {
				continue // waits for its secrets
			}
			secrets[pod.ID], apps[pod.ID] = values, placementApp(pod)
			if len(pod.Scheduling.Placement.Constraints) > 0 {
				for _, other := range st.podInstancesOf(pod.ID) {
					running = append(running, *other)
				}
			}
		}
		pending = append(pending, placement.Pending{Instance: *inst, App: apps[pod.ID]})
	}
	if len(pending) == 0 {
		return
	}
	offers := slices.Collect(maps.Values(st.offers))
	slices.SortFunc(offers, func(a, b mesos.Offer) int { return compareStrings(a.ID.Value, b.ID.Value) })
	res := placement.Fit(placement.Request{Offers: offers, Pending: pending, Running: running, MaxPerOffer: s.cfg.MaxInstancesPerOffer, LocalRegion: st.localRegion})
	ops := map[string][]mesos.Operation{}
	var order []mesos.OfferID
	for _, l := range res.Launches {
		inst := st.pods.insts[l.InstanceID]
		op, ok := s.placePod(l, st.pods.defs[inst.AppID], inst, secrets[inst.AppID], now)
		if !ok {
			continue
		}
		if _, seen := ops[l.OfferID.Value]; !seen {
			order = append(order, l.OfferID)
		}
		ops[l.OfferID.Value] = append(ops[l.OfferID.Value], op)
	}
	st.pods.wantOffers = len(res.Unplaced) > 0 || len(pending) < len(waiting)
	var filters *mesos.Filters
	if st.pods.wantOffers {
		filters = &mesos.Filters{RefuseSeconds: new(0.0)}
	}
	for _, id := range order {
		delete(st.offers, id.Value)
		st.pods.pendingLaunches = append(st.pods.pendingLaunches, mesos.Accept{OfferIDs: []mesos.OfferID{id}, Operations: ops[id.Value], Filters: filters})
	}
}

// placePod builds the LAUNCH_GROUP of inst for its placement l.
func (s *Scheduler) placePod(l placement.Launch, pod marathon.Pod, inst *state.Instance, secrets map[string]string, now time.Time) (mesos.Operation, bool) {
	st := s.st
	lg, err := taskinfo.BuildGroup(taskinfo.GroupInput{
		Pod: pod, InstanceID: inst.ID, Incarnation: inst.Incarnation + 1, FrameworkID: st.frameworkID,
		AgentID: l.AgentID, Hostname: l.Hostname, Resources: l.Resources, HostPorts: l.HostPorts,
		EnvPrefix: s.cfg.EnvVarsPrefix, Secrets: secrets,
	})
	var op mesos.Operation
	if err == nil {
		op, err = mesos.LaunchGroupOperation(lg)
	}
	if err != nil {
		// Validation admits only pods that build: a bug, not bad input.
		s.log.Error("cannot build task group", "pod_id", pod.ID, "instance_id", inst.ID, "error", err)
		return op, false
	}
	inst.Incarnation++
	inst.AppVersion = pod.Version
	inst.AgentID, inst.Hostname, inst.HostPorts, inst.Attributes = l.AgentID.Value, l.Hostname, l.HostPorts, l.Attributes
	inst.LaunchedAt, inst.StagedAt = now, now
	inst.State = mesos.TaskStaging
	inst.Tasks = nil
	for _, t := range lg.TaskGroup.Tasks {
		inst.Tasks = append(inst.Tasks, state.PodTask{Container: t.Name, TaskID: t.TaskID.Value, State: mesos.TaskStaging})
		st.pods.byTask[t.TaskID.Value] = inst.ID
	}
	st.putPodInstance(inst)
	return op, true
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
	envs := []map[string]marathon.EnvVar{pod.Environment}
	for _, c := range pod.Containers {
		envs = append(envs, c.Environment)
	}
	return s.secretValues(pod.Secrets, envs...)
}
