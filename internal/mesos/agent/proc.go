package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat is what the agent reads of /proc/<pid>/stat to recognise a
// process again after a restart.
type procStat struct {
	state byte   // R, S, D, Z...
	pgid  int    // field 5
	start uint64 // field 22: start time in clock ticks after boot
}

// readProcStat parses /proc/<pid>/stat. The command name, field 2, is
// skipped: it is in parentheses and may hold spaces and parentheses itself.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), f[2] field 5 (pgrp), f[19] field 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat pgrp: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat starttime: %w", pid, err)
	}
	return procStat{state: f[0][0], pgid: pgid, start: start}, nil
}

// procStartTime is the start time of a live process, 0 when it cannot be
// read.
func procStartTime(pid int) uint64 {
	st, err := readProcStat(pid)
	if err != nil {
		return 0
	}
	return st.start
}

// bootID identifies the running kernel's boot: process start times and pids
// only mean something within one boot.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// procAlive reports whether process pid is the one that started at start
// (not a reused pid) and has not ended (a zombie has ended).
func procAlive(pid int, start uint64) bool {
	if pid <= 0 || start == 0 {
		return false
	}
	st, err := readProcStat(pid)
	return err == nil && st.start == start && st.state != 'Z' && st.state != 'X'
}

// pidReused reports whether pid now names another process than the one
// that started at start.
func pidReused(pid int, start uint64) bool {
	st, err := readProcStat(pid)
	return err == nil && st.start != start
}

// signalGroup sends sig to the process group a task's process led: pid,
// which started at start. When pid names another process now, the group is
// not signalled: Linux frees a pid only once no process uses it as pid or
// group id, so a reused pid means the old group is empty, and the group of
// that id is someone else's.
func signalGroup(pid int, start uint64, sig syscall.Signal) {
	if pid <= 0 || pidReused(pid, start) {
		return
	}
	_ = syscall.Kill(-pid, sig)
}

// groupAlive reports whether a process of group pgid is alive (zombies do
// not count).
func groupAlive(pgid int) bool {
	found := false
	eachProc(func(pid int) bool {
		st, err := readProcStat(pid)
		if err == nil && st.pgid == pgid && st.state != 'Z' && st.state != 'X' {
			found = true
			return false
		}
		return true
	})
	return found
}

// procsWithEnv lists the live processes whose initial environment holds
// the entry name=value: the processes of a task, found by its
// MESOS_DIRECTORY when the agent died before it could checkpoint their pid.
func procsWithEnv(entry string) []int {
	want := []byte(entry + "\x00")
	var pids []int
	self := os.Getpid()
	eachProc(func(pid int) bool {
		if pid == self {
			return true
		}
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err != nil {
			return true
		}
		if bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...)) {
			if st, err := readProcStat(pid); err == nil && st.state != 'Z' {
				pids = append(pids, pid)
			}
		}
		return true
	})
	return pids
}

// eachProc calls fn with every pid in /proc until fn returns false.
func eachProc(fn func(pid int) bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if !fn(pid) {
			return
		}
	}
}

// sysPidfdOpen is pidfd_open(2)'s number, the same on every Linux
// architecture (Linux 5.3 and later).
const sysPidfdOpen = 434

// waitExit returns nil once the process pid, which started at start, has
// ended, or ctx's error when ctx ends first. The process need not be a
// child: a pidfd turns readable when it exits; where pidfds are not
// available, /proc is polled every poll.
func waitExit(ctx context.Context, pid int, start uint64, poll time.Duration) error {
	if err := waitPidfd(ctx, pid, start); err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for procAlive(pid, start) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// waitPidfd waits for the process's end through a pidfd in the runtime's
// poller. It returns an error when that is not possible.
func waitPidfd(ctx context.Context, pid int, start uint64) error {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return errno
	}
	// The pidfd is of whatever process had pid when it was opened: that
	// is ours only if ours is still alive now.
	if !procAlive(pid, start) {
		syscall.Close(int(fd))
		return nil
	}
	if err := syscall.SetNonblock(int(fd), true); err != nil {
		syscall.Close(int(fd))
		return err
	}
	f := os.NewFile(fd, "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	// The callback runs first at once, then each time the pidfd turns
	// readable; an error means the poller cannot wait for this fd.
	return rc.Read(func(uintptr) bool { return !procAlive(pid, start) })
}
