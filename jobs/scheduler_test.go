package jobs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// fakeMesos records the calls of the scheduler and lets the test feed
// events.
type fakeMesos struct {
	events chan mesos.Event
	mu     sync.Mutex
	calls  []string
}

func newFakeMesos() *fakeMesos { return &fakeMesos{events: make(chan mesos.Event, 16)} }

func (f *fakeMesos) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return nil
}

func (f *fakeMesos) called(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeMesos) Run(ctx context.Context, events chan<- mesos.Event) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-f.events:
			events <- ev
		}
	}
}

func (f *fakeMesos) Launch(_ context.Context, _ []mesos.OfferID, tasks []mesos.TaskInfo, _ *mesos.Filters) error {
	for _, t := range tasks {
		f.record("launch " + t.TaskID.Value)
	}
	return nil
}

func (f *fakeMesos) Decline(context.Context, []mesos.OfferID, *mesos.Filters) error {
	return f.record("decline")
}
func (f *fakeMesos) Revive(context.Context, ...string) error { return f.record("revive") }
func (f *fakeMesos) Kill(_ context.Context, id mesos.TaskID, _ *mesos.AgentID, _ *mesos.KillPolicy) error {
	return f.record("kill " + id.Value)
}
func (f *fakeMesos) Acknowledge(_ context.Context, st mesos.TaskStatus) error {
	return f.record("ack " + st.TaskID.Value)
}
func (f *fakeMesos) Reconcile(context.Context, []mesos.ReconcileTask) error {
	return f.record("reconcile")
}
func (f *fakeMesos) FrameworkID() string { return "fw" }

// memStore is a Store in memory whose writes fail while failing is set.
type memStore struct {
	mu      sync.Mutex
	failing bool
	snap    Snapshot
}

func (m *memStore) setFailing(v bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failing = v
}

func (m *memStore) Load(context.Context) (Snapshot, error) { return m.snap, nil }
func (m *memStore) Apply(_ context.Context, c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errors.New("disk full")
	}
	m.snap.Jobs = append(m.snap.Jobs, c.PutJobs...)
	m.snap.Runs = append(m.snap.Runs, c.PutRuns...)
	return nil
}
func (m *memStore) LoadFrameworkID(context.Context) (string, error) { return "", nil }
func (m *memStore) SaveFrameworkID(context.Context, string) error   { return nil }
func (m *memStore) Close() error                                    { return nil }

