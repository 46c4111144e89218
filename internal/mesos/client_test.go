package mesos_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/mesostest"
	"github.com/stadionhq/stadion/internal/testenv"
)

const (
	waitTimeout = 10 * time.Second
	fakeID      = "fake-framework-0000"
)

// newClient returns a client of the master at url with short backoffs;
// edit adjusts the config.
func newClient(t *testing.T, url string, edit func(*mesos.Config)) *mesos.Client {
	t.Helper()
	d, err := mesos.StaticDetector(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mesos.Config{
		Detector:   d,
		Framework:  mesos.FrameworkInfo{User: "root", Name: "stadion"},
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := mesos.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// runner runs a client's Run until the test ends.
type runner struct {
	t      *testing.T
	events chan mesos.Event
	ended  chan struct{}
	err    error // set before ended is closed
}

func run(t *testing.T, c *mesos.Client) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{t: t, events: make(chan mesos.Event, 64), ended: make(chan struct{})}
	go func() {
		r.err = c.Run(ctx, r.events)
		close(r.ended)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.ended:
		case <-time.After(waitTimeout):
			t.Error("Run did not return after its context ended")
		}
	})
	return r
}

// next returns the next delivered event.
func (r *runner) next() mesos.Event {
	r.t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-r.ended:
		// Events delivered before Run returned are still buffered.
		select {
		case ev := <-r.events:
			return ev
		default:
		}
		r.t.Fatalf("Run returned %v while an event was expected", r.err)
	case <-time.After(waitTimeout):
		r.t.Fatal("no event within the timeout")
	}
	return mesos.Event{}
}

// expect takes the next events and checks their types.
func (r *runner) expect(types ...mesos.EventType) []mesos.Event {
	r.t.Helper()
	var got []mesos.Event
	for _, want := range types {
		ev := r.next()
		if ev.Type != want {
			r.t.Fatalf("event %d is %s, want %s", len(got), ev.Type, want)
		}
		got = append(got, ev)
	}
	return got
}

// wait returns Run's result.
func (r *runner) wait() error {
	r.t.Helper()
	select {
	case <-r.ended:
		return r.err
	case <-time.After(waitTimeout):
		r.t.Fatal("Run did not return")
		return nil
	}
}

// memStore is an in-memory FrameworkIDStore that records saves.
type memStore struct {
	mu    sync.Mutex
	id    string
	saves []string
}

func (s *memStore) LoadFrameworkID(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, nil
}

func (s *memStore) SaveFrameworkID(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.id = id
	s.saves = append(s.saves, id)
	return nil
}

func (s *memStore) saved() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.saves...)
}

// checkJSON compares a request body with the expected JSON text.
func checkJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected JSON: %v", err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestRunDeliversEventsInOrder(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	r := run(t, c)

	sub := r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)[0]
	if got := sub.Subscribed.FrameworkID.Value; got != fakeID {
		t.Fatalf("SUBSCRIBED framework id = %q, want %q", got, fakeID)
	}
	if got := c.FrameworkID(); got != fakeID {
		t.Fatalf("FrameworkID() = %q, want %q", got, fakeID)
	}

	sent := []mesos.Event{
		{Type: mesos.EventOffers, Offers: &mesos.Offers{Offers: []mesos.Offer{{
			ID: mesos.OfferID{Value: "o1"}, FrameworkID: mesos.FrameworkID{Value: fakeID},
			AgentID: mesos.AgentID{Value: "a1"}, Hostname: "agent-1",
		}}}},
		{Type: mesos.EventRescind, Rescind: &mesos.Rescind{OfferID: mesos.OfferID{Value: "o1"}}},
		{Type: mesos.EventUpdate, Update: &mesos.Update{Status: mesos.TaskStatus{
			TaskID: mesos.TaskID{Value: "t1"}, State: mesos.TaskRunning, UUID: []byte("0123456789abcdef"),
		}}},
		{Type: "SOMETHING_NEW"},
		{Type: mesos.EventHeartbeat},
	}
	for _, ev := range sent {
		m.Send(ev)
	}
	var got []mesos.Event
	for range sent {
		got = append(got, r.next())
	}
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Fatalf("events (-sent +got):\n%s", diff)
	}
}

