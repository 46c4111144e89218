package mesos_test

import (
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
)

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{
			name: "api error names call, code and body",
			err:  &mesos.APIError{Code: 403, Body: "Framework is not subscribed", Call: mesos.CallKill},
			want: []string{"KILL", "403", "Forbidden", "Framework is not subscribed"},
		},
		{
			name: "api error without body",
			err:  &mesos.APIError{Code: 503, Call: mesos.CallSubscribe},
			want: []string{"SUBSCRIBE", "503", "Service Unavailable"},
		},
		{
			name: "framework error carries the message",
			err:  &mesos.FrameworkError{Message: "Framework has been removed"},
			want: []string{"Framework has been removed"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not contain %q", msg, w)
				}
			}
		})
	}
}
