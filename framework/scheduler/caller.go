package scheduler

import (
	"context"
	"log/slog"
	"sync"

	"github.com/stadionhq/stadion/internal/mesos"
)

// caller makes the loop's Mesos calls in order on its own goroutine, so that
// the loop never waits on the network. Order matters: a kill must not
// overtake the launch of the same task, nor an acknowledgement its update.
type caller struct {
	ctx    context.Context
	client Mesos
	log    *slog.Logger

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []func(ctx context.Context) error
	closed bool
	done   chan struct{}
}

func newCaller(ctx context.Context, client Mesos, log *slog.Logger) *caller {
	c := &caller{ctx: ctx, client: client, log: log, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	return c
}

// enqueue adds a call; it never blocks.
func (c *caller) enqueue(call func(ctx context.Context) error) {
	c.mu.Lock()
	if !c.closed {
		c.queue = append(c.queue, call)
	}
	c.mu.Unlock()
	c.cond.Signal()
}

func (c *caller) run() {
	defer close(c.done)
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.cond.Wait()
		}
		if c.closed {
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
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
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cond.Broadcast()
	<-c.done
}

func (c *caller) launch(offerIDs []mesos.OfferID, tasks []mesos.TaskInfo, filters *mesos.Filters) {
	c.enqueue(func(ctx context.Context) error { return c.client.Launch(ctx, offerIDs, tasks, filters) })
}

func (c *caller) decline(offerIDs []mesos.OfferID, filters *mesos.Filters) {
	c.enqueue(func(ctx context.Context) error { return c.client.Decline(ctx, offerIDs, filters) })
}

func (c *caller) kill(taskID, agentID string, policy *mesos.KillPolicy) {
	var agent *mesos.AgentID
	if agentID != "" {
		agent = &mesos.AgentID{Value: agentID}
	}
	c.enqueue(func(ctx context.Context) error {
		return c.client.Kill(ctx, mesos.TaskID{Value: taskID}, agent, policy)
	})
}

func (c *caller) acknowledge(status mesos.TaskStatus) {
	c.enqueue(func(ctx context.Context) error { return c.client.Acknowledge(ctx, status) })
}

// revive and suppress apply to every role the framework subscribed with.
func (c *caller) revive() {
	c.enqueue(func(ctx context.Context) error { return c.client.Revive(ctx) })
}

func (c *caller) suppress() {
	c.enqueue(func(ctx context.Context) error { return c.client.Suppress(ctx) })
}

func (c *caller) reconcile(tasks []mesos.ReconcileTask) {
	c.enqueue(func(ctx context.Context) error { return c.client.Reconcile(ctx, tasks) })
}
