package master

import "sync"

// queue is a FIFO that one consumer drains; producers never block, so the
// master can enqueue while holding its lock.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{}
	// taken is closed (and replaced) whenever the consumer takes what is
	// queued: producers that wait for room (backpressure) wait on it.
	taken chan struct{}
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{wake: make(chan struct{}, 1), taken: make(chan struct{})}
}

// push appends v unless the queue is closed.
func (q *queue[T]) push(v T) { q.pushLimited(v, 0) }

// pushLimited appends v unless the queue is closed or already holds limit
// items (0 is no limit); it reports whether v was queued.
func (q *queue[T]) pushLimited(v T, limit int) bool {
	q.mu.Lock()
	ok := !q.closed && (limit <= 0 || len(q.items) < limit)
	if ok {
		q.items = append(q.items, v)
	}
	q.mu.Unlock()
	if ok {
		q.signal()
	}
	return ok
}

// close marks the queue closed; what is queued can still be taken.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// abort closes the queue and drops what it holds.
func (q *queue[T]) abort() {
	q.mu.Lock()
	q.closed = true
	clear(q.items)
	q.items = nil
	q.mu.Unlock()
	q.signal()
}

func (q *queue[T]) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

func (q *queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns everything queued and whether the queue is closed.
func (q *queue[T]) take() ([]T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	if len(items) > 0 {
		close(q.taken)
		q.taken = make(chan struct{})
	}
	return items, q.closed
}

// backlog returns how many items wait, whether the queue is closed, and a
// channel closed at the consumer's next take.
func (q *queue[T]) backlog() (n int, closed bool, taken <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.closed, q.taken
}
