package agent

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// stream is a task's queue of status updates. pending[0] is sent and resent
// with backoff until acknowledged; the rest wait their turn. Guarded by
// Agent.mu.
type stream struct {
	latest   mesos.TaskStatus // the latest update generated
	pending  []mesos.TaskStatus
	inflight bool // a sender is posting pending[0]
	retry    *time.Timer
	delay    time.Duration
}

// enqueueLocked queues st as t's next update and sends it when it is the
// head.
func (a *Agent) enqueueLocked(t *task, st mesos.TaskStatus) {
	t.latest = st
	if a.shutdown[t.key.framework] {
		a.dropUpdatesLocked(t)
		if st.State.Terminal() {
			a.forgetLocked(t)
		}
		return
	}
	t.pending = append(t.pending, st)
	if len(t.pending) == 1 {
		t.delay = a.cfg.StatusRetryMin
		a.sendHeadLocked(t)
	}
}

// dropUpdatesLocked discards t's unacknowledged updates and stops resending
// them.
func (a *Agent) dropUpdatesLocked(t *task) {
	clear(t.pending)
	t.pending = t.pending[:0]
	if t.retry != nil {
		t.retry.Stop()
		t.retry = nil
	}
}

// sendHeadLocked hands t's head update to the senders unless one is already
// posting it or the agent has no master to send to.
func (a *Agent) sendHeadLocked(t *task) {
	if t.inflight || len(t.pending) == 0 || !a.connected || a.ctx.Err() != nil {
		return
	}
	if t.retry != nil {
		t.retry.Stop()
		t.retry = nil
	}
	t.inflight = true
	a.outbox.push(t)
}

// sendLoop posts head updates until the outbox closes.
func (a *Agent) sendLoop() {
	for {
		t, ok := a.outbox.pop()
		if !ok {
			return
		}
		a.send(t)
	}
}

// send posts t's head update once, then arranges its resending. The
// update is checkpointed first, as Mesos's agent does.
func (a *Agent) send(t *task) {
	a.saveTask(t)
	a.mu.Lock()
	if len(t.pending) == 0 {
		t.inflight = false
		a.mu.Unlock()
		return
	}
	upd := cluster.StatusUpdate{AgentID: a.id, FrameworkID: t.frameworkID, Status: t.pending[0]}
	master, gen := a.masterURL, a.regGen
	a.mu.Unlock()

	err := cluster.Post(a.ctx, a.hc, master, cluster.PathStatus, a.token, upd, nil)

	a.mu.Lock()
	defer a.mu.Unlock()
	t.inflight = false
	if err != nil {
		a.log.Debug("status update not delivered", "task_id", t.key.task, "framework_id", t.key.framework, "state", upd.Status.State, "error", err)
		var se *cluster.StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound && gen == a.regGen && a.connected {
			a.log.Warn("master does not know this agent; reregistering", "agent_id", a.id)
			a.connected = false
			select {
			case a.lost <- struct{}{}:
			default:
			}
		}
	}
	if len(t.pending) == 0 {
		return
	}
	if !bytes.Equal(t.pending[0].UUID, upd.Status.UUID) {
		// Acknowledged while in flight: the next one is due now.
		a.sendHeadLocked(t)
		return
	}
	if t.retry == nil && a.ctx.Err() == nil {
		uuid := upd.Status.UUID
		t.retry = time.AfterFunc(t.delay, func() { a.resend(t, uuid) })
		t.delay = min(2*t.delay, a.cfg.StatusRetryMax)
	}
}

// resend sends t's head again if it is still the unacknowledged uuid.
func (a *Agent) resend(t *task, uuid []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t.retry = nil
	if len(t.pending) > 0 && bytes.Equal(t.pending[0].UUID, uuid) {
		a.sendHeadLocked(t)
	}
}

// resendAllLocked sends every task's head again at once, after a
// (re)registration.
func (a *Agent) resendAllLocked() {
	for _, t := range a.tasks {
		if len(t.pending) > 0 {
			t.delay = a.cfg.StatusRetryMin
			a.sendHeadLocked(t)
		}
	}
}

