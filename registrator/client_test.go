package registrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/marathon"
)

func newTestClient(t *testing.T, urls ...string) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{URLs: urls, RequestTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second,
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestClientApps(t *testing.T) {
	f := newFakeMarathon(t)
	f.setApps(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000))))
	failing := newFakeMarathon(t)
	failing.failApps(http.StatusServiceUnavailable)

	t.Run("snapshot", func(t *testing.T) {
		snap, err := newTestClient(t, f.url()).Apps(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Apps) != 1 || len(snap.Apps[0].Tasks) != 1 || snap.Apps[0].Tasks[0].ID != "web.1" {
			t.Errorf("snapshot %+v, want /web with web.1", snap)
		}
	})
	t.Run("an error answer is an HTTPError", func(t *testing.T) {
		_, err := newTestClient(t, failing.url()).Apps(context.Background())
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || !strings.Contains(he.Body, "failing on purpose") {
			t.Errorf("error %v, want an HTTPError 503 with the body", err)
		}
	})
	t.Run("fails over and keeps the instance that answered", func(t *testing.T) {
		c := newTestClient(t, closedURL(t), failing.url(), f.url())
		before := failing.appsCalls.Load()
		for range 3 {
			if _, err := c.Apps(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := failing.appsCalls.Load() - before; n != 1 {
			t.Errorf("the failing instance was asked %d times, want once", n)
		}
	})
	t.Run("all down", func(t *testing.T) {
		_, err := newTestClient(t, closedURL(t), failing.url()).Apps(context.Background())
		if err == nil || !strings.Contains(err.Error(), "connect") || !strings.Contains(err.Error(), "503") {
			t.Errorf("error %v, want both failures", err)
		}
	})
	t.Run("passwords stay out of errors", func(t *testing.T) {
		u := strings.Replace(closedURL(t), "http://", "http://ops:hunter2@", 1)
		_, err := newTestClient(t, u).Apps(context.Background())
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %v: want one without the password", err)
		}
	})
}

// TestClientBasicAuth: user info in the URL is sent as basic auth, with
// the apps and the pods requests.
func TestClientBasicAuth(t *testing.T) {
	var user, pass atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		if u != "ops" || p != "s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		user.Store(u)
		pass.Store(p)
		if r.URL.Path == "/v2/pods/::status" {
			w.Write([]byte(`[]`))
			return
		}
		w.Write([]byte(`{"apps":[]}`))
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://ops:s3cret@", 1)
	if _, err := newTestClient(t, u).Apps(context.Background()); err != nil {
		t.Fatal(err)
	}
	if user.Load() != "ops" || pass.Load() != "s3cret" {
		t.Errorf("basic auth %v:%v, want ops:s3cret", user.Load(), pass.Load())
	}
}

// follow runs c.Follow until the test ends and returns its notices.
func follow(t *testing.T, c *Client) <-chan Notice {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Notice, 64)
	done := make(chan struct{})
	go func() { c.Follow(ctx, EventTypes, out); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

func next(t *testing.T, ch <-chan Notice) Notice {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notice within 10s")
		return Notice{}
	}
}

