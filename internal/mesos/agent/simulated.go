package agent

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// simulatedContainerizer runs no process: a task is running as soon as it
// is launched and ends only when killed, as if by SIGTERM. It costs one small
// allocation per task and no goroutine, so that one process can host tens of
// thousands of tasks for scale benchmarks.
type simulatedContainerizer struct{}

var _ Containerizer = simulatedContainerizer{}

func (simulatedContainerizer) Launch(_ context.Context, _ Spec, exited func(Exit)) (Container, error) {
	return &simulated{exited: exited}, nil
}

type simulated struct {
	exited func(Exit)
	ended  atomic.Bool
}

func (s *simulated) PID() int   { return 0 }
func (s *simulated) IP() string { return "" }

// Kill ends the task at once, whatever the grace period.
func (s *simulated) Kill(time.Duration) {
	if s.ended.CompareAndSwap(false, true) {
		s.exited(Exit{Signal: syscall.SIGTERM})
	}
}

func (s *simulated) Exec(context.Context, *mesos.CommandInfo) error { return errNotSupported }
