package wrapper

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/stadionhq/stadion/internal/backoff"
)

// watcher follows the prefix with blocking queries and acts on changes:
// one restart through the scheduler per change, or a restart in place.
// One goroutine (run) owns its state; a second one (read) only queries
// Consul and hands over the newest snapshot.
type watcher struct {
	cfg    Config
	reader *prefixReader
	coord  *coordinator // nil unless RestartScheduler
	log    *slog.Logger
	// local receives the snapshots the command must be restarted with
	// in place; the supervisor owns the command.
	local chan<- Snapshot

	// running is the KV the command runs with; stale says that it came
	// from the cache rather than from Consul.
	running Snapshot
	stale   bool
	// taskVersion is the app version this task was launched with
	// (MARATHON_APP_VERSION), empty when unknown.
	taskVersion string
	// handled is the StateID of the last state acted on.
	handled string
	// cached is the Digest of the snapshot in the cache file.
	cached string

	pending            *Snapshot
	minT, maxT, splayT *time.Timer
	minC, maxC, splayC <-chan time.Time
	readFinished       chan error
}

// run watches until ctx ends. It returns an error only when it failed for
// good (a panic); the command keeps running then.
func (w *watcher) run(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("kv watcher panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("kv watcher panicked: %v", p)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer w.stopTimers()

	snaps := make(chan Snapshot, 1)
	w.readFinished = make(chan error, 1)
	// A stale start begins with a plain read: the cached index may
	// belong to another life of the Consul cluster.
	from := w.running.Index
	if w.stale {
		from = 0
	}
	go func() { w.readFinished <- w.read(ctx, from, snaps) }()

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.readFinished:
			return err
		case s := <-snaps:
			w.observe(s)
		case <-w.minC:
			w.quiet()
		case <-w.maxC:
			w.quiet()
		case <-w.splayC:
			w.splayC = nil
			if err := w.act(ctx); err != nil {
				return nil // ctx ended
			}
		}
	}
}

// read runs blocking queries from index on and hands each new snapshot to
// out, replacing one not yet taken: only the newest matters. It retries
// with backoff while Consul is unreachable.
func (w *watcher) read(ctx context.Context, index uint64, out chan Snapshot) (err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("kv reader panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("kv reader panicked: %v", p)
		}
	}()
	b := backoff.New(w.cfg.RetryMin, w.cfg.RetryMax)
	failing := false
	for ctx.Err() == nil {
		s, err := w.reader.list(ctx, index)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d := b.Next()
			w.log.Warn("watch consul kv failed; retrying", "error", err, "retry_in", d)
			failing = true
			// Consul may come back rebuilt, with lower indexes
			// that a blocking query would wait out: read plainly
			// first.
			index = 0
			if backoff.Sleep(ctx, d) != nil {
				return nil
			}
			continue
		}
		b.Reset()
		if failing {
			w.log.Info("consul kv reachable again", "index", s.Index)
			failing = false
		}
		if s.Index == index {
			continue // the wait ended without a change
		}
		// An index that went backwards means a rebuilt Consul: the
		// answer is still the current content, and the next query
		// blocks from the new index.
		index = s.Index
		select {
		case out <- s:
		default:
			select {
			case <-out:
			default:
			}
			out <- s
		}
	}
	return nil
}

// observe takes a new snapshot: it refreshes the cache and starts the
// quiescence when the configuration differs from the running one.
func (w *watcher) observe(s Snapshot) {
	w.log.Debug("kv read", "index", s.Index, "keys", len(s.Pairs))
	w.saveCache(s)
	digest := s.Digest()
	if digest == w.running.Digest() {
		if w.stale {
			w.log.Info("consul kv matches the cached environment", "index", s.Index)
			w.stale = false
		}
		if w.pending != nil {
			w.log.Debug("kv back to the running configuration", "index", s.Index)
			w.pending = nil
			w.stopTimers()
		}
		return
	}
	if s.StateID() == w.handled {
		return
	}
	first := w.pending == nil
	w.pending = &s
	if first {
		w.log.Info("kv changed", "index", s.Index, "keys", len(s.Pairs))
	}
	for _, p := range s.Pairs {
		w.log.Debug("kv key", "key", p.Key, "modify_index", p.ModifyIndex)
	}
	w.stopTimer(&w.splayT, &w.splayC)
	if w.cfg.WaitMin == 0 {
		w.quiet()
		return
	}
	w.stopTimer(&w.minT, &w.minC)
	w.minT = time.NewTimer(w.cfg.WaitMin)
	w.minC = w.minT.C
	if w.maxT == nil {
		w.maxT = time.NewTimer(w.cfg.WaitMax)
		w.maxC = w.maxT.C
	}
}

