package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Mesos is what the scheduler needs of a Mesos client (mesos.Client).
type Mesos interface {
	Run(ctx context.Context, events chan<- mesos.Event) error
	Launch(ctx context.Context, offerIDs []mesos.OfferID, tasks []mesos.TaskInfo, filters *mesos.Filters) error
	Decline(ctx context.Context, offerIDs []mesos.OfferID, filters *mesos.Filters) error
	Revive(ctx context.Context, roles ...string) error
	Kill(ctx context.Context, taskID mesos.TaskID, agentID *mesos.AgentID, policy *mesos.KillPolicy) error
	Acknowledge(ctx context.Context, status mesos.TaskStatus) error
	Reconcile(ctx context.Context, tasks []mesos.ReconcileTask) error
	FrameworkID() string
}

var _ Mesos = (*mesos.Client)(nil)

// Defaults of Config.
const (
	DefaultFailureRetry         = 60 * time.Second
	DefaultHistoryLimit         = 20
	DefaultDeclineOfferDuration = 5 * time.Second
	DefaultReconcileInterval    = 10 * time.Minute
	// reviveInterval bounds how often offers are revived while runs wait.
	reviveInterval = 5 * time.Second
	// retryWrite is the wait before a pass after a failed store write.
	retryWrite = time.Second
	// callTimeout bounds each call to Mesos from the loop.
	callTimeout = 10 * time.Second
	// maxWait caps the sleep of the loop.
	maxWait = time.Minute
)

// Config configures a Scheduler.
type Config struct {
	// Mesos is the client, subscribed by Run. Required.
	Mesos Mesos
	// Store keeps jobs and runs. Required.
	Store Store
	// Role is the framework's Mesos role; offers' resources reserved for
	// another role are not used.
	Role string
	// FailureRetry is the delay before a failed run is retried
	// (--failure_retry). Default 60s.
	FailureRetry time.Duration
	// DisableAfterFailures disables a job after this many final failures
	// since its last success; 0 never does.
	DisableAfterFailures int64
	// HistoryLimit is the number of finished runs kept per job. Default 20.
	HistoryLimit int
	// DeclineOfferDuration is how long unused offers are refused while no
	// run waits. Default 5s, Mesos's.
	DeclineOfferDuration time.Duration
	// ReconcileInterval is the period of reconciliation. Default 10m.
	ReconcileInterval time.Duration
	// Sandbox, when set, returns the sandbox directory of a task, for the
	// runs' history (the built-in cluster knows its agents' work dirs).
	Sandbox func(agentID, frameworkID, taskID, containerID string) string
	// Logger receives the scheduler's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if c.Mesos == nil {
		errs = append(errs, errors.New("jobs: mesos client required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("jobs: store required"))
	}
	if c.FailureRetry < 0 || c.HistoryLimit < 0 || c.DisableAfterFailures < 0 {
		errs = append(errs, errors.New("jobs: negative failure retry, history limit or disable after failures"))
	}
	return errors.Join(errs...)
}

// Scheduler is the job scheduler's loop. One goroutine (Run) owns the
// jobs and runs; the API reads View and sends changes through Do.
type Scheduler struct {
	cfg Config
	log *slog.Logger

	jobs map[string]*Job
	runs map[string]Run // by task id
	seq  int64

	cmds   chan command
	ready  chan struct{}
	view   atomic.Pointer[View]
	dirty  bool
	offers bool // whether offers come (not suppressed by declines)
	// subscribed is set by SUBSCRIBED: calls before it would fail.
	subscribed bool

	lastRevive    time.Time
	lastReconcile time.Time
	retryAt       time.Time // a failed write asks for a pass then
}

type command struct {
	fn    func() error
	reply chan error
}

// New returns a scheduler for cfg.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.FailureRetry = cmp.Or(cfg.FailureRetry, DefaultFailureRetry)
	cfg.HistoryLimit = cmp.Or(cfg.HistoryLimit, DefaultHistoryLimit)
	cfg.DeclineOfferDuration = cmp.Or(cfg.DeclineOfferDuration, DefaultDeclineOfferDuration)
	cfg.ReconcileInterval = cmp.Or(cfg.ReconcileInterval, DefaultReconcileInterval)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger, jobs: map[string]*Job{}, runs: map[string]Run{},
		cmds: make(chan command), ready: make(chan struct{})}
	s.view.Store(&View{})
	return s, nil
}

// Ready is closed once the state is loaded and the API may be served.
func (s *Scheduler) Ready() <-chan struct{} { return s.ready }

