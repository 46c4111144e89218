package scheduler

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"

	"github.com/stadionhq/stadion/internal/mesos"
)

// ackSenders is how many acknowledgements are in flight at once, and
// agentSenders how many ACCEPT and KILL calls. Each call is an HTTP request;
// sent one after the other they paced large launches: the ACCEPTs of one
// OFFERS event queued behind each other, and the agents' status updates
// behind the acknowledgements (bench/README.md). A task's next update
// waits for the acknowledgement of the previous one, so at 100,000 tasks
// (two acknowledgements each) 4 senders left tens of thousands waiting
// (issue 17).
const (
	ackSenders   = 16
	agentSenders = 4
)

// caller makes the loop's Mesos calls on goroutines of its own, so that the
// loop never waits on the network. Calls that must stay in order share a
// queue; each queue is served by one goroutine, in order:
//
//   - ACCEPT and KILL go to one of agentSenders queues chosen by agent id:
//     a kill must not overtake the launch of the same task, which went to
//     the same agent; calls about different agents are independent.
//   - ACKNOWLEDGE goes to one of ackSenders queues chosen by task id, so
//     that those of one task stay in order; an acknowledgement follows its
//     update, which follows its task's launch, so it waits for no other
//     call.
//   - DECLINE, REVIVE, SUPPRESS and RECONCILE share one queue, in the
//     order the loop made them.
type caller struct {
	ctx    context.Context
	client Mesos
	log    *slog.Logger

	ordered *callQueue
	agents  [agentSenders]*callQueue
	acks    [ackSenders]*callQueue
	seed    maphash.Seed
	wg      sync.WaitGroup
	// counters, when set, count the calls.
	counters *Counters
}

func newCaller(ctx context.Context, client Mesos, log *slog.Logger) *caller {
	c := &caller{ctx: ctx, client: client, log: log, ordered: newCallQueue(), seed: maphash.MakeSeed()}
	for i := range c.agents {
		c.agents[i] = newCallQueue()
	}
	for i := range c.acks {
		c.acks[i] = newCallQueue()
	}
	for _, q := range c.queues() {
		c.wg.Go(func() { c.run(q) })
	}
	return c
}

func (c *caller) queues() []*callQueue {
	qs := append([]*callQueue{c.ordered}, c.agents[:]...)
	return append(qs, c.acks[:]...)
}

// pick chooses the queue of key among qs.
func (c *caller) pick(qs []*callQueue, key string) *callQueue {
	return qs[maphash.String(c.seed, key)%uint64(len(qs))]
}

// callQueue is an unbounded FIFO of calls served by one goroutine.
type callQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []func(ctx context.Context) error
	closed bool
}

func newCallQueue() *callQueue {
	q := &callQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// enqueue adds a call; it never blocks.
func (q *callQueue) enqueue(call func(ctx context.Context) error) {
	q.mu.Lock()
	if !q.closed {
		q.queue = append(q.queue, call)
	}
	q.mu.Unlock()
	q.cond.Signal()
}

// next waits for calls and takes them all; nil once closed.
func (q *callQueue) next() []func(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	batch := q.queue
	q.queue = nil
	return batch
}

func (q *callQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (c *caller) run(q *callQueue) {
	for {
		batch := q.next()
		if batch == nil {
			return
		}
		for _, call := range batch {
			if err := call(c.ctx); err != nil && c.ctx.Err() == nil {
				// The loop repairs what a lost call leaves behind:
				// launches time out or are reconciled, kills are
				// resent, updates are redelivered.
				c.log.Warn("mesos call failed", "error", err)
			}
		}
	}
}

func (c *caller) close() {
	for _, q := range c.queues() {
		q.close()
	}
	c.wg.Wait()
}

func (c *caller) enqueue(call func(ctx context.Context) error) { c.ordered.enqueue(call) }

// launch accepts offers of one agent.
func (c *caller) launch(offerIDs []mesos.OfferID, tasks []mesos.TaskInfo, filters *mesos.Filters) {
	agent := ""
	if len(tasks) > 0 {
		agent = tasks[0].AgentID.Value
	}
	if c.counters != nil {
		c.counters.OffersUsed.Add(uint64(len(offerIDs)))
		c.counters.TasksLaunched.Add(uint64(len(tasks)))
	}
	c.pick(c.agents[:], agent).enqueue(func(ctx context.Context) error { return c.client.Launch(ctx, offerIDs, tasks, filters) })
}

func (c *caller) decline(offerIDs []mesos.OfferID, filters *mesos.Filters) {
	if c.counters != nil {
		c.counters.OffersDeclined.Add(uint64(len(offerIDs)))
	}
	c.enqueue(func(ctx context.Context) error { return c.client.Decline(ctx, offerIDs, filters) })
}

func (c *caller) kill(taskID, agentID string, policy *mesos.KillPolicy) {
	var agent *mesos.AgentID
	if agentID != "" {
		agent = &mesos.AgentID{Value: agentID}
	}
	c.pick(c.agents[:], agentID).enqueue(func(ctx context.Context) error {
		return c.client.Kill(ctx, mesos.TaskID{Value: taskID}, agent, policy)
	})
}

func (c *caller) acknowledge(status mesos.TaskStatus) {
	// Only what the call sends waits in the queue, not the whole status
	// (its message, container status, labels...): at 100,000 tasks the
	// waiting acknowledgements held most of the heap (issue 17).
	ack := mesos.TaskStatus{TaskID: status.TaskID, AgentID: status.AgentID, UUID: status.UUID, State: status.State}
	c.pick(c.acks[:], status.TaskID.Value).enqueue(func(ctx context.Context) error { return c.client.Acknowledge(ctx, ack) })
}

// revive and suppress apply to every role the framework subscribed with.
func (c *caller) revive() {
	if c.counters != nil {
		c.counters.Revives.Add(1)
	}
	c.enqueue(func(ctx context.Context) error { return c.client.Revive(ctx) })
}

// updateFramework sets the framework's roles (UPDATE_FRAMEWORK).
func (c *caller) updateFramework(roles []string) {
	c.enqueue(func(ctx context.Context) error { return c.client.UpdateFramework(ctx, roles) })
}

func (c *caller) suppress() {
	if c.counters != nil {
		c.counters.Suppresses.Add(1)
	}
	c.enqueue(func(ctx context.Context) error { return c.client.Suppress(ctx) })
}

func (c *caller) reconcile(tasks []mesos.ReconcileTask) {
	c.enqueue(func(ctx context.Context) error { return c.client.Reconcile(ctx, tasks) })
}
