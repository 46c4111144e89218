package jobs

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// handleEvent dispatches one Mesos event.
func (s *Scheduler) handleEvent(ctx context.Context, ev mesos.Event) {
	switch ev.Type {
	case mesos.EventSubscribed:
		s.handleSubscribed(ctx)
	case mesos.EventOffers:
		if ev.Offers != nil {
			s.handleOffers(ctx, ev.Offers.Offers)
		}
	case mesos.EventUpdate:
		if ev.Update != nil {
			s.handleUpdate(ctx, ev.Update.Status)
		}
	case mesos.EventError:
		if ev.Error != nil {
			s.log.Error("mesos error event", "message", ev.Error.Message)
		}
	}
}

// handleSubscribed reconciles: the tasks of active runs explicitly, then
// every task of the framework, so that tasks nobody knows are killed.
func (s *Scheduler) handleSubscribed(ctx context.Context) {
	s.log.Info("subscribed", "framework_id", s.cfg.Mesos.FrameworkID())
	s.subscribed, s.offers = true, false
	s.lastRevive = time.Time{}
	s.reconcile(ctx)
}

// reconcile asks Mesos for the state of every active run's task and then
// for all of the framework's tasks.
func (s *Scheduler) reconcile(ctx context.Context) {
	s.lastReconcile = s.cfg.Now()
	var tasks []mesos.ReconcileTask
	for _, r := range s.runs {
		if r.State.Active() {
			t := mesos.ReconcileTask{TaskID: mesos.TaskID{Value: r.TaskID}}
			if r.AgentID != "" {
				t.AgentID = &mesos.AgentID{Value: r.AgentID}
			}
			tasks = append(tasks, t)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if len(tasks) > 0 {
		if err := s.cfg.Mesos.Reconcile(cctx, tasks); err != nil {
			s.log.Warn("explicit reconciliation failed", "error", err)
			return
		}
	}
	if err := s.cfg.Mesos.Reconcile(cctx, nil); err != nil {
		s.log.Warn("implicit reconciliation failed", "error", err)
	}
}

// reconcileTasks asks for the state of tasks whose launch call failed:
// Mesos answers TASK_LOST for those it never got, which fails (and
// retries) their runs.
func (s *Scheduler) reconcileTasks(ctx context.Context, tasks []mesos.TaskInfo) {
	var list []mesos.ReconcileTask
	for _, t := range tasks {
		list = append(list, mesos.ReconcileTask{TaskID: t.TaskID, AgentID: &mesos.AgentID{Value: t.AgentID.Value}})
	}
	if err := s.cfg.Mesos.Reconcile(ctx, list); err != nil {
		s.log.Warn("reconciliation of failed launches failed", "error", err)
	}
}

// handleOffers fits queued runs into offers, highest priority and oldest
// first, stores them as launched, then launches them; the rest is
// declined.
func (s *Scheduler) handleOffers(ctx context.Context, offers []mesos.Offer) {
	now := s.cfg.Now()
	queue := s.launchable(now)
	s.offers = true
	launching := map[string]bool{} // jobs given a task in this batch
	type launch struct {
		offer mesos.Offer
		tasks []mesos.TaskInfo
	}
	var launches []launch
	var decline []mesos.OfferID
	var c Change
	for _, o := range offers {
		pool := newOfferPool(o, s.cfg.Role)
		var tasks []mesos.TaskInfo
		for _, r := range queue {
			j := s.jobs[r.Job]
			if launching[r.TaskID] || (!j.Concurrent && launching[j.Name]) || !matches(o, j.Constraints) {
				continue
			}
			res, ok := pool.take(j.CPUs, j.Mem, j.Disk)
			if !ok {
				continue
			}
			launching[r.TaskID], launching[j.Name] = true, true
			started := now.UTC()
			r.State, r.Start, r.AgentID, r.Hostname = RunLaunched, &started, o.AgentID.Value, o.Hostname
			c.PutRuns = append(c.PutRuns, r)
			tasks = append(tasks, TaskInfo(j, r, o, res))
		}
		if len(tasks) == 0 {
			decline = append(decline, o.ID)
			continue
		}
		launches = append(launches, launch{offer: o, tasks: tasks})
	}
	if len(launches) > 0 {
		if err := s.commit(ctx, c); err != nil {
			// Nothing is launched that is not stored.
			for _, l := range launches {
				decline = append(decline, l.offer.ID)
			}
			launches = nil
		}
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	for _, l := range launches {
		if err := s.cfg.Mesos.Launch(cctx, []mesos.OfferID{l.offer.ID}, l.tasks, &mesos.Filters{RefuseSeconds: ptr(1.0)}); err != nil {
			// Reconciliation tells whether the tasks exist; until then
			// they count as launched.
			s.log.Warn("launch failed", "agent_id", l.offer.AgentID.Value, "error", err)
			s.reconcileTasks(cctx, l.tasks)
			continue
		}
		for _, t := range l.tasks {
			s.log.Info("task launched", "task_id", t.TaskID.Value, "agent_id", l.offer.AgentID.Value)
		}
	}
	if len(decline) > 0 {
		refuse := s.cfg.DeclineOfferDuration.Seconds()
		if len(s.launchable(now)) > 0 {
			refuse = 1
		} else {
			s.offers = false
		}
		if err := s.cfg.Mesos.Decline(cctx, decline, &mesos.Filters{RefuseSeconds: &refuse}); err != nil {
			s.log.Debug("decline failed", "error", err)
		}
	}
}

// launchable lists the queued runs that may start now, high priority
// first, then in queue order: their job is enabled, a retry's delay has
// passed, and a job that is not concurrent has no run alive.
func (s *Scheduler) launchable(now time.Time) []Run {
	var out []Run
	for _, r := range s.runs {
		if r.State != RunQueued || (r.NotBefore != nil && r.NotBefore.After(now)) {
			continue
		}
		j, ok := s.jobs[r.Job]
		if !ok || j.Disabled || (!j.Concurrent && len(s.activeRuns(j.Name)) > 0) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Run) int {
		ha, hb := s.jobs[a.Job].HighPriority, s.jobs[b.Job].HighPriority
		if ha != hb {
			if ha {
				return -1
			}
			return 1
		}
		return int(a.Seq - b.Seq)
	})
	return out
}

// handleUpdate follows a task's state: running, then an outcome. The
// update is acknowledged after what it changed is stored.
func (s *Scheduler) handleUpdate(ctx context.Context, st mesos.TaskStatus) {
	id := st.TaskID.Value
	r, known := s.runs[id]
	var err error
	switch {
	case !known:
		s.handleUnknown(ctx, st)
	case r.State.Final() && !st.State.Terminal():
		// A task alive for a run already ended (taken for lost, then its
		// agent came back): it would run the job twice.
		s.log.Warn("killing a task of a finished run", "task_id", id, "state", st.State)
		s.killTasks(ctx, []Run{r})
	case r.State.Final():
		// A late or repeated update of a finished run.
	case !st.State.Terminal():
		err = s.handleRunning(ctx, r, st)
	default:
		err = s.handleTerminal(ctx, r, st)
	}
	if err != nil || len(st.UUID) == 0 {
		return // unacknowledged: Mesos sends it again
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.cfg.Mesos.Acknowledge(cctx, st); err != nil && !errors.Is(err, mesos.ErrMissingUUID) {
		s.log.Warn("acknowledge failed", "task_id", id, "error", err)
	}
}

// handleUnknown kills a live task no run knows: it belongs to a deleted
// job or to nobody.
func (s *Scheduler) handleUnknown(ctx context.Context, st mesos.TaskStatus) {
	if st.State.Terminal() {
		return
	}
	if _, _, _, _, ok := ParseTaskID(st.TaskID.Value); !ok {
		return
	}
	s.log.Info("killing a task of no known run", "task_id", st.TaskID.Value)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.cfg.Mesos.Kill(cctx, st.TaskID, st.AgentID, nil); err != nil {
		s.log.Warn("kill failed", "task_id", st.TaskID.Value, "error", err)
	}
}

// handleRunning records a live task's state once it changes to running.
func (s *Scheduler) handleRunning(ctx context.Context, r Run, st mesos.TaskStatus) error {
	if r.State == RunRunning || r.State == RunAwaiting || st.State == mesos.TaskStaging {
		return nil
	}
	if r.State == RunQueued {
		// A task Mesos runs for a run we took for queued (a launch
		// whose write we could not confirm): it runs now.
		now := s.cfg.Now().UTC()
		r.Start = &now
	}
	r.State, r.TaskState = RunRunning, string(st.State)
	s.noteTask(&r, st)
	return s.commit(ctx, Change{PutRuns: []Run{r}})
}

// noteTask copies where the task runs from its status.
func (s *Scheduler) noteTask(r *Run, st mesos.TaskStatus) {
	if st.AgentID != nil && st.AgentID.Value != "" {
		r.AgentID = st.AgentID.Value
	}
	if st.ContainerStatus != nil && st.ContainerStatus.ContainerID != nil {
		r.ContainerID = st.ContainerStatus.ContainerID.Value
	}
	if s.cfg.Sandbox != nil && r.AgentID != "" && r.ContainerID != "" {
		r.Sandbox = s.cfg.Sandbox(r.AgentID, s.cfg.Mesos.FrameworkID(), r.TaskID, r.ContainerID)
	}
}

// handleTerminal records a run's outcome: TASK_FINISHED is a success
// (for an async job, a wait for its callback), TASK_KILLED a kill, every
// other terminal state a failure.
func (s *Scheduler) handleTerminal(ctx context.Context, r Run, st mesos.TaskStatus) error {
	now := s.cfg.Now()
	r.TaskState, r.Message = string(st.State), truncate(st.Message, 1024)
	s.noteTask(&r, st)
	j, ok := s.jobs[r.Job]
	if !ok {
		return s.commit(ctx, Change{DeleteRuns: []string{r.TaskID}})
	}
	switch st.State {
	case mesos.TaskFinished:
		if j.Async {
			r.State = RunAwaiting
			return s.commit(ctx, Change{PutRuns: []Run{r}})
		}
		zero := 0
		r.ExitStatus = &zero
		return s.commit(ctx, s.succeeded(j, r, now))
	case mesos.TaskKilled:
		r.ExitStatus = exitStatus(st.Message)
		return s.commit(ctx, s.finish(Change{}, j, r, RunKilled, now))
	default:
		r.ExitStatus = exitStatus(st.Message)
		return s.commit(ctx, s.failed(j, r, now))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// finish ends run r as state and prunes the job's history.
func (s *Scheduler) finish(c Change, j *Job, r Run, state RunState, now time.Time) Change {
	end := now.UTC()
	r.State, r.End = state, &end
	c.PutRuns = append(c.PutRuns, r)
	c.DeleteRuns = append(c.DeleteRuns, s.prune(j.Name, r.TaskID)...)
	return c
}

// prune lists the finished runs of a job beyond the history limit,
// oldest first, counting the run being finished.
func (s *Scheduler) prune(job, finishing string) []string {
	var done []Run
	for _, r := range s.runs {
		if r.Job == job && r.State.Final() && r.TaskID != finishing {
			done = append(done, r)
		}
	}
	extra := len(done) + 1 - s.cfg.HistoryLimit
	if extra <= 0 {
		return nil
	}
	slices.SortFunc(done, func(a, b Run) int { return int(a.Seq - b.Seq) })
	var out []string
	for _, r := range done[:min(extra, len(done))] {
		out = append(out, r.TaskID)
	}
	return out
}

// succeeded counts a success and releases the job's children
// (getNewSuccessfulJob, processDependencies); a schedule that has run out
// disables the job.
func (s *Scheduler) succeeded(j *Job, r Run, now time.Time) Change {
	nj := j.clone()
	nj.SuccessCount++
	nj.ErrorsSinceLastSuccess = 0
	nj.LastSuccess = formatTime(now)
	if sc, err := ParseSchedule(nj.Schedule, nj.Zone(), now); !nj.Dependent() && err == nil && sc.Done() {
		nj.Disabled = true
	}
	c := s.finish(Change{PutJobs: []*Job{nj}}, nj, r, RunSuccess, now)
	return s.releaseChildren(c, nj, now)
}

// failed retries a failed run, or counts a final failure
// (handleFailedTask). Retries do not touch the schedule.
func (s *Scheduler) failed(j *Job, r Run, now time.Time) Change {
	if r.Attempt < j.Retries {
		c := s.finish(Change{}, j, r, RunFailure, now)
		retry := s.newRun(j, TriggerRetry, now.Add(s.cfg.FailureRetry), r.Attempt+1, r.Arguments)
		at := now.Add(s.cfg.FailureRetry).UTC()
		retry.NotBefore, retry.ScheduledFor, retry.Queued = &at, r.ScheduledFor, now.UTC()
		c.PutRuns = append(c.PutRuns, retry)
		s.log.Info("run failed, retrying", "job", j.Name, "task_id", r.TaskID, "attempt", r.Attempt+1, "retries", j.Retries)
		return c
	}
	nj := j.clone()
	nj.ErrorCount++
	nj.ErrorsSinceLastSuccess++
	nj.LastError = formatTime(now)
	if s.cfg.DisableAfterFailures > 0 && nj.ErrorsSinceLastSuccess >= s.cfg.DisableAfterFailures {
		nj.Disabled = true
		s.log.Warn("job disabled after failures", "job", j.Name, "errors_since_last_success", nj.ErrorsSinceLastSuccess)
	}
	s.log.Info("run failed", "job", j.Name, "task_id", r.TaskID, "error_count", nj.ErrorCount)
	c := s.finish(Change{PutJobs: []*Job{nj}}, nj, r, RunFailure, now)
	if nj.SoftError {
		c = s.releaseChildren(c, nj, now)
	}
	return c
}

// releaseChildren queues a run of every child of parent that is ready
// now (the parent as it will be stored is in c).
func (s *Scheduler) releaseChildren(c Change, parent *Job, now time.Time) Change {
	view := make(map[string]*Job, len(s.jobs))
	for k, v := range s.jobs {
		view[k] = v
	}
	view[parent.Name] = parent
	for _, child := range Children(parent.Name, view) {
		if !Ready(child, view) {
			continue
		}
		nc := child.clone()
		nc.depsAt = now
		c.PutJobs = append(c.PutJobs, nc)
		if _, queued := s.queuedRun(child.Name); queued {
			continue
		}
		c.PutRuns = append(c.PutRuns, s.newRun(nc, TriggerDependency, now, 0, ""))
		s.log.Info("dependent run queued", "job", child.Name, "parent", parent.Name)
	}
	return c
}
