package main

import (
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	runs := func(secs ...float64) []failoverRun {
		var out []failoverRun
		for _, s := range secs {
			out = append(out, failoverRun{Running: time.Duration(s * float64(time.Second))})
		}
		return out
	}
	running := func(f failoverRun) time.Duration { return f.Running }
	tests := []struct {
		name string
		runs []failoverRun
		want durationStats
	}{
		{name: "none", runs: nil, want: durationStats{}},
		{name: "three unsorted", runs: runs(12, 42, 13), want: durationStats{median: 13 * time.Second, max: 42 * time.Second}},
		{name: "four: lower median", runs: runs(4, 1, 3, 2), want: durationStats{median: 2 * time.Second, max: 4 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := stats(tc.runs, running); got != tc.want {
				t.Errorf("stats = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFormatCounts(t *testing.T) {
	tests := []struct {
		name   string
		counts map[string]int
		want   string
	}{
		{name: "none", counts: nil, want: "none"},
		{name: "most frequent first, then by name", counts: map[string]int{"503": 2, "502": 177, "connection refused": 2},
			want: "177 × 502, 2 × 503, 2 × connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatCounts(tc.counts); got != tc.want {
				t.Errorf("formatCounts = %q, want %q", got, tc.want)
			}
		})
	}
}
