package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/framework/health"
	"github.com/stadionhq/stadion/framework/reconcile"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Defaults of Config, as Marathon has them where Marathon has a flag.
const (
	DefaultReconciliationInterval     = 10 * time.Minute
	DefaultReconciliationInitialDelay = 15 * time.Second
	DefaultDeclineOfferDuration       = 120 * time.Second
	DefaultMaxInstancesPerOffer       = 100
	DefaultKillRetry                  = 30 * time.Second
)

// Mesos is what the scheduler needs of a Mesos client (*mesos.Client).
type Mesos interface {
	Run(ctx context.Context, events chan<- mesos.Event) error
	Launch(ctx context.Context, offerIDs []mesos.OfferID, tasks []mesos.TaskInfo, filters *mesos.Filters) error
	Decline(ctx context.Context, offerIDs []mesos.OfferID, filters *mesos.Filters) error
	Revive(ctx context.Context, roles ...string) error
	Suppress(ctx context.Context, roles ...string) error
	UpdateFramework(ctx context.Context, roles []string) error
	Kill(ctx context.Context, taskID mesos.TaskID, agentID *mesos.AgentID, policy *mesos.KillPolicy) error
	Acknowledge(ctx context.Context, status mesos.TaskStatus) error
	Reconcile(ctx context.Context, tasks []mesos.ReconcileTask) error
}

var _ Mesos = (*mesos.Client)(nil)

// Publisher receives the Marathon events the scheduler emits.
type Publisher interface {
	Publish(e marathon.Event)
}

// Config configures a Scheduler. Zero values mean the defaults.
type Config struct {
	// Mesos is the client the scheduler subscribes with; required.
	Mesos Mesos
	// Store keeps the state; required.
	Store state.Store
	// Events receives Marathon events; optional.
	Events Publisher
	// Role is the Mesos role of the framework ("*" by default).
	Role string
	// EnvVarsPrefix is Marathon's --env_vars_prefix.
	EnvVarsPrefix string
	// Secrets resolves the secrets apps refer to at launch; nil launches
	// no task of an app with secret references.
	Secrets SecretResolver
	// MesosUser is Marathon's --mesos_user: the user of tasks whose app
	// names none (see taskinfo.Input.DefaultUser).
	MesosUser string
	// TaskLaunchTimeout is Marathon's --task_launch_timeout.
	TaskLaunchTimeout time.Duration
	// TaskUnknownTimeout is how long a task that Mesos answers
	// TASK_UNKNOWN for keeps its place (listed with its last known
	// state) before a new task replaces it; default
	// reconcile.DefaultTaskUnknownTimeout.
	TaskUnknownTimeout time.Duration
	// ReconciliationInterval and ReconciliationInitialDelay are Marathon's
	// --reconciliation_interval and --reconciliation_initial_delay.
	ReconciliationInterval     time.Duration
	ReconciliationInitialDelay time.Duration
	// DeclineOfferDuration is how long offers are refused when nothing
	// waits (Marathon's --decline_offer_duration).
	DeclineOfferDuration time.Duration
	// MaxInstancesPerOffer caps the launches per offer.
	MaxInstancesPerOffer int
	// KillRetry is how long an unanswered kill waits before it is sent again.
	KillRetry time.Duration
	// HealthProbe runs one HTTP, HTTPS or TCP health check; nil means
	// health.Probe.
	HealthProbe health.ProbeFunc
	// MaxHealthProbes bounds the health checks in flight (default
	// health.DefaultMaxProbes).
	MaxHealthProbes int
	// ProgressDeadline is the default progress deadline of deployments:
	// a deployment that makes no progress for that long fails. 0 means
	// none; an app's upgradeStrategy.progressDeadlineSeconds overrides it.
	ProgressDeadline time.Duration
	// RollbackOnFailure makes deployments that miss their deadline roll
	// back to the versions they replaced, unless the app says otherwise
	// (upgradeStrategy.rollbackOnFailure).
	RollbackOnFailure bool
	// QueueConflicting queues a deployment behind the running ones it
	// conflicts with instead of refusing it with 409, unless the request
	// says otherwise (queue=false).
	QueueConflicting bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives the scheduler's logs; default discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Role == "" {
		c.Role = "*"
	}
	if c.TaskLaunchTimeout == 0 {
		c.TaskLaunchTimeout = reconcile.DefaultTaskLaunchTimeout
	}
	if c.TaskUnknownTimeout == 0 {
		c.TaskUnknownTimeout = reconcile.DefaultTaskUnknownTimeout
	}
	if c.ReconciliationInterval == 0 {
		c.ReconciliationInterval = DefaultReconciliationInterval
	}
	if c.ReconciliationInitialDelay == 0 {
		c.ReconciliationInitialDelay = DefaultReconciliationInitialDelay
	}
	if c.DeclineOfferDuration == 0 {
		c.DeclineOfferDuration = DefaultDeclineOfferDuration
	}
	if c.MaxInstancesPerOffer == 0 {
		c.MaxInstancesPerOffer = DefaultMaxInstancesPerOffer
	}
	if c.KillRetry == 0 {
		c.KillRetry = DefaultKillRetry
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Events == nil {
		c.Events = discard{}
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Mesos == nil:
		return errors.New("scheduler: Mesos client required")
	case c.Store == nil:
		return errors.New("scheduler: state store required")
	case c.TaskLaunchTimeout < 0, c.TaskUnknownTimeout < 0, c.ReconciliationInterval < 0, c.DeclineOfferDuration < 0, c.KillRetry < 0, c.ProgressDeadline < 0:
		return errors.New("scheduler: durations must not be negative")
	case c.MaxInstancesPerOffer < 0, c.MaxHealthProbes < 0:
		return errors.New("scheduler: max instances per offer and max health probes must not be negative")
	}
	return nil
}