func TestSubscribeRequest(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), func(cfg *mesos.Config) {
		timeout := 604800.0
		cfg.Framework.FailoverTimeout = &timeout
		cfg.Framework.Roles = []string{"marathon"}
		cfg.Framework.Capabilities = []mesos.Capability{{Type: mesos.CapabilityMultiRole}}
	})
	r := run(t, c)
	r.expect(mesos.EventSubscribed)

	req := m.NextCall(mesos.CallSubscribe)
	checkHeaders(t, req.Header, map[string][]string{
		"Content-Type":       {"application/json"},
		"Accept":             {"application/json"},
		mesos.StreamIDHeader: nil,
		"Authorization":      nil,
	})
	if req.Path != mesos.SchedulerPath {
		t.Errorf("path = %q, want %q", req.Path, mesos.SchedulerPath)
	}
	checkJSON(t, req.Body, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{
		"user":"root","name":"stadion","failover_timeout":604800,
		"roles":["marathon"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`)
}

// checkHeaders checks that each header has exactly the given values; nil
// means absent.
func checkHeaders(t *testing.T, h http.Header, want map[string][]string) {
	t.Helper()
	for name, values := range want {
		if diff := cmp.Diff(values, h.Values(name)); diff != "" {
			t.Errorf("header %s (-want +got):\n%s", name, diff)
		}
	}
}

func TestCallHeaders(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	r := run(t, c)
	r.expect(mesos.EventSubscribed)

	if err := c.Revive(context.Background()); err != nil {
		t.Fatalf("Revive: %v", err)
	}
	req := m.NextCall(mesos.CallRevive)
	checkHeaders(t, req.Header, map[string][]string{
		"Content-Type":       {"application/json"},
		mesos.StreamIDHeader: {m.StreamID()},
	})
}

func TestRunSavesFrameworkIDBeforeDelivering(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	store := &memStore{}
	c := newClient(t, m.URL(), func(cfg *mesos.Config) { cfg.Store = store })
	r := run(t, c)

	r.expect(mesos.EventSubscribed)
	if diff := cmp.Diff([]string{fakeID}, store.saved()); diff != "" {
		t.Fatalf("saves when SUBSCRIBED was delivered (-want +got):\n%s", diff)
	}
}

// flakyStore fails its first save.
type flakyStore struct {
	memStore
	failed bool
}

func (s *flakyStore) SaveFrameworkID(ctx context.Context, id string) error {
	s.mu.Lock()
	if !s.failed {
		s.failed = true
		s.mu.Unlock()
		return errors.New("store unavailable")
	}
	s.mu.Unlock()
	return s.memStore.SaveFrameworkID(ctx, id)
}

func TestRunDoesNotDeliverUnsavedSubscribed(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	store := &flakyStore{}
	c := newClient(t, m.URL(), func(cfg *mesos.Config) { cfg.Store = store })
	r := run(t, c)

	// The first SUBSCRIBED is dropped with its stream because the id could
	// not be saved; the resubscription carries the id and saves it.
	r.expect(mesos.EventSubscribed)
	if diff := cmp.Diff([]string{fakeID}, store.saved()); diff != "" {
		t.Fatalf("saves (-want +got):\n%s", diff)
	}
	m.NextCall(mesos.CallSubscribe)
	if got := m.NextCall(mesos.CallSubscribe).Call.FrameworkID; got == nil || got.Value != fakeID {
		t.Fatalf("resubscription framework_id = %v, want %s", got, fakeID)
	}
}

func TestRunResubscribesWithStoredID(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	store := &memStore{id: "stored-0001"}
	c := newClient(t, m.URL(), func(cfg *mesos.Config) { cfg.Store = store })
	r := run(t, c)

	sub := r.expect(mesos.EventSubscribed)[0]
	if got := sub.Subscribed.FrameworkID.Value; got != "stored-0001" {
		t.Fatalf("framework id = %q, want stored-0001", got)
	}
	checkJSON(t, m.NextCall(mesos.CallSubscribe).Body, `{"type":"SUBSCRIBE",
		"framework_id":{"value":"stored-0001"},
		"subscribe":{"framework_info":{"user":"root","name":"stadion","id":{"value":"stored-0001"}}}}`)
	if saves := store.saved(); len(saves) != 0 {
		t.Fatalf("unchanged id saved again: %v", saves)
	}
}

func TestRunResubscribesAfterStreamDrop(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	r := run(t, c)
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)
	first := m.StreamID()

	m.DropStream()
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)

	m.NextCall(mesos.CallSubscribe)
	checkJSON(t, m.NextCall(mesos.CallSubscribe).Body, `{"type":"SUBSCRIBE",
		"framework_id":{"value":"`+fakeID+`"},
		"subscribe":{"framework_info":{"user":"root","name":"stadion","id":{"value":"`+fakeID+`"}}}}`)

	if err := c.Suppress(context.Background()); err != nil {
		t.Fatalf("Suppress on the new subscription: %v", err)
	}
	got := m.NextCall(mesos.CallSuppress).Header.Get(mesos.StreamIDHeader)
	if got == first || got != m.StreamID() {
		t.Fatalf("call carried stream id %q; first stream %q, live stream %q", got, first, m.StreamID())
	}
}

func TestCallNotSubscribedAfterStreamEnds(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), func(cfg *mesos.Config) {
		// Keep the client from resubscribing during the test.
		cfg.MinBackoff = time.Hour
		cfg.MaxBackoff = time.Hour
	})
	if err := c.Revive(context.Background()); !errors.Is(err, mesos.ErrNotSubscribed) {
		t.Fatalf("Revive before Run = %v, want ErrNotSubscribed", err)
	}
	r := run(t, c)
	r.expect(mesos.EventSubscribed)
	if err := c.Revive(context.Background()); err != nil {
		t.Fatalf("Revive while subscribed: %v", err)
	}

	m.DropStream()
	poll(t, func() bool {
		return errors.Is(c.Revive(context.Background()), mesos.ErrNotSubscribed)
	}, "Revive never answered ErrNotSubscribed after the stream ended")
}

// poll waits until cond holds, failing the test after waitTimeout.
func poll(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.After(waitTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal(msg)
		}
	}
}

func TestRunWatchdogResubscribes(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{HeartbeatInterval: 50 * time.Millisecond})
	var logs testenv.Buffer
	c := newClient(t, m.URL(), func(cfg *mesos.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	r := run(t, c)

	// The fake sends SUBSCRIBED and one HEARTBEAT, then nothing and keeps
	// the stream open: after 5 × 50 ms the client gives up on the stream
	// and subscribes again.
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)
	if n := len(m.Calls(mesos.CallSubscribe)); n != 2 {
		t.Fatalf("%d SUBSCRIBE calls, want 2", n)
	}
	if !strings.Contains(logs.String(), mesos.ErrHeartbeatTimeout.Error()) {
		t.Fatalf("the subscription did not end by the watchdog; logs:\n%s", logs.String())
	}
}

func TestRunWatchdogResetByRecords(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{HeartbeatInterval: 50 * time.Millisecond})
	c := newClient(t, m.URL(), func(cfg *mesos.Config) { cfg.MissedHeartbeats = 4 })
	r := run(t, c)
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)

	// Records every 40 ms for 400 ms keep a 200 ms watchdog from firing.
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for range 10 {
		<-tick.C
		m.Send(mesos.Event{Type: mesos.EventHeartbeat})
		r.expect(mesos.EventHeartbeat)
	}
	if n := len(m.Calls(mesos.CallSubscribe)); n != 1 {
		t.Fatalf("%d SUBSCRIBE calls while records kept coming, want 1", n)
	}
}

func TestRunFollowsRedirect(t *testing.T) {
	leader := mesostest.NewMaster(t, mesostest.Config{})
	other := mesostest.NewMaster(t, mesostest.Config{})
	other.RedirectTo(leader)
	var logs testenv.Buffer
	c := newClient(t, other.URL(), func(cfg *mesos.Config) {
		cfg.Principal = "stadion"
		cfg.Secret = "s3cret-value"
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	r := run(t, c)
	r.expect(mesos.EventSubscribed)

	sub := leader.NextCall(mesos.CallSubscribe)
	if want := "/master" + mesos.SchedulerPath; sub.Path != want {
		t.Errorf("redirected SUBSCRIBE path = %q, want %q", sub.Path, want)
	}
	for _, req := range []mesostest.Request{other.NextCall(mesos.CallSubscribe), sub} {
		user, pass, ok := (&http.Request{Header: req.Header}).BasicAuth()
		if !ok || user != "stadion" || pass != "s3cret-value" {
			t.Errorf("request to %s: basic auth %q/%q (%v), want the configured credentials", req.Path, user, pass, ok)
		}
	}
	checkJSON(t, sub.Body, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"stadion","principal":"stadion"}}}`)

	if err := c.Decline(context.Background(), []mesos.OfferID{{Value: "o1"}}, nil); err != nil {
		t.Fatalf("Decline: %v", err)
	}
	leader.NextCall(mesos.CallDecline)
	if n := len(other.Requests()); n != 1 {
		t.Fatalf("non-leader got %d requests, want only the first SUBSCRIBE", n)
	}
	if strings.Contains(logs.String(), "s3cret-value") {
		t.Fatal("the secret was logged")
	}
}

// TestRedirectCredentials checks that Basic credentials follow a 307 to
// another host of the same scheme but never to another scheme, neither on
// the redirect nor on later calls to the leader it found.
func TestRedirectCredentials(t *testing.T) {
	tests := []struct {
		name     string
		tls      bool // the master the Detector names serves https
		wantAuth bool // the leader gets the credentials
	}{
		{name: "absolute URL, same scheme, other host", tls: false, wantAuth: true},
		{name: "absolute URL, https to http", tls: true, wantAuth: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leader := mesostest.NewMaster(t, mesostest.Config{})
			other := mesostest.NewMaster(t, mesostest.Config{TLS: tc.tls})
			// An absolute Location, with the leader's scheme: http.
			other.RedirectLocation(strings.Replace(leader.URL(), "127.0.0.1", "localhost", 1) + "/master" + mesos.SchedulerPath)
			c := newClient(t, other.URL(), func(cfg *mesos.Config) {
				cfg.Principal = "stadion"
				cfg.Secret = "s3cret-value"
				cfg.HTTPClient = other.HTTPClient()
			})
			r := run(t, c)
			r.expect(mesos.EventSubscribed)
			if err := c.Decline(context.Background(), []mesos.OfferID{{Value: "o1"}}, nil); err != nil {
				t.Fatalf("Decline: %v", err)
			}
			if _, _, ok := (&http.Request{Header: other.NextCall(mesos.CallSubscribe).Header}).BasicAuth(); !ok {
				t.Errorf("the master the Detector named got no credentials")
			}
			for _, req := range []mesostest.Request{leader.NextCall(mesos.CallSubscribe), leader.NextCall(mesos.CallDecline)} {
				user, pass, ok := (&http.Request{Header: req.Header}).BasicAuth()
				if ok != tc.wantAuth {
					t.Errorf("%s to the leader: basic auth %q/%q (%v), want credentials: %v", req.Call.Type, user, pass, ok, tc.wantAuth)
				}
			}
		})
	}
}

