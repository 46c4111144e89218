package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Tx is the loop's state as an API handler sees it inside Scheduler.Do.
// Every change is stored before it is applied; a failed write returns an
// error wrapping ErrStore and changes nothing.
type Tx struct {
	s *Scheduler
}

// RequestError is a client's mistake: Chronos answers it 400 (a failed
// require in its resources).
type RequestError struct{ Message string }

func (e *RequestError) Error() string { return e.Message }

func badRequest(format string, args ...any) error {
	return &RequestError{Message: fmt.Sprintf(format, args...)}
}

// errNotFound is Chronos's answer for an unknown job: a 400.
func errNotFound(name string) error { return badRequest("Job '%s' not found", name) }

// MaxJobs bounds the number of jobs: each is a store record and is
// evaluated on every pass.
const MaxJobs = 10000

// epoch is the earliest start Chronos accepts.
var epoch = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)

// Put creates or replaces a job (POST /iso8601 and /dependency), with
// Chronos's checks: on create a valid name, a parseable schedule starting
// after 1970, not both uris and fetch; on every write a parseable
// schedule. Parents must exist and may not make a cycle. Counters the
// body leaves at zero keep their stored values, so that an update does
// not wipe the history (Chronos #702).
func (t *Tx) Put(ctx context.Context, j *Job) error {
	s := t.s
	now := s.cfg.Now()
	old, exists := s.jobs[j.Name]
	if !exists {
		if len(s.jobs) >= MaxJobs {
			return badRequest("requirement failed: at most %d jobs", MaxJobs)
		}
		if !ValidName(j.Name) {
			return badRequest("requirement failed: the job's name is invalid. Allowed names: '%s'", nameRE.String())
		}
		if len(j.URIs) > 0 && len(j.Fetch) > 0 {
			return badRequest("Tried to add both uri (deprecated) and fetch parameters on %s", j.Name)
		}
	}
	if !j.Dependent() {
		sc, err := ParseSchedule(j.Schedule, j.Zone(), now)
		if err != nil {
			return badRequest("Cannot parse schedule '%s'", j.Schedule)
		}
		if sc.Start.Before(epoch) {
			return badRequest("Scheduled start date '%s' is before 1970!", FormatStart(sc.Start))
		}
	} else if err := t.checkParents(j); err != nil {
		return err
	}
	nj := j.clone()
	if exists {
		keepCounters(nj, old)
		nj.depsAt = old.depsAt
	}
	c := Change{PutJobs: []*Job{nj}}
	if nj.Disabled {
		c.DeleteRuns = t.queuedIDs(nj.Name)
	}
	return s.commit(ctx, c)
}

// keepCounters keeps old's counters where nj has none.
func keepCounters(nj, old *Job) {
	if nj.SuccessCount == 0 && nj.ErrorCount == 0 && nj.LastSuccess == "" && nj.LastError == "" && nj.ErrorsSinceLastSuccess == 0 {
		nj.SuccessCount, nj.ErrorCount = old.SuccessCount, old.ErrorCount
		nj.LastSuccess, nj.LastError = old.LastSuccess, old.LastError
		nj.ErrorsSinceLastSuccess = old.ErrorsSinceLastSuccess
	}
	if nj.SkipCount == 0 {
		nj.SkipCount = old.SkipCount
	}
}

// checkParents refuses unknown parents (Chronos stores the job and then
// drops it from the graph, #815) and cycles.
func (t *Tx) checkParents(j *Job) error {
	for _, p := range j.Parents {
		if p == j.Name {
			return badRequest("requirement failed: job '%s' cannot be its own parent", j.Name)
		}
		if _, ok := t.s.jobs[p]; !ok {
			return badRequest("requirement failed: parent job '%s' of '%s' does not exist", p, j.Name)
		}
	}
	// A cycle: j is an ancestor of one of its parents.
	seen := map[string]bool{}
	var reaches func(name string) bool
	reaches = func(name string) bool {
		if name == j.Name {
			return true
		}
		if seen[name] {
			return false
		}
		seen[name] = true
		p, ok := t.s.jobs[name]
		if !ok {
			return false
		}
		return slices.ContainsFunc(p.Parents, reaches)
	}
	if slices.ContainsFunc(j.Parents, reaches) {
		return badRequest("requirement failed: the parents of '%s' would make a cycle", j.Name)
	}
	return nil
}

func (t *Tx) queuedIDs(job string) []string {
	var out []string
	for _, r := range t.s.runs {
		if r.Job == job && r.State == RunQueued {
			out = append(out, r.TaskID)
		}
	}
	return out
}

