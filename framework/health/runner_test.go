package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// clock is a fake clock the test advances.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// counter counts probes per port around the real Probe.
type counter struct {
	mu    sync.Mutex
	ports map[int]int
}

func (c *counter) Probe(ctx context.Context, hc marathon.HealthCheck, host string, port int) (bool, string) {
	c.mu.Lock()
	c.ports[port]++
	c.mu.Unlock()
	return Probe(ctx, hc, host, port)
}

func (c *counter) Count(port int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ports[port]
}

func target(id, host string, port int, hc marathon.HealthCheck) Target {
	return Target{InstanceID: id, TaskID: id + ".task", Host: host, Ports: []int{port},
		Checks: []marathon.HealthCheck{hc}, StartedAt: t0}
}

func TestRunner(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(handler))
	t.Cleanup(srv.Close)
	host, port := hostPort(t, srv.URL)
	closed := closedPort(t)
	fast := func(hc *marathon.HealthCheck) {
		hc.GracePeriodSeconds, hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds = 0, 0, 1, 10
	}
	healthy := target("healthy", host, port, check(fast))
	// A second, agent-side check is skipped but keeps its index.
	healthy.Checks = append([]marathon.HealthCheck{check(protocol(marathon.ProtocolMesosHTTP))}, healthy.Checks...)
	broken := target("broken", "127.0.0.1", closed, check(fast, protocol(marathon.ProtocolTCP), maxFailures(2)))

	clk := &clock{now: t0}
	ticks := make(chan time.Time)
	probes := &counter{ports: map[int]int{}}
	r, err := New(Config{Probe: probes.Probe, Now: clk.Now, Ticks: ticks, Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})

	// round advances the clock by the interval, ticks once and collects n
	// reports by instance id.
	round := func(n int) map[string]Report {
		t.Helper()
		ticks <- clk.Advance(time.Second)
		got := map[string]Report{}
		deadline := time.After(10 * time.Second)
		for len(got) < n {
			select {
			case rep := <-r.Reports():
				if _, dup := got[rep.InstanceID]; dup {
					t.Fatalf("two reports for %s in one round", rep.InstanceID)
				}
				got[rep.InstanceID] = rep
			case <-deadline:
				t.Fatalf("got %d reports, want %d: %+v", len(got), n, got)
			}
		}
		return got
	}

	r.Set([]Target{healthy, broken})
	wantBroken := []struct {
		failures int
		kill     bool
	}{{1, false}, {2, false}, {3, true}, {4, true}}
	for i, w := range wantBroken {
		got := round(2)
		h, b := got["healthy"], got["broken"]
		if !h.Result.Alive || h.CheckIndex != 1 || h.TaskID != "healthy.task" || h.Kill || h.Changed != (i == 0) {
			t.Errorf("round %d: healthy report %+v", i, h)
		}
		if b.Result.Alive || b.Result.ConsecutiveFailures != w.failures || b.Kill != w.kill || b.Changed ||
			b.Result.LastFailureCause == nil || b.Result.InstanceID != "broken" {
			t.Errorf("round %d: broken report %+v, want failures %d kill %v", i, b, w.failures, w.kill)
		}
	}

	r.Set([]Target{healthy})
	before := probes.Count(closed)
	for i := range 3 {
		got := round(1)
		if _, ok := got["healthy"]; !ok {
			t.Errorf("round %d after removal: %+v", i, got)
		}
	}
	if n := probes.Count(closed); n != before {
		t.Errorf("removed target probed %d more times", n-before)
	}
	select {
	case rep := <-r.Reports():
		t.Errorf("unexpected report %+v", rep)
	default:
	}
}

func TestRunnerDelay(t *testing.T) {
	clk := &clock{now: t0}
	ticks := make(chan time.Time)
	r, err := New(Config{
		Probe: func(context.Context, marathon.HealthCheck, string, int) (bool, string) { return true, "" },
		Now:   clk.Now, Ticks: ticks,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// delaySeconds 15 after StartedAt t0: a tick at t0+14s probes nothing,
	// t0+15s probes.
	r.Set([]Target{target("a", "h", 1, check())})
	ticks <- clk.Advance(14 * time.Second)
	ticks <- clk.Now() // the loop has handled the previous tick
	select {
	case rep := <-r.Reports():
		t.Fatalf("report before delaySeconds: %+v", rep)
	default:
	}
	ticks <- clk.Advance(time.Second)
	select {
	case rep := <-r.Reports():
		if !rep.Result.Alive || !rep.Changed {
			t.Errorf("report %+v", rep)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no report after delaySeconds")
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{MaxProbes: -1}); err == nil {
		t.Error("New accepted MaxProbes -1")
	}
}
