package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
	"github.com/stadionhq/stadion/internal/loadgen"
)

// TestMarkdown: the section shows the figures of the report.
func TestMarkdown(t *testing.T) {
	rep := report{
		Date:              "2026-11-22T09:00:00Z",
		HealthyToRoutable: []float64{0.9, 0.3, 0.5},
		RollingUpgrade:    loadgen.Result{Requests: 4000, Failures: 0, P50: 1500 * time.Microsecond, P99: 12 * time.Millisecond},
		Reloads:           loadgen.Result{Requests: 2000, Failures: 1},
	}
	got := rep.markdown(rig.Machine{CPU: "cpu", Cores: 2}, "0.50", 90*time.Second)
	for _, want := range []string{
		sectionTitle + "\n",
		"on 2026-11-22 09:00 UTC, in 90 s",
		"| 0.30 s | 0.50 s | **0.90 s** | 3 | < 2 s |",
		"| 4000 | **0** | 1.5 ms |",
		"| 2000 | **1** |",
		"12.0 ms",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q:\n%s", want, got)
		}
	}
}
