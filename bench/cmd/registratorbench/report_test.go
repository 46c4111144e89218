package main

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/marathon"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{name: "empty", p: 99, want: 0},
		{name: "one value", sorted: ms(7), p: 50, want: 7 * time.Millisecond},
		{name: "median of four is the second", sorted: ms(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "p99 of 100 is the 99th", sorted: ms(hundred...), p: 99, want: 99 * time.Millisecond},
		{name: "p99 of 10 is the largest", sorted: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 99, want: 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(p%d) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

// TestRecorder: latencies pair each task's event with what Consul showed.
func TestRecorder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ts := func(ms int) marathon.EventMeta { return marathon.EventMeta{Timestamp: marathon.NewTimestamp(at(ms))} }
	entry := func(task, status string) *api.ServiceEntry {
		return &api.ServiceEntry{Service: &api.AgentService{Meta: map[string]string{"task_id": task}},
			Checks: api.HealthChecks{{Status: status}}}
	}
	r := newRecorder()
	r.event(&marathon.StatusUpdateEvent{TaskID: "a", TaskStatus: marathon.TaskRunning, EventMeta: ts(0)})
	r.consul([]*api.ServiceEntry{entry("a", api.HealthCritical)}, at(12))
	r.event(&marathon.HealthStatusChangedEvent{TaskID: "a", Alive: true, EventMeta: ts(1000)})
	r.consul([]*api.ServiceEntry{entry("a", api.HealthPassing)}, at(1005))
	r.consul([]*api.ServiceEntry{entry("a", api.HealthPassing)}, at(1500)) // no change
	r.event(&marathon.StatusUpdateEvent{TaskID: "a", TaskStatus: marathon.TaskKilled, EventMeta: ts(2000)})
	r.consul(nil, at(2030))

	if up, down := r.count(t0); up != 1 || down != 1 {
		t.Errorf("count = %d up, %d down, want 1 and 1", up, down)
	}
	reg, pass, gone := r.latencies()
	if len(reg) != 1 || reg[0] != 12*time.Millisecond || pass[0] != 5*time.Millisecond || gone[0] != 30*time.Millisecond {
		t.Errorf("latencies %v %v %v, want 12ms 5ms 30ms", reg, pass, gone)
	}
}
