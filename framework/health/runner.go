package health

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Defaults of Config.
const (
	DefaultMaxProbes  = 64
	DefaultResolution = time.Second
)

// Target is one running task whose app has health checks.
type Target struct {
	InstanceID string
	TaskID     string
	Host       string
	// Ports are the task's host ports; a check's portIndex addresses them.
	Ports []int
	// Checks are the app's health checks; CheckIndex in a Report indexes
	// them. Checks that run on the agent (MESOS_*, COMMAND) are skipped.
	Checks []marathon.HealthCheck
	// StartedAt starts the grace period and delaySeconds; when zero, the
	// time the Runner first saw the target is used.
	StartedAt time.Time
	// States, when given, are the checks' states to start from (indexed
	// like Checks), as stored before a restart or failover, so that a
	// known result stays known.
	States []State
}

// Report is the outcome of one observed probe.
type Report struct {
	InstanceID string
	TaskID     string
	CheckIndex int
	Result     marathon.HealthCheckResult
	// State is the check's state after the probe, to be stored.
	State State
	// Ok and Cause are the probe's own outcome.
	Ok    bool
	Cause string
	// Changed reports that Result.Alive flipped.
	Changed bool
	// Kill reports that the task failed too many consecutive checks.
	Kill bool
}

// ProbeFunc runs one check; Probe is the default.
type ProbeFunc func(ctx context.Context, hc marathon.HealthCheck, host string, port int) (ok bool, cause string)

// Config configures a Runner. The zero value means defaults.
type Config struct {
	// Probe runs one check; nil means Probe.
	Probe ProbeFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Ticks wakes the Runner to start the checks that are due; nil means a
	// time.Ticker with Resolution.
	Ticks <-chan time.Time
	// Resolution is the period of the default ticker; 0 means 1s.
	Resolution time.Duration
	// MaxProbes bounds the probes in flight; 0 means 64.
	MaxProbes int
	Logger    *slog.Logger
}

// Validate reports invalid settings.
func (c Config) Validate() error {
	var errs []error
	if c.Resolution < 0 {
		errs = append(errs, errors.New("resolution must not be negative"))
	}
	if c.MaxProbes < 0 {
		errs = append(errs, errors.New("max probes must not be negative"))
	}
	return errors.Join(errs...)
}

// key names one check of one instance.
type key struct {
	instanceID string
	index      int
}

// entry is the schedule and state of one key, owned by the Run loop.
type entry struct {
	taskID    string
	host      string
	port      int
	hc        marathon.HealthCheck
	startedAt time.Time
	due       time.Time
	st        State
	// gen tells results of a replaced entry from the current one.
	gen  uint64
	busy bool
}

// outcome travels from a probe goroutine back to the Run loop.
type outcome struct {
	key   key
	gen   uint64
	ok    bool
	cause string
}

// Runner runs the health checks of a set of targets and reports results.
// One goroutine, Run, owns all state; Set may be called from anywhere.
type Runner struct {
	cfg     Config
	log     *slog.Logger
	sem     chan struct{}
	reports chan Report
	results chan outcome
	kick    chan struct{}

	mu      sync.Mutex
	pending []Target
	fresh   bool

	entries map[key]*entry
	gen     uint64
}

// New returns a Runner; call Run to start it.
func New(cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Probe == nil {
		cfg.Probe = Probe
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Resolution == 0 {
		cfg.Resolution = DefaultResolution
	}
	if cfg.MaxProbes == 0 {
		cfg.MaxProbes = DefaultMaxProbes
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		cfg:     cfg,
		log:     log.With("component", "health"),
		sem:     make(chan struct{}, cfg.MaxProbes),
		reports: make(chan Report, cfg.MaxProbes),
		results: make(chan outcome),
		kick:    make(chan struct{}, 1),
		entries: map[key]*entry{},
	}, nil
}

// Reports delivers a Report for every observed probe; it is closed when
// Run returns. The consumer must keep draining it: Run blocks on it.
func (r *Runner) Reports() <-chan Report { return r.reports }

// Set replaces the targets. Checks of removed targets stop; a target whose
// task, address or check changed starts over with a fresh State.
func (r *Runner) Set(targets []Target) {
	r.mu.Lock()
	r.pending, r.fresh = targets, true
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run checks the targets until ctx ends, then waits for the probes in
// flight and closes Reports. It returns ctx.Err().
func (r *Runner) Run(ctx context.Context) error {
	ticks := r.cfg.Ticks
	if ticks == nil {
		t := time.NewTicker(r.cfg.Resolution)
		defer t.Stop()
		ticks = t.C
	}
	var wg sync.WaitGroup
	defer close(r.reports)
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.kick:
			r.apply(r.cfg.Now())
		case <-ticks:
			// Apply a pending Set first, so that a tick after Set returns
			// never probes a removed target.
			now := r.cfg.Now()
			r.apply(now)
			r.dispatch(ctx, &wg, now)
		case o := <-r.results:
			r.observe(ctx, o, r.cfg.Now())
		}
	}
}