// Trigger queues a manual run (PUT /job/{name}), with args appended to
// the command when not blank. As in Chronos, a disabled job or one that
// already has a queued run gets no new run. The schedule is untouched
// (unlike Chronos, #814).
func (t *Tx) Trigger(ctx context.Context, name, args string) error {
	j, ok := t.s.jobs[name]
	if !ok {
		return errNotFound(name)
	}
	if j.Disabled {
		return nil
	}
	if _, queued := t.s.queuedRun(name); queued {
		return nil
	}
	return t.s.commit(ctx, Change{PutRuns: []Run{t.s.newRun(j, TriggerManual, t.s.cfg.Now(), 0, args)}})
}

// Kill kills every live task of a job (DELETE /task/kill/{name}); queued
// runs stay.
func (t *Tx) Kill(ctx context.Context, name string) error {
	if _, ok := t.s.jobs[name]; !ok {
		return errNotFound(name)
	}
	t.s.killTasks(ctx, t.s.activeRuns(name))
	return nil
}

// killTasks asks Mesos to kill the runs' tasks.
func (s *Scheduler) killTasks(ctx context.Context, runs []Run) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	for _, r := range runs {
		var agent *mesos.AgentID
		if r.AgentID != "" {
			agent = &mesos.AgentID{Value: r.AgentID}
		}
		if err := s.cfg.Mesos.Kill(cctx, mesos.TaskID{Value: r.TaskID}, agent, nil); err != nil {
			s.log.Warn("kill failed", "task_id", r.TaskID, "error", err)
		}
	}
}

// Delete removes a job and its runs (DELETE /job/{name}), killing its
// live tasks. Children of a dependent job get its parents; children left
// without parents by a scheduled job take its schedule, as Chronos does
// (children with other parents keep them, unlike Chronos #660).
func (t *Tx) Delete(ctx context.Context, name string) error {
	s := t.s
	j, ok := s.jobs[name]
	if !ok {
		return errNotFound(name)
	}
	active := s.activeRuns(name)
	c := Change{DeleteJobs: []string{name}}
	for _, r := range s.runs {
		if r.Job == name {
			c.DeleteRuns = append(c.DeleteRuns, r.TaskID)
		}
	}
	for _, child := range Children(name, s.jobs) {
		nc := child.clone()
		nc.Parents = slices.DeleteFunc(nc.Parents, func(p string) bool { return p == name })
		if j.Dependent() {
			for _, p := range j.Parents {
				if !slices.Contains(nc.Parents, p) && p != nc.Name {
					nc.Parents = append(nc.Parents, p)
				}
			}
		}
		if len(nc.Parents) == 0 {
			nc.Parents = nil
			nc.Schedule = j.Schedule
			zone := j.Zone()
			nc.ScheduleTimeZone = &zone
		}
		c.PutJobs = append(c.PutJobs, nc)
	}
	if err := s.commit(ctx, c); err != nil {
		return err
	}
	s.killTasks(ctx, active)
	return nil
}

// MarkSuccess counts a success for a job and releases its children
// (PUT /job/success/{name}).
func (t *Tx) MarkSuccess(ctx context.Context, name string) error {
	j, ok := t.s.jobs[name]
	if !ok {
		return errNotFound(name)
	}
	now := t.s.cfg.Now()
	nj := j.clone()
	nj.SuccessCount++
	nj.ErrorsSinceLastSuccess = 0
	nj.LastSuccess = formatTime(now)
	return t.s.commit(ctx, t.s.releaseChildren(Change{PutJobs: []*Job{nj}}, nj, now))
}

// ErrUnknownTask is returned by AsyncResult for a task no run knows.
var ErrUnknownTask = errors.New("unknown task")

// AsyncResult ends the run of an async (2.x) job's task: status 0 is a
// success, anything else a failure (PUT /scheduler/task/{taskId}).
func (t *Tx) AsyncResult(ctx context.Context, taskID string, status int) error {
	s := t.s
	r, ok := s.runs[taskID]
	if !ok {
		return badRequest("requirement failed: %v: %s", ErrUnknownTask, taskID)
	}
	if r.State.Final() {
		return nil
	}
	j, ok := s.jobs[r.Job]
	if !ok {
		return errNotFound(r.Job)
	}
	now := s.cfg.Now()
	r.ExitStatus = &status
	if status == 0 {
		return s.commit(ctx, s.succeeded(j, r, now))
	}
	return s.commit(ctx, s.failed(j, r, now))
}
