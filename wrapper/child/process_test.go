package child

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartExit(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Exit
	}{
		{name: "success", args: []string{"sh", "-c", "exit 0"}, want: Exit{}},
		{name: "exit code", args: []string{"sh", "-c", "exit 3"}, want: Exit{Code: 3}},
		{name: "killed by a signal", args: []string{"sh", "-c", "kill -USR1 $$"}, want: Exit{Signal: syscall.SIGUSR1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Start(Config{Path: "/bin/sh", Args: tc.args})
			if err != nil {
				t.Fatal(err)
			}
			if got := waitDone(t, p); got != tc.want {
				t.Errorf("exit %v, want %v", got, tc.want)
			}
			if err := p.Signal(syscall.SIGTERM); err != ErrFinished {
				t.Errorf("Signal after the end = %v, want ErrFinished", err)
			}
		})
	}
}

func TestStartEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	p, err := Start(Config{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", `printf '%s %s' "$GREETING" "$(pwd)" > out`},
		Env:  []string{"GREETING=hello"},
		Dir:  dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, p); e != (Exit{}) {
		t.Fatalf("exit %v", e)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "hello "+dir; got != want {
		t.Errorf("child wrote %q, want %q", got, want)
	}
}

func TestStartMissingCommand(t *testing.T) {
	if _, err := Start(Config{Path: filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Fatal("Start of a missing file succeeded")
	}
	if _, err := Start(Config{}); err == nil {
		t.Fatal("Start without a path succeeded")
	}
}

func TestSignalsReachChild(t *testing.T) {
	p, url := serveChild(t, Config{})
	sent := []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGINT}
	for _, sig := range sent {
		if err := p.Signal(sig); err != nil {
			t.Fatalf("signal %v: %v", sig, err)
		}
		// One at a time: the kernel merges pending signals of one kind
		// and does not keep the order of different ones.
		want := sig.String()
		deadline := time.Now().Add(waitFor)
		for {
			var got []string
			getJSON(t, url+"/signals", &got)
			if slices.Contains(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("child received %v, want %s among them", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		flags   []string
		timeout time.Duration
		want    Exit
		// minWait is the least time the stop must take.
		minWait time.Duration
	}{
		{name: "child exits on SIGTERM", flags: []string{"-term-exit", "42"}, timeout: waitFor, want: Exit{Code: 42}},
		{name: "child ignores SIGTERM", flags: []string{"-ignore-term"}, timeout: 300 * time.Millisecond, want: Exit{Signal: syscall.SIGKILL}, minWait: 300 * time.Millisecond},
		{name: "no timeout kills at once", flags: []string{"-ignore-term"}, timeout: 0, want: Exit{Signal: syscall.SIGKILL}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := serveChild(t, Config{}, tc.flags...)
			start := time.Now()
			if err := p.Stop(syscall.SIGTERM, tc.timeout); err != nil {
				t.Fatal(err)
			}
			got := waitDone(t, p)
			if got != tc.want {
				t.Errorf("exit %v, want %v", got, tc.want)
			}
			if took := time.Since(start); took < tc.minWait {
				t.Errorf("stopped after %v, before the %v timeout", took, tc.minWait)
			}
		})
	}
}

// TestStopReachesGroup checks that signals go to the command's whole
// process group: the shell's background job dies with it.
func TestStopReachesGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p, err := Start(Config{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", `sleep 1000 & echo $! > ` + pidFile + `; wait`},
	})
	if err != nil {
		t.Fatal(err)
	}
	var bg int
	deadline := time.Now().Add(waitFor)
	for bg == 0 {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			bg, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell did not write its job's pid")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(bg, syscall.SIGKILL) })
	if err := p.Stop(syscall.SIGTERM, waitFor); err != nil {
		t.Fatal(err)
	}
	if got := waitDone(t, p); got.Signal != syscall.SIGTERM {
		t.Errorf("shell ended with %v, want killed by SIGTERM", got)
	}
	for alive(bg) {
		if time.Now().After(deadline) {
			t.Fatalf("background job %d survived the stop of its group", bg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSameGroup checks the opposite: without a group of its own, the
// command stays in the supervisor's group and is signalled alone.
func TestSameGroup(t *testing.T) {
	p, _ := serveChild(t, Config{SameGroup: true}, "-term-exit", "5")
	pgid, err := syscall.Getpgid(p.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if pgid != syscall.Getpgrp() {
		t.Errorf("child process group %d, want the supervisor's %d", pgid, syscall.Getpgrp())
	}
	if err := p.Stop(syscall.SIGTERM, waitFor); err != nil {
		t.Fatal(err)
	}
	if got := waitDone(t, p); got != (Exit{Code: 5}) {
		t.Errorf("exit %v, want code 5", got)
	}
}
