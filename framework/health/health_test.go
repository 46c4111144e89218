package health

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// Builders keep the tables readable.

// at is t0 plus s seconds.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func check(opts ...func(*marathon.HealthCheck)) marathon.HealthCheck {
	hc := marathon.NewHealthCheck(marathon.ProtocolHTTP)
	for _, o := range opts {
		o(&hc)
	}
	return hc
}

func grace(s int) func(*marathon.HealthCheck) {
	return func(hc *marathon.HealthCheck) { hc.GracePeriodSeconds = s }
}

func maxFailures(n int) func(*marathon.HealthCheck) {
	return func(hc *marathon.HealthCheck) { hc.MaxConsecutiveFailures = n }
}

func state(opts ...func(*State)) State {
	var s State
	for _, o := range opts {
		o(&s)
	}
	return s
}

func succeeded(first, last int) func(*State) {
	return func(s *State) { s.FirstSuccess, s.LastSuccess = at(first), at(last) }
}

func failed(last, n int, cause string) func(*State) {
	return func(s *State) { s.LastFailure, s.ConsecutiveFailures, s.LastFailureCause = at(last), n, cause }
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name        string
		in          State
		ok          bool
		cause       string
		now         time.Time
		hc          marathon.HealthCheck
		want        State
		wantChanged bool
		wantKill    bool
	}{
		{
			name:        "first success turns alive",
			ok:          true,
			now:         at(10),
			hc:          check(),
			want:        state(succeeded(10, 10)),
			wantChanged: true,
		},
		{
			name: "success keeps firstSuccess and resets failures",
			in:   state(succeeded(10, 10), failed(20, 2, "503 Service Unavailable")),
			ok:   true,
			now:  at(30),
			hc:   check(),
			want: State{FirstSuccess: at(10), LastSuccess: at(30), LastFailure: at(20),
				LastFailureCause: "503 Service Unavailable"},
			wantChanged: true,
		},
		{
			name: "failure within grace before any success is ignored",
			ok:   false, cause: "connection refused",
			now:  at(299),
			hc:   check(grace(300)),
			want: State{},
		},
		{
			name: "failure at the end of grace counts",
			ok:   false, cause: "connection refused",
			now:  at(300),
			hc:   check(grace(300)),
			want: state(failed(300, 1, "connection refused")),
		},
		{
			name: "failure within grace after a success counts and turns not alive",
			in:   state(succeeded(5, 5)),
			ok:   false, cause: "timeout",
			now:         at(10),
			hc:          check(grace(300)),
			want:        State{FirstSuccess: at(5), LastSuccess: at(5), LastFailure: at(10), LastFailureCause: "timeout", ConsecutiveFailures: 1},
			wantChanged: true,
		},
		{
			name: "failure reaching max does not kill yet",
			in:   state(succeeded(1, 1), failed(20, 2, "x")),
			ok:   false, cause: "y",
			now:  at(30),
			hc:   check(grace(0), maxFailures(3)),
			want: State{FirstSuccess: at(1), LastSuccess: at(1), LastFailure: at(30), LastFailureCause: "y", ConsecutiveFailures: 3},
		},
		{
			name: "failure after max kills",
			in:   state(failed(20, 3, "x")),
			ok:   false, cause: "y",
			now:      at(30),
			hc:       check(grace(0), maxFailures(3)),
			want:     state(failed(30, 4, "y")),
			wantKill: true,
		},
		{
			name: "kill repeats on later failures",
			in:   state(failed(20, 7, "x")),
			ok:   false, cause: "y",
			now:      at(30),
			hc:       check(grace(0), maxFailures(3)),
			want:     state(failed(30, 8, "y")),
			wantKill: true,
		},
		{
			name: "max zero never kills",
			in:   state(failed(20, 100, "x")),
			ok:   false, cause: "y",
			now:  at(30),
			hc:   check(grace(0), maxFailures(0)),
			want: state(failed(30, 101, "y")),
		},
		{
			name:        "success after failures turns alive again",
			in:          state(succeeded(1, 1), failed(20, 5, "x")),
			ok:          true,
			now:         at(30),
			hc:          check(),
			want:        State{FirstSuccess: at(1), LastSuccess: at(30), LastFailure: at(20), LastFailureCause: "x"},
			wantChanged: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, kill := tc.in.Observe(tc.ok, tc.cause, tc.now, t0, tc.hc)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			if changed != tc.wantChanged || kill != tc.wantKill {
				t.Errorf("changed, kill = %v, %v; want %v, %v", changed, kill, tc.wantChanged, tc.wantKill)
			}
		})
	}
}

func TestResult(t *testing.T) {
	ts := func(s int) *marathon.Timestamp { v := marathon.NewTimestamp(at(s)); return &v }
	cause := "503 Service Unavailable"
	tests := []struct {
		name string
		in   State
		want marathon.HealthCheckResult
	}{
		{
			name: "no result yet",
			want: marathon.HealthCheckResult{InstanceID: "i1"},
		},
		{
			name: "healthy",
			in:   state(succeeded(1, 2)),
			want: marathon.HealthCheckResult{Alive: true, FirstSuccess: ts(1), LastSuccess: ts(2), InstanceID: "i1"},
		},
		{
			name: "unhealthy",
			in:   state(succeeded(1, 2), failed(3, 1, cause)),
			want: marathon.HealthCheckResult{ConsecutiveFailures: 1, FirstSuccess: ts(1), LastSuccess: ts(2),
				LastFailure: ts(3), LastFailureCause: &cause, InstanceID: "i1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.Result("i1")); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}