// quiet is called once the KV has been still long enough: it draws the
// splay.
func (w *watcher) quiet() {
	w.stopTimer(&w.minT, &w.minC)
	w.stopTimer(&w.maxT, &w.maxC)
	d := time.Duration(0)
	if w.cfg.Splay > 0 {
		d = rand.N(w.cfg.Splay)
		w.log.Debug("waiting for the splay", "splay", d)
	}
	w.splayT = time.NewTimer(d)
	w.splayC = w.splayT.C
}

// act handles the pending change. It returns an error only when ctx ended.
func (w *watcher) act(ctx context.Context) error {
	if w.pending == nil {
		return nil
	}
	s := *w.pending
	w.pending = nil
	if w.cfg.RestartMode == RestartLocal {
		return w.restartLocal(ctx, s, "kv changed")
	}
	out, m, err := w.coord.restartOnce(ctx, s)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w.handled = s.StateID()
	switch {
	case err != nil:
		w.log.Error("scheduler refused the restart", "app_id", w.cfg.App, "index", s.Index, "error", err)
	case out == requested:
		w.log.Info("rolling restart requested", "app_id", w.cfg.App, "index", s.Index, "deployment_id", m.DeploymentID, "version", m.AppVersion)
	case w.stale && !launchedBefore(w.taskVersion, m.AppVersion):
		// The restart that covers this change was asked before this
		// task started, with a stale environment: it will not
		// replace this task, so restart the command here.
		return w.restartLocal(ctx, s, "restart by another instance predates this task")
	default:
		if m.Error != "" {
			w.log.Warn("another instance's restart request failed", "app_id", w.cfg.App, "index", s.Index, "by", m.By, "error", m.Error)
			return nil
		}
		w.log.Info("rolling restart already requested by another instance", "app_id", w.cfg.App, "index", s.Index, "by", m.By, "deployment_id", m.DeploymentID)
	}
	return nil
}

// launchedBefore reports whether a task of app version task was launched
// before the restart that created version restart, both Marathon
// timestamps. Unknown versions give false: a stale task restarts itself
// rather than keep an environment nobody will replace.
func launchedBefore(task, restart string) bool {
	tt, err1 := time.Parse(time.RFC3339Nano, task)
	rt, err2 := time.Parse(time.RFC3339Nano, restart)
	return err1 == nil && err2 == nil && tt.Before(rt)
}

// restartLocal asks the supervisor to restart the command with s.
func (w *watcher) restartLocal(ctx context.Context, s Snapshot, why string) error {
	w.log.Info("restarting the command in place", "reason", why, "index", s.Index)
	select {
	case w.local <- s:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.running, w.stale, w.handled = s, false, s.StateID()
	return nil
}

// saveCache keeps the snapshot for a later start while Consul is down.
func (w *watcher) saveCache(s Snapshot) {
	if !w.cfg.AllowStale {
		return
	}
	digest := s.Digest()
	if digest == w.cached {
		return
	}
	if err := saveCache(w.cfg.CacheFile, w.cfg.Prefix, s); err != nil {
		w.log.Warn("save environment cache failed", "path", w.cfg.CacheFile, "error", err)
		return
	}
	w.cached = digest
}

func (w *watcher) stopTimers() {
	w.stopTimer(&w.minT, &w.minC)
	w.stopTimer(&w.maxT, &w.maxC)
	w.stopTimer(&w.splayT, &w.splayC)
}

func (w *watcher) stopTimer(t **time.Timer, c *<-chan time.Time) {
	if *t != nil {
		(*t).Stop()
	}
	*t, *c = nil, nil
}
