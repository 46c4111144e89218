package registrator

import (
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestExpectations(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	running := func(taskID string) marathon.Event {
		return &marathon.StatusUpdateEvent{TaskID: taskID, TaskStatus: marathon.TaskRunning}
	}
	status := func(taskID string, s marathon.TaskState) marathon.Event {
		return &marathon.StatusUpdateEvent{TaskID: taskID, TaskStatus: s}
	}
	health := func(instanceID string, alive bool) marathon.Event {
		return &marathon.HealthStatusChangedEvent{InstanceID: instanceID, Alive: alive}
	}
	const taskID = "web.instance-1._app.1"
	web := func(ts ...marathon.Task) Snapshot {
		return snapshot(app(id("/web"), portDefs(10000), checks(healthCheck(marathon.ProtocolHTTP, 0, "/")), tasks(ts...)))
	}
	tests := []struct {
		name string
		ev   marathon.Event
		// kick is whether the event asks for a snapshot.
		kick bool
		snap Snapshot
		at   time.Time
		// pending is whether a snapshot must be read again.
		pending bool
	}{
		{name: "running, shown", ev: running(taskID), kick: true, snap: web(task(taskID, "h1", 31000)), at: t0},
		{name: "running, not shown yet", ev: running(taskID), kick: true, snap: web(), at: t0, pending: true},
		{name: "running, shown still staging", ev: running(taskID), kick: true, snap: web(with(task(taskID, "h1", 31000), state(marathon.TaskStaging))), at: t0, pending: true},
		{name: "running, not shown after the timeout", ev: running(taskID), kick: true, snap: web(), at: t0.Add(expectTimeout + time.Second)},
		{name: "killed, gone", ev: status(taskID, marathon.TaskKilled), kick: true, snap: web(), at: t0},
		{name: "killed, still shown running", ev: status(taskID, marathon.TaskKilled), kick: true, snap: web(task(taskID, "h1", 31000)), at: t0, pending: true},
		{name: "killing, shown killing", ev: status(taskID, marathon.TaskKilling), kick: true, snap: web(with(task(taskID, "h1", 31000), state(marathon.TaskKilling))), at: t0},
		{name: "staging asks for nothing", ev: status(taskID, marathon.TaskStaging), snap: web(), at: t0},
		{name: "unhealthy by instance id, shown", ev: health("web.instance-1", false), kick: true, snap: web(with(task(taskID, "h1", 31000), results(false))), at: t0},
		{name: "unhealthy by instance id, not shown yet", ev: health("web.instance-1", false), kick: true, snap: web(with(task(taskID, "h1", 31000), results(true))), at: t0, pending: true},
		{name: "healthy, task gone meanwhile", ev: health("web.instance-1", true), kick: true, snap: web(), at: t0},
		{name: "other events ask for a snapshot", ev: &marathon.AppTerminatedEvent{AppID: "/web"}, kick: true, snap: web(), at: t0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var x expectations
			if kick := x.add(tc.ev, t0); kick != tc.kick {
				t.Errorf("add = %v, want %v", kick, tc.kick)
			}
			d, pending := x.check(tc.snap, tc.at)
			if pending != tc.pending {
				t.Fatalf("pending = %v, want %v", pending, tc.pending)
			}
			if pending && d != expectFirst {
				t.Errorf("first delay %v, want %v", d, expectFirst)
			}
		})
	}
}

func TestExpectationDelays(t *testing.T) {
	var x expectations
	t0 := time.Now()
	x.add(&marathon.StatusUpdateEvent{TaskID: "web.1", TaskStatus: marathon.TaskRunning}, t0)
	var delays []time.Duration
	for range 9 {
		d, pending := x.check(Snapshot{}, t0)
		if !pending {
			t.Fatal("expectation dropped before its timeout")
		}
		delays = append(delays, d)
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond, 320 * time.Millisecond, 640 * time.Millisecond, time.Second, time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
	}
	// A new event starts again from the first delay.
	x.add(&marathon.StatusUpdateEvent{TaskID: "web.2", TaskStatus: marathon.TaskRunning}, t0)
	if d, _ := x.check(Snapshot{}, t0); d != expectFirst {
		t.Errorf("delay after a new event %v, want %v", d, expectFirst)
	}
}
