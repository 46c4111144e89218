package child

import (
	"syscall"
	"unsafe"
)

// sysProcAttr puts the command in its own process group when group is set,
// and has the kernel SIGKILL it if the supervisor dies first: a supervisor
// killed by SIGKILL must not leave its command running unsupervised.
func sysProcAttr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group, Pdeathsig: syscall.SIGKILL}
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(fd uintptr) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// BecomeSubreaper makes this process a child subreaper (prctl
// PR_SET_CHILD_SUBREAPER): orphaned descendants are reparented to it rather
// than to PID 1, so it must reap them (a Reaper with All set).
func BecomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}
