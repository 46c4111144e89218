package registrator

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/backoff"
	"github.com/stadionhq/stadion/internal/marathon"
)

// EventTypes are the events the registrator follows: each may change what
// is registered or a check's status.
var EventTypes = []marathon.EventType{
	marathon.EventStatusUpdate,
	marathon.EventHealthStatusChanged,
	marathon.EventUnhealthyInstanceKill,
	marathon.EventAppTerminated,
	marathon.EventDeploymentSuccess,
	marathon.EventDeploymentFailed,
	marathon.EventPodCreated,
	marathon.EventPodUpdated,
	marathon.EventPodDeleted,
	marathon.EventInstanceChanged,
}

// Scheduler is what the loop needs of the scheduler; *Client is one.
type Scheduler interface {
	Apps(ctx context.Context) (Snapshot, error)
	Follow(ctx context.Context, types []marathon.EventType, out chan<- Notice) error
}

var _ Scheduler = (*Client)(nil)

// Registry is where registrations live: a Consul agent or the catalog.
type Registry interface {
	// List returns the owned services (and catalog nodes).
	List(ctx context.Context) (Current, error)
	// Apply carries out a plan, as much of it as it can: a failed call
	// does not stop the others. It returns the failures joined.
	Apply(ctx context.Context, p Plan) error
	// Refresh sets the status checks again, so that their TTL does not
	// run out.
	Refresh(ctx context.Context, checks []StatusUpdate) error
}

// Run keeps Consul in step with the scheduler until ctx ends; it returns
// nil then. It returns an error at once for a bad Config, and when the
// loop panics.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	client, err := NewClient(cfg.clientConfig())
	if err != nil {
		return err
	}
	consul, err := NewConsulClient(cfg.Consul)
	if err != nil {
		return err
	}
	return newLoop(cfg, client, consul).run(ctx)
}

// loop is the registrator's one goroutine that owns its state: it selects
// on the scheduler's events, Consul's watch, the resync and TTL tickers
// and its retry timer, and runs a pass when something asks for one.
type loop struct {
	cfg       Config
	log       *slog.Logger
	scheduler Scheduler
	consul    *api.Client
	registry  Registry
	watch     blockingQuery

	hosts   []string  // agent mode: this host's names, once known
	last    *Snapshot // the last snapshot read
	stale   bool      // the last read failed: last is kept, nothing is removed
	applied Desired   // the last desired state applied

	needFetch bool // a pass must read a new snapshot
	needSync  bool // a pass must compare with Consul, with the last snapshot at least

	retry     *backoff.Backoff
	lastFetch time.Time // when the last snapshot read started
	wake      *alarm    // the next snapshot read
	expects   expectations
	skips     map[string]bool // skips already logged
}

func newLoop(cfg Config, scheduler Scheduler, consul *api.Client) *loop {
	log := cfg.Logger.With("component", "registrator")
	l := &loop{cfg: cfg, log: log, scheduler: scheduler, consul: consul, retry: backoff.New(cfg.RetryMin, cfg.RetryMax), skips: map[string]bool{}}
	switch cfg.Mode {
	case ModeCatalog:
		l.registry = &catalogRegistry{c: consul, owner: cfg.Owner, log: log}
		l.watch = catalogWatch(consul, cfg.Owner)
	default:
		l.registry = &agentRegistry{c: consul, owner: cfg.Owner, log: log}
		l.watch = agentWatch(consul)
		l.hosts = cfg.Hostnames
	}
	if cfg.DryRun {
		l.registry = dryRun{Registry: l.registry, log: log}
	}
	return l
}

func (l *loop) run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	defer recoverLoop(l.log, &err)

	notices := make(chan Notice, 256)
	kicks := make(chan struct{}, 1)
	wg.Go(func() { _ = l.scheduler.Follow(ctx, EventTypes, notices) })
	wg.Go(func() { watchConsul(ctx, l.watch, kicks, backoff.New(l.cfg.RetryMin, l.cfg.RetryMax), l.log) })

	resync := time.NewTicker(l.cfg.ResyncInterval)
	defer resync.Stop()
	ttl := time.NewTicker(l.cfg.TTL / 3)
	defer ttl.Stop()
	l.wake = newAlarm()
	defer l.wake.clear()

	l.log.Info("registrator started", "mode", l.cfg.Mode, "health", l.cfg.Health, "owner", l.cfg.Owner,
		"consul", consulAddress(l.cfg.Consul), "schedulers", redactAll(l.cfg.Schedulers), "dry_run", l.cfg.DryRun)
	l.needFetch = true // the initial full sync
	for {
		l.step(ctx)
		select {
		case <-ctx.Done():
			l.log.Info("registrator stopped")
			return nil
		case n := <-notices:
			l.handleNotice(n)
		case <-kicks:
			l.needSync = true
		case <-resync.C:
			l.log.Debug("periodic resync")
			l.needFetch = true
		case <-l.wake.C():
			l.wake.fired()
			l.needFetch = true
		case <-ttl.C:
			l.refresh(ctx)
		}
		drain(notices, kicks, l.handleNotice, func() { l.needSync = true })
	}
}

