package scheduler

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Counters count what one Scheduler did since it was made, that is since
// this instance leads: /metrics shows them under Marathon's names
// (marathon.mesos.offers.incoming.counter, ...). They are live: each View
// points to its Scheduler's Counters, read with the atomics.
type Counters struct {
	// Started is when the Scheduler was made (the start of the leadership).
	Started time.Time

	OffersIncoming atomic.Uint64 // offers received
	OffersUsed     atomic.Uint64 // offers accepted by a launch
	OffersDeclined atomic.Uint64 // offers declined
	TasksLaunched  atomic.Uint64 // tasks sent in launches
	Revives        atomic.Uint64 // REVIVE calls
	Suppresses     atomic.Uint64 // SUPPRESS calls
	Deployments    atomic.Uint64 // deployments started

	mu      sync.Mutex
	updates map[mesos.TaskState]uint64
}

// addUpdate counts one status update of state.
func (c *Counters) addUpdate(state mesos.TaskState) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.updates == nil {
		c.updates = map[mesos.TaskState]uint64{}
	}
	c.updates[state]++
}

// Updates returns the count of status updates by task state.
func (c *Counters) Updates() map[mesos.TaskState]uint64 {
	out := map[mesos.TaskState]uint64{}
	if c == nil {
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.updates {
		out[k] = v
	}
	return out
}
