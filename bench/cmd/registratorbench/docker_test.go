package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/docker"
)

// TestDockerRecorder: latencies pair each container's engine event with
// what Consul showed, by the way it was asked to go.
func TestDockerRecorder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(id, action string, ms int) docker.Event {
		e := docker.Event{Type: "container", Action: action, TimeNano: at(ms).UnixNano()}
		e.Actor.ID = id
		return e
	}
	entry := func(id string) *api.ServiceEntry {
		return &api.ServiceEntry{Service: &api.AgentService{Meta: map[string]string{"container_id": id}}}
	}
	r := &dockerRecorder{containers: map[string]*container{}, present: map[string]bool{}}
	r.event(ev("exits", "start", 0))
	r.event(ev("stopped", "start", 1))
	r.consul([]*api.ServiceEntry{entry("exits")}, at(10))
	r.consul([]*api.ServiceEntry{entry("exits"), entry("stopped")}, at(21))
	r.get("exits").exited, r.get("stopped").stopped = true, true
	r.event(ev("stopped", "kill", 100))
	r.consul([]*api.ServiceEntry{entry("exits")}, at(104))
	r.event(ev("exits", "die", 200))
	r.consul(nil, at(203))
	r.event(ev("stopped", "die", 2100)) // after its service went

	if up, down := r.count([]string{"exits", "stopped"}); up != 2 || down != 2 {
		t.Errorf("count = %d up, %d down, want 2 and 2", up, down)
	}
	reg, exit, stop := r.latencies()
	want := [][]time.Duration{{10 * time.Millisecond, 20 * time.Millisecond}, {3 * time.Millisecond}, {4 * time.Millisecond}}
	if diff := cmp.Diff(want, [][]time.Duration{reg, exit, stop}); diff != "" {
		t.Errorf("latencies (-want +got):\n%s", diff)
	}
}
