package zkstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestUnavailable stops ZooKeeper: Apply and Load fail with ErrNoSession
// within the operation timeout (plus the client's own second of reconnect
// attempts) instead of hanging, and work again once ZooKeeper is back.
func TestUnavailable(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	cfg := testConfig(t, z, newRoot())
	cfg.OperationTimeout = 3 * time.Second
	s := openConfig(t, cfg)
	base := state.Change{FrameworkID: "fw-1", PutInstances: testInstances("/web", ts(1), "a", 3)}
	if err := s.Apply(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	z.Stop(t)
	bound := 2*cfg.OperationTimeout + 3*time.Second
	lost := state.Change{PutInstances: testInstances("/web", ts(1), "lost", 3)}
	start := time.Now()
	if err := s.Apply(t.Context(), lost); !errors.Is(err, ErrNoSession) {
		t.Errorf("Apply with ZooKeeper down = %v, want ErrNoSession", err)
	}
	if d := time.Since(start); d > bound {
		t.Errorf("Apply with ZooKeeper down took %s, want at most %s", d, bound)
	}
	start = time.Now()
	if _, err := s.Load(t.Context()); !errors.Is(err, ErrNoSession) {
		t.Errorf("Load with ZooKeeper down = %v, want ErrNoSession", err)
	}
	if d := time.Since(start); d > bound {
		t.Errorf("Load with ZooKeeper down took %s, want at most %s", d, bound)
	}

	z.Start(t)
	later := state.Change{PutInstances: testInstances("/web", ts(1), "b", 3)}
	if err := s.Apply(t.Context(), later); err != nil {
		t.Fatalf("Apply after ZooKeeper is back: %v", err)
	}
	snap := load(t, s)
	got := map[string]bool{}
	for _, in := range snap.Instances {
		got[in.ID] = true
	}
	for _, c := range []state.Change{base, later} {
		for _, in := range c.PutInstances {
			if !got[in.ID] {
				t.Errorf("acknowledged instance %s is lost", in.ID)
			}
		}
	}
	if n := countIn(got, lost.PutInstances); n != 0 && n != len(lost.PutInstances) {
		t.Errorf("%d of the %d instances of the failed Apply are stored", n, len(lost.PutInstances))
	}
}

func countIn(got map[string]bool, ins []state.Instance) int {
	n := 0
	for _, in := range ins {
		if got[in.ID] {
			n++
		}
	}
	return n
}

// TestRestartUnderLoad restarts ZooKeeper twice while a writer applies
// Changes as fast as it can, some of them small (one multi) and some large
// (write-ahead record): afterwards every Apply that returned nil is
// stored, and every one that failed is stored whole or not at all, as a
// store opened afresh (the next leader) sees it.
func TestRestartUnderLoad(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	cfg := testConfig(t, z, newRoot())
	cfg.OperationTimeout = 2 * time.Second
	cfg.MaxRequestBytes = 4 << 10
	s := openConfig(t, cfg)

	// change i puts version i of /load and its instances: one (one multi),
	// or twelve (over 4 KiB: the write-ahead record) for every third.
	size := func(i int) int {
		if i%3 == 0 {
			return 12
		}
		return 1
	}
	change := func(i int) state.Change {
		return state.Change{
			PutApps:      []marathon.App{testApp("/load", ts(i))},
			PutInstances: testInstances("/load", ts(i), fmt.Sprintf("%06d", i), size(i)),
		}
	}
	var (
		mu      sync.Mutex
		results []error // by change number
		stop    = make(chan struct{})
		done    = make(chan struct{})
	)
	count := func() (acked, failed int) {
		mu.Lock()
		defer mu.Unlock()
		for _, err := range results {
			if err == nil {
				acked++
			} else {
				failed++
			}
		}
		return acked, failed
	}
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := s.Apply(t.Context(), change(i))
			if err != nil && !errors.Is(err, ErrNoSession) {
				t.Errorf("Apply %d: %v, want nil or ErrNoSession", i, err)
			}
			mu.Lock()
			results = append(results, err)
			mu.Unlock()
		}
	}()
	for range 2 {
		acked, failed := count()
		waitUntil(t, "Applies before the restart", func() bool { a, _ := count(); return a >= acked+20 })
		z.Stop(t) // most likely during an Apply: the writer never pauses
		waitUntil(t, "an Apply to fail", func() bool { _, f := count(); return f > failed })
		z.Start(t)
		acked, _ = count()
		waitUntil(t, "Applies after the restart", func() bool { a, _ := count(); return a >= acked+20 })
	}
	close(stop)
	<-done
	acked, failed := count()
	t.Logf("%d Applies acknowledged, %d failed", acked, failed)

	check := func(name string, s *Store) {
		t.Helper()
		snap := load(t, s)
		present := map[int]int{} // change → instances stored
		for _, in := range snap.Instances {
			var i, k int
			if _, err := fmt.Sscanf(in.ID[strings.LastIndex(in.ID, ".instance-"):], ".instance-%06d-%05d", &i, &k); err != nil {
				t.Fatalf("%s: unexpected instance %s", name, in.ID)
			}
			present[i]++
		}
		last := -1
		for i, err := range results {
			switch n := present[i]; {
			case err == nil && n != size(i):
				t.Errorf("%s: acknowledged Apply %d has %d of its %d instances", name, i, n, size(i))
			case n != 0 && n != size(i):
				t.Errorf("%s: failed Apply %d has %d of its %d instances", name, i, n, size(i))
			}
			if present[i] > 0 {
				last = i
			}
		}
		if len(snap.Apps) != 1 || !snap.Apps[0].Version.Equal(ts(last).Time) {
			t.Errorf("%s: apps %v, want /load at the version of the last stored Apply %d", name, snap.Apps, last)
		}
		versions, err := s.AppVersions(t.Context(), "/load")
		if err != nil {
			t.Fatal(err)
		}
		var want []marathon.Timestamp
		for i := range results {
			if present[i] > 0 {
				want = append(want, ts(i))
			}
		}
		want = want[max(0, len(want)-cfg.MaxVersions):]
		if fmt.Sprint(versions) != fmt.Sprint(want) {
			t.Errorf("%s: versions %v, want %v", name, versions, want)
		}
	}
	check("writer", s)
	check("next leader", openConfig(t, cfg))
}

