package testenv

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reloadTimeout bounds how long Reload waits for the new worker.
const reloadTimeout = 30 * time.Second

// HAProxy is an HAProxy master with its worker, in master-worker mode
// (-W), started for a test. Reloads go to the master, which starts a new
// worker that takes over the listening sockets of the old one.
type HAProxy struct {
	cfg     string
	dir     string
	logPath string
	proc    *process
}

// StartHAProxy starts `haproxy -W -S <dir>/master.sock -f cfg -p
// <dir>/haproxy.pid` in the foreground, waits until the master has written
// its pid file and its worker answers on the master socket, and stops it in
// t.Cleanup. Its output goes to a log file printed through t.Log when the
// test fails. cfg is read again at every reload.
func StartHAProxy(t testing.TB, cfg string) *HAProxy {
	t.Helper()
	bin := Binary(t, "haproxy")
	abs, err := filepath.Abs(cfg)
	if err != nil {
		t.Fatalf("haproxy config: %v", err)
	}
	// Not t.TempDir(): a unix socket path has at most 107 bytes, and
	// t.TempDir() holds the test's name.
	dir, err := os.MkdirTemp("", "haproxy-")
	if err != nil {
		t.Fatalf("haproxy dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &HAProxy{cfg: abs, dir: dir, logPath: filepath.Join(dir, "haproxy.log")}
	logOnFailure(t, "haproxy", h.logPath)

	args := []string{"-W", "-S", h.MasterSocket(), "-f", h.cfg, "-p", h.PidFile()}
	h.proc, err = startProcess(bin, args, dir, h.logPath)
	if err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(h.proc.stop)
	if err := h.proc.waitReady(h.serving); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	return h
}

// PidFile is the master's pid file, for reload commands such as
// `kill -USR2 "$(cat <PidFile>)"`.
func (h *HAProxy) PidFile() string { return filepath.Join(h.dir, "haproxy.pid") }

// MasterSocket is the master CLI socket (-S), for `show proc` or `reload`.
func (h *HAProxy) MasterSocket() string { return filepath.Join(h.dir, "master.sock") }

// Reload sends SIGUSR2 to the master, as a production reload command does,
// and waits until the master runs a new worker that answers on the master
// socket and every previous worker is soft-stopping (has stopped accepting
// connections; it may still finish some) or gone, so that a connection
// made after Reload reaches the new configuration. It fails the test when the master reports the new configuration
// as failed (the old worker then keeps serving) or after 30s.
func (h *HAProxy) Reload(t testing.TB) {
	t.Helper()
	before, err := h.showProc()
	if err != nil {
		t.Fatalf("haproxy show proc: %v", err)
	}
	if err := h.proc.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatalf("signal haproxy master: %v", err)
	}
	deadline := time.Now().Add(reloadTimeout)
	for {
		now, err := h.showProc()
		if err == nil {
			if now.failed > before.failed {
				t.Fatalf("haproxy reload: the new configuration did not load (the old worker serves on)\n%s", logTail(h.logPath, 4<<10))
			}
			if pid, ok := now.newWorker(before); ok {
				if err = h.workerServes(pid); err == nil {
					err = h.stopping(before.workers)
				}
				if err == nil {
					return
				}
			} else {
				err = errors.New("no new worker yet")
			}
		}
		// Errors are expected while the master re-executes itself.
		if h.proc.exited() {
			t.Fatalf("haproxy exited during a reload: %v", h.proc.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy reload: no new worker after %v: %v", reloadTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Workers returns how many workers the master has started: 1 after
// StartHAProxy and one more for each reload that loaded its configuration
// (from `show proc`: the master's reload count less the failed reloads).
// A reload done outside Reload, by a command on PidFile, can be awaited by
// polling it.
func (h *HAProxy) Workers(t testing.TB) int {
	t.Helper()
	p, err := h.showProc()
	if err != nil {
		t.Fatalf("haproxy show proc: %v", err)
	}
	return 1 + p.reloads - p.failed
}

// serving is the readiness check of the start: the pid file names the
// master and a worker answers.
func (h *HAProxy) serving() error {
	b, err := os.ReadFile(h.PidFile())
	if err != nil {
		return err
	}
	if pid := strings.TrimSpace(string(b)); pid != strconv.Itoa(h.proc.cmd.Process.Pid) {
		return fmt.Errorf("pid file holds %q, not the master's pid", pid)
	}
	p, err := h.showProc()
	if err != nil {
		return err
	}
	if len(p.workers) == 0 {
		return errors.New("no worker yet")
	}
	return h.workerServes(p.workers[0])
}

// workerServes asks the worker pid for `show info` through the master,
// which answers only once the worker runs its event loop, with its
// listeners bound.
func (h *HAProxy) workerServes(pid int) error {
	out, err := h.command(fmt.Sprintf("@!%d show info", pid))
	if err != nil {
		return err
	}
	if !strings.Contains(out, fmt.Sprintf("\nPid: %d\n", pid)) {
		return fmt.Errorf("worker %d does not answer: %q", pid, out)
	}
	return nil
}

// stopping checks that none of pids is a worker still accepting
// connections: each is gone or its `show info` says "Stopping: 1".
func (h *HAProxy) stopping(pids []int) error {
	for _, pid := range pids {
		out, err := h.command(fmt.Sprintf("@!%d show info", pid))
		if err != nil {
			return err
		}
		if strings.Contains(out, "\nStopping: 0\n") {
			return fmt.Errorf("old worker %d still accepts connections", pid)
		}
	}
	return nil
}

// procs is what the master's `show proc` reports.
type procs struct {
	reloads, failed int   // the master's reload counts
	workers         []int // current workers, not old ones still finishing
}

// newWorker returns a current worker that was not one in before.
func (p procs) newWorker(before procs) (int, bool) {
	for _, w := range p.workers {
		if !slices.Contains(before.workers, w) {
			return w, true
		}
	}
	return 0, false
}

// showProc asks the master for `show proc`, which in HAProxy 2.6 reads:
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	20865           master          2 [failed: 1]   0d00h10m13s     2.6.12
//	# workers
//	22776           worker          1               0d00h00m03s     2.6.12
//	# old workers
//	...
func (h *HAProxy) showProc() (procs, error) {
	out, err := h.command("show proc")
	if err != nil {
		return procs{}, err
	}
	return parseShowProc(out)
}

// parseShowProc parses the answer of `show proc`.
func parseShowProc(out string) (procs, error) {
	var p procs
	master := false
	section := ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		switch {
		case f[1] == "master":
			// "2 [failed: 1]"
			var n, failed int
			if _, err := fmt.Sscanf(strings.Join(f[2:], " "), "%d [failed: %d]", &n, &failed); err != nil {
				return procs{}, fmt.Errorf("parse master line %q: %w", line, err)
			}
			p.reloads, p.failed, master = n, failed, true
		case f[1] == "worker" && section == "workers":
			p.workers = append(p.workers, pid)
		}
	}
	if !master {
		return procs{}, fmt.Errorf("no master in show proc: %q", out)
	}
	return p, nil
}

// command sends one command to the master socket and returns the answer,
// which ends when the master closes the connection.
func (h *HAProxy) command(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", h.MasterSocket(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	// The master answers once it has read the end of the input.
	if err := c.(*net.UnixConn).CloseWrite(); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", fmt.Errorf("%s: %w", cmd, err)
	}
	return string(b), nil
}