// eventQueue holds the loop's events until the View shows them.
type eventQueue struct{ events []marathon.Event }

func (q *eventQueue) Publish(e marathon.Event) { q.events = append(q.events, e) }

// emit hands the queued events over, in order.
func (s *Scheduler) emit() {
	for _, e := range s.queued.events {
		s.out.Publish(e)
	}
	clear(s.queued.events)
	s.queued.events = s.queued.events[:0]
}

type discard struct{}

func (discard) Publish(marathon.Event) {}

// Scheduler is the event loop. Its exported methods are safe for concurrent
// use: they hand their work to the loop and wait for its answer.
type Scheduler struct {
	cfg Config
	log *slog.Logger

	commands chan command
	view     atomic.Pointer[View]
	calls    *caller
	// counters are shown by /metrics (View.Counters).
	counters Counters
	ready    chan struct{} // closed once the state is loaded
	stopped  chan struct{} // closed once Run has returned
	checks   *health.Runner
	// out receives the events; the loop queues them (cfg.Events is the
	// queue) and hands them over once the View shows what they report,
	// so that a client reading the API on an event sees the change.
	out    Publisher
	queued *eventQueue
	// readiness carries readiness check results back to the loop.
	readiness chan readinessResult

	// Everything below is owned by the loop goroutine.
	st *loopState
	// storeHealth says whether writes succeed; retryAt is when commands
	// try to write again after a failure.
	storeHealth StoreHealth
	retryAt     time.Time
	// fatal ends the loop: the state could not be read back after a
	// failed write.
	fatal error
}

// New returns a scheduler; Run starts it.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	queued := &eventQueue{}
	out := cfg.Events
	cfg.Events = queued
	s := &Scheduler{
		out:       out,
		queued:    queued,
		cfg:       cfg,
		log:       cfg.Logger,
		commands:  make(chan command),
		ready:     make(chan struct{}),
		stopped:   make(chan struct{}),
		readiness: make(chan readinessResult, 64),
	}
	s.counters.Started = cfg.Now()
	s.view.Store(&View{Counters: &s.counters})
	return s, nil
}

// View returns the latest published view. It never blocks.
func (s *Scheduler) View() *View { return s.view.Load() }

// Ready is closed once the scheduler has loaded its state and serves.
func (s *Scheduler) Ready() <-chan struct{} { return s.ready }

// Run loads the state, subscribes to Mesos and runs the loop until ctx ends
// or the framework is removed by Mesos. A panic in the loop is recovered,
// logged with its stack and returned as an error.
func (s *Scheduler) Run(ctx context.Context) (err error) {
	defer close(s.stopped)
	snap, err := s.cfg.Store.Load(ctx)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	s.st = s.loadState(snap)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	s.calls = newCaller(ctx, s.cfg.Mesos, s.log)
	s.calls.counters = &s.counters
	defer s.calls.close()
	checks, err := health.New(health.Config{Probe: s.cfg.HealthProbe, Now: s.cfg.Now, MaxProbes: s.cfg.MaxHealthProbes, Logger: s.log})
	if err != nil {
		return err
	}
	s.checks = checks
	checksDone := make(chan struct{})
	go func() { defer close(checksDone); checks.Run(ctx) }()
	defer func() { cancel(); <-checksDone }()

	events := make(chan mesos.Event, 1024)
	mesosDone := make(chan error, 1)
	mesosExited := make(chan struct{})
	go func() {
		defer close(mesosExited)
		mesosDone <- s.cfg.Mesos.Run(ctx, events)
	}()
	// The client may be saving a framework id: Run returns once it has
	// stopped, so that the store can be closed after it.
	defer func() { cancel(); <-mesosExited }()

	defer func() {
		if r := recover(); r != nil {
			s.log.Error("scheduler loop panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("scheduler loop panicked: %v", r)
		}
	}()
	s.publish()
	close(s.ready)
	return s.loop(ctx, events, mesosDone)
}

func (s *Scheduler) loop(ctx context.Context, events <-chan mesos.Event, mesosDone <-chan error) error {
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	reconcileTick := time.NewTimer(s.cfg.ReconciliationInitialDelay)
	defer reconcileTick.Stop()
	// due holds a pass back until minPassInterval after the previous one.
	due := time.NewTimer(time.Hour)
	defer due.Stop()
	var lastPass time.Time
	held := false
	secretsChanged := s.secretsChanged()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-mesosDone:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("mesos subscription ended: %w", err)
		case ev := <-events:
			s.handleEvent(ctx, ev)
		case cmd := <-s.commands:
			cmd(ctx, s)
		case rep := <-s.checks.Reports():
			s.handleHealth(ctx, rep)
		case r := <-s.readiness:
			s.handleReadiness(r)
		case <-secretsChanged:
		case <-wake.C:
		case <-due.C:
			held = false
		case <-reconcileTick.C:
			s.reconcileTasks(ctx, false)
			reconcileTick.Reset(s.cfg.ReconciliationInterval)
		}
		// Take whatever else is ready before acting, so that a burst of
		// events costs one pass.
		s.drain(ctx, events)
		if s.fatal != nil {
			return s.fatal
		}
		if wait := minPassInterval - time.Since(lastPass); wait > 0 {
			if !held {
				held = true
				due.Reset(wait)
			}
			continue
		}
		if held {
			held = false
			due.Stop()
		}
		lastPass = time.Now()
		next := s.pass(ctx)
		if s.fatal != nil {
			return s.fatal
		}
		resetTimer(wake, next, s.cfg.Now())
	}
}

