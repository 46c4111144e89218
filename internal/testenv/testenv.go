package testenv

import (
	"errors"
	"fmt"
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
