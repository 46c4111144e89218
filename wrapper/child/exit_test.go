package child

import (
	"errors"
	"syscall"
	"testing"
)

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		exit   Exit
		status int
		isErr  bool
	}{
		{name: "clean", exit: Exit{Code: 0}, status: 0},
		{name: "code", exit: Exit{Code: 3}, status: 3, isErr: true},
		{name: "sigterm", exit: Exit{Signal: syscall.SIGTERM}, status: 143, isErr: true},
		{name: "sigkill", exit: Exit{Signal: syscall.SIGKILL}, status: 137, isErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.exit.Status(); got != tc.status {
				t.Errorf("Status() = %d, want %d", got, tc.status)
			}
			err := tc.exit.Err()
			if (err != nil) != tc.isErr {
				t.Fatalf("Err() = %v, want error %v", err, tc.isErr)
			}
			var ee *ExitError
			if tc.isErr && (!errors.As(err, &ee) || ee.Status() != tc.status) {
				t.Errorf("Err() = %#v, want an *ExitError with status %d", err, tc.status)
			}
		})
	}
}