// minPassInterval spaces passes: inputs that come sooner after a pass wait
// for the next one, a few milliseconds later. Status updates arrive one by
// one during large launches, and every pass costs a store commit and a
// look at every app that changed; a pass per update or two was most of the
// scheduler's CPU (bench/README.md). A command answers from its own work
// (do publishes it); only what the pass does after it waits.
const minPassInterval = 5 * time.Millisecond

// drain handles every event and command already waiting, up to a bound.
func (s *Scheduler) drain(ctx context.Context, events <-chan mesos.Event) {
	for range 4096 {
		select {
		case ev := <-events:
			s.handleEvent(ctx, ev)
		case cmd := <-s.commands:
			cmd(ctx, s)
		case rep := <-s.checks.Reports():
			s.handleHealth(ctx, rep)
		case r := <-s.readiness:
			s.handleReadiness(r)
		default:
			return
		}
	}
}

func resetTimer(t *time.Timer, next, now time.Time) {
	d := time.Hour
	if !next.IsZero() {
		d = max(next.Sub(now), time.Millisecond)
	}
	t.Reset(d)
}

// command is work an API call hands to the loop.
type command func(ctx context.Context, s *Scheduler)

// do runs f on the loop and waits for it, or for ctx.
func (s *Scheduler) do(ctx context.Context, f func(ctx context.Context)) error {
	done := make(chan struct{})
	cmd := func(loopCtx context.Context, s *Scheduler) {
		defer close(done)
		f(loopCtx)
		// Read your writes: the caller's next read sees what it did.
		if s.st.dirty {
			s.publish()
		}
		s.emit()
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case s.commands <- cmd:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopped:
		return errStopped
	}
	<-done
	return nil
}

// errStopped answers commands once the loop has ended.
var errStopped = &marathon.Error{Status: http.StatusServiceUnavailable, Message: "The scheduler has stopped; retry"}

// write runs a command that changes the state and answers once that change
// is stored. Work the loop has not stored yet is stored first, so that a
// failed write of the command undoes the command alone. A command that
// fails after changing memory leaves nothing of it behind (revert): a 4xx
// changes nothing. While a recent write failed it answers 503 at once.
func (s *Scheduler) write(ctx context.Context, f func(ctx context.Context) error) error {
	return s.writeThen(ctx, f, nil)
}

// writeThen is write; then, when set, runs on the loop with the command's
// outcome once it is stored or undone, before the View and the events go
// out: what it publishes is not lost with a revert.
func (s *Scheduler) writeThen(ctx context.Context, f func(ctx context.Context) error, then func(err error)) error {
	var err error
	doErr := s.do(ctx, func(ctx context.Context) {
		err = s.writeOnLoop(ctx, f)
		if then != nil {
			then(err)
		}
	})
	if doErr != nil {
		return doErr
	}
	return err
}

func (s *Scheduler) writeOnLoop(ctx context.Context, f func(ctx context.Context) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	if ferr := s.flush(ctx); ferr != nil {
		return storeUnavailable(ferr.Error())
	}
	if err := f(ctx); err != nil {
		if !s.st.change.Empty() || len(s.st.pendingKills) > 0 {
			s.revert(ctx)
		}
		return err
	}
	if ferr := s.flush(ctx); ferr != nil {
		return storeUnavailable(ferr.Error())
	}
	return nil
}
