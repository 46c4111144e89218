package scheduler

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// recorder is a Mesos that records the calls it gets; launches wait for
// release, so that a call overtaking one shows.
type recorder struct {
	release chan struct{}
	mu      sync.Mutex
	calls   []string
}

func (r *recorder) record(c string) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

func (r *recorder) Run(context.Context, chan<- mesos.Event) error { return nil }
func (r *recorder) Launch(_ context.Context, _ []mesos.OfferID, tasks []mesos.TaskInfo, _ *mesos.Filters) error {
	<-r.release
	r.record("launch " + tasks[0].TaskID.Value)
	return nil
}
func (r *recorder) Decline(context.Context, []mesos.OfferID, *mesos.Filters) error { return nil }
func (r *recorder) Revive(context.Context, ...string) error                        { return nil }
func (r *recorder) Suppress(context.Context, ...string) error                      { return nil }
func (r *recorder) UpdateFramework(context.Context, []string) error                { return nil }
func (r *recorder) Kill(_ context.Context, id mesos.TaskID, _ *mesos.AgentID, _ *mesos.KillPolicy) error {
	r.record("kill " + id.Value)
	return nil
}
func (r *recorder) Acknowledge(_ context.Context, st mesos.TaskStatus) error {
	r.record("ack " + st.TaskID.Value + " " + string(st.State))
	return nil
}
func (r *recorder) Reconcile(context.Context, []mesos.ReconcileTask) error { return nil }

func TestCallerOrder(t *testing.T) {
	rec := &recorder{release: make(chan struct{})}
	c := newCaller(context.Background(), rec, slog.New(slog.DiscardHandler))
	defer c.close()

	agent := mesos.AgentID{Value: "agent-1"}
	c.launch([]mesos.OfferID{{Value: "o1"}}, []mesos.TaskInfo{{TaskID: mesos.TaskID{Value: "t1"}, AgentID: agent}}, nil)
	c.kill("t1", "agent-1", nil)
	c.acknowledge(mesos.TaskStatus{TaskID: mesos.TaskID{Value: "t2"}, State: mesos.TaskStarting})
	c.acknowledge(mesos.TaskStatus{TaskID: mesos.TaskID{Value: "t2"}, State: mesos.TaskRunning})

	// The acknowledgements do not wait for the launch; the kill does.
	waitCalls(t, rec, 2)
	close(rec.release)
	got := waitCalls(t, rec, 4)
	want := []string{"ack t2 TASK_STARTING", "ack t2 TASK_RUNNING", "launch t1", "kill t1"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("calls = %q, want %q", got, want)
		}
	}
}

func waitCalls(t *testing.T, rec *recorder, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		calls := append([]string(nil), rec.calls...)
		rec.mu.Unlock()
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("got calls %q, want %d", calls, n)
		}
		time.Sleep(time.Millisecond)
	}
}