// apply replaces the entries with those of the pending targets, keeping
// the state of checks that did not change.
func (r *Runner) apply(now time.Time) {
	r.mu.Lock()
	targets, fresh := r.pending, r.fresh
	r.pending, r.fresh = nil, false
	r.mu.Unlock()
	if !fresh {
		return
	}
	next := make(map[key]*entry, len(r.entries))
	for _, t := range targets {
		for i, hc := range t.Checks {
			if !Runs(hc.Protocol) {
				continue
			}
			port, ok := checkPort(hc, t.Ports)
			if !ok {
				r.log.Debug("health check has no port", "task_id", t.TaskID, "check_index", i)
				continue
			}
			k := key{t.InstanceID, i}
			if old := r.entries[k]; old != nil && old.taskID == t.TaskID && old.host == t.Host &&
				old.port == port && reflect.DeepEqual(old.hc, hc) {
				next[k] = old
				continue
			}
			started := t.StartedAt
			if started.IsZero() {
				started = now
			}
			r.gen++
			var st State
			if i < len(t.States) {
				st = t.States[i]
			}
			next[k] = &entry{
				st:        st,
				taskID:    t.TaskID,
				host:      t.Host,
				port:      port,
				hc:        hc,
				startedAt: started,
				due:       started.Add(seconds(hc.DelaySeconds)),
				gen:       r.gen,
			}
		}
	}
	r.entries = next
}

// dispatch starts the checks that are due and not in flight.
func (r *Runner) dispatch(ctx context.Context, wg *sync.WaitGroup, now time.Time) {
	for k, e := range r.entries {
		if e.busy || e.due.After(now) {
			continue
		}
		e.busy = true
		interval := seconds(e.hc.IntervalSeconds)
		if interval <= 0 {
			interval = seconds(marathon.DefaultIntervalSeconds)
		}
		e.due = now.Add(interval)
		wg.Add(1)
		go r.probe(ctx, wg, k, *e)
	}
}

// probe runs one check under the semaphore and hands the outcome back.
func (r *Runner) probe(ctx context.Context, wg *sync.WaitGroup, k key, e entry) {
	defer wg.Done()
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	ok, cause := r.cfg.Probe(ctx, e.hc, e.host, e.port)
	<-r.sem
	select {
	case r.results <- outcome{key: k, gen: e.gen, ok: ok, cause: cause}:
	case <-ctx.Done():
	}
}

// observe folds an outcome into its entry and reports it; outcomes of
// removed or replaced entries are dropped.
func (r *Runner) observe(ctx context.Context, o outcome, now time.Time) {
	e := r.entries[o.key]
	if e == nil || e.gen != o.gen {
		return
	}
	e.busy = false
	if !o.ok && o.cause == IgnoredCause {
		return
	}
	var changed, kill bool
	e.st, changed, kill = e.st.Observe(o.ok, o.cause, now, e.startedAt, e.hc)
	res := e.st.Result(o.key.instanceID)
	rep := Report{
		InstanceID: o.key.instanceID, TaskID: e.taskID, CheckIndex: o.key.index, Result: res, State: e.st,
		Ok: o.ok, Cause: o.cause, Changed: changed, Kill: kill,
	}
	select {
	case r.reports <- rep:
	case <-ctx.Done():
	}
}

// checkPort resolves a check's port: port, else ports[portIndex], else
// ports[0].
func checkPort(hc marathon.HealthCheck, ports []int) (int, bool) {
	if hc.Port != nil {
		return *hc.Port, true
	}
	i := 0
	if hc.PortIndex != nil {
		i = *hc.PortIndex
	}
	if i < 0 || i >= len(ports) {
		return 0, false
	}
	return ports[i], true
}

func seconds(s int) time.Duration { return time.Duration(s) * time.Second }
