package scheduler_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
)

// TestRestartKeepsStartedAt restarts the scheduler on its store: the
// adopted tasks keep the start time they had, not the time the new
// scheduler heard of them again (the reconciliation's TASK_RUNNING).
func TestRestartKeepsStartedAt(t *testing.T) {
	h := start(t)
	h.deploy(sleeper("/since", 2))
	h.wait("2 running", running("/since", 2))
	started := map[string]time.Time{}
	for _, inst := range h.sched.View().App("/since").Instances {
		if inst.StartedAt.IsZero() {
			t.Fatalf("task %s runs without startedAt", inst.TaskID)
		}
		started[inst.TaskID] = inst.StartedAt
	}

	h.stop()
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.wait("the same 2 running, reconciled, with their start times", func(v *scheduler.View) error {
		if err := running("/since", 2)(v); err != nil {
			return err
		}
		for _, inst := range v.App("/since").Instances {
			want, ok := started[inst.TaskID]
			if !ok {
				return fmt.Errorf("new task %s", inst.TaskID)
			}
			if !inst.StartedAt.Equal(want) {
				t.Fatalf("task %s startedAt %s after the restart, was %s", inst.TaskID, inst.StartedAt, want)
			}
		}
		return nil
	})
}
