package testenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Nginx is an nginx master with its workers, started for a test in the
// foreground (-g 'daemon off;') with every runtime path under a prefix
// directory.
type Nginx struct {
	bin     string
	cfg     string
	prefix  string
	logPath string // the master's stdout and stderr
	proc    *process
}

// StartNginx starts `nginx -p <prefix>/ -c cfg -g 'daemon off;'` with a
// fresh prefix holding logs/ and temp/, waits until the master runs its
// workers, and stops it in t.Cleanup. The configuration must not set
// daemon. The master's output and logs/error.log are printed through t.Log
// when the test fails.
func StartNginx(t testing.TB, cfg string) *Nginx {
	t.Helper()
	bin := Binary(t, "nginx")
	abs, err := filepath.Abs(cfg)
	if err != nil {
		t.Fatalf("nginx config: %v", err)
	}
	n := &Nginx{bin: bin, cfg: abs, prefix: t.TempDir()}
	for _, d := range []string{"logs", "temp"} {
		if err := os.Mkdir(filepath.Join(n.prefix, d), 0o755); err != nil {
			t.Fatalf("nginx prefix: %v", err)
		}
	}
	n.logPath = filepath.Join(n.prefix, "nginx.out")
	logOnFailure(t, "nginx error.log", n.ErrorLog())
	logOnFailure(t, "nginx", n.logPath)

	n.proc, err = startProcess(bin, []string{"-p", n.prefix + "/", "-c", n.cfg, "-g", "daemon off;"}, n.prefix, n.logPath)
	if err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(n.proc.stop)
	if err := n.proc.waitReady(func() error {
		if _, err := os.Stat(filepath.Join(n.prefix, "nginx.pid")); err != nil {
			return err
		}
		if len(children(n.proc.cmd.Process.Pid)) == 0 {
			return errors.New("no worker yet")
		}
		return nil
	}); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	return n
}

// Prefix is the prefix directory (-p), with the pid file nginx.pid, logs/
// and temp/.
func (n *Nginx) Prefix() string { return n.prefix }

// ErrorLog is the error log of a configuration that logs to
// logs/error.log, as the templates' do.
func (n *Nginx) ErrorLog() string { return filepath.Join(n.prefix, "logs", "error.log") }

// Reload runs `nginx -p <prefix>/ -c cfg -s reload`, as a production reload
// command does, and waits until the master has started as many new workers
// as it ran before and every old worker is shutting down (has closed its
// listening sockets; it may still finish some requests) or gone, so that a
// connection made after Reload reaches the new configuration. It fails the test when the new configuration does not
// load (the old workers serve on) or after 30s.
func (n *Nginx) Reload(t testing.TB) {
	t.Helper()
	master := n.proc.cmd.Process.Pid
	before := children(master)
	logStart := fileSize(n.ErrorLog())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.bin, "-p", n.prefix+"/", "-c", n.cfg, "-s", "reload").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -s reload: %v\n%s", err, out)
	}
	deadline := time.Now().Add(reloadTimeout)
	for {
		fresh, accepting := 0, 0
		for _, pid := range children(master) {
			switch {
			case !slices.Contains(before, pid):
				fresh++
			case !shuttingDown(pid):
				accepting++
			}
		}
		if fresh >= len(before) && accepting == 0 {
			return
		}
		// The master logs why a configuration did not load, and keeps
		// the old workers.
		if tail := readFrom(n.ErrorLog(), logStart); strings.Contains(tail, "[emerg]") || strings.Contains(tail, "[alert]") {
			t.Fatalf("nginx reload: the new configuration did not load (the old workers serve on):\n%s", tail)
		}
		if n.proc.exited() {
			t.Fatalf("nginx exited during a reload: %v", n.proc.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx reload: %d of %d new workers, %d old ones still accepting after %v", fresh, len(before), accepting, reloadTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// children returns the pids of the processes whose parent is pid, from
// /proc/<pid>/stat; old workers still finishing their requests are
// children too.
func children(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 2 && f[0] != "Z" && f[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	return pids
}

// shuttingDown reports whether the nginx worker pid has closed its
// listening sockets: it sets its title to "nginx: worker process is
// shutting down" right before, without accepting in between. A process
// that is gone counts as shut down.
func shuttingDown(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return true
	}
	return strings.Contains(string(b), "shutting down")
}

// fileSize returns the size of the file at path, 0 when missing.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the content of the file at path from offset on.
func readFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}