// View is the latest published snapshot.
func (s *Scheduler) View() *View { return s.view.Load() }

// ErrStopped is returned by Do once the loop has ended.
var ErrStopped = errors.New("jobs: scheduler stopped")

// Do runs fn on the loop's goroutine, where it may read and change the
// state through the scheduler's methods, and returns its error.
func (s *Scheduler) Do(ctx context.Context, fn func(*Tx) error) error {
	c := command{fn: func() error { return fn(&Tx{s: s}) }, reply: make(chan error, 1)}
	select {
	case s.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run loads the state, subscribes to Mesos and runs the loop until ctx
// ends or Mesos removes the framework.
func (s *Scheduler) Run(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("scheduler panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("jobs scheduler panicked: %v", p)
		}
	}()
	if err := s.load(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan mesos.Event, 256)
	mesosDone := make(chan error, 1)
	go func() { mesosDone <- s.cfg.Mesos.Run(ctx, events) }()
	s.publish()
	close(s.ready)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-mesosDone:
			return fmt.Errorf("mesos subscription ended: %w", err)
		case ev := <-events:
			s.handleEvent(ctx, ev)
			s.drain(ctx, events)
		case c := <-s.cmds:
			err := c.fn()
			// Readers see a change once it is answered.
			s.publish()
			c.reply <- err
		case <-timer.C:
		}
		s.pass(ctx)
		if s.dirty {
			s.publish()
			s.dirty = false
		}
		timer.Reset(s.wait())
	}
}

// drain handles the events already waiting before a pass.
func (s *Scheduler) drain(ctx context.Context, events <-chan mesos.Event) {
	for range 64 {
		select {
		case ev := <-events:
			s.handleEvent(ctx, ev)
		default:
			return
		}
	}
}

// load reads the store.
func (s *Scheduler) load(ctx context.Context) error {
	snap, err := s.cfg.Store.Load(ctx)
	if err != nil {
		return fmt.Errorf("load jobs: %w", err)
	}
	for _, j := range snap.Jobs {
		s.jobs[j.Name] = j
	}
	for _, r := range snap.Runs {
		s.runs[r.TaskID] = r
		s.seq = max(s.seq, r.Seq)
	}
	s.log.Info("jobs loaded", "jobs", len(s.jobs), "runs", len(s.runs), "framework_id", snap.FrameworkID)
	return nil
}

