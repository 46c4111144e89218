package zkstore

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
	"github.com/stadionhq/stadion/internal/testenv"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 30 * time.Second

// roots numbers the roots of the stores a test server holds.
var roots atomic.Int64

// newRoot returns a root no store of this test binary used yet.
func newRoot() string {
	return fmt.Sprintf("/stadion-%d", roots.Add(1))
}

// testConfig is the configuration of a store for a test: small version
// limit (the contract's), timeouts that fit a test.
func testConfig(t testing.TB, z *testenv.ZooKeeper, root string) Config {
	return Config{
		Servers:          z.Servers(),
		Root:             root,
		SessionTimeout:   4 * time.Second,
		OperationTimeout: 5 * time.Second,
		MaxVersions:      statetest.MaxVersions,
		Logger:           testLogger(t),
	}
}

// openConfig opens a store and closes it in t.Cleanup.
func openConfig(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// root returns the root a store was opened on.
func (s *Store) root() string {
	return strings.TrimSuffix(s.base, "/state")
}

func TestContract(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	runContract(t, func(t testing.TB, root string) Config { return testConfig(t, z, root) })
}

// TestContractWriteAhead runs the contract with requests of 1 KiB, so that
// every Change of more than one record goes through the write-ahead record
// and records over 512 bytes (apps, some instances) are chunked.
func TestContractWriteAhead(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	runContract(t, func(t testing.TB, root string) Config {
		cfg := testConfig(t, z, root)
		cfg.MaxRequestBytes = minRequestBytes
		return cfg
	})
}

func runContract(t *testing.T, config func(t testing.TB, root string) Config) {
	statetest.Run(t,
		func(t *testing.T) state.Store {
			return openConfig(t, config(t, newRoot()))
		},
		func(t *testing.T, s state.Store) state.Store {
			zs := s.(*Store)
			if err := zs.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return openConfig(t, config(t, zs.root()))
		})
}

// testLogger logs through t until the test's cleanups run; later logs
// (the ZooKeeper client's goroutines wind down after Close) are dropped.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
