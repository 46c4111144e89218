package agent

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/stadionhq/stadion/internal/mesos"
)

// State is the agent's GET /state answer, for tests and debugging.
type State struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	URL      string `json:"url"`
	// Resources is flat, as Mesos's /state has it: scalars as numbers,
	// ranges as "[31000-32000]".
	Resources map[string]any `json:"resources"`
	Tasks     []TaskSummary  `json:"tasks"`
}

// TaskSummary is one task in State.
type TaskSummary struct {
	ID          string          `json:"id"`
	FrameworkID string          `json:"framework_id"`
	State       mesos.TaskState `json:"state"`
	ContainerID string          `json:"container_id"`
	Sandbox     string          `json:"sandbox"`
	// Unacknowledged counts the updates not yet acknowledged.
	Unacknowledged int `json:"unacknowledged"`
}

func (a *Agent) handleState(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a.State())
}

// State returns a snapshot of the agent.
func (a *Agent) State() State {
	flat := map[string]any{}
	for _, r := range a.resources {
		switch r.Type {
		case mesos.ValueScalar:
			flat[r.Name] = a.resources.Scalar(r.Name)
		case mesos.ValueRanges:
			flat[r.Name] = mesos.FormatRanges(a.resources.Ranges(r.Name))
		}
	}
	a.mu.Lock()
	st := State{ID: a.id, Hostname: a.cfg.Hostname, URL: a.url, Resources: flat, Tasks: make([]TaskSummary, 0, len(a.tasks))}
	for _, t := range a.tasks {
		st.Tasks = append(st.Tasks, TaskSummary{
			ID:             t.key.task,
			FrameworkID:    t.key.framework,
			State:          t.latest.State,
			ContainerID:    t.containerID,
			Sandbox:        t.sandbox,
			Unacknowledged: len(t.pending),
		})
	}
	a.mu.Unlock()
	sort.Slice(st.Tasks, func(i, j int) bool { return st.Tasks[i].ID < st.Tasks[j].ID })
	return st
}
