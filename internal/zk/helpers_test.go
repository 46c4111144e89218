package zk

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/testenv"
)

// waitTimeout bounds every wait on ZooKeeper in these tests.
const waitTimeout = 15 * time.Second

// testLogger logs through t until the test's cleanups run; later logs (the
// ZooKeeper client's goroutines wind down after Close) are dropped.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p[:len(p)-1]))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

// rawConn opens a plain ZooKeeper session for writing and reading nodes by
// hand, and waits until it is established.
func rawConn(t *testing.T, servers []string) *zk.Conn {
	t.Helper()
	conn, events, err := zk.Connect(servers, 10*time.Second, zk.WithLogger(clientLogger{slog.New(slog.DiscardHandler)}))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(conn.Close)
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn
			}
		case <-deadline:
			t.Fatal("no zookeeper session")
		}
	}
}

// mustCreate creates a node or fails the test, returning its path.
func mustCreate(t *testing.T, conn *zk.Conn, p string, data []byte, flags int32) string {
	t.Helper()
	got, err := conn.Create(p, data, flags, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
	return got
}

// waitFor reads ch until a value satisfies ok, and returns it.
func waitFor[T any](t *testing.T, ch <-chan T, what string, ok func(T) bool) T {
	t.Helper()
	deadline := time.After(waitTimeout)
	var last T
	for {
		select {
		case v, open := <-ch:
			if !open {
				t.Fatalf("waiting for %s: channel closed (last value %+v)", what, last)
			}
			if ok(v) {
				return v
			}
			last = v
		case <-deadline:
			t.Fatalf("waiting for %s: none after %v (last value %+v)", what, waitTimeout, last)
		}
	}
}

// startZK starts a ZooKeeper server for the test.
func startZK(t *testing.T) *testenv.ZooKeeper {
	t.Helper()
	return testenv.StartZooKeeper(t)
}
