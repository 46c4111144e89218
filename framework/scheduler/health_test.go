package scheduler

import (
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/state"
)

func TestAggregateHealth(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	alive := state.HealthResult{FirstSuccess: t0, LastSuccess: t0.Add(time.Second)}
	dead := state.HealthResult{FirstSuccess: t0, LastSuccess: t0, LastFailure: t0.Add(time.Second), ConsecutiveFailures: 1}
	failedOnly := state.HealthResult{LastFailure: t0, ConsecutiveFailures: 1}
	recovered := state.HealthResult{FirstSuccess: t0, LastFailure: t0.Add(time.Second), LastSuccess: t0.Add(2 * time.Second)}
	unknown := state.HealthResult{}
	cases := []struct {
		name    string
		results []state.HealthResult
		want    *bool
	}{
		{name: "no checks", results: nil, want: new(true)},
		{name: "one alive", results: []state.HealthResult{alive}, want: new(true)},
		{name: "recovered after a failure", results: []state.HealthResult{recovered}, want: new(true)},
		{name: "one unknown", results: []state.HealthResult{unknown}, want: nil},
		{name: "failure after success", results: []state.HealthResult{dead}, want: new(false)},
		{name: "failure before any success", results: []state.HealthResult{failedOnly}, want: new(false)},
		{name: "alive and unknown", results: []state.HealthResult{alive, unknown}, want: nil},
		{name: "a dead check wins over an unknown one", results: []state.HealthResult{unknown, dead}, want: new(false)},
		{name: "all alive", results: []state.HealthResult{alive, recovered}, want: new(true)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := aggregateHealth(tc.results)
			if !sameHealth(got, tc.want) {
				t.Errorf("aggregateHealth = %v, want %v", show(got), show(tc.want))
			}
		})
	}
}

func show(b *bool) any {
	if b == nil {
		return "unknown"
	}
	return *b
}
