package scheduler

import (
	"context"
	"slices"
	"time"

	"github.com/stadionhq/stadion/framework/health"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Health checks come in two kinds, as in Marathon: HTTP, HTTPS and TCP
// checks run here (a health.Runner, fed with the running tasks after every
// pass that changed them), MESOS_* and COMMAND checks run on the agent and
// come back as the task status's healthy flag. Both land in the same
// per-check results of the instance (state.Instance.Health), which are
// stored, so that a restarted or new leader starts from the results it had.

// versionKey names one version of an app.
type versionKey struct {
	id      marathon.PathID
	version int64
}

func keyOf(id marathon.PathID, v marathon.Timestamp) versionKey {
	return versionKey{id, v.UnixNano()}
}

// appOf returns the definition of the app version an instance runs: the
// current one, or an older one (a rolling upgrade runs both), read once
// from the store and cached. ok is false when the version is gone.
func (s *Scheduler) appOf(ctx context.Context, inst *state.Instance) (marathon.App, bool) {
	st := s.st
	app, ok := st.apps[inst.AppID]
	if ok && (inst.AppVersion.IsZero() || app.Version.Equal(inst.AppVersion.Time)) {
		return app, true
	}
	k := keyOf(inst.AppID, inst.AppVersion)
	if v, cached := st.versions[k]; cached {
		return v.app, v.ok
	}
	old, found, err := s.cfg.Store.AppVersion(ctx, inst.AppID, inst.AppVersion)
	if err != nil {
		// Not cached: asked again on the next rebuild.
		s.log.Warn("cannot load app version", "app_id", inst.AppID, "version", inst.AppVersion, "error", err)
		return marathon.App{}, false
	}
	st.versions[k] = cachedVersion{app: old, ok: found}
	return old, found
}

type cachedVersion struct {
	app marathon.App
	ok  bool
}

// remember caches an app version that instances may still run.
func (st *loopState) remember(app marathon.App) {
	st.versions[keyOf(app.ID, app.Version)] = cachedVersion{app: app, ok: true}
}

// healthTargets returns the running tasks with checks that run here, and
// forgets cached versions no instance runs any more.
func (s *Scheduler) healthTargets(ctx context.Context) []health.Target {
	st := s.st
	var targets []health.Target
	used := map[versionKey]bool{}
	for id, insts := range st.byApp {
		cur, known := st.apps[id]
		if known && !hasSchedulerChecks(cur) && !st.hasOldVersions(id) {
			continue
		}
		for _, inst := range insts {
			if inst.Goal != state.GoalRunning || inst.State != mesos.TaskRunning || inst.TaskID == "" {
				continue
			}
			app, ok := s.appOf(ctx, inst)
			if !ok || !hasSchedulerChecks(app) {
				continue
			}
			used[keyOf(inst.AppID, inst.AppVersion)] = true
			t := health.Target{
				InstanceID: inst.ID, TaskID: inst.TaskID, Host: inst.Hostname,
				Checks: app.HealthChecks, StartedAt: inst.StartedAt,
			}
			for _, p := range inst.HostPorts {
				t.Ports = append(t.Ports, int(p))
			}
			for _, r := range inst.Health {
				t.States = append(t.States, health.State(r))
			}
			targets = append(targets, t)
		}
	}
	for k := range st.versions {
		if !used[k] && !st.runsVersion(k) {
			delete(st.versions, k)
		}
	}
	return targets
}

// hasOldVersions reports whether a cached older version of the app exists:
// its instances may have checks the current version dropped.
func (st *loopState) hasOldVersions(id marathon.PathID) bool {
	for k := range st.versions {
		if k.id == id {
			return true
		}
	}
	return false
}

// runsVersion reports whether an instance still runs version k.
func (st *loopState) runsVersion(k versionKey) bool {
	for _, inst := range st.byApp[k.id] {
		if inst.AppVersion.UnixNano() == k.version && hasLiveTask(inst) {
			return true
		}
	}
	return false
}

func hasLiveTask(inst *state.Instance) bool {
	return inst.State != "" && !inst.State.Terminal()
}

func hasSchedulerChecks(app marathon.App) bool {
	for _, hc := range app.HealthChecks {
		if health.Runs(hc.Protocol) {
			return true
		}
	}
	return false
}

// updateHealthTargets hands the runner the tasks to check when they
// changed since the last time.
func (s *Scheduler) updateHealthTargets(ctx context.Context) {
	if s.checks == nil || !s.st.healthStale {
		return
	}
	s.st.healthStale = false
	s.checks.Set(s.healthTargets(ctx))
}

// handleHealth folds one result of a check run here into its instance.
func (s *Scheduler) handleHealth(ctx context.Context, rep health.Report) {
	st := s.st
	inst := st.instances[rep.InstanceID]
	if inst == nil || inst.TaskID != rep.TaskID || inst.State != mesos.TaskRunning {
		return
	}
	app, ok := s.appOf(ctx, inst)
	if !ok || rep.CheckIndex >= len(app.HealthChecks) {
		return
	}
	now := s.cfg.Now()
	if !rep.Ok {
		hc := app.HealthChecks[rep.CheckIndex]
		s.cfg.Events.Publish(marathon.FailedHealthCheckEvent{
			AppID: inst.AppID, InstanceID: inst.ID, TaskID: inst.TaskID, HealthCheck: hc,
			EventMeta: marathon.Meta(marathon.EventFailedHealthCheck, now),
		})
	}
	s.setHealth(inst, app, rep.CheckIndex, state.HealthResult(rep.State), rep.Changed, now)
	if rep.Kill {
		s.killUnhealthy(inst, "FailedHealthChecks", now)
	}
}

// foldMesosHealth records the healthy flag of a task status as the result
// of the app's check that runs on the agent.
func (s *Scheduler) foldMesosHealth(inst *state.Instance, app marathon.App, healthy bool, cause string, now time.Time) {
	idx := slices.IndexFunc(app.HealthChecks, func(hc marathon.HealthCheck) bool { return !health.Runs(hc.Protocol) })
	if idx < 0 {
		return
	}
	var r state.HealthResult
	if idx < len(inst.Health) {
		r = inst.Health[idx]
	}
	before := r.Alive()
	if healthy {
		if r.FirstSuccess.IsZero() {
			r.FirstSuccess = now
		}
		r.LastSuccess, r.ConsecutiveFailures = now, 0
	} else {
		r.LastFailure, r.LastFailureCause = now, cause
		r.ConsecutiveFailures++
	}
	s.setHealth(inst, app, idx, r, r.Alive() != before || !r.Known(), now)
}

// setHealth records one check's result and the instance's health over all
// checks, and publishes the changes. Only transitions are stored: the
// first result of a check, a check turning alive or not, the instance's
// health changing. A result that repeats the last one (every few seconds
// per task) is shown, not written: at 100,000 checked tasks those writes
// were most of the store's load (issue 17). A new leader goes on from the
// stored transition; the times of the latest repeats are lost with the
// leader, as the counters of Marathon's own health checks are.
func (s *Scheduler) setHealth(inst *state.Instance, app marathon.App, idx int, r state.HealthResult, changed bool, now time.Time) {
	var was state.HealthResult
	if idx < len(inst.Health) {
		was = inst.Health[idx]
	}
	transition := changed || len(inst.Health) != len(app.HealthChecks) || was.Known() != r.Known() || was.Alive() != r.Alive()
	results := make([]state.HealthResult, len(app.HealthChecks))
	copy(results, inst.Health)
	results[idx] = r
	inst.Health = results
	prev := inst.Healthy
	inst.Healthy = aggregateHealth(results)
	if transition || !sameHealth(prev, inst.Healthy) {
		s.st.putHealth(inst)
	} else {
		s.st.showHealth(inst)
	}
	if changed {
		s.cfg.Events.Publish(marathon.HealthStatusChangedEvent{
			AppID: inst.AppID, InstanceID: inst.ID, TaskID: inst.TaskID, Version: inst.AppVersion, Alive: r.Alive(),
			EventMeta: marathon.Meta(marathon.EventHealthStatusChanged, now),
		})
	}
	if !sameHealth(prev, inst.Healthy) {
		s.cfg.Events.Publish(marathon.InstanceHealthChangedEvent{
			InstanceID: inst.ID, RunSpecID: inst.AppID, RunSpecVersion: inst.AppVersion, Healthy: inst.Healthy,
			EventMeta: marathon.Meta(marathon.EventInstanceHealthChanged, now),
		})
	}
}

// aggregateHealth is an instance's health over its checks: false as soon
// as one check is not alive, true when all are, nil while one has no
// result.
func aggregateHealth(results []state.HealthResult) *bool {
	all := true
	for _, r := range results {
		switch {
		case r.Known() && !r.Alive():
			return new(false)
		case !r.Known():
			all = false
		}
	}
	if !all {
		return nil
	}
	return new(true)
}

// killUnhealthy kills a task that failed too many health checks; its
// instance gets a new task, with the app's launch backoff, as in
// Marathon.
func (s *Scheduler) killUnhealthy(inst *state.Instance, reason string, now time.Time) {
	if s.st.healthKills[inst.TaskID] {
		return
	}
	s.st.healthKills[inst.TaskID] = true
	s.log.Info("killing unhealthy task", "app_id", inst.AppID, "task_id", inst.TaskID)
	s.cfg.Events.Publish(marathon.UnhealthyInstanceKillEvent{
		AppID: inst.AppID, TaskID: inst.TaskID, InstanceID: inst.ID, Version: inst.AppVersion,
		Reason: reason, Host: inst.Hostname, SlaveID: inst.AgentID,
		EventMeta: marathon.Meta(marathon.EventUnhealthyInstanceKill, now),
	})
	delete(s.st.kills, inst.TaskID)
	s.kill(inst.ID, inst.TaskID, inst.AgentID, "failed health checks", now)
}
