package deployment

import (
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

func TestProgress(t *testing.T) {
	action := func(typ marathon.DeploymentAction, running, ready int, done bool) ActionStatus {
		return ActionStatus{Action: state.Action{Type: typ, AppID: "/a"}, Running: running, Ready: ready, Done: done}
	}
	cases := []struct {
		name string
		out  Output
		want int
	}{
		{name: "nothing yet", out: Output{}, want: 0},
		{name: "running but not ready", out: Output{CurrentActions: []ActionStatus{action(marathon.RestartApplication, 2, 0, false)}}, want: 2},
		{name: "running and ready count twice", out: Output{CurrentActions: []ActionStatus{action(marathon.RestartApplication, 2, 1, false)}}, want: 3},
		{name: "actions add up", out: Output{CurrentActions: []ActionStatus{
			action(marathon.StartApplication, 1, 1, false), action(marathon.ScaleApplication, 3, 2, false),
		}}, want: 7},
		{name: "a finished stop counts", out: Output{CurrentActions: []ActionStatus{action(marathon.StopApplication, 0, 0, true)}}, want: 1},
		{name: "an unfinished stop does not", out: Output{CurrentActions: []ActionStatus{action(marathon.StopApplication, 0, 0, false)}}, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Progress(tc.out); got != tc.want {
				t.Errorf("Progress = %d, want %d", got, tc.want)
			}
		})
	}
}
