package child

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrFinished reports a signal sent to a process that has already ended.
var ErrFinished = errors.New("process already finished")

// Config describes the command to start. The zero value of every field but
// Path means its default.
type Config struct {
	// Path is the executable to run, already resolved (exec.LookPath).
	Path string
	// Args is the argument vector, argv[0] first; empty means {Path}.
	Args []string
	// Env is the whole environment of the command, "KEY=value" entries.
	Env []string
	// Dir is the working directory; empty means the supervisor's.
	Dir string
	// Stdin, Stdout and Stderr default to the supervisor's own.
	Stdin, Stdout, Stderr *os.File
	// SameGroup keeps the command in the supervisor's process group
	// instead of giving it its own. Use it when a terminal is attached
	// (see IsTerminal): a command outside the terminal's foreground group
	// would be stopped by SIGTTIN when it reads it. In its own group (the
	// default) the command receives signals only through the supervisor,
	// once each, and they reach its whole group.
	SameGroup bool
	// Reaper waits for the process; nil waits for it by its pid only.
	Reaper *Reaper
}

// Validate reports a configuration that cannot start.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("child: no command path")
	}
	return nil
}

// Process is a started command.
type Process struct {
	pid   int
	group bool // the command leads its own process group

	done chan struct{} // closed when the process has been reaped

	mu     sync.Mutex
	ended  bool
	exit   Exit
	killer *time.Timer // SIGKILL escalation armed by Stop
}

// Start starts the command described by cfg.
func Start(cfg Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	args := cfg.Args
	if len(args) == 0 {
		args = []string{cfg.Path}
	}
	files := []*os.File{cfg.Stdin, cfg.Stdout, cfg.Stderr}
	for i, def := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		if files[i] == nil {
			files[i] = def
		}
	}
	attr := &syscall.ProcAttr{
		Dir:   cfg.Dir,
		Env:   cfg.Env,
		Files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()},
		Sys:   sysProcAttr(!cfg.SameGroup),
	}
	p := &Process{group: !cfg.SameGroup, done: make(chan struct{})}
	fork := func() error {
		pid, err := syscall.ForkExec(cfg.Path, args, attr)
		if err != nil {
			return fmt.Errorf("start %s: %w", cfg.Path, err)
		}
		p.pid = pid
		return nil
	}
	if cfg.Reaper != nil {
		if err := cfg.Reaper.start(p, fork); err != nil {
			return nil, err
		}
		return p, nil
	}
	if err := fork(); err != nil {
		return nil, err
	}
	go p.waitPid()
	return p, nil
}

// waitPid waits for this process only, by its pid.
func (p *Process) waitPid() {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.pid, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			// Someone else reaped it (ECHILD): the status is lost.
			p.ended1(Exit{Code: -1})
			return
		}
		p.ended1(exitOf(ws))
		return
	}
}

// ended1 records the exit; called once, by whoever reaped the process.
func (p *Process) ended1(e Exit) {
	p.mu.Lock()
	p.ended = true
	p.exit = e
	if p.killer != nil {
		p.killer.Stop()
	}
	p.mu.Unlock()
	close(p.done)
}

// Pid is the process id.
func (p *Process) Pid() int { return p.pid }

// Done is closed once the process has ended and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit is how the process ended; valid once Done is closed.
func (p *Process) Exit() Exit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// Signal sends sig to the process, or to its whole process group when it
// leads one. It returns ErrFinished once the process has been reaped, so
// that a recycled pid is never signalled.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signalLocked(sig)
}

func (p *Process) signalLocked(sig syscall.Signal) error {
	if p.ended {
		return ErrFinished
	}
	target := p.pid
	if p.group {
		target = -p.pid
	}
	if err := syscall.Kill(target, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return ErrFinished
		}
		return fmt.Errorf("signal %v: %w", sig, err)
	}
	return nil
}

// Stop sends sig and, unless the process ends within timeout, SIGKILL. A
// timeout of 0 or less sends SIGKILL at once. Stop does not wait: watch
// Done. Calling it again resends sig but keeps the first deadline.
func (p *Process) Stop(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.signalLocked(sig); err != nil {
		return err
	}
	if timeout <= 0 {
		return p.signalLocked(syscall.SIGKILL)
	}
	if p.killer == nil {
		p.killer = time.AfterFunc(timeout, func() { _ = p.Signal(syscall.SIGKILL) })
	}
	return nil
}

// Killing reports whether Stop has armed the SIGKILL escalation.
func (p *Process) Killing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killer != nil
}
