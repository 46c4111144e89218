package zk

import (
	"context"
	"errors"
	"log/slog"
)

// Follow follows the election until ctx ends. It hands every change of
// leader to setLeader, runs term(ctx, fence) in the background while this
// instance is elected (fence is its election node), and cancels the term,
// waiting for it to return, when leadership is lost. It returns a term's
// own error (one not caused by ctx ending), or an error when the election
// stops reporting.
func (e *Elector) Follow(ctx context.Context, setLeader func(hostPort string), term func(ctx context.Context, fence string) error, log *slog.Logger) error {
	var (
		cancel context.CancelFunc // ends the running term; nil when none runs
		done   chan error
	)
	stop := func() {
		if cancel == nil {
			return
		}
		cancel()
		<-done
		cancel, done = nil, nil
	}
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case c, ok := <-e.Changes():
			if !ok {
				return errors.New("leader election closed")
			}
			setLeader(c.Leader.HostPort)
			switch {
			case c.Elected && cancel == nil:
				cancel, done = startTerm(ctx, term, e.Node())
			case !c.Elected && cancel != nil:
				log.Warn("lost leadership, stopping the scheduler")
				stop()
			}
		case err := <-done:
			cancel, done = nil, nil
			if err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

// startTerm runs term in the background; cancel ends it, and done
// reports how it ended.
func startTerm(ctx context.Context, term func(context.Context, string) error, fence string) (cancel context.CancelFunc, done chan error) {
	termCtx, cancel := context.WithCancel(ctx)
	done = make(chan error, 1)
	go func() { done <- term(termCtx, fence) }()
	return cancel, done
}
