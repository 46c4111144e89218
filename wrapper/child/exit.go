package child

import (
	"fmt"
	"syscall"
)

// Exit is how a process ended: an exit code, or the signal that killed it.
type Exit struct {
	// Code is the exit code; meaningful when Signal is 0.
	Code int
	// Signal is the signal that killed the process, 0 when it exited.
	Signal syscall.Signal
}

// exitOf decodes a wait status.
func exitOf(ws syscall.WaitStatus) Exit {
	if ws.Signaled() {
		return Exit{Signal: ws.Signal()}
	}
	return Exit{Code: ws.ExitStatus()}
}

// Status is the exit status a shell would report: the code, or 128 plus the
// signal number when a signal killed the process.
func (e Exit) Status() int {
	if e.Signal != 0 {
		return 128 + int(e.Signal)
	}
	return e.Code
}

// Err returns nil for a clean exit (code 0), else an *ExitError.
func (e Exit) Err() error {
	if e.Signal == 0 && e.Code == 0 {
		return nil
	}
	return &ExitError{Exit: e}
}

// String describes the exit for logs.
func (e Exit) String() string {
	if e.Signal != 0 {
		return "killed by " + e.Signal.String()
	}
	return fmt.Sprintf("exit code %d", e.Code)
}

// ExitError reports that the command ended with a non-zero status. The
// supervisor exits with Status().
type ExitError struct {
	Exit
}

func (e *ExitError) Error() string {
	return "command ended: " + e.Exit.String()
}
