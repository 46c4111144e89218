package main

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/marathon"
)

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
