package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestFreePort(t *testing.T) {
	p := FreePort(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("listen on the free port %d: %v", p, err)
	}
	l.Close()
}

func TestRepoRoot(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "doc.go")); err != nil {
		t.Fatalf("root %s does not hold this package: %v", root, err)
	}
}

// outcomeTB records how a helper ended the test. Skip and Fatal end the
// goroutine like the real ones do.
type outcomeTB struct {
	testing.TB
	outcome string
	msg     string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Skip(args ...any) {
	o.outcome, o.msg = "skip", sprint(args)
	runtime.Goexit()
}
func (o *outcomeTB) Fatal(args ...any) {
	o.outcome, o.msg = "fatal", sprint(args)
	runtime.Goexit()
}

func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.outcome, o.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func sprint(args []any) string {
	return fmt.Sprint(args...)
}

func TestBinary(t *testing.T) {
	tests := []struct {
		name    string
		tool    string
		ci      string
		outcome string // "" when found
	}{
		{name: "on PATH", tool: "go", ci: "true"},
		{name: "missing outside CI skips", tool: "stadion-no-such-tool", ci: "", outcome: "skip"},
		{name: "missing under CI fails", tool: "stadion-no-such-tool", ci: "true", outcome: "fatal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			tb := &outcomeTB{TB: t}
			var path string
			done := make(chan struct{})
			go func() {
				defer close(done)
				path = Binary(tb, tc.tool)
			}()
			<-done
			if tb.outcome != tc.outcome {
				t.Fatalf("outcome %q (%s), want %q", tb.outcome, tb.msg, tc.outcome)
			}
			if tc.outcome == "" && filepath.Base(path) != tc.tool {
				t.Fatalf("path %q does not name %s", path, tc.tool)
			}
			if tc.outcome != "" && !strings.Contains(tb.msg, "make deps") {
				t.Fatalf("message %q does not name make deps", tb.msg)
			}
		})
	}
}

// TestTaskPorts: the range is free, of the size asked, and outside the
// kernel's ephemeral range.
func TestTaskPorts(t *testing.T) {
	lo, hi := TaskPorts(t, 20)
	if hi-lo+1 != 20 {
		t.Fatalf("ports %d-%d, want 20", lo, hi)
	}
	if !portsFree(lo, hi) {
		t.Errorf("ports %d-%d are not free", lo, hi)
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err) // Linux only, as the project
	}
	var elo, ehi int
	if _, err := fmt.Sscan(string(b), &elo, &ehi); err != nil {
		t.Fatal(err)
	}
	if lo <= ehi && hi >= elo {
		t.Errorf("ports %d-%d overlap the ephemeral range %d-%d", lo, hi, elo, ehi)
	}
}
