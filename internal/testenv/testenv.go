package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// InCI reports whether CI=true; then a part that cannot start fails the test
// instead of skipping it.
func InCI() bool {
	return os.Getenv("CI") == "true"
}

// unavailable skips the test because a part is missing, or fails it under
// CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + " (run `make deps` to install it)"
	if InCI() {
		t.Fatal(msg + "; CI=true, so this fails instead of skipping")
	}
	t.Skip(msg)
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// repoRoot walks up from the working directory to the directory holding
// go.mod. Tests run in their package's directory, so this is the module root.
func repoRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = fmt.Errorf("get working directory: %w", err)
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	return rootDir, rootErr
}

// Binary finds a tool: <repo root>/bin/<name> first (the repo root is found
// by walking up from the working directory to go.mod), then PATH. A missing
// tool skips the test outside CI and fails it under CI=true, with a message
// naming `make deps`.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, "bin", name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "%s not found in ./bin or PATH", name)
	}
	return p
}

// FreePort returns a free loopback TCP port. Another process may take it
// before the caller binds it; the parts started here retry with new ports
// when that happens at first start.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TaskPorts returns n consecutive ports, lo to hi, that nothing listens
// on, for the tasks of a built-in agent ("ports:[lo-hi]"). They lie above
// the kernel's ephemeral range: a port in it, even one found free with
// :0, can be taken at any moment by a client connection of a test running
// alongside (a load generator opens thousands), and a task that gets the
// same port on every relaunch would then never run.
func TaskPorts(t testing.TB, n int) (lo, hi int) {
	t.Helper()
	from, to := 61000, 65535 // above Linux's default 32768-60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var elo, ehi int
		if _, err := fmt.Sscan(string(b), &elo, &ehi); err == nil {
			if ehi+n < to {
				from = ehi + 1
			} else {
				from, to = 20000, elo-1 // an ephemeral range that reaches the top
			}
		}
	}
	if to-from+1 < n {
		t.Fatalf("no room for %d ports outside the ephemeral range", n)
	}
	for range 100 {
		lo = from + rand.IntN(to-from+2-n)
		if portsFree(lo, lo+n-1) {
			return lo, lo + n - 1
		}
	}
	t.Fatalf("no %d free consecutive ports in %d-%d", n, from, to)
	return 0, 0
}

// portsFree reports whether nothing listens on lo to hi.
func portsFree(lo, hi int) bool {
	for p := lo; p <= hi; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}
