package scheduler_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// recorder is a scheduler.Publisher that hands the events to a channel.
type recorder chan marathon.Event

func (r recorder) Publish(e marathon.Event) { r <- e }

// TestUnknownInstanceTerminatedEvent forgets an instance while its task
// runs: the restarted scheduler kills the task it does not know, and its
// TASK_KILLED publishes unknown_instance_terminated_event, as Marathon
// does for a terminal update of an unknown instance.
func TestUnknownInstanceTerminatedEvent(t *testing.T) {
	h := start(t)
	lost := forgetRunningInstance(t, h, "/forgotten")
	events := make(recorder, 4096)
	det, err := mesos.StaticDetector(h.cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	h.runWith(slog.New(slog.NewTextHandler(testWriter{t}, nil)), det, func(c *scheduler.Config) { c.Events = events })
	e := waitEvent(t, events, func(e marathon.Event) bool {
		_, ok := e.(marathon.UnknownInstanceTerminatedEvent)
		return ok
	}).(marathon.UnknownInstanceTerminatedEvent)
	want := marathon.UnknownInstanceTerminatedEvent{InstanceID: lost.ID, RunSpecID: "/forgotten", Condition: "Killed"}
	if e.InstanceID != want.InstanceID || e.RunSpecID != want.RunSpecID || e.Condition != want.Condition || e.Timestamp.IsZero() {
		t.Fatalf("event %+v, want %+v", e, want)
	}
}

// waitEvent returns the first event that match accepts.
func waitEvent(t *testing.T, events recorder, match func(marathon.Event) bool) marathon.Event {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case e := <-events:
			if match(e) {
				return e
			}
		case <-timer.C:
			t.Fatalf("no such event within %v", waitFor)
		}
	}
}
