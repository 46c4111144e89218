package wrapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/backoff"
	"github.com/stadionhq/stadion/wrapper/child"
)

// StartError reports that the command could not be started. NotFound
// tells a missing command (a shell's status 127) from one that cannot be
// executed (126).
type StartError struct {
	Command  string
	NotFound bool
	Err      error
}

func (e *StartError) Error() string { return fmt.Sprintf("start %s: %v", e.Command, e.Err) }
func (e *StartError) Unwrap() error { return e.Err }

// StoppedError reports that a stop signal arrived before the command
// started (while waiting for Consul): the wrapper ends as if killed by it.
type StoppedError struct {
	Signal syscall.Signal
}

func (e *StoppedError) Error() string {
	return "stopped by " + e.Signal.String() + " before the command started"
}

// Run reads the KV under the prefix, runs the command with it as its
// environment and supervises it until it ends; it returns nil when the
// command exited 0 and a *child.ExitError with its status otherwise. Until
// the command ends, a change of the KV restarts the app through the
// scheduler (or the command in place), a failing watcher is only logged,
// and the signals from cfg.Signals are forwarded. When ctx ends the command
// is stopped (SIGTERM, then SIGKILL after KillTimeout) and Run returns its
// status all the same.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger.With("component", "wrap", "app_id", cfg.App)

	path, err := exec.LookPath(cfg.Command[0])
	if err != nil {
		return &StartError{Command: cfg.Command[0], NotFound: errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist), Err: err}
	}
	consul, err := newConsulClient(cfg.Consul, cfg.ConsulToken)
	if err != nil {
		return err
	}
	reader := &prefixReader{kv: consul.KV(), prefix: cfg.Prefix, wait: cfg.blockingWait, token: hasConsulToken(cfg.Consul, cfg.ConsulToken)}
	var sched *schedulerClient
	if cfg.RestartMode == RestartScheduler {
		if sched, err = newSchedulerClient(cfg); err != nil {
			return err
		}
	}

	var reaper *child.Reaper
	if cfg.Reap {
		reaper = child.NewReaper(log)
		defer reaper.Close()
	}

	s := &supervisor{cfg: cfg, log: log, path: path, reaper: reaper}
	snap, stale, err := s.initial(ctx, reader)
	if err != nil {
		return err
	}
	if err := s.start(snap); err != nil {
		return err
	}

	local := make(chan Snapshot)
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	watchDone := make(chan error, 1)
	if cfg.RestartMode != RestartNone {
		w := &watcher{
			cfg:         cfg,
			reader:      reader,
			log:         log,
			local:       local,
			running:     snap,
			stale:       stale,
			taskVersion: envValue(cfg.BaseEnv, "MARATHON_APP_VERSION"),
		}
		if cfg.AllowStale && !stale {
			w.cached = snap.Digest()
		}
		if cfg.RestartMode == RestartScheduler {
			w.coord = &coordinator{
				consul:     consul,
				key:        cfg.LockKey,
				sched:      sched,
				by:         instanceName(cfg.BaseEnv),
				log:        log,
				retryMin:   cfg.RetryMin,
				retryMax:   cfg.RetryMax,
				sessionTTL: cfg.sessionTTL,
				wait:       cfg.blockingWait,
				now:        time.Now,
			}
			go s.checkApp(watchCtx, sched)
		}
		go func() { watchDone <- w.run(watchCtx) }()
	} else {
		close(watchDone)
	}
	return s.supervise(ctx, local, watchDone, stopWatch)
}

// supervisor owns the command: one goroutine (supervise) starts, signals
// and restarts it.
type supervisor struct {
	cfg    Config
	log    *slog.Logger
	path   string
	reaper *child.Reaper
	proc   *child.Process
}

// initial reads the KV, retrying with backoff until Consul answers, or
// falls back on the cache with AllowStale. A stop signal meanwhile ends it
// with a *StoppedError.
func (s *supervisor) initial(ctx context.Context, reader *prefixReader) (Snapshot, bool, error) {
	b := backoff.New(s.cfg.RetryMin, s.cfg.RetryMax)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout)
		snap, err := reader.list(actx, 0)
		cancel()
		if err == nil {
			s.log.Info("read consul kv", "index", snap.Index, "keys", len(snap.Pairs))
			if s.cfg.AllowStale {
				if err := saveCache(s.cfg.CacheFile, s.cfg.Prefix, snap); err != nil {
					s.log.Warn("save environment cache failed", "path", s.cfg.CacheFile, "error", err)
				}
			}
			return snap, false, nil
		}
		if ctx.Err() != nil {
			return Snapshot{}, false, ctx.Err()
		}
		if s.cfg.AllowStale {
			cached, cerr := loadCache(s.cfg.CacheFile, s.cfg.Prefix)
			if cerr == nil {
				s.log.Warn("consul unreachable: starting with the cached environment", "error", err, "path", s.cfg.CacheFile, "index", cached.Index, "keys", len(cached.Pairs))
				return cached, true, nil
			}
			s.log.Warn("no usable cached environment", "path", s.cfg.CacheFile, "error", cerr)
		}
		d := b.Next()
		s.log.Warn("consul unreachable; retrying", "error", err, "attempt", attempt, "retry_in", d)
		if err := s.pause(ctx, d); err != nil {
			return Snapshot{}, false, err
		}
	}
}

// pause waits d, or until a stop signal or the end of ctx. Other signals
// have no command to go to yet.
func (s *supervisor) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case sig := <-s.cfg.Signals:
			if ss, ok := sig.(syscall.Signal); ok && isStop(ss) {
				return &StoppedError{Signal: ss}
			}
			s.log.Debug("signal before the command started", "signal", sig)
		}
	}
}

