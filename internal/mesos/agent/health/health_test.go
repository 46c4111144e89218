package health

import (
	"errors"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

func TestPolicyOfDefaults(t *testing.T) {
	p := PolicyOf(mesos.HealthCheck{})
	want := Policy{Delay: 15 * time.Second, Interval: 10 * time.Second, Timeout: 20 * time.Second, Grace: 10 * time.Second, ConsecutiveFailures: 3}
	if p != want {
		t.Errorf("PolicyOf = %+v, want %+v", p, want)
	}
}

func TestTracker(t *testing.T) {
	fail := errors.New("refused")
	type step struct {
		at     time.Duration // since start
		err    error
		report bool
		want   Result
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "failures in the grace period are ignored",
			steps: []step{
				{at: 1 * time.Second, err: fail},
				{at: 2 * time.Second, err: fail},
				{at: 3 * time.Second, report: true, want: Result{Healthy: true, Changed: true}},
			},
		},
		{
			name: "a success ends the grace period",
			steps: []step{
				{at: 1 * time.Second, report: true, want: Result{Healthy: true, Changed: true}},
				{at: 2 * time.Second, err: fail, report: true, want: Result{Changed: true, Message: "refused"}},
			},
		},
		{
			name: "only changes are reported, kill after the last failure",
			steps: []step{
				{at: 11 * time.Second, err: fail, report: true, want: Result{Changed: true, Message: "refused"}},
				{at: 12 * time.Second, err: fail},
				{at: 13 * time.Second, err: fail, report: true, want: Result{Kill: true, Message: "refused"}},
			},
		},
		{
			name: "a success resets the count",
			steps: []step{
				{at: 11 * time.Second, err: fail, report: true, want: Result{Changed: true, Message: "refused"}},
				{at: 12 * time.Second, err: fail},
				{at: 13 * time.Second, report: true, want: Result{Healthy: true, Changed: true}},
				{at: 14 * time.Second},
				{at: 15 * time.Second, err: fail, report: true, want: Result{Changed: true, Message: "refused"}},
				{at: 16 * time.Second, err: fail},
			},
		},
	}
	start := time.Unix(1000, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(PolicyOf(mesos.HealthCheck{}), start)
			for i, s := range tc.steps {
				got, report := tr.Observe(s.err, start.Add(s.at))
				if report != s.report || (report && got != s.want) {
					t.Fatalf("step %d: Observe = %+v, %v; want %+v, %v", i, got, report, s.want, s.report)
				}
			}
		})
	}
}
