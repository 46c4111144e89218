package scheduler

import (
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

func TestStartedAt(t *testing.T) {
	now := time.Unix(1_700_000_100, 0)
	stored := time.Unix(1_700_000_000, 0)
	started := time.Unix(1_700_000_050, 0)
	running := func(at time.Time, reason mesos.Reason) mesos.TaskStatus {
		s := mesos.TaskStatus{State: mesos.TaskRunning, Reason: reason}
		if !at.IsZero() {
			s.Timestamp = float64(at.UnixNano()) / float64(time.Second)
		}
		return s
	}
	tests := []struct {
		name   string
		known  time.Time
		status mesos.TaskStatus
		want   time.Time
	}{
		{name: "first running takes mesos's time", status: running(started, ""), want: started},
		{name: "no timestamp takes now", status: running(time.Time{}, ""), want: now},
		{name: "reconciliation answer takes now", status: running(now, mesos.ReasonReconciliation), want: now},
		{name: "stored time stays on reconciliation", known: stored, status: running(now, mesos.ReasonReconciliation), want: stored},
		{name: "stored time stays on a later running", known: stored, status: running(started, ""), want: stored},
		{name: "resent running corrects the reconciliation time", known: now, status: running(started, ""), want: started},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := startedAt(tc.known, tc.status, now)
			if d := got.Sub(tc.want).Abs(); d > time.Microsecond {
				t.Fatalf("startedAt = %v, want %v", got, tc.want)
			}
		})
	}
}
