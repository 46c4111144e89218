package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRejectSummaries(t *testing.T) {
	funnel := func(processed int, declined map[string]int, extra ...RejectSummary) []RejectSummary {
		var out []RejectSummary
		for _, r := range RejectFunnel {
			out = append(out, RejectSummary{Reason: r, Declined: declined[r], Processed: processed})
			processed = max(processed-declined[r], 0)
		}
		return append(out, extra...)
	}
	tests := []struct {
		name      string
		processed int
		declined  map[string]int
		want      []RejectSummary
	}{
		{name: "nothing declined lists every reason", processed: 0, want: funnel(0, nil)},
		{
			name: "processed falls along the funnel", processed: 10,
			declined: map[string]int{"InsufficientCpus": 3, "UnfulfilledRole": 2},
			want: []RejectSummary{
				{Reason: "UnfulfilledRole", Declined: 2, Processed: 10},
				{Reason: "UnfulfilledConstraint", Processed: 8},
				{Reason: "NoCorrespondingReservationFound", Processed: 8},
				{Reason: "AgentMaintenance", Processed: 8},
				{Reason: "InsufficientCpus", Declined: 3, Processed: 8},
				{Reason: "InsufficientMemory", Processed: 5},
				{Reason: "InsufficientDisk", Processed: 5},
				{Reason: "InsufficientGpus", Processed: 5},
				{Reason: "InsufficientPorts", Processed: 5},
				{Reason: "DeclinedScarceResources", Processed: 5},
			},
		},
		{
			name: "other reasons follow, never below zero", processed: 1,
			declined: map[string]int{"OfferFull": 4, "InsufficientMemory": 2},
			want:     funnel(1, map[string]int{"InsufficientMemory": 2}, RejectSummary{Reason: "OfferFull", Declined: 4, Processed: 0}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RejectSummaries(tc.processed, tc.declined)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