// step runs a pass when one is asked for; a snapshot read comes no sooner
// than MinFetchInterval after the previous one (so that a burst of events,
// times every registrator of a cluster, does not flood the scheduler with
// full reads), and waits for it otherwise.
func (l *loop) step(ctx context.Context) {
	if l.needFetch {
		if wait := l.cfg.MinFetchInterval - time.Since(l.lastFetch); wait > 0 {
			l.wake.in(wait)
			return
		}
	}
	if l.needFetch || l.needSync {
		l.pass(ctx)
	}
}

// handleNotice asks for a snapshot after a (re)connection of the stream
// (events may have been missed) and after every event that may change
// what is registered.
func (l *loop) handleNotice(n Notice) {
	if n.Connected {
		l.needFetch = true
		return
	}
	l.log.Debug("scheduler event", "event", n.Event.Type())
	if l.appInstance(n.Event) {
		return // its status_update_event asks for the snapshot
	}
	if l.expects.add(n.Event, time.Now()) {
		l.needFetch = true
	}
}

// appInstance reports an instance_changed_event of an app of the last
// snapshot: the registrator follows that event for pod instances, which
// have no status_update_event.
func (l *loop) appInstance(ev marathon.Event) bool {
	e, ok := ev.(*marathon.InstanceChangedEvent)
	if !ok || l.last == nil {
		return false
	}
	for _, a := range l.last.Apps {
		if a.ID == e.RunSpecID {
			return true
		}
	}
	return false
}

// pass reads a snapshot when asked, computes the wanted registrations,
// compares them with Consul and applies the difference. A failed read
// keeps the last snapshot, and then nothing is deregistered. Any failure
// schedules a retry with backoff.
func (l *loop) pass(ctx context.Context) {
	fetch := l.needFetch
	l.needFetch, l.needSync = false, false
	fetched := false
	if fetch {
		l.lastFetch = time.Now()
		snap, err := l.scheduler.Apps(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.log.Warn("reading the scheduler failed, keeping the last view", "error", err)
			l.stale = true
		} else {
			l.last, l.stale, fetched = &snap, false, true
		}
	}
	if l.last == nil {
		l.fail()
		return
	}
	// Consul's client has no timeout of its own: a hung agent must not
	// hang the loop.
	cctx, cancel := context.WithTimeout(ctx, l.cfg.RequestTimeout)
	defer cancel()
	if l.cfg.Mode == ModeAgent && len(l.hosts) == 0 {
		hosts, err := localHosts(cctx, l.consul)
		if err != nil {
			l.log.Warn("reading the consul agent failed", "error", err)
			l.fail()
			return
		}
		l.hosts = hosts
		l.log.Info("registering the tasks of this host", "hosts", hosts)
	}
	want := Compute(*l.last, l.cfg.options(l.hosts))
	l.logSkips(want.Skipped)
	cur, err := l.registry.List(cctx)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("reading consul failed", "error", err)
			l.fail()
		}
		return
	}
	plan := Diff(want, cur)
	if l.stale {
		// Keep the last good view: register and update, never remove.
		plan.Deregister, plan.DeregisterNodes, plan.StaleChecks = nil, nil, nil
	}
	l.log.Debug("pass", "fetched", fetched, "services", len(want.Services), "registered", len(cur.Services),
		"register", len(plan.Register), "update", len(plan.Update), "seed", len(plan.Seed), "deregister", len(plan.Deregister))
	err = l.registry.Apply(cctx, plan)
	l.applied = want
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("updating consul failed", "error", err)
			l.fail()
		}
		return
	}
	if l.stale {
		l.fail() // read the scheduler again
		return
	}
	l.succeeded(fetched)
}

// fail schedules a full pass after the next backoff delay.
func (l *loop) fail() {
	l.wake.in(l.retry.Next())
}

// succeeded resets the backoff and schedules the next snapshot while
// events announced something the snapshot does not show yet.
func (l *loop) succeeded(fetched bool) {
	l.retry.Reset()
	if !fetched {
		return
	}
	l.wake.clear()
	if d, pending := l.expects.check(*l.last, time.Now()); pending {
		l.wake.in(d)
	}
}

// refresh sets the status checks again before their TTL runs out.
func (l *loop) refresh(ctx context.Context) {
	if refreshStatusChecks(ctx, l.registry, l.applied, l.cfg.RequestTimeout, l.log) {
		l.needSync = true
	}
}

// logSkips logs each skipped task or app once while it stays skipped.
func (l *loop) logSkips(skips []Skip) {
	seen := map[string]bool{}
	for _, s := range skips {
		key := string(s.AppID) + "\x00" + s.TaskID + "\x00" + s.Err.Error()
		seen[key] = true
		if !l.skips[key] {
			l.log.Warn("skipping a task the registrator cannot use, keeping its registrations", "app_id", s.AppID, "task_id", s.TaskID, "error", s.Err)
		}
	}
	l.skips = seen
}

func redactAll(urls []string) []string {
	out := slices.Clone(urls)
	for i, u := range out {
		out[i] = redact(u)
	}
	return out
}
