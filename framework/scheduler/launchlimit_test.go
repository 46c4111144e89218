package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// TestLaunchLimit checks the bound on the waiting instances one pass looks
// at: what the held offers take, and no launch while maxLaunching tasks
// are staging or starting.
func TestLaunchLimit(t *testing.T) {
	withLaunching := func(n int) *loopState {
		st := newLoopState(state.Snapshot{}, time.Time{})
		for i := range n {
			inst := &state.Instance{ID: fmt.Sprintf("a.instance-%d", i), AppID: "/a", State: mesos.TaskStaging}
			st.trackLaunch(inst)
		}
		return st
	}
	withOffers := func(st *loopState, n int) *loopState {
		for i := range n {
			id := fmt.Sprintf("o%d", i)
			st.offers[id] = mesos.Offer{ID: mesos.OfferID{Value: id}}
		}
		return st
	}
	tests := []struct {
		name     string
		st       *loopState
		perOffer int
		want     int
	}{
		{name: "no offers: the least look", st: withLaunching(0), want: minLaunchLook},
		{name: "500 offers of 5", st: withOffers(withLaunching(0), 500), want: 5000},
		{name: "500 offers, 4,000 launching", st: withOffers(withLaunching(4000), 500), want: 1000},
		{name: "window full", st: withOffers(withLaunching(maxLaunching), 500), want: 0},
		{name: "no cap per offer: the window", st: withOffers(withLaunching(1000), 10), perOffer: -1, want: maxLaunching - 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scheduler{cfg: Config{MaxInstancesPerOffer: tc.perOffer}, st: tc.st}
			if got := s.launchLimit(); got != tc.want {
				t.Errorf("launchLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTrackLaunch checks that an instance counts as launching from
// TASK_STAGING until its task runs or ends.
func TestTrackLaunch(t *testing.T) {
	st := newLoopState(state.Snapshot{}, time.Time{})
	inst := &state.Instance{ID: "a.instance-1", AppID: "/a"}
	for _, step := range []struct {
		state mesos.TaskState
		want  bool
	}{
		{"", false}, {mesos.TaskStaging, true}, {mesos.TaskStarting, true}, {mesos.TaskRunning, false}, {mesos.TaskStaging, true}, {mesos.TaskFailed, false},
	} {
		inst.State = step.state
		st.trackLaunch(inst)
		if _, got := st.launching[inst.ID]; got != step.want {
			t.Errorf("state %q: launching %v, want %v", step.state, got, step.want)
		}
	}
}
