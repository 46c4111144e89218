package registrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/backoff"
	"github.com/stadionhq/stadion/internal/docker"
)

// Engine is what the Docker source needs of the engine; *docker.Client is
// one.
type Engine interface {
	Containers(ctx context.Context, all bool) ([]docker.ContainerSummary, error)
	Inspect(ctx context.Context, id string) (docker.Container, error)
	Events(ctx context.Context, filters map[string][]string, connected func(), fn func(docker.Event)) error
}

var _ Engine = (*docker.Client)(nil)

// dockerEventFilters are the events that may change what a host
// registers: container life, health, names and network attachments.
var dockerEventFilters = map[string][]string{
	"type": {"container", "network"},
	"event": {"start", "restart", "die", "kill", "stop", "destroy", "pause", "unpause", "rename", "update",
		"health_status", "connect", "disconnect"},
}

// RunDocker keeps Consul in step with the containers of the Docker engine
// until ctx ends; it returns nil then. It returns an error at once for a
// bad DockerConfig, when Consul does not answer within the start-up
// retries, and when the loop panics.
func RunDocker(ctx context.Context, cfg DockerConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	consul, err := NewConsulClient(cfg.Consul)
	if err != nil {
		return err
	}
	if err := waitForConsul(ctx, consul, cfg); err != nil {
		return err
	}
	return newDockerLoop(cfg, docker.NewClient(cfg.DockerHost), consul).run(ctx)
}

// waitForConsul asks Consul for its leader RetryAttempts+1 times at most,
// RetryInterval apart (gliderlabs's start-up check); it does not ask when
// RetryAttempts is negative.
func waitForConsul(ctx context.Context, consul *api.Client, cfg DockerConfig) error {
	if cfg.RetryAttempts < 0 {
		return nil
	}
	var err error
	for attempt := 0; attempt <= cfg.RetryAttempts; attempt++ {
		if attempt > 0 {
			if backoff.Sleep(ctx, cfg.RetryInterval) != nil {
				return ctx.Err()
			}
		}
		cctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
		_, err = consul.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(cctx))
		cancel()
		if err == nil {
			return nil
		}
		cfg.Logger.Warn("consul not answering", "attempt", attempt+1, "error", err)
	}
	return fmt.Errorf("registrator: consul at %s: %w", consulAddress(cfg.Consul), err)
}

// dockerNotice is what the event follower reports: a (re)connection, after
// which events may have been missed, or one event.
type dockerNotice struct {
	connected bool
	event     docker.Event
}

// dockerLoop is the Docker source's one goroutine that owns its state: it
// selects on the engine's events, Consul's watch, the resync and TTL
// tickers and its timer, and runs a pass when something asks for one.
type dockerLoop struct {
	cfg      DockerConfig
	log      *slog.Logger
	engine   Engine
	consul   *api.Client
	registry Registry
	watch    blockingQuery
	opts     DockerOptions

	containers map[string]docker.Container // the inspected containers by id
	stopping   map[string]time.Time        // asked to stop: gone until then
	dirty      map[string]bool             // containers to inspect again
	failed     map[string]bool             // inspections that failed: again at the retry
	listed     bool                        // a full list has succeeded
	stale      bool                        // the last read failed: nothing is removed
	applied    Desired

	needList, needSync bool

	retry *backoff.Backoff
	wake  *alarm
	skips map[string]bool
}

func newDockerLoop(cfg DockerConfig, engine Engine, consul *api.Client) *dockerLoop {
	log := cfg.Logger.With("component", "registrator", "source", SourceDocker)
	l := &dockerLoop{
		cfg: cfg, log: log, engine: engine, consul: consul,
		containers: map[string]docker.Container{}, stopping: map[string]time.Time{}, dirty: map[string]bool{}, failed: map[string]bool{},
		retry: backoff.New(cfg.RetryMin, cfg.RetryMax), skips: map[string]bool{},
	}
	if cfg.KVPrefix != "" {
		l.registry = &kvRegistry{c: consul, prefix: cfg.KVPrefix, flags: kvFlags(cfg.Owner, cfg.Hostname), log: log}
		l.watch = kvWatch(consul, cfg.KVPrefix)
	} else {
		l.registry = &agentRegistry{c: consul, owner: cfg.Owner, source: SourceDocker, host: cfg.Hostname, log: log}
		l.watch = agentWatch(consul)
	}
	if cfg.DryRun {
		l.registry = dryRun{Registry: l.registry, log: log}
	}
	return l
}