// handleAck takes a scheduler's acknowledgement: the head update with that
// uuid is done, and the next one goes out. Once the terminal update is
// acknowledged the task is forgotten; its sandbox stays on disk. A uuid that
// is not the head's is answered 409, an unknown task 404.
func (a *Agent) handleAck(w http.ResponseWriter, r *http.Request) {
	var ack cluster.Ack
	if !cluster.Decode(w, r, &ack) {
		return
	}
	switch a.ack(ack) {
	case ackUnknownTask:
		http.Error(w, "unknown task "+ack.TaskID.Value, http.StatusNotFound)
	case ackUnexpected:
		http.Error(w, "uuid is not the pending update's", http.StatusConflict)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// handleAcks takes a batch of acknowledgements (cluster.PathAcks) in
// order, as handleAck takes each; those of unknown tasks or other uuids
// are ignored (logged at debug), as the master ignores handleAck's 404 and
// 409. One call per update was most of the master's and the agents' HTTP
// work at 100,000 tasks.
func (a *Agent) handleAcks(w http.ResponseWriter, r *http.Request) {
	var acks cluster.Acks
	if !cluster.Decode(w, r, &acks) {
		return
	}
	if len(acks.Acks) > cluster.MaxAcks {
		http.Error(w, fmt.Sprintf("%d acknowledgements: at most %d", len(acks.Acks), cluster.MaxAcks), http.StatusBadRequest)
		return
	}
	for _, ack := range acks.Acks {
		a.ack(ack)
	}
	w.WriteHeader(http.StatusAccepted)
}

// ackOutcome is what became of an acknowledgement.
type ackOutcome int

const (
	ackTaken ackOutcome = iota
	ackUnknownTask
	ackUnexpected
)

// ack applies one acknowledgement.
func (a *Agent) ack(ack cluster.Ack) ackOutcome {
	key := taskKey{framework: ack.FrameworkID.Value, task: ack.TaskID.Value}
	a.mu.Lock()
	t := a.tasks[key]
	if t == nil {
		a.mu.Unlock()
		a.log.Debug("acknowledgement for unknown task", "task_id", key.task, "framework_id", key.framework)
		return ackUnknownTask
	}
	if len(t.pending) == 0 || !bytes.Equal(t.pending[0].UUID, ack.UUID) {
		a.mu.Unlock()
		a.log.Debug("acknowledgement of an unexpected update", "task_id", key.task, "framework_id", key.framework)
		return ackUnexpected
	}
	done := t.pending[0]
	t.pending[0] = mesos.TaskStatus{}
	t.pending = t.pending[1:]
	if t.retry != nil {
		t.retry.Stop()
		t.retry = nil
	}
	t.delay = a.cfg.StatusRetryMin
	if done.State.Terminal() && len(t.pending) == 0 {
		delete(a.tasks, key)
		a.forgetGroupLocked(t)
	} else {
		a.sendHeadLocked(t)
	}
	checkpointed := t.containerizer != ContainerizerSimulated // never changes
	a.mu.Unlock()
	// In the background: the master sends acknowledgements one at a time,
	// and one lost in a crash only makes the next run resend its update.
	if checkpointed {
		a.saving.Go(func() { a.saveTask(t) })
	}
	return ackTaken
}

// forgetLocked drops t, whose updates are done with, and removes its
// checkpoint in the background.
func (a *Agent) forgetLocked(t *task) {
	if a.tasks[t.key] == t {
		delete(a.tasks, t.key)
	}
	a.forgetGroupLocked(t)
	a.saving.Go(func() { a.saveTask(t) })
}

// outbox is the unbounded queue of tasks whose head update must be posted.
type outbox struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []*task
	closed bool
}

func (o *outbox) init() { o.cond = sync.NewCond(&o.mu) }

func (o *outbox) push(t *task) {
	o.mu.Lock()
	o.items = append(o.items, t)
	o.mu.Unlock()
	o.cond.Signal()
}

// pop blocks for the next task; ok is false once the outbox is closed.
func (o *outbox) pop() (*task, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.items) == 0 && !o.closed {
		o.cond.Wait()
	}
	if o.closed {
		return nil, false
	}
	t := o.items[0]
	o.items[0] = nil
	o.items = o.items[1:]
	return t, true
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.items = nil
	o.mu.Unlock()
	o.cond.Broadcast()
}
