package child

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// Reaper owns every wait of this process: on each SIGCHLD it reaps all the
// children that have ended, hands the status of a started Process to it and
// discards the others, orphans the kernel reparented here. A supervisor
// running as PID 1 (or as a child subreaper) needs one, or orphans stay
// zombies forever.
//
// While a Reaper runs, nothing else in the process may wait for children
// (os/exec's Cmd.Wait would race it for the statuses).
type Reaper struct {
	log *slog.Logger

	// mu is held from fork to registration and around every reaping
	// pass, so a process cannot be reaped before it is registered.
	mu    sync.Mutex
	procs map[int]*Process

	orphans atomic.Int64

	sigs chan os.Signal
	stop chan struct{}
	done chan struct{}
}

// NewReaper starts reaping. Close stops it. A nil log discards.
func NewReaper(log *slog.Logger) *Reaper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reaper{
		log:   log,
		procs: map[int]*Process{},
		sigs:  make(chan os.Signal, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	go r.loop()
	return r
}

// Close stops reaping and waits for the loop to end.
func (r *Reaper) Close() {
	signal.Stop(r.sigs)
	close(r.stop)
	<-r.done
}

// Orphans is the number of processes reaped that this package did not
// start.
func (r *Reaper) Orphans() int64 { return r.orphans.Load() }

func (r *Reaper) loop() {
	defer close(r.done)
	// Orphans may have been handed over before the handler was installed.
	r.reap()
	for {
		select {
		case <-r.sigs:
			r.reap()
		case <-r.stop:
			return
		}
	}
}

// start forks under the lock and registers the new process.
func (r *Reaper) start(p *Process, fork func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := fork(); err != nil {
		return err
	}
	r.procs[p.pid] = p
	return nil
}

// reap waits for every child that has ended, without blocking.
func (r *Reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			// ECHILD: no children at all; 0: none has ended yet.
			return
		}
		if p, ok := r.procs[pid]; ok {
			delete(r.procs, pid)
			p.ended1(exitOf(ws))
			continue
		}
		r.orphans.Add(1)
		r.log.Debug("reaped orphan", "pid", pid, "status", exitOf(ws).String())
	}
}
