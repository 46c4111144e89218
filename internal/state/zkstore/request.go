package zkstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/state"
)

// maxInFlight bounds the requests one store method has outstanding. They
// share one connection, whose requests ZooKeeper answers in order, so this
// pipelines them instead of paying a round trip each.
const maxInFlight = 128

// sessionPoll is how often a method waiting for a lost session looks again.
const sessionPoll = 50 * time.Millisecond

// errStalled is wrapped by ErrNoSession when ZooKeeper stops answering.
var errStalled = errors.New("no answer from zookeeper")

// gather runs req(0), ..., req(n-1) concurrently, at most maxInFlight at a
// time, and waits for all of them. It returns the first error, and also
// fails when ZooKeeper answers none of the requests under way for the
// operation timeout, when ctx ends or when the store is closed; then it
// starts no more requests and returns without waiting for those under way,
// whose results are dropped.
func (s *Store) gather(ctx context.Context, n int, req func(i int) error) error {
	if n == 0 {
		return nil
	}
	results := make(chan error, n) // never blocks a request
	stop := make(chan struct{})
	defer close(stop)
	var next atomic.Int64
	for range min(n, maxInFlight) {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				results <- s.zkErr(req(i))
			}
		}()
	}
	timer := time.NewTimer(s.opTimeout)
	defer timer.Stop()
	for range n {
		select {
		case err := <-results:
			if err != nil {
				return err
			}
			timer.Reset(s.opTimeout)
		case <-timer.C:
			return fmt.Errorf("%w: %w for %s", ErrNoSession, errStalled, s.opTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return state.ErrClosed
		}
	}
	return nil
}

// zkErr maps the client's errors for a lost connection or session to
// ErrNoSession, and to state.ErrClosed once the store is closed.
func (s *Store) zkErr(err error) error {
	if err == nil || errors.Is(err, ErrNoSession) {
		return err
	}
	lost := errors.Is(err, gozk.ErrConnectionClosed) || errors.Is(err, gozk.ErrNoServer) ||
		errors.Is(err, gozk.ErrSessionExpired) || errors.Is(err, gozk.ErrSessionMoved) ||
		errors.Is(err, gozk.ErrClosing)
	switch {
	case lost && s.closed.Load():
		return state.ErrClosed
	case lost:
		return fmt.Errorf("%w: %w", ErrNoSession, err)
	}
	return err
}

// retry runs f until it succeeds or fails for another reason than a lost
// session. After a loss it marks the index stale, waits for the session
// and runs f again, until OperationTimeout has passed since the first
// loss; later tries run with that deadline.
func (s *Store) retry(ctx context.Context, what string, f func(ctx context.Context) error) error {
	err := f(ctx)
	if err == nil || !errors.Is(err, ErrNoSession) {
		return err
	}
	s.dirty = true
	s.log.Warn("zookeeper unavailable, retrying", "operation", what, "error", err, "retry_for", s.opTimeout)
	try, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	gaveUp := func() error { return fmt.Errorf("gave up after %s: %w", s.opTimeout, err) }
	for {
		if werr := s.awaitSession(try); werr != nil {
			if try.Err() != nil && ctx.Err() == nil {
				return gaveUp()
			}
			return werr
		}
		switch ferr := f(try); {
		case ferr == nil:
			return nil
		case errors.Is(ferr, ErrNoSession):
			s.dirty = true
			err = ferr
		case try.Err() != nil && ctx.Err() == nil:
			return gaveUp()
		default:
			return ferr
		}
	}
}

// awaitSession waits a moment, then until the connection has a session.
func (s *Store) awaitSession(ctx context.Context) error {
	tick := time.NewTicker(sessionPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return state.ErrClosed
		case <-tick.C:
		}
		if s.conn.State() == gozk.StateHasSession {
			return nil
		}
	}
}

// get reads one node. Like children and multi, it hands out what the
// request returned only when the request is over: after a timeout the
// request may still write its variables.
func (s *Store) get(ctx context.Context, p string) ([]byte, *gozk.Stat, error) {
	var (
		data []byte
		stat *gozk.Stat
	)
	err := s.gather(ctx, 1, func(int) (err error) {
		data, stat, err = s.conn.Get(s.abs(p))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return data, stat, nil
}

// children lists one node's children.
func (s *Store) children(ctx context.Context, p string) ([]string, error) {
	var names []string
	err := s.gather(ctx, 1, func(int) (err error) {
		names, _, err = s.conn.Children(s.abs(p))
		return err
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// multi runs one multi. When ZooKeeper refused it, the error is that of
// the first failed operation and res tells which one it was.
func (s *Store) multi(ctx context.Context, ops []any) ([]gozk.MultiResponse, error) {
	type answer struct {
		res []gozk.MultiResponse
		err error
	}
	answered := make(chan answer, 1)
	err := s.gather(ctx, 1, func(int) error {
		res, err := s.conn.Multi(ops...)
		answered <- answer{res, err}
		return err
	})
	select {
	case a := <-answered:
		// The outcome, even if it came just after gather gave up.
		return a.res, s.zkErr(a.err)
	default:
		return nil, err
	}
}

// abs returns the absolute path of a path relative to Root/state.
func (s *Store) abs(p string) string {
	if p == "" {
		return s.base
	}
	return s.base + "/" + p
}
