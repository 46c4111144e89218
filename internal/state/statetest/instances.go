package statetest

import (
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// RunningInstances returns count running instances spread over 100 apps
// and 50 agents, each task at incarnation: the records of a launch burst,
// for the stores' benchmarks.
func RunningInstances(count, incarnation int) []state.Instance {
	v := marathon.NewTimestamp(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	healthy := true
	out := make([]state.Instance, 0, count)
	for i := range count {
		app := marathon.PathID(fmt.Sprintf("/bench/app-%03d", i%100))
		id := fmt.Sprintf("%s.instance-%08d", app.TaskPrefix(), i)
		out = append(out, state.Instance{
			ID:          id,
			AppID:       app,
			AppVersion:  v,
			Goal:        state.GoalRunning,
			Incarnation: incarnation,
			TaskID:      fmt.Sprintf("%s._app.%d", id, incarnation),
			State:       mesos.TaskRunning,
			AgentID:     fmt.Sprintf("agent-%02d", i%50),
			Hostname:    fmt.Sprintf("host-%02d", i%50),
			HostPorts:   []uint32{uint32(31000 + i%1000)},
			IPAddresses: []string{"10.0.0.1"},
			Healthy:     &healthy,
			Attributes:  map[string]string{"rack": "r1"},
			StagedAt:    v.Time,
			StartedAt:   v.Time,
		})
	}
	return out
}
