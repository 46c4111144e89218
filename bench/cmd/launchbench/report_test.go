package main

import (
	"fmt"
	"strings"
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

// TestLargeMarkdown checks that the two sizes are reported side by side
// against the large size's targets.
func TestLargeMarkdown(t *testing.T) {
	small := results{Config: config{Apps: 100, Instances: 100, Agents: 50, PostWorkers: 4, RawWorkers: 16},
		ToRunning: 5 * time.Second, Raw: rawResult{Running: 10000, Elapsed: 4 * time.Second},
		PostLat: latency{P99: 10 * time.Millisecond, Max: 12 * time.Millisecond}, AppGet: latency{P99: time.Millisecond},
		Embed: latency{P99: 30 * time.Millisecond}, MemAfterEmbed: memory{RSS: 100 << 10}}
	large := small
	large.Config = config{Apps: 1000, Instances: 100, Agents: 500, PostWorkers: 4, RawWorkers: 16}
	large.ToRunning, large.Raw = 50*time.Second, rawResult{Running: 100000, Elapsed: 40 * time.Second}
	large.Embed, large.MemAfterEmbed = latency{P99: 300 * time.Millisecond}, memory{RSS: 700 << 10}
	small.Large = &large
	var b strings.Builder
	small.largeMarkdown(func(format string, args ...any) { fmt.Fprintf(&b, format, args...) })
	out := b.String()
	for _, want := range []string{
		"### 10000 and 100000 tasks side by side",
		"| launch rate, bbolt store | 2000 tasks/s (5.00 s) | **2000 tasks/s** (50.00 s) | ≥ 1500 tasks/s | yes |",
		"| scheduler vs raw limit | 1.25× slower | **1.25× slower** | within 1.5× | yes |",
		"| RSS per task | 10.2 kB | 7.2 kB | — | — |",
		"p99 < 400.0 ms | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