func TestFollow(t *testing.T) {
	leader := newFakeMarathon(t)
	// A standby answers the stream with a redirect to the leader, as
	// Marathon 1.7+ and Stadion do.
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, leader.url()+r.URL.RequestURI(), http.StatusFound)
	}))
	defer standby.Close()

	notices := follow(t, newTestClient(t, standby.URL))
	if n := next(t, notices); !n.Connected || !strings.HasPrefix(n.URL, leader.url()) {
		t.Fatalf("first notice %+v, want connected to the leader %s", n, leader.url())
	}
	leader.mu.Lock()
	q, accept := leader.queries[0], leader.accepts[0]
	leader.mu.Unlock()
	var want []string
	for _, e := range EventTypes {
		want = append(want, string(e))
	}
	if diff := cmp.Diff(want, q["event_type"]); diff != "" {
		t.Errorf("event_type filters (-want +got):\n%s", diff)
	}
	if accept != "text/event-stream" || q.Get("plan-format") != "light" {
		t.Errorf("Accept %q, plan-format %q: want text/event-stream, light", accept, q.Get("plan-format"))
	}

	leader.publish(&marathon.StatusUpdateEvent{TaskID: "web.1", TaskStatus: marathon.TaskRunning, AppID: "/web",
		EventMeta: marathon.Meta(marathon.EventStatusUpdate, time.Now())})
	leader.publish(&marathon.HealthStatusChangedEvent{InstanceID: "web.instance-1", Alive: false,
		EventMeta: marathon.Meta(marathon.EventHealthStatusChanged, time.Now())})
	if e, ok := next(t, notices).Event.(*marathon.StatusUpdateEvent); !ok || e.TaskID != "web.1" || e.TaskStatus != marathon.TaskRunning {
		t.Errorf("second notice %#v, want the status update", e)
	}
	if e, ok := next(t, notices).Event.(*marathon.HealthStatusChangedEvent); !ok || e.InstanceID != "web.instance-1" || e.Alive {
		t.Errorf("third notice %#v, want the health change", e)
	}

	// The leader ends the stream: the client comes back.
	leader.closeStreams()
	if n := next(t, notices); !n.Connected {
		t.Errorf("after the stream ended: %+v, want a new connection", n)
	}
}

func TestFollowFailsOver(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Could not determine the current leader"}`, http.StatusServiceUnavailable)
	}))
	defer down.Close()
	up := newFakeMarathon(t)
	notices := follow(t, newTestClient(t, closedURL(t), down.URL, up.url()))
	if n := next(t, notices); !n.Connected || !strings.HasPrefix(n.URL, up.url()) {
		t.Errorf("notice %+v, want connected to %s", n, up.url())
	}
}

func TestFollowIdleTimeout(t *testing.T) {
	tests := []struct {
		name      string
		heartbeat time.Duration
		// reconnects is whether the client must open the stream again
		// within the observation time.
		reconnects bool
	}{
		{name: "a silent stream is opened again", reconnects: true},
		{name: "keep-alives keep it", heartbeat: 50 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMarathon(t)
			f.heartbeat = tc.heartbeat
			c, err := NewClient(ClientConfig{URLs: []string{f.url()}, IdleTimeout: 500 * time.Millisecond,
				RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			follow(t, c)
			time.Sleep(2 * time.Second) // four idle timeouts
			n := f.streamCalls.Load()
			if tc.reconnects && n < 2 {
				t.Errorf("%d connections in 2s with a 500ms idle timeout, want several", n)
			}
			if !tc.reconnects && n != 1 {
				t.Errorf("%d connections in 2s with keep-alives every 50ms, want 1", n)
			}
		})
	}
}

// TestFollowBacksOff: against an instance that refuses the stream, the
// attempts thin out up to the cap.
func TestFollowBacksOff(t *testing.T) {
	var attempts timeLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.add(time.Now())
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{URLs: []string{srv.URL}, RetryMin: 20 * time.Millisecond, RetryMax: 160 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	follow(t, c)
	eventually(t, 10*time.Second, "7 attempts", func() error {
		if n := len(attempts.get()); n < 7 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	times := attempts.get()
	var gaps []time.Duration
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	// Delays are drawn from [d/2, d) with d = 20, 40, 80, 160, 160ms...
	// The upper bounds leave room for a loaded machine; TestBackoff checks
	// the exact bounds of the delays.
	if gaps[0] >= 500*time.Millisecond || slices.Max(gaps) > time.Second {
		t.Errorf("gaps %v: want the first under ~20ms and none far above the 160ms cap", gaps)
	}
	if gaps[len(gaps)-1] < 80*time.Millisecond {
		t.Errorf("gaps %v: want the later ones at least half the cap", gaps)
	}
}

// timeLog records times from several goroutines.
type timeLog struct {
	mu sync.Mutex
	ts []time.Time
}

func (l *timeLog) add(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ts = append(l.ts, t)
}

func (l *timeLog) get() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ts)
}
