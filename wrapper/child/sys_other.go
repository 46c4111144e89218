//go:build !linux

package child

import (
	"errors"
	"syscall"
)

func sysProcAttr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group}
}

// IsTerminal reports whether fd is a terminal; outside Linux it answers
// false, which gives the command its own process group.
func IsTerminal(fd uintptr) bool { return false }

// BecomeSubreaper is supported on Linux only.
func BecomeSubreaper() error { return errors.New("child subreaper: linux only") }