func TestRunGivesUpRedirectLoop(t *testing.T) {
	a := mesostest.NewMaster(t, mesostest.Config{})
	b := mesostest.NewMaster(t, mesostest.Config{})
	a.RedirectTo(b)
	b.RedirectTo(a)
	var logs testenv.Buffer
	c := newClient(t, a.URL(), func(cfg *mesos.Config) {
		cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour // one attempt only
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	run(t, c)

	poll(t, func() bool { return strings.Contains(logs.String(), mesos.ErrTooManyRedirects.Error()) },
		"the client never gave up the redirect loop")
	// The first request and 5 followed redirects.
	if na, nb := len(a.Requests()), len(b.Requests()); na+nb != 6 {
		t.Fatalf("%d + %d requests, want 6", na, nb)
	}
}

func TestRunRetriesUnavailable(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	m.QueueSubscribe(
		mesostest.Reply{Status: http.StatusServiceUnavailable, Body: "No leader elected"},
		mesostest.Reply{Status: http.StatusServiceUnavailable, Body: "Master has not finished recovery"},
	)
	c := newClient(t, m.URL(), nil)
	r := run(t, c)
	r.expect(mesos.EventSubscribed)
	if n := len(m.Calls(mesos.CallSubscribe)); n != 3 {
		t.Fatalf("%d SUBSCRIBE calls, want 3", n)
	}
}

func TestRunReturnsFrameworkError(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*mesostest.Master)
		after func(*mesostest.Master, *runner)
	}{
		{
			name: "subscription refused",
			setup: func(m *mesostest.Master) {
				m.QueueSubscribe(mesostest.Reply{Error: "Framework has been removed"})
			},
		},
		{
			name: "framework removed later",
			after: func(m *mesostest.Master, r *runner) {
				r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)
				m.Send(mesos.Event{Type: mesos.EventError, Error: &mesos.ErrorEvent{Message: "Framework has been removed"}})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mesostest.NewMaster(t, mesostest.Config{})
			if tc.setup != nil {
				tc.setup(m)
			}
			r := run(t, newClient(t, m.URL(), nil))
			if tc.after != nil {
				tc.after(m, r)
			}
			ev := r.expect(mesos.EventError)[0]
			if ev.Error == nil || ev.Error.Message != "Framework has been removed" {
				t.Fatalf("ERROR event payload = %+v", ev.Error)
			}
			err := r.wait()
			var fe *mesos.FrameworkError
			if !errors.As(err, &fe) || fe.Message != "Framework has been removed" {
				t.Fatalf("Run = %v, want *FrameworkError with the message", err)
			}
			if n := len(m.Calls(mesos.CallSubscribe)); n != 1 {
				t.Fatalf("%d SUBSCRIBE calls, want 1 (no resubscription)", n)
			}
		})
	}
}

