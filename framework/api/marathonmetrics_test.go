package api

import (
	"math"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestPromName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{name: "dots", in: "marathon.apps.active.gauge", want: "marathon_apps_active_gauge"},
		{name: "dashes", in: "marathon.mesos.task-updates.task-running.counter", want: "marathon_mesos_task_updates_task_running_counter"},
		{name: "digits kept", in: "marathon.http.responses.2xx.rate.meter", want: "marathon_http_responses_2xx_rate_meter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := promName(tc.in); got != tc.want {
				t.Errorf("promName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHistogram(t *testing.T) {
	for _, tc := range []struct {
		name   string
		count  int64
		values []float64
		want   marathon.MetricHistogram
	}{
		{name: "empty", count: 0, want: marathon.MetricHistogram{}},
		{name: "one", count: 1, values: []float64{2},
			want: marathon.MetricHistogram{Count: 1, Min: 2, Mean: 2, Max: 2, P50: 2, P75: 2, P95: 2, P98: 2, P99: 2, P999: 2}},
		{name: "four, more seen than kept", count: 10, values: []float64{4, 1, 3, 2},
			want: marathon.MetricHistogram{Count: 10, Min: 1, Mean: 2.5, Max: 4, P50: 2, P75: 3, P95: 4, P98: 4, P99: 4, P999: 4,
				Stddev: math.Sqrt(5.0 / 3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := histogram(tc.count, tc.values); got != tc.want {
				t.Errorf("histogram = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestMeterRates: the first 5 s interval sets every average to its rate,
// then intervals without events decay them as Dropwizard's EWMAs.
func TestMeterRates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := newMeter(clock)
	m.mark(60)
	now = now.Add(5 * time.Second)
	got := m.snapshot()
	if got.Count != 60 || got.M1Rate != 12 || got.M5Rate != 12 || got.M15Rate != 12 || got.MeanRate != 12 || got.Units != "events/second" {
		t.Fatalf("after 5 s: %+v", got)
	}
	now = now.Add(60 * time.Second)
	got = m.snapshot()
	for _, r := range []struct {
		name      string
		got, want float64
	}{
		{name: "m1", got: got.M1Rate, want: 12 * math.Exp(-1)},
		{name: "m5", got: got.M5Rate, want: 12 * math.Exp(-60.0/300)},
		{name: "m15", got: got.M15Rate, want: 12 * math.Exp(-60.0/900)},
		{name: "mean", got: got.MeanRate, want: 60.0 / 65},
	} {
		if math.Abs(r.got-r.want) > 1e-9 {
			t.Errorf("%s rate after 65 s = %v, want %v", r.name, r.got, r.want)
		}
	}
}