func (l *dockerLoop) run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	defer recoverLoop(l.log, &err)
	l.opts = l.cfg.options(l.cfg.hostIP(l.log))

	notices := make(chan dockerNotice, 256)
	kicks := make(chan struct{}, 1)
	// The events are followed before the first list, so that no start
	// between the two is missed.
	wg.Go(func() { followDocker(ctx, l.engine, notices, backoff.New(l.cfg.RetryMin, l.cfg.RetryMax), l.log) })
	wg.Go(func() { watchConsul(ctx, l.watch, kicks, backoff.New(l.cfg.RetryMin, l.cfg.RetryMax), l.log) })

	resync := time.NewTicker(l.cfg.ResyncInterval)
	defer resync.Stop()
	ttl := time.NewTicker(l.cfg.TTLRefresh)
	defer ttl.Stop()
	l.wake = newAlarm()
	defer l.wake.clear()

	l.log.Info("registrator started", "docker", l.cfg.DockerHost, "consul", consulAddress(l.cfg.Consul), "kv_prefix", l.cfg.KVPrefix,
		"hostname", l.opts.Hostname, "host_ip", l.opts.HostIP, "internal", l.opts.Internal, "owner", l.opts.Owner, "dry_run", l.cfg.DryRun)
	for {
		if l.needList || l.needSync || len(l.dirty) > 0 {
			l.pass(ctx)
		}
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
			l.needList = true
		case <-l.wake.C():
			l.woken()
		case <-ttl.C:
			l.refresh(ctx)
		}
		drain(notices, kicks, l.handleNotice, func() { l.needSync = true })
	}
}

// followDocker reads the engine's event stream until ctx ends, and opens
// it again after a capped, jittered backoff when it fails or ends (a
// restarted engine).
func followDocker(ctx context.Context, engine Engine, out chan<- dockerNotice, b *backoff.Backoff, log *slog.Logger) {
	send := func(n dockerNotice) {
		select {
		case out <- n:
		case <-ctx.Done():
		}
	}
	for ctx.Err() == nil {
		start := time.Now()
		err := engine.Events(ctx, dockerEventFilters,
			func() { send(dockerNotice{connected: true}) },
			func(e docker.Event) { send(dockerNotice{event: e}) })
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) >= resetAfter {
			b.Reset()
		}
		d := b.Next()
		log.Warn("docker event stream lost, reconnecting", "error", err, "retry_in", d)
		_ = backoff.Sleep(ctx, d)
	}
}

// handleNotice lists every container after a (re)connection of the event
// stream, and inspects again the container of an event.
func (l *dockerLoop) handleNotice(n dockerNotice) {
	if n.connected {
		l.log.Info("following the docker events")
		l.needList = true
		return
	}
	e := n.event
	id := e.Actor.ID
	if e.Type == "network" {
		id = e.Actor.Attributes["container"]
	}
	if id == "" {
		return
	}
	action, _, _ := strings.Cut(e.Action, ":") // "health_status: healthy"
	l.log.Debug("docker event", "event", e.Action, "container_id", id)
	c, known := l.containers[id]
	switch action {
	case "kill":
		if l.terminating(id, e.Actor.Attributes["signal"]) {
			l.stopping[id] = time.Now().Add(l.stopGrace(id))
			l.needSync = true
		}
	case "start", "restart", "unpause":
		delete(l.stopping, id)
		l.dirty[id] = true
	case "die":
		// The event says all there is to know, and an inspection now
		// waits for the engine to tear the container down (hundreds of
		// milliseconds): its services go at once.
		if known {
			c.State.Running, c.State.Status = false, "exited"
			c.State.ExitCode, _ = strconv.Atoi(e.Actor.Attributes["exitCode"])
			l.containers[id] = c
			delete(l.stopping, id)
			l.needSync = true
		}
	case "destroy":
		delete(l.containers, id)
		delete(l.stopping, id)
		delete(l.dirty, id)
		l.needSync = true
	default:
		// A stopped container's network detaches and its stop event
		// follows: nothing to read until it starts again.
		if !known || c.State.Running {
			l.dirty[id] = true
		}
	}
}

// terminating reports whether a signal sent to a container asks it to
// stop: TERM, INT, QUIT, KILL or its own stop signal. Its services go at
// once, before it stops answering (gliderlabs waits for the die event).
func (l *dockerLoop) terminating(id, signal string) bool {
	s := strings.TrimPrefix(strings.ToUpper(signal), "SIG")
	switch s {
	case "15", "TERM", "2", "INT", "3", "QUIT", "9", "KILL":
		return true
	}
	c, ok := l.containers[id]
	return ok && s != "" && strings.TrimPrefix(strings.ToUpper(c.Config.StopSignal), "SIG") == s
}

// stopGrace is how long a container asked to stop counts as gone: its
// stop timeout and a margin; if it still runs after that, it comes back.
func (l *dockerLoop) stopGrace(id string) time.Duration {
	if c, ok := l.containers[id]; ok && c.Config.StopTimeout != nil && *c.Config.StopTimeout >= 0 {
		return time.Duration(*c.Config.StopTimeout)*time.Second + 5*time.Second
	}
	return DefaultStopGrace
}