func TestRunReturnsContextError(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan mesos.Event) // unbuffered and unread: Run blocks delivering
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, events) }()
	m.NextCall(mesos.CallSubscribe)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
	}
}

func TestCallAPIError(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	r := run(t, c)
	r.expect(mesos.EventSubscribed)

	m.QueueCall(mesostest.Reply{Status: http.StatusBadRequest, Body: "Framework cannot be found"})
	err := c.Decline(context.Background(), []mesos.OfferID{{Value: "o1"}}, nil)
	var apiErr *mesos.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("Decline = %v, want *APIError", err)
	}
	want := &mesos.APIError{Code: http.StatusBadRequest, Body: "Framework cannot be found", Call: mesos.CallDecline}
	if diff := cmp.Diff(want, apiErr); diff != "" {
		t.Fatalf("APIError (-want +got):\n%s", diff)
	}
}

func TestCallRefusesSubscribe(t *testing.T) {
	c := newClient(t, "127.0.0.1:1", nil)
	err := c.Call(context.Background(), mesos.Call{Type: mesos.CallSubscribe})
	if err == nil || errors.Is(err, mesos.ErrNotSubscribed) {
		t.Fatalf("Call(SUBSCRIBE) = %v, want a refusal", err)
	}
}

func TestBackoff(t *testing.T) {
	const lo, hi = time.Second, 15 * time.Second
	tests := []struct {
		name    string
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{name: "first retry is min", attempt: 0, jitter: 0, want: lo},
		{name: "first retry jitter never goes below min", attempt: 0, jitter: 0.5, want: lo},
		{name: "second retry low", attempt: 1, jitter: 0, want: lo},
		{name: "second retry high", attempt: 1, jitter: 1, want: 2 * lo},
		{name: "third retry doubles", attempt: 2, jitter: 1, want: 4 * lo},
		{name: "fourth retry doubles", attempt: 3, jitter: 0.5, want: 6 * lo},
		{name: "capped high", attempt: 4, jitter: 1, want: hi},
		{name: "capped low", attempt: 4, jitter: 0, want: hi / 2},
		{name: "stays capped", attempt: 50, jitter: 1, want: hi},
		{name: "huge attempt does not overflow", attempt: 1 << 30, jitter: 1, want: hi},
		{name: "jitter clamped", attempt: 3, jitter: 7, want: 8 * lo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mesos.Backoff(tc.attempt, lo, hi, tc.jitter)
			if got != tc.want {
				t.Fatalf("Backoff(%d, %s, %s, %v) = %s, want %s", tc.attempt, lo, hi, tc.jitter, got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	d, err := mesos.StaticDetector("127.0.0.1:5050")
	if err != nil {
		t.Fatal(err)
	}
	valid := func() mesos.Config {
		return mesos.Config{Detector: d, Framework: mesos.FrameworkInfo{User: "root", Name: "stadion"}}
	}
	tests := []struct {
		name    string
		edit    func(*mesos.Config)
		wantErr bool
	}{
		{name: "minimal", edit: func(*mesos.Config) {}},
		{name: "credentials", edit: func(c *mesos.Config) { c.Principal, c.Secret = "p", "s" }},
		{name: "no detector", edit: func(c *mesos.Config) { c.Detector = nil }, wantErr: true},
		{name: "no user", edit: func(c *mesos.Config) { c.Framework.User = "" }, wantErr: true},
		{name: "no name", edit: func(c *mesos.Config) { c.Framework.Name = "" }, wantErr: true},
		{name: "http client with timeout", edit: func(c *mesos.Config) { c.HTTPClient = &http.Client{Timeout: time.Second} }, wantErr: true},
		{name: "http client without timeout", edit: func(c *mesos.Config) { c.HTTPClient = &http.Client{} }},
		{name: "secret without principal", edit: func(c *mesos.Config) { c.Secret = "s" }, wantErr: true},
		{name: "principal mismatch", edit: func(c *mesos.Config) { c.Principal, c.Framework.Principal = "a", "b" }, wantErr: true},
		{name: "negative heartbeats", edit: func(c *mesos.Config) { c.MissedHeartbeats = -1 }, wantErr: true},
		{name: "negative timeout", edit: func(c *mesos.Config) { c.CallTimeout = -time.Second }, wantErr: true},
		{name: "min above max", edit: func(c *mesos.Config) { c.MinBackoff, c.MaxBackoff = time.Minute, time.Second }, wantErr: true},
		{name: "min above default max", edit: func(c *mesos.Config) { c.MinBackoff = time.Minute }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.edit(&cfg)
			err := cfg.Validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
			if _, newErr := mesos.New(cfg); (newErr != nil) != tc.wantErr {
				t.Fatalf("New() = %v, want error %v", newErr, tc.wantErr)
			}
		})
	}
}

// TestUpdateFrameworkRoles: UpdateFramework sends UPDATE_FRAMEWORK with
// the whole FrameworkInfo and the new roles, and every later SUBSCRIBE
// carries them (a MULTI_ROLE framework adding the roles of its apps, as
// Marathon 1.9+ does).
func TestUpdateFrameworkRoles(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), func(cfg *mesos.Config) {
		cfg.Framework.Roles = []string{"stadion"}
		cfg.Framework.Capabilities = []mesos.Capability{{Type: mesos.CapabilityMultiRole}}
	})
	r := run(t, c)
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)
	checkJSON(t, m.NextCall(mesos.CallSubscribe).Body, `{"type":"SUBSCRIBE",
		"subscribe":{"framework_info":{"user":"root","name":"stadion","roles":["stadion"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`)

	if err := c.UpdateFramework(context.Background(), []string{"dev", "stadion"}); err != nil {
		t.Fatalf("UpdateFramework: %v", err)
	}
	checkJSON(t, m.NextCall(mesos.CallUpdateFramework).Body, `{"type":"UPDATE_FRAMEWORK",
		"framework_id":{"value":"`+fakeID+`"},
		"update_framework":{"framework_info":{"user":"root","name":"stadion","id":{"value":"`+fakeID+`"},"roles":["dev","stadion"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`)

	m.DropStream()
	r.expect(mesos.EventSubscribed, mesos.EventHeartbeat)
	checkJSON(t, m.NextCall(mesos.CallSubscribe).Body, `{"type":"SUBSCRIBE",
		"framework_id":{"value":"`+fakeID+`"},
		"subscribe":{"framework_info":{"user":"root","name":"stadion","id":{"value":"`+fakeID+`"},"roles":["dev","stadion"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`)
}
