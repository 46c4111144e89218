package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long a part gets to exit after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// startTimeout bounds how long a part may take to become ready.
const startTimeout = 30 * time.Second

// errExited reports that a part's process ended while it was awaited.
var errExited = errors.New("process exited")

// process is one run of an external part: its own process group, so that
// stopping it also stops anything it forked, with stdout and stderr appended
// to a log file.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // the result of Wait, set before done is closed
}

// startProcess starts path with args, appending its output to logPath.
func startProcess(path string, args []string, dir, logPath string) (*process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	fmt.Fprintf(log, "testenv: starting %s %q\n", path, args)
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If the test binary dies (a panic, a -timeout), take the part
		// with it instead of leaving an orphaned JVM or agent behind.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// startReady starts a process like startProcess and waits until ready
// returns nil; a process that does not get ready is stopped.
func startReady(path string, args []string, dir, logPath string, ready func() error) (*process, error) {
	p, err := startProcess(path, args, dir, logPath)
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(ready); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// restartable is the process of a part that a test may stop and start
// again in place, on the same ports and with the same directory.
type restartable struct {
	mu   sync.Mutex
	proc *process // nil while stopped
}

// stop stops the process; it does nothing when stopped already.
func (r *restartable) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		r.proc.stop()
		r.proc = nil
	}
}

// start calls launch for a ready process unless one is running.
func (r *restartable) start(launch func() (*process, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		return nil
	}
	p, err := launch()
	if err != nil {
		return err
	}
	r.proc = p
	return nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after stopGrace,
// and waits until the process has been reaped.
func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children that ignored SIGTERM while the leader exited.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// waitReady polls ready every 50ms until it returns nil, the process exits
// or startTimeout passes.
func (p *process) waitReady(ready func() error) error {
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", startTimeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w: %v", errExited, p.err)
		case <-tick.C:
		}
	}
}

// logTail returns the last max bytes of the file at path.
func logTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		if _, err := f.Seek(-max, io.SeekEnd); err != nil {
			return fmt.Sprintf("(read log: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	return string(b)
}

// logOnFailure prints the tail of a part's log through t.Log when the test
// has failed. Register it before the cleanup that stops the part, so that it
// runs after it and shows the whole log.
func logOnFailure(t testing.TB, name, path string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", name, path, logTail(path, 64<<10))
		}
	})
}