// woken runs at the timer: a retry, or a container asked to stop that
// outlived its grace (inspected again).
func (l *dockerLoop) woken() {
	l.wake.fired()
	now := time.Now()
	for id, until := range l.stopping {
		if !now.Before(until) {
			delete(l.stopping, id)
			l.dirty[id] = true
		}
	}
	for id := range l.failed {
		l.dirty[id] = true
	}
	clear(l.failed)
	l.needSync = true
	if !l.listed || l.stale {
		l.needList = true
	}
}

// pass reads what changed in the engine, computes the wanted
// registrations, compares them with Consul and applies the difference. A
// failed read keeps the last view, and then nothing is deregistered; any
// failure schedules a retry with backoff.
func (l *dockerLoop) pass(ctx context.Context) {
	l.needSync = false
	cctx, cancel := context.WithTimeout(ctx, l.cfg.RequestTimeout)
	defer cancel()
	readErr := l.read(cctx)
	if readErr != nil {
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("reading docker failed, keeping the last view", "error", readErr)
	}
	if !l.listed {
		l.fail()
		return
	}
	want := ComputeDocker(DockerView{Containers: l.view(), Stopping: l.stopping}, l.opts, time.Now())
	l.logSkips(want.Skipped)
	if l.cfg.KVPrefix != "" {
		want = kvDesired(want)
	}
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
		plan.Deregister = nil // keep the last good view
	}
	l.log.Debug("pass", "containers", len(l.containers), "services", len(want.Services), "registered", len(cur.Services),
		"register", len(plan.Register), "update", len(plan.Update), "deregister", len(plan.Deregister))
	err = l.registry.Apply(cctx, plan)
	l.applied = want
	switch {
	case err != nil && ctx.Err() == nil:
		l.log.Warn("updating consul failed", "error", err)
		l.fail()
	case readErr != nil:
		l.fail()
	default:
		l.retry.Reset()
		l.wakeForStopping()
	}
}

// read lists every container when asked, then inspects the containers
// that events named (all of them after a list). A container the engine
// no longer knows is dropped; one it failed to inspect stays as it was
// and is inspected again at the retry.
func (l *dockerLoop) read(ctx context.Context) error {
	if l.needList {
		all := l.cfg.Deregister == DeregisterOnSuccess
		l.needList = false // on failure, listed again at the retry (stale)
		list, err := l.engine.Containers(ctx, all)
		if err != nil {
			l.stale = true
			return err
		}
		present := map[string]bool{}
		for _, s := range list {
			if all && s.State != "running" && s.State != "paused" && s.State != "restarting" && s.State != "exited" {
				continue
			}
			present[s.ID] = true
			l.dirty[s.ID] = true
		}
		for id := range l.containers {
			if !present[id] {
				delete(l.containers, id)
			}
		}
		l.listed, l.stale = true, false
	}
	var errs []error
	for id := range l.dirty {
		c, err := l.engine.Inspect(ctx, id)
		switch {
		case docker.IsNotFound(err):
			delete(l.containers, id)
			delete(l.stopping, id)
		case err != nil:
			errs = append(errs, err)
			l.failed[id] = true // inspected again after the backoff
		default:
			l.containers[id] = c
			if !c.State.Running {
				delete(l.stopping, id)
			}
		}
		delete(l.dirty, id)
	}
	if len(errs) > 0 {
		l.stale = true
		return errors.Join(errs...)
	}
	return nil
}

// view is the inspected containers.
func (l *dockerLoop) view() []docker.Container {
	out := make([]docker.Container, 0, len(l.containers))
	for _, c := range l.containers {
		out = append(out, c)
	}
	return out
}

// fail schedules a pass after the next backoff delay.
func (l *dockerLoop) fail() { l.wake.in(l.retry.Next()) }

// wakeForStopping wakes the loop when the first stopping container's
// grace ends.
func (l *dockerLoop) wakeForStopping() {
	now := time.Now()
	for _, until := range l.stopping {
		l.wake.in(max(until.Sub(now), 0))
	}
}

// refresh sets the HEALTHCHECK mirror checks again before their TTL runs
// out.
func (l *dockerLoop) refresh(ctx context.Context) {
	if refreshStatusChecks(ctx, l.registry, l.applied, l.cfg.RequestTimeout, l.log) {
		l.needSync = true
	}
}

// logSkips logs each skipped container once while it stays skipped.
func (l *dockerLoop) logSkips(skips []Skip) {
	seen := map[string]bool{}
	for _, s := range skips {
		key := s.Container + "\x00" + s.Err.Error()
		seen[key] = true
		if !l.skips[key] {
			l.log.Warn("skipping a container port the registrator cannot use, keeping its registrations", "container_id", s.Container, "error", s.Err)
		}
	}
	l.skips = seen
}
