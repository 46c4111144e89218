package wrapper

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestWatcherObserve(t *testing.T) {
	running := snapshot(5, pair("a", "1", 5))
	changed := snapshot(7, pair("a", "2", 7))
	tests := []struct {
		name    string
		wait    time.Duration
		stale   bool
		handled string
		seen    []Snapshot
		pending *Snapshot
		quiet   bool // the quiescence timers run
		splay   bool // the splay timer runs
		stale2  bool
	}{
		{name: "same content written again", seen: []Snapshot{snapshot(7, pair("a", "1", 7))}},
		{name: "another index only", seen: []Snapshot{snapshot(9, pair("a", "1", 5))}},
		{name: "change waits for quiescence", wait: time.Minute, seen: []Snapshot{changed}, pending: &changed, quiet: true},
		{name: "change without quiescence goes to the splay", seen: []Snapshot{changed}, pending: &changed, splay: true},
		{name: "change and back", wait: time.Minute, seen: []Snapshot{changed, snapshot(9, pair("a", "1", 9))}},
		{name: "state already handled", handled: changed.StateID(), seen: []Snapshot{changed}},
		{name: "stale start confirmed", stale: true, seen: []Snapshot{snapshot(3, pair("a", "1", 2))}},
		{name: "stale start differs", stale: true, seen: []Snapshot{changed}, pending: &changed, splay: true, stale2: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &watcher{
				cfg:     Config{WaitMin: tc.wait, WaitMax: tc.wait},
				log:     slog.New(slog.DiscardHandler),
				running: running,
				stale:   tc.stale,
				handled: tc.handled,
			}
			defer w.stopTimers()
			for _, s := range tc.seen {
				w.observe(s)
			}
			if (w.pending == nil) != (tc.pending == nil) || (w.pending != nil && w.pending.Index != tc.pending.Index) {
				t.Errorf("pending %+v, want %+v", w.pending, tc.pending)
			}
			if got := w.minC != nil && w.maxC != nil; got != tc.quiet {
				t.Errorf("quiescence running %v, want %v", got, tc.quiet)
			}
			if got := w.splayC != nil; got != tc.splay {
				t.Errorf("splay running %v, want %v", got, tc.splay)
			}
			if w.stale != tc.stale2 {
				t.Errorf("stale %v, want %v", w.stale, tc.stale2)
			}
		})
	}
}

// TestWatcherQuiescence checks that changes in a burst restart the
// quiescence, and that the maximum wait ends it anyway.
func TestWatcherQuiescence(t *testing.T) {
	w := &watcher{
		cfg:     Config{WaitMin: time.Hour, WaitMax: 2 * time.Hour},
		log:     slog.New(slog.DiscardHandler),
		running: snapshot(5, pair("a", "1", 5)),
	}
	defer w.stopTimers()
	w.observe(snapshot(6, pair("a", "2", 6)))
	maxT := w.maxT
	w.observe(snapshot(7, pair("a", "3", 7)))
	if w.maxT != maxT {
		t.Error("a second change restarted the maximum wait")
	}
	if w.pending.Index != 7 {
		t.Errorf("pending index %d, want the newest 7", w.pending.Index)
	}
	w.quiet()
	if w.minC != nil || w.maxC != nil || w.splayC == nil {
		t.Error("quiet did not hand over to the splay")
	}
}

func TestWatcherActLocal(t *testing.T) {
	local := make(chan Snapshot, 1)
	changed := snapshot(7, pair("a", "2", 7))
	w := &watcher{
		cfg:     Config{RestartMode: RestartLocal},
		log:     slog.New(slog.DiscardHandler),
		local:   local,
		running: snapshot(5, pair("a", "1", 5)),
		stale:   true,
		pending: &changed,
	}
	if err := w.act(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-local:
		if got.Index != 7 {
			t.Errorf("restart with index %d, want 7", got.Index)
		}
	default:
		t.Fatal("no restart in place was asked")
	}
	if w.running.Index != 7 || w.stale || w.pending != nil || w.handled != changed.StateID() {
		t.Errorf("after the restart: running %d, stale %v, pending %v, handled %q", w.running.Index, w.stale, w.pending, w.handled)
	}
}