func startScheduler(t *testing.T) (*Scheduler, *fakeMesos, *memStore) {
	t.Helper()
	fm, st := newFakeMesos(), &memStore{}
	s, err := New(Config{Mesos: fm, Store: st, FailureRetry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-s.Ready()
	fm.events <- mesos.Event{Type: mesos.EventSubscribed}
	return s, fm, st
}

func offer(id string) mesos.Event {
	scalar := func(name string, v float64) mesos.Resource {
		return mesos.Resource{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}}
	}
	return mesos.Event{Type: mesos.EventOffers, Offers: &mesos.Offers{Offers: []mesos.Offer{{
		ID: mesos.OfferID{Value: id}, AgentID: mesos.AgentID{Value: "agent"}, Hostname: "h",
		Resources: []mesos.Resource{scalar("cpus", 4), scalar("mem", 4096), scalar("disk", 4096)},
	}}}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFailedWriteChangesNothing: a write that fails answers an error
// wrapping ErrStore, and neither the view nor Mesos sees the change; once
// the store works, offers launch only what is stored.
func TestFailedWriteChangesNothing(t *testing.T) {
	s, fm, st := startScheduler(t)
	ctx := context.Background()
	j, err := Decode([]byte(`{"name":"a","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}`), DefaultDefaults)
	if err != nil {
		t.Fatal(err)
	}
	st.setFailing(true)
	if err := s.Do(ctx, func(tx *Tx) error { return tx.Put(ctx, j) }); !errors.Is(err, ErrStore) {
		t.Fatalf("put on a failing store: %v", err)
	}
	if _, ok := s.View().Job("a"); ok {
		t.Fatal("a job that was not stored is visible")
	}
	st.setFailing(false)
	if err := s.Do(ctx, func(tx *Tx) error { return tx.Put(ctx, j) }); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.View().Job("a"); !ok {
		t.Fatal("the stored job is not visible")
	}
	// A manual run while writes fail: no run, no launch.
	st.setFailing(true)
	if err := s.Do(ctx, func(tx *Tx) error { return tx.Trigger(ctx, "a", "") }); !errors.Is(err, ErrStore) {
		t.Fatalf("trigger on a failing store: %v", err)
	}
	fm.events <- offer("o1")
	waitFor(t, "the offer declined", func() bool { return len(fm.called("decline")) > 0 })
	if l := fm.called("launch"); len(l) != 0 {
		t.Fatalf("launched %v without a stored run", l)
	}
	// Stored, then launched from the next offer; the launch is stored
	// before the call.
	st.setFailing(false)
	if err := s.Do(ctx, func(tx *Tx) error { return tx.Trigger(ctx, "a", "x") }); err != nil {
		t.Fatal(err)
	}
	fm.events <- offer("o2")
	waitFor(t, "a launch", func() bool { return len(fm.called("launch")) == 1 })
	st.mu.Lock()
	var launched bool
	for _, r := range st.snap.Runs {
		launched = launched || (r.State == RunLaunched && "launch "+r.TaskID == fm.called("launch")[0])
	}
	st.mu.Unlock()
	if !launched {
		t.Errorf("the launch of %v was not stored as launched first", fm.called("launch"))
	}
}

// TestUpdateAcknowledgedAfterItIsStored: an update whose write fails is
// not acknowledged (Mesos sends it again); once stored, it is.
func TestUpdateAcknowledgedAfterItIsStored(t *testing.T) {
	s, fm, st := startScheduler(t)
	ctx := context.Background()
	j, _ := Decode([]byte(`{"name":"a","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}`), DefaultDefaults)
	if err := s.Do(ctx, func(tx *Tx) error {
		if err := tx.Put(ctx, j); err != nil {
			return err
		}
		return tx.Trigger(ctx, "a", "")
	}); err != nil {
		t.Fatal(err)
	}
	fm.events <- offer("o1")
	waitFor(t, "a launch", func() bool { return len(fm.called("launch")) == 1 })
	id := strings.TrimPrefix(fm.called("launch")[0], "launch ")
	finished := mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: mesos.TaskStatus{
		TaskID: mesos.TaskID{Value: id}, State: mesos.TaskFinished, UUID: []byte("u"), AgentID: &mesos.AgentID{Value: "agent"}}}}
	st.setFailing(true)
	fm.events <- finished
	fm.events <- offer("o2") // a later event: the update has been handled
	waitFor(t, "the second offer handled", func() bool { return len(fm.called("decline")) > 0 })
	if a := fm.called("ack"); len(a) != 0 {
		t.Fatalf("acknowledged %v before it was stored", a)
	}
	if got, _ := s.View().Job("a"); got.SuccessCount != 0 {
		t.Fatalf("counted a success that was not stored: %d", got.SuccessCount)
	}
	st.setFailing(false)
	fm.events <- finished
	waitFor(t, "the acknowledgement", func() bool { return len(fm.called("ack")) == 1 })
	if got, _ := s.View().Job("a"); got.SuccessCount != 1 {
		t.Errorf("successCount %d, want 1", got.SuccessCount)
	}
}

// TestWaitWithQueuedRun: a job whose schedule is due while its run waits
// in the queue does not make the loop spin.
func TestWaitWithQueuedRun(t *testing.T) {
	now := at("2024-05-01T12:00:00Z")
	s, err := New(Config{Mesos: newFakeMesos(), Store: &memStore{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.wait(); d < time.Second {
		t.Fatalf("nothing to do before SUBSCRIBED: wait %v, want no spin", d)
	}
	j, _ := Decode([]byte(`{"name":"a","schedule":"R/2024-05-01T11:00:00Z/PT1S"}`), DefaultDefaults)
	s.jobs["a"] = j
	if d := s.wait(); d > time.Millisecond {
		t.Fatalf("a due job: wait %v, want at once", d)
	}
	s.lastRevive, s.lastReconcile = now, now
	s.runs["r"] = Run{TaskID: "r", Job: "a", State: RunQueued}
	// A failed write a while ago asked for a pass, which has run.
	s.retryAt = now.Add(-time.Minute)
	s.pass(context.Background())
	if d := s.wait(); d < time.Second {
		t.Errorf("a due job with a queued run: wait %v, want no spin", d)
	}
	// A retry held back for a minute, offers revived long ago: the loop
	// sleeps until the retry is due.
	later := now.Add(time.Minute)
	s.runs["r"] = Run{TaskID: "r", Job: "a", State: RunQueued, NotBefore: &later}
	s.lastRevive = now.Add(-time.Hour)
	if d := s.wait(); d < 30*time.Second {
		t.Errorf("a retry due in a minute: wait %v", d)
	}
}

func TestMaxJobs(t *testing.T) {
	s, _, _ := startScheduler(t)
	ctx := context.Background()
	err := s.Do(ctx, func(tx *Tx) error {
		for i := range MaxJobs + 1 {
			j, _ := Decode([]byte(`{"name":"j`+strconv.Itoa(i)+`","schedule":"R/2099-01-01T00:00:00Z/P1D"}`), DefaultDefaults)
			if err := tx.Put(ctx, j); err != nil {
				return err
			}
		}
		return nil
	})
	var re *RequestError
	if !errors.As(err, &re) || len(s.View().Jobs) != MaxJobs {
		t.Errorf("job %d: %v; %d jobs stored", MaxJobs+1, err, len(s.View().Jobs))
	}
}
