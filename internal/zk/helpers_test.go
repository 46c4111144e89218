package zk

import (
	"io"
	"log/slog"
	"net"
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

// proxy forwards TCP connections to a ZooKeeper server and can cut them, so
// that a client loses its connection while the server stays up and expires
// the client's session.
type proxy struct {
	addr   string
	target string
	l      net.Listener

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{addr: l.Addr().String(), target: target, l: l}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.Cut()
	})
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go pipe(c, s)
		go pipe(s, c)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Cut closes every forwarded connection and refuses new ones until Heal.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Heal forwards new connections again.
func (p *proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// startZK starts a ZooKeeper server for the test.
func startZK(t *testing.T) *testenv.ZooKeeper {
	t.Helper()
	return testenv.StartZooKeeper(t)
}
