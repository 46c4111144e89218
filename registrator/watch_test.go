package registrator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/backoff"
)

// scriptedQuery answers the watch's queries from a script: an index, or
// "!" for an error; after the script it blocks until ctx ends.
type scriptedQuery struct {
	mu     sync.Mutex
	script []string
	asked  []string // the index of every query
}

func (s *scriptedQuery) query(ctx context.Context, index string) (string, error) {
	s.mu.Lock()
	s.asked = append(s.asked, index)
	if len(s.script) == 0 {
		s.mu.Unlock()
		<-ctx.Done()
		return "", ctx.Err()
	}
	next := s.script[0]
	s.script = s.script[1:]
	s.mu.Unlock()
	if next == "!" {
		return "", errors.New("connection refused")
	}
	return next, nil
}

func TestWatchConsul(t *testing.T) {
	tests := []struct {
		name   string
		script []string
		kicks  int
		asked  []string
	}{
		{name: "the first answer is no change", script: []string{"1"}, kicks: 0, asked: []string{"", "1"}},
		{name: "a change", script: []string{"1", "2"}, kicks: 1, asked: []string{"", "1", "2"}},
		{name: "the same index", script: []string{"1", "1", "1"}, kicks: 0, asked: []string{"", "1", "1", "1"}},
		{name: "back after failures starts again from scratch", script: []string{"5", "!", "!", "1"}, kicks: 1, asked: []string{"", "5", "", "", "1"}},
		{name: "unreachable at start, then reachable", script: []string{"!", "3"}, kicks: 1, asked: []string{"", "", "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &scriptedQuery{script: tc.script}
			kick := make(chan struct{}, 10) // counts every kick
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				watchConsul(ctx, q.query, kick, backoff.New(time.Millisecond, 2*time.Millisecond), testLogger(t))
				close(done)
			}()
			eventually(t, 10*time.Second, "the script played", func() error {
				q.mu.Lock()
				defer q.mu.Unlock()
				if len(q.asked) < len(tc.asked) {
					return errors.New("not yet")
				}
				return nil
			})
			cancel()
			<-done
			if len(kick) != tc.kicks {
				t.Errorf("%d kicks, want %d", len(kick), tc.kicks)
			}
			for i, want := range tc.asked {
				if q.asked[i] != want {
					t.Fatalf("queries with index %q, want %q", q.asked, tc.asked)
				}
			}
		})
	}
}
