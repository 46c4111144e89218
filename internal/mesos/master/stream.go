package master

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
)

// Bounds on a scheduler stream whose client does not keep up.
const (
	// defaultStreamQueueLimit is how many events may wait for one
	// subscription's writer; past it the stream is closed. A
	// reconciliation answers every task of the framework at once, so the
	// bound sits well above the task counts we run (100,000 in make
	// bench: a bound of 100,000 closed the stream of the raw loop
	// launching 100,000 tasks, and a bound of 10,000 that of a new leader
	// reconciling 10,001 tasks). Status updates from agents never fill
	// it: they wait for room at streamBackpressure (waitRoom), so only a
	// burst the master makes itself (a reconciliation) goes past that.
	defaultStreamQueueLimit = 1000000
	// defaultStreamBackpressure is the backlog of a stream at which an
	// agent's status update waits until the writer has taken what is
	// queued: a scheduler that reads slower than the agents report slows
	// the agents down (they resend what is not acknowledged) instead of
	// growing the queue until the stream is closed.
	defaultStreamBackpressure = 10000
	// minStreamWriteTimeout is the least time one record may take to write;
	// the bound is 2 heartbeat intervals when that is longer.
	minStreamWriteTimeout = 30 * time.Second
)

// subscription is one framework's event stream. The master queues encoded
// events without blocking; the HTTP handler that owns the response writes
// them out. A subscription whose queue outgrows its limit, or whose event
// cannot be encoded, is aborted: its queue is dropped and the handler ends
// the stream as if the client had gone.
type subscription struct {
	streamID    string
	frameworkID string
	log         *slog.Logger
	limit       int // most queued events; 0 is no limit
	// soft is the backlog at which agents' updates wait (waitRoom); 0
	// is never.
	soft    int
	timeout time.Duration // the longest waitRoom waits
	q       *queue[[]byte]
	aborted atomic.Bool

	mu sync.Mutex
	// interrupt, set by the writer, makes a write in progress fail.
	interrupt func()
}

func (m *Master) newSubscription(frameworkID string) *subscription {
	return &subscription{
		streamID:    newUUID(),
		frameworkID: frameworkID,
		log:         m.log,
		limit:       m.cfg.streamQueueLimit,
		soft:        m.cfg.streamBackpressure,
		timeout:     m.writeTimeout(),
		q:           newQueue[[]byte](),
	}
}

// send queues ev. It never blocks: the master calls it with its lock held.
func (s *subscription) send(ev mesos.Event) {
	data, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("cannot encode event; closing the scheduler stream", "framework_id", s.frameworkID, "event_type", ev.Type, "error", err)
		s.abort()
		return
	}
	s.push(data)
}

// push queues an encoded record, or aborts the subscription when its client
// has fallen limit records behind.
func (s *subscription) push(data []byte) {
	if s.q.pushLimited(data, s.limit) {
		return
	}
	if !s.aborted.Load() && !s.q.isClosed() {
		s.log.Warn("scheduler stream not read; closing it", "framework_id", s.frameworkID, "queued_events", s.limit)
		s.abort()
	}
}

// waitRoom waits, without the master's lock, while the stream's backlog is
// at its soft bound and its writer keeps taking (each take empties the
// queue). It gives up at ctx's end or after timeout, which is also the
// bound on writing one record: a writer that stops taking for that long
// is aborted by its write deadline. It reports whether there is room.
func (s *subscription) waitRoom(ctx context.Context) bool {
	if s.soft <= 0 {
		return true
	}
	var deadline <-chan time.Time
	for {
		n, closed, taken := s.q.backlog()
		if n < s.soft || closed || s.aborted.Load() {
			return true
		}
		if deadline == nil {
			t := time.NewTimer(s.timeout)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-taken:
		case <-deadline:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// abort drops what is queued and ends the stream; the framework is then
// disconnected.
func (s *subscription) abort() {
	s.aborted.Store(true)
	s.q.abort()
	s.mu.Lock()
	interrupt := s.interrupt
	s.mu.Unlock()
	if interrupt != nil {
		interrupt()
	}
}

// setInterrupt installs f, which makes the writer's write in progress fail.
func (s *subscription) setInterrupt(f func()) {
	s.mu.Lock()
	s.interrupt = f
	s.mu.Unlock()
}

// close ends the stream once what is queued has been written.
func (s *subscription) close() { s.q.close() }

var heartbeat = []byte(`{"type":"HEARTBEAT"}`)

// writeTimeout bounds the write of one record: 2 heartbeat intervals, at
// least minStreamWriteTimeout.
func (m *Master) writeTimeout() time.Duration {
	if m.cfg.streamWriteTimeout > 0 {
		return m.cfg.streamWriteTimeout
	}
	return max(2*m.cfg.HeartbeatInterval, minStreamWriteTimeout)
}

// serveStream writes sub's events as a chunked RecordIO stream until the
// master closes it or the client goes away or stops reading; the latter
// disconnect the framework, as does an aborted subscription.
func (m *Master) serveStream(w http.ResponseWriter, r *http.Request, sub *subscription) {
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set(headerStreamID, sub.streamID)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	timeout := m.writeTimeout()
	// The server's write timeout must not end the stream: each record is
	// bounded by timeout instead (writeStream).
	_ = rc.SetWriteDeadline(time.Time{})
	// An abort must not wait for a write blocked on a client that does
	// not read: a deadline in the past ends it (net.Conn deadlines may be
	// set while a write is in progress).
	sub.setInterrupt(func() { _ = rc.SetWriteDeadline(time.Unix(1, 0)) })
	if m.writeStream(w, rc, r, sub, timeout) {
		// The end of the response is bounded too; net/http clears the
		// deadline before it reuses the connection.
		_ = rc.SetWriteDeadline(time.Now().Add(timeout))
		return
	}
	// Whatever is left of the response fails at once, which closes the
	// connection.
	_ = rc.SetWriteDeadline(time.Unix(1, 0))
	m.streamGone(sub)
}

// writeStream writes sub's records and heartbeats, each within timeout. It
// returns true when the master closed the stream, false when the client
// went away, stopped reading or the subscription was aborted.
func (m *Master) writeStream(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, sub *subscription, timeout time.Duration) bool {
	rw := recordio.NewWriter(w)
	ticker := time.NewTicker(m.cfg.HeartbeatInterval)
	defer ticker.Stop()
	write := func(records ...[]byte) bool {
		for _, rec := range records {
			if sub.aborted.Load() {
				return false
			}
			_ = rc.SetWriteDeadline(time.Now().Add(timeout)) // net/http's writer supports it
			err := rw.WriteRecord(rec)
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				m.log.Debug("scheduler stream write failed", "framework_id", sub.frameworkID, "error", err)
				return false
			}
		}
		return true
	}
	for {
		records, closed := sub.q.take()
		if sub.aborted.Load() || !write(records...) {
			return false
		}
		if closed {
			return true
		}
		select {
		case <-sub.q.wake:
		case <-ticker.C:
			if !write(heartbeat) {
				return false
			}
		case <-r.Context().Done():
			return false
		}
	}
}