// commit writes c and then applies it to memory: memory always equals
// the store.
func (s *Scheduler) commit(ctx context.Context, c Change) error {
	if c.Empty() {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.cfg.Store.Apply(wctx, c); err != nil {
		s.log.Warn("store write failed", "error", err)
		s.retryAt = s.cfg.Now().Add(retryWrite)
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	for _, name := range c.DeleteJobs {
		delete(s.jobs, name)
	}
	for _, id := range c.DeleteRuns {
		delete(s.runs, id)
	}
	for _, j := range c.PutJobs {
		s.jobs[j.Name] = j
	}
	for _, r := range c.PutRuns {
		s.runs[r.TaskID] = r
	}
	s.dirty = true
	return nil
}

// ErrStore is wrapped by errors of a failed store write: nothing changed.
var ErrStore = errors.New("state store write failed")

// wait is how long the loop may sleep: until the next due schedule or
// retry, a pending write retry, or the next reconciliation.
func (s *Scheduler) wait() time.Duration {
	now := s.cfg.Now()
	next := now.Add(maxWait)
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	queued := map[string]bool{}
	for _, r := range s.runs {
		if r.State == RunQueued {
			queued[r.Job] = true
		}
	}
	for _, j := range s.jobs {
		// A job with a queued run gets no other until that one starts:
		// its due schedule must not spin the loop.
		if !queued[j.Name] {
			earlier(NextDue(j, now))
		}
	}
	for _, r := range s.runs {
		switch {
		case r.State != RunQueued:
		case r.NotBefore != nil && r.NotBefore.After(now):
			earlier(*r.NotBefore)
		default:
			// Waiting for offers: revive again in a while.
			earlier(s.lastRevive.Add(reviveInterval))
		}
	}
	earlier(s.retryAt)
	if s.subscribed {
		earlier(s.lastReconcile.Add(s.cfg.ReconcileInterval))
	}
	return max(next.Sub(now), time.Millisecond)
}

// queuedRun returns the queued run of a job, if any: a job has at most
// one (J/TaskManager.scala).
func (s *Scheduler) queuedRun(job string) (Run, bool) {
	for _, r := range s.runs {
		if r.Job == job && r.State == RunQueued {
			return r, true
		}
	}
	return Run{}, false
}

// activeRuns lists a job's runs whose task may be alive.
func (s *Scheduler) activeRuns(job string) []Run {
	var out []Run
	for _, r := range s.runs {
		if r.Job == job && (r.State.Active() || r.State == RunAwaiting) {
			out = append(out, r)
		}
	}
	return out
}

// newRun makes a queued run of j; the caller commits it.
func (s *Scheduler) newRun(j *Job, trigger Trigger, now time.Time, attempt int, args string) Run {
	s.seq++
	due := now
	id := TaskID(due, attempt, j.Name, taskArgs(j, args))
	for {
		if _, taken := s.runs[id]; !taken {
			break
		}
		due = due.Add(time.Millisecond)
		id = TaskID(due, attempt, j.Name, taskArgs(j, args))
	}
	return Run{TaskID: id, Job: j.Name, Trigger: trigger, State: RunQueued, Attempt: attempt, Due: due.UTC(),
		Arguments: args, Queued: now.UTC(), Seq: s.seq}
}

// pass queues the scheduled runs that are due, drops queued runs that
// can no longer run, and asks for offers when runs wait.
func (s *Scheduler) pass(ctx context.Context) {
	now := s.cfg.Now()
	if now.Before(s.retryAt) {
		return
	}
	s.retryAt = time.Time{}
	var c Change
	for _, name := range s.sortedJobs() {
		j := s.jobs[name]
		o, ok := Due(j, now)
		if !ok {
			continue
		}
		if _, queued := s.queuedRun(name); queued && o.Run {
			// At most one queued run per job: the occurrence waits, and
			// collapses with later ones into one catch-up run.
			continue
		}
		nj := j.clone()
		nj.Schedule = o.Next
		nj.SkipCount += o.Skipped
		c.PutJobs = append(c.PutJobs, nj)
		if o.Run {
			r := s.newRun(nj, TriggerSchedule, now, 0, "")
			at := o.ScheduledFor.UTC()
			r.ScheduledFor = &at
			c.PutRuns = append(c.PutRuns, r)
			s.log.Debug("run queued", "job", name, "task_id", r.TaskID, "scheduled_for", at)
		} else {
			s.log.Info("scheduled run skipped: later than epsilon", "job", name, "skipped", o.Skipped)
			sr := s.newRun(nj, TriggerSchedule, now, 0, "")
			sr.State, sr.End, sr.Message = RunSkipped, &now, "not started within epsilon "+nj.Epsilon
			c.PutRuns = append(c.PutRuns, sr)
		}
	}
	for _, r := range s.runs {
		if r.State != RunQueued {
			continue
		}
		j, ok := s.jobs[r.Job]
		switch {
		case !ok || j.Disabled:
			c.DeleteRuns = append(c.DeleteRuns, r.TaskID)
		case r.Trigger == TriggerSchedule && j.EpsilonDuration() > 0 && r.ScheduledFor != nil && now.Sub(*r.ScheduledFor) > j.EpsilonDuration():
			r.State, r.End, r.Message = RunSkipped, &now, "not started within epsilon "+j.Epsilon
			nj := j.clone()
			nj.SkipCount++
			c.PutJobs = append(c.PutJobs, nj)
			c.PutRuns = append(c.PutRuns, r)
		}
	}
	if err := s.commit(ctx, c); err != nil {
		return
	}
	s.reviveIfWaiting(ctx, now)
	if s.subscribed && now.Sub(s.lastReconcile) >= s.cfg.ReconcileInterval {
		s.reconcile(ctx)
	}
}

// reviveIfWaiting revives offers when a run waits for one.
func (s *Scheduler) reviveIfWaiting(ctx context.Context, now time.Time) {
	waiting := false
	for _, r := range s.runs {
		if r.State == RunQueued && (r.NotBefore == nil || !r.NotBefore.After(now)) {
			waiting = true
			break
		}
	}
	if !waiting || now.Sub(s.lastRevive) < reviveInterval && s.offers {
		return
	}
	s.lastRevive = now
	s.offers = true
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := s.cfg.Mesos.Revive(cctx); err != nil && !errors.Is(err, mesos.ErrNotSubscribed) {
		s.log.Warn("revive failed", "error", err)
	}
}

func (s *Scheduler) sortedJobs() []string {
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
