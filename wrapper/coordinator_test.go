package wrapper

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/internal/testenv"
)

// fakeRestarter records restart requests. Each call first takes the next
// of errs, if any; gate, when set, holds every call until it is closed.
type fakeRestarter struct {
	mu    sync.Mutex
	calls int
	errs  []error
	gate  chan struct{}
}

func (f *fakeRestarter) Restart(ctx context.Context) (RestartResult, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return RestartResult{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return RestartResult{}, err
	}
	return RestartResult{DeploymentID: "deployment", Version: "2030-01-01T00:00:00Z"}, nil
}

func (f *fakeRestarter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

func consulClient(t *testing.T, c *testenv.Consul) *api.Client {
	t.Helper()
	client, err := newConsulClient(c.HTTPAddr, "")
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func newTestCoordinator(t *testing.T, client *api.Client, r restarter, by string) *coordinator {
	return &coordinator{
		consul:     client,
		key:        "stadion/wrap/test/restart",
		sched:      r,
		by:         by,
		log:        testLogger(t).With("instance", by),
		retryMin:   10 * time.Millisecond,
		retryMax:   200 * time.Millisecond,
		sessionTTL: 10 * time.Second,
		lockDelay:  time.Millisecond,
		wait:       5 * time.Second,
		now:        time.Now,
	}
}

// putKV writes a key and returns the snapshot of the prefix "test".
func putKV(t *testing.T, client *api.Client, key, value string) Snapshot {
	t.Helper()
	if _, err := client.KV().Put(&api.KVPair{Key: "test/" + key, Value: []byte(value)}, nil); err != nil {
		t.Fatal(err)
	}
	r := &prefixReader{kv: client.KV(), prefix: "test", wait: time.Second}
	s, err := r.list(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRestartOnceRace races five instances per change: exactly one asks
// the scheduler, the others find its restart. The first round holds the
// winner's request until it visibly holds the lock, so the others take
// the waiting path; the later rounds race freely.
func TestRestartOnceRace(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	const instances = 5
	for round := range 3 {
		snap := putKV(t, client, "KEY", "value"+string(rune('0'+round)))
		f := &fakeRestarter{}
		if round == 0 {
			f.gate = make(chan struct{})
		}
		type result struct {
			out outcome
			m   marker
			err error
		}
		results := make(chan result, instances)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for i := range instances {
			c := newTestCoordinator(t, client, f, "instance-"+string(rune('a'+i)))
			go func() {
				out, m, err := c.restartOnce(ctx, snap)
				results <- result{out, m, err}
			}()
		}
		if f.gate != nil {
			waitLocked(t, client, "stadion/wrap/test/restart")
			close(f.gate)
		}
		var requests, covers int
		for range instances {
			r := <-results
			if r.err != nil {
				t.Fatalf("round %d: %v", round, r.err)
			}
			if !r.m.Done || r.m.Index != snap.Index || r.m.DeploymentID != "deployment" {
				t.Errorf("round %d: marker %+v, want done for index %d", round, r.m, snap.Index)
			}
			switch r.out {
			case requested:
				requests++
			case covered:
				covers++
			}
		}
		cancel()
		if requests != 1 || covers != instances-1 || f.count() != 1 {
			t.Fatalf("round %d: %d requested, %d covered, %d scheduler calls; want 1, %d, 1", round, requests, covers, f.count(), instances-1)
		}
	}
}

// waitLocked polls until a session holds key.
func waitLocked(t *testing.T, client *api.Client, key string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, _, err := client.KV().Get(key, nil)
		if err == nil && p != nil && p.Session != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nobody locked %s: %v", key, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRestartOnceOrdering checks that a restart asked for a newer state
// also covers an instance that is late and still sees an older state,
// while a newer state than the recorded one is asked again.
func TestRestartOnceOrdering(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	older := putKV(t, client, "A", "1")
	newer := putKV(t, client, "A", "2")
	f := &fakeRestarter{}
	ctx := context.Background()

	if out, _, err := newTestCoordinator(t, client, f, "fast").restartOnce(ctx, newer); err != nil || out != requested {
		t.Fatalf("newer state: %v, %v; want requested", out, err)
	}
	if out, m, err := newTestCoordinator(t, client, f, "late").restartOnce(ctx, older); err != nil || out != covered || m.Index != newer.Index {
		t.Fatalf("older state: %v, %+v, %v; want covered by index %d", out, m, err, newer.Index)
	}
	newest := putKV(t, client, "B", "3")
	if out, _, err := newTestCoordinator(t, client, f, "late").restartOnce(ctx, newest); err != nil || out != requested {
		t.Fatalf("newest state: %v, %v; want requested", out, err)
	}
	if f.count() != 2 {
		t.Errorf("%d scheduler calls, want 2", f.count())
	}
}

// TestRestartOnceTakeover kills the winner's session before it records
// the restart, as Consul does when the winner dies: a waiting instance
// must take over and ask instead.
func TestRestartOnceTakeover(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	snap := putKV(t, client, "A", "1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	stuck := &fakeRestarter{gate: make(chan struct{})} // never answers
	deadCtx, die := context.WithCancel(ctx)
	dead := make(chan struct{})
	go func() {
		defer close(dead)
		newTestCoordinator(t, client, stuck, "dying").restartOnce(deadCtx, snap)
	}()
	defer func() { die(); <-dead }()
	waitLocked(t, client, "stadion/wrap/test/restart")

	f := &fakeRestarter{}
	type result struct {
		out outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := newTestCoordinator(t, client, f, "survivor").restartOnce(ctx, snap)
		done <- result{out, err}
	}()

	// The winner's session dies.
	p, _, err := client.KV().Get("stadion/wrap/test/restart", nil)
	if err != nil || p == nil {
		t.Fatalf("read lock: %v", err)
	}
	if _, err := client.Session().Destroy(p.Session, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.out != requested {
			t.Fatalf("survivor: %v, %v; want requested", r.out, r.err)
		}
	case <-ctx.Done():
		t.Fatal("the survivor did not take over")
	}
	if f.count() != 1 || stuck.count() != 0 {
		t.Errorf("survivor asked %d times, dead winner %d; want 1 and 0", f.count(), stuck.count())
	}
}

// TestRestartOnceErrors checks the retries of temporary scheduler errors
// and the recording of a permanent one, which spares the other instances
// a request bound to fail.
func TestRestartOnceErrors(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	ctx := context.Background()

	locked := &StatusError{Op: "restart", Status: http.StatusConflict, Message: "locked"}
	f := &fakeRestarter{errs: []error{locked, errors.New("connection refused"), locked}}
	if out, m, err := newTestCoordinator(t, client, f, "a").restartOnce(ctx, putKV(t, client, "A", "1")); err != nil || out != requested || m.Error != "" {
		t.Fatalf("temporary errors: %v, %+v, %v; want requested", out, m, err)
	}
	if f.count() != 4 {
		t.Errorf("%d scheduler calls, want 4 (3 failures, then success)", f.count())
	}

	snap := putKV(t, client, "A", "2")
	gone := &StatusError{Op: "restart", Status: http.StatusNotFound, Message: "App '/test' does not exist"}
	f = &fakeRestarter{errs: []error{gone}}
	out, m, err := newTestCoordinator(t, client, f, "a").restartOnce(ctx, snap)
	if err == nil || out != requested || m.Error == "" {
		t.Fatalf("permanent error: %v, %+v, %v; want requested with the error", out, m, err)
	}
	out, m, err = newTestCoordinator(t, client, f, "b").restartOnce(ctx, snap)
	if err != nil || out != covered || m.Error == "" {
		t.Fatalf("after a permanent error: %v, %+v, %v; want covered, with the error", out, m, err)
	}
	if f.count() != 1 {
		t.Errorf("%d scheduler calls, want 1", f.count())
	}
}

func TestDecodeMarker(t *testing.T) {
	tests := []struct {
		name string
		pair *api.KVPair
		ok   bool
	}{
		{name: "missing", pair: nil},
		{name: "garbage", pair: &api.KVPair{Value: []byte("x"), ModifyIndex: 9}},
		{name: "no state", pair: &api.KVPair{Value: []byte(`{"index":3}`), ModifyIndex: 9}},
		{name: "valid", pair: &api.KVPair{Value: []byte(`{"state":"s","index":3,"done":true}`), ModifyIndex: 9}, ok: true},
		{name: "from a rebuilt consul", pair: &api.KVPair{Value: []byte(`{"state":"s","index":30,"done":true}`), ModifyIndex: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := decodeMarker(tc.pair); ok != tc.ok {
				t.Errorf("decodeMarker ok = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func TestMarkerCovers(t *testing.T) {
	s := snapshot(10, pair("a", "1", 10))
	tests := []struct {
		name string
		m    marker
		want bool
	}{
		{name: "same state", m: marker{State: s.StateID(), Index: 8}, want: true},
		{name: "newer index", m: marker{State: "other", Index: 11}, want: true},
		{name: "same index", m: marker{State: "other", Index: 10}, want: true},
		{name: "older", m: marker{State: "other", Index: 9}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.covers(s); got != tc.want {
				t.Errorf("covers = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLaunchedBefore(t *testing.T) {
	tests := []struct {
		name          string
		task, restart string
		want          bool
	}{
		{name: "older task", task: "2024-01-01T00:00:00.000Z", restart: "2024-01-01T00:00:01.000Z", want: true},
		{name: "task of the restart", task: "2024-01-01T00:00:01.000Z", restart: "2024-01-01T00:00:01.000Z", want: false},
		{name: "newer task", task: "2024-01-01T00:00:02Z", restart: "2024-01-01T00:00:01Z", want: false},
		{name: "unknown task version", task: "", restart: "2024-01-01T00:00:01Z", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := launchedBefore(tc.task, tc.restart); got != tc.want {
				t.Errorf("launchedBefore = %v, want %v", got, tc.want)
			}
		})
	}
}
