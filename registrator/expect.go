package registrator

import (
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Events and snapshots are not ordered: a scheduler may publish an event
// before its API shows the change ("the event stream should only be used as
// a cache-invalidation mechanism", Marathon's event-bus.md). An expectation
// remembers what an event announced; while a snapshot does not show it, the
// registrator reads the snapshot again, a little later each time, until it
// does or the expectation expires.

// Expectation timing.
const (
	expectFirst    = 10 * time.Millisecond
	expectMaxDelay = time.Second
	expectTimeout  = 15 * time.Second
)

// expectation is what one event announced about one task.
type expectation struct {
	taskID     string
	instanceID string
	// running is what a status update announced: the task runs (true)
	// or no longer does.
	running bool
	// alive is what a health change announced (health expectations only).
	alive  bool
	health bool
	until  time.Time
}

// met reports whether snap shows what e announced.
func (e expectation) met(snap Snapshot) bool {
	task, found := findTask(snap, e.taskID, e.instanceID)
	running := found && task.State == marathon.TaskRunning
	if !e.health {
		return running == e.running
	}
	if !running {
		return true // nothing to show health for
	}
	for _, r := range task.HealthCheckResults {
		if r.Alive == e.alive {
			return true
		}
	}
	return false
}

// findTask finds a task by id, else by instance id.
func findTask(snap Snapshot, taskID, instanceID string) (marathon.Task, bool) {
	for _, app := range snap.Apps {
		for _, t := range app.Tasks {
			if taskID != "" && t.ID == taskID {
				return t, true
			}
			if taskID == "" && instanceID != "" && marathon.InstanceIDOfTask(t.ID) == instanceID {
				return t, true
			}
		}
	}
	return marathon.Task{}, false
}

// expectations are the pending expectations, by task or instance.
type expectations struct {
	pending map[string]expectation
	delay   time.Duration
}

// add records what ev announces; it reports whether ev can change what is
// registered (and so calls for a snapshot).
func (x *expectations) add(ev marathon.Event, now time.Time) bool {
	if x.pending == nil {
		x.pending = map[string]expectation{}
	}
	switch e := ev.(type) {
	case *marathon.StatusUpdateEvent:
		switch e.TaskStatus {
		case marathon.TaskStaging, marathon.TaskStarting:
			return false // not registered before it runs
		}
		x.pending["task:"+e.TaskID] = expectation{taskID: e.TaskID, running: e.TaskStatus == marathon.TaskRunning, until: now.Add(expectTimeout)}
	case *marathon.HealthStatusChangedEvent:
		key := "health:" + e.InstanceID + "/" + e.TaskID
		x.pending[key] = expectation{taskID: e.TaskID, instanceID: e.InstanceID, health: true, alive: e.Alive, until: now.Add(expectTimeout)}
	}
	x.delay = 0
	return true
}

// check drops the expectations snap meets or that expired, and returns how
// long to wait before the next snapshot; false when none is pending.
func (x *expectations) check(snap Snapshot, now time.Time) (time.Duration, bool) {
	for k, e := range x.pending {
		if e.met(snap) || now.After(e.until) {
			delete(x.pending, k)
		}
	}
	if len(x.pending) == 0 {
		x.delay = 0
		return 0, false
	}
	if x.delay == 0 {
		x.delay = expectFirst
	} else {
		x.delay = min(2*x.delay, expectMaxDelay)
	}
	return x.delay, true
}
