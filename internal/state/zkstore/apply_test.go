package zkstore

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	gozk "github.com/go-zookeeper/zk"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/testenv"
)

// load loads a store or fails the test.
func load(t *testing.T, s *Store) state.Snapshot {
	t.Helper()
	snap, err := s.Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return snap
}

// checkSnapshot compares a loaded snapshot.
func checkSnapshot(t *testing.T, want, got state.Snapshot) {
	t.Helper()
	if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

// TestCrash stops a large Apply at each point of the write-ahead protocol,
// as if the process died there, and opens the state again, as the next
// leader would: before the commit nothing of the Change is visible, after
// it all of it, and no write-ahead record is left.
func TestCrash(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	raw := rawConn(t, z.Servers())
	tests := []struct {
		point     string
		after     int32 // calls of the point that pass before the crash
		committed bool
	}{
		{point: "pieces"},
		{point: "commit", committed: true},
		{point: "batch", after: 10, committed: true}, // half written out
	}
	for _, tc := range tests {
		t.Run(tc.point, func(t *testing.T) {
			cfg := testConfig(t, z, newRoot())
			cfg.MaxRequestBytes = minRequestBytes
			s := openConfig(t, cfg)
			base := state.Change{
				FrameworkID:  "fw-1",
				PutApps:      []marathon.App{testApp("/web", ts(1)), testApp("/gone", ts(1))},
				PutInstances: testInstances("/web", ts(1), "a", 30),
			}
			if err := s.Apply(t.Context(), base); err != nil {
				t.Fatal(err)
			}
			before := load(t, s)

			big := state.Change{
				FrameworkID:     "fw-2",
				PutApps:         []marathon.App{testApp("/web", ts(2)), testApp("/api", ts(1))},
				DeleteApps:      []marathon.PathID{"/gone"},
				PutInstances:    testInstances("/api", ts(1), "b", 40),
				DeleteInstances: []string{base.PutInstances[0].ID, base.PutInstances[1].ID},
			}
			var calls atomic.Int32
			s.crash = func(point string) error {
				if point == tc.point && calls.Add(1) > tc.after {
					return errors.New("killed")
				}
				return nil
			}
			// A crash after the commit returns nil: the Change is stored.
			if err := s.Apply(t.Context(), big); tc.point != "batch" && !errors.Is(err, errCrash) {
				t.Fatalf("Apply = %v, want the simulated crash", err)
			}
			if calls.Load() <= tc.after {
				t.Fatalf("the Apply passed %s %d times, not enough to crash", tc.point, calls.Load())
			}
			if tc.point == "batch" {
				// Half written: a plain client sees some new instances.
				n := 0
				for _, in := range big.PutInstances {
					if ok, _, _ := raw.Exists(s.abs(recordPath(kindInstances, in.ID))); ok {
						n++
					}
				}
				if n == 0 || n == len(big.PutInstances) {
					t.Errorf("%d of %d new instances written at the crash, want some", n, len(big.PutInstances))
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			want := before
			if tc.committed {
				want = state.Snapshot{
					FrameworkID: "fw-2",
					Apps:        []marathon.App{testApp("/api", ts(1)), testApp("/web", ts(2))},
					Instances:   append(testInstances("/api", ts(1), "b", 40), base.PutInstances[2:]...),
				}
			}
			next := openConfig(t, cfg)
			checkSnapshot(t, want, load(t, next))
			versions, err := next.AppVersions(t.Context(), "/gone")
			if err != nil {
				t.Fatal(err)
			}
			if tc.committed != (len(versions) == 0) {
				t.Errorf("AppVersions(/gone) = %v after a crash at %s", versions, tc.point)
			}
			txn, _, err := raw.Children(next.abs(dirTxn))
			if err != nil || len(txn) != 0 {
				t.Errorf("txn holds %v, %v; want nothing", txn, err)
			}
			commit, _, err := raw.Get(next.abs(nodeCommit))
			if err != nil || strings.Contains(string(commit), "pending") {
				t.Errorf("commit node = %s, %v; want no pending change", commit, err)
			}

			// The store goes on writing.
			more := testInstances("/web", ts(2), "c", 5)
			if err := next.Apply(t.Context(), state.Change{PutInstances: more}); err != nil {
				t.Fatal(err)
			}
			want.Instances = append(want.Instances, more...)
			checkSnapshot(t, sortedSnapshot(want), load(t, next))
		})
	}
}

// sortedSnapshot sorts instances by id, as Load returns them.
func sortedSnapshot(s state.Snapshot) state.Snapshot {
	slices.SortFunc(s.Instances, func(a, b state.Instance) int { return cmp.Compare(a.ID, b.ID) })
	return s
}

// TestConflict writes through two stores on one root, which leader
// election must prevent: the stale one's write fails whole with
// ErrConflict, and both read the same state afterwards.
func TestConflict(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	cfg := testConfig(t, z, newRoot())
	a, b := openConfig(t, cfg), openConfig(t, cfg)
	x := state.Change{PutInstances: testInstances("/web", ts(1), "x", 3)}
	y := state.Change{PutApps: []marathon.App{testApp("/web", ts(1))}, PutInstances: testInstances("/web", ts(1), "y", 3)}
	if err := a.Apply(t.Context(), x); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(t.Context(), y); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale Apply = %v, want ErrConflict", err)
	}
	checkSnapshot(t, state.Snapshot{Instances: x.PutInstances}, load(t, b))
	if err := b.Apply(t.Context(), y); err != nil {
		t.Fatalf("Apply after reading again: %v", err)
	}
	want := sortedSnapshot(state.Snapshot{Apps: y.PutApps, Instances: append(x.PutInstances, y.PutInstances...)})
	checkSnapshot(t, want, load(t, a)) // a sees b's write
	checkSnapshot(t, want, load(t, b))
}

// TestFence checks that writes need the fence node and that a refused
// write leaves nothing behind.
func TestFence(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	raw := rawConn(t, z.Servers())
	const fence = "/leader-node"
	if _, err := raw.Create(fence, nil, 0, worldACL); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, z, newRoot())
	cfg.Fence = fence
	cfg.MaxRequestBytes = minRequestBytes
	s := openConfig(t, cfg)
	first := state.Change{PutInstances: testInstances("/web", ts(1), "a", 2)}
	if err := s.Apply(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	if err := raw.Delete(fence, -1); err != nil {
		t.Fatal(err)
	}
	small := state.Change{FrameworkID: "fw-1"}
	large := state.Change{PutInstances: testInstances("/web", ts(1), "b", 20)}
	for name, c := range map[string]state.Change{"small": small, "large": large} {
		if err := s.Apply(t.Context(), c); !errors.Is(err, ErrFenced) {
			t.Errorf("%s Apply without the fence node = %v, want ErrFenced", name, err)
		}
	}
	checkSnapshot(t, state.Snapshot{Instances: first.PutInstances}, load(t, s))
	if txn, _, err := raw.Children(s.abs(dirTxn)); err != nil || len(txn) != 0 {
		t.Errorf("txn holds %v, %v after a refused large Apply; want nothing", txn, err)
	}
	if _, err := raw.Create(fence, nil, 0, worldACL); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(t.Context(), large); err != nil {
		t.Fatalf("Apply with the fence node back: %v", err)
	}
	checkSnapshot(t, sortedSnapshot(state.Snapshot{Instances: append(first.PutInstances, large.PutInstances...)}), load(t, s))
}

// TestSharedConn opens a store on a connection it does not own: Close
// leaves the connection to its owner.
func TestSharedConn(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	conn := rawConn(t, z.Servers())
	cfg := testConfig(t, z, newRoot())
	cfg.Servers, cfg.Conn = nil, conn
	s := openConfig(t, cfg)
	if s.Conn() != conn {
		t.Fatal("Conn() is not the shared connection")
	}
	if err := s.Apply(t.Context(), state.Change{FrameworkID: "fw-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if data, _, err := conn.Get(cfg.Root + "/state/framework-id"); err != nil || string(data) != "fw-1" {
		t.Errorf("shared connection after Close: %q, %v", data, err)
	}
	if conn.State() != gozk.StateHasSession {
		t.Errorf("shared connection state %v after Close", conn.State())
	}
}