// start runs the command with the KV of snap on top of the base
// environment.
func (s *supervisor) start(snap Snapshot) error {
	vars, skipped := s.cfg.Env.Environment(snap)
	if len(skipped) > 0 {
		s.log.Warn("kv keys skipped: not usable as environment variables", "count", len(skipped))
		for _, k := range skipped {
			s.log.Debug("kv key skipped", "key", k)
		}
	}
	p, err := child.Start(child.Config{
		Path:      s.path,
		Args:      s.cfg.Command,
		Env:       mergeEnv(s.cfg.BaseEnv, vars),
		Stdin:     s.cfg.Stdin,
		Stdout:    s.cfg.Stdout,
		Stderr:    s.cfg.Stderr,
		SameGroup: isTerminal(s.cfg.Stdin),
		Reaper:    s.reaper,
	})
	if err != nil {
		return &StartError{Command: s.cfg.Command[0], NotFound: errors.Is(err, syscall.ENOENT), Err: err}
	}
	s.proc = p
	s.log.Info("command started", "pid", p.Pid(), "command", s.cfg.Command[0], "variables", len(vars))
	return nil
}

// supervise is the loop that owns the command until it ends.
func (s *supervisor) supervise(ctx context.Context, local <-chan Snapshot, watchDone <-chan error, stopWatch func()) error {
	var (
		stopping bool      // a stop signal came: no more restarts
		next     *Snapshot // restart in place with this once the command ends
		done     = ctx.Done()
	)
	stop := func(sig syscall.Signal) {
		restarting := next != nil
		stopping, next = true, nil
		stopWatch()
		if restarting && s.proc.Killing() {
			return // stopping for a restart already, with the same deadline
		}
		if err := s.proc.Stop(sig, s.cfg.KillTimeout); err != nil && !errors.Is(err, child.ErrFinished) {
			s.log.Warn("stop command failed", "pid", s.proc.Pid(), "error", err)
		}
	}
	for {
		select {
		case sig := <-s.cfg.Signals:
			ss, ok := sig.(syscall.Signal)
			if !ok {
				continue
			}
			s.log.Info("forwarding signal", "signal", ss.String(), "pid", s.proc.Pid())
			if isStop(ss) {
				stop(ss)
				continue
			}
			if err := s.proc.Signal(ss); err != nil && !errors.Is(err, child.ErrFinished) {
				s.log.Warn("forward signal failed", "signal", ss.String(), "error", err)
			}
		case <-done:
			done = nil
			if !stopping {
				stop(syscall.SIGTERM)
			}
		case snap := <-local:
			if stopping {
				continue
			}
			restarting := next != nil
			next = &snap
			if restarting {
				continue // the command is stopping already
			}
			if err := s.proc.Stop(syscall.SIGTERM, s.cfg.KillTimeout); err != nil && !errors.Is(err, child.ErrFinished) {
				s.log.Warn("stop command for restart failed", "pid", s.proc.Pid(), "error", err)
			}
		case err, ok := <-watchDone:
			watchDone = nil
			if ok && err != nil {
				s.log.Error("kv watcher stopped; the command keeps running without it", "error", err)
			}
		case <-s.proc.Done():
			exit := s.proc.Exit()
			if next != nil && !stopping {
				s.log.Info("command ended for a restart", "pid", s.proc.Pid(), "exit", exit.String())
				snap := *next
				next = nil
				if err := s.start(snap); err != nil {
					stopWatch()
					return err
				}
				continue
			}
			s.log.Info("command ended", "pid", s.proc.Pid(), "exit", exit.String(), "status", exit.Status())
			stopWatch()
			s.waitWatcher(watchDone)
			return exit.Err()
		}
	}
}

// waitWatcher gives the watcher a moment to let go of the restart lock.
func (s *supervisor) waitWatcher(watchDone <-chan error) {
	if watchDone == nil {
		return
	}
	select {
	case <-watchDone:
	case <-time.After(5 * time.Second):
		s.log.Warn("kv watcher did not stop in time")
	}
}

// checkApp asks the scheduler whether the app exists, retrying while it
// is unreachable, so that a wrong app id shows at start rather than at the
// first change.
func (s *supervisor) checkApp(ctx context.Context, sched *schedulerClient) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("scheduler check panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	b := backoff.New(s.cfg.RetryMin, s.cfg.RetryMax)
	for {
		err := sched.CheckApp(ctx)
		switch {
		case err == nil:
			s.log.Info("scheduler knows the app")
			return
		case ctx.Err() != nil:
			return
		case unauthorized(err):
			s.log.Error("scheduler refused the credentials: restarts will fail", "error", err)
			return
		case !temporary(err):
			s.log.Error("scheduler does not know the app: restarts will fail (set --app?)", "error", err)
			return
		}
		d := b.Next()
		s.log.Warn("scheduler unreachable; retrying", "error", err, "retry_in", d)
		if backoff.Sleep(ctx, d) != nil {
			return
		}
	}
}

// isStop reports whether sig stops the wrapper after the command.
func isStop(sig syscall.Signal) bool {
	return sig == syscall.SIGTERM || sig == syscall.SIGINT
}

// isTerminal reports whether the command's stdin is a terminal.
func isTerminal(f *os.File) bool {
	if f == nil {
		f = os.Stdin
	}
	return child.IsTerminal(f.Fd())
}

// envValue returns the value of name in env, "KEY=value" entries.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// instanceName names this instance in the lock key: the Mesos task id, or
// host and pid.
func instanceName(env []string) string {
	if id := envValue(env, "MESOS_TASK_ID"); id != "" {
		return id
	}
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}