// TestSessionExpiry cuts the store off from a running ZooKeeper until its
// session expires: writes fail with ErrNoSession meanwhile, and once the
// connection is back the store works in a new session.
func TestSessionExpiry(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	p := testenv.StartProxy(t, z.Addr)
	cfg := testConfig(t, z, newRoot())
	cfg.Servers = []string{p.Addr}
	cfg.SessionTimeout = 2 * time.Second
	cfg.OperationTimeout = 2 * time.Second
	s := openConfig(t, cfg)
	base := state.Change{PutInstances: testInstances("/web", ts(1), "a", 3)}
	if err := s.Apply(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	marker, err := s.Conn().Create(cfg.Root+"/marker", nil, gozk.FlagEphemeral, worldACL)
	if err != nil {
		t.Fatal(err)
	}
	session := s.Conn().SessionID()
	raw := rawConn(t, z.Servers())

	p.Cut()
	if err := s.Apply(t.Context(), state.Change{FrameworkID: "fw-lost"}); !errors.Is(err, ErrNoSession) {
		t.Errorf("Apply while cut off = %v, want ErrNoSession", err)
	}
	waitUntil(t, "the session to expire", func() bool {
		ok, _, err := raw.Exists(marker)
		return err == nil && !ok
	})
	p.Heal()

	later := state.Change{FrameworkID: "fw-2", PutInstances: testInstances("/web", ts(1), "b", 3)}
	if err := s.Apply(t.Context(), later); err != nil {
		t.Fatalf("Apply after the session expired: %v", err)
	}
	if s.Conn().SessionID() == session {
		t.Error("still in the expired session")
	}
	checkSnapshot(t, sortedSnapshot(state.Snapshot{FrameworkID: "fw-2", Instances: append(base.PutInstances, later.PutInstances...)}), load(t, s))
}

// TestOpenUnavailable opens a store on a port where no ZooKeeper listens:
// Open fails with ErrNoSession after the operation timeout.
func TestOpenUnavailable(t *testing.T) {
	cfg := Config{
		Servers:          []string{fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))},
		Root:             "/stadion",
		OperationTimeout: time.Second,
		Logger:           testLogger(t),
	}
	start := time.Now()
	s, err := Open(t.Context(), cfg)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded without ZooKeeper")
	}
	if !errors.Is(err, ErrNoSession) {
		t.Errorf("Open = %v, want ErrNoSession", err)
	}
	if d, bound := time.Since(start), 2*cfg.OperationTimeout+3*time.Second; d > bound {
		t.Errorf("Open took %s, want at most %s", d, bound)
	}
}
