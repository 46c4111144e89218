package child

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestReaperReapsOrphans makes this test process a child subreaper, so the
// orphan testchild leaves behind is reparented here, and checks that the
// Reaper reaps it once it exits while still handing the command its own
// exit status.
func TestReaperReapsOrphans(t *testing.T) {
	if err := BecomeSubreaper(); err != nil {
		t.Skipf("cannot become a child subreaper: %v", err)
	}
	t.Cleanup(func() { syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0) })
	r := NewReaper(nil)
	t.Cleanup(r.Close)

	release := filepath.Join(t.TempDir(), "release")
	p, _ := serveChild(t, Config{Reaper: r}, "-term-exit", "7")
	_ = p // the plain child; the orphan comes from a second one
	o, err := Start(Config{
		Path:   testChildBin(t),
		Args:   []string{"testchild", "orphan", "-release", release, "-addr", "127.0.0.1:0"},
		Reaper: r,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Stop(syscall.SIGKILL, 0); <-o.Done() })

	// The linger process must be reparented to us.
	var orphan int
	deadline := time.Now().Add(waitFor)
	for orphan == 0 {
		if pids := children(os.Getpid(), "linger"); len(pids) > 0 {
			orphan = pids[0]
		}
		select {
		case <-o.Done():
			t.Fatalf("orphan maker ended: %v", o.Exit())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no orphan was reparented to this process")
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := r.Orphans()
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for r.Orphans() == before || alive(orphan) {
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d not reaped (alive %v, orphans reaped %d)", orphan, alive(orphan), r.Orphans())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join("/proc", itoa(orphan))); err == nil {
		t.Errorf("orphan %d still has a /proc entry (a zombie)", orphan)
	}

	// The command's own status still comes back through the Reaper.
	if err := p.Stop(syscall.SIGTERM, waitFor); err != nil {
		t.Fatal(err)
	}
	if got := waitDone(t, p); got != (Exit{Code: 7}) {
		t.Errorf("command exit %v, want code 7", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
