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
	// Frameworks is Mesos's agent /state view of the same tasks: each
	// framework's executors with their sandbox directory, which is what
	// the Mesos web UI (and Stadion's) reads to find a task's files. A
	// command task's executor has the task's id.
	Frameworks []FrameworkState `json:"frameworks"`
	// CompletedFrameworks is always empty: the agent forgets a task
	// once its end is acknowledged (its sandbox stays on disk).
	CompletedFrameworks []FrameworkState `json:"completed_frameworks"`
}

// FrameworkState is one framework in State.Frameworks.
type FrameworkState struct {
	ID        string          `json:"id"`
	Executors []ExecutorState `json:"executors"`
	// CompletedExecutors is always empty (see State.CompletedFrameworks).
	CompletedExecutors []ExecutorState `json:"completed_executors"`
}

// ExecutorState is one executor in FrameworkState, with Mesos's field
// names.
type ExecutorState struct {
	ID          string         `json:"id"`
	FrameworkID string         `json:"framework_id"`
	Container   string         `json:"container"`
	Directory   string         `json:"directory"`
	Tasks       []ExecutorTask `json:"tasks"`
}

// ExecutorTask is one task of an executor in ExecutorState.
type ExecutorTask struct {
	ID          string          `json:"id"`
	FrameworkID string          `json:"framework_id"`
	State       mesos.TaskState `json:"state"`
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
	st.Frameworks, st.CompletedFrameworks = frameworkStates(st.Tasks), []FrameworkState{}
	return st
}

// frameworkStates groups tasks, sorted by id, by framework as Mesos's
// agent /state does, one command executor per task.
func frameworkStates(tasks []TaskSummary) []FrameworkState {
	out := []FrameworkState{}
	index := map[string]int{}
	for _, t := range tasks {
		i, ok := index[t.FrameworkID]
		if !ok {
			i = len(out)
			index[t.FrameworkID] = i
			out = append(out, FrameworkState{ID: t.FrameworkID, CompletedExecutors: []ExecutorState{}})
		}
		out[i].Executors = append(out[i].Executors, ExecutorState{
			ID: t.ID, FrameworkID: t.FrameworkID, Container: t.ContainerID, Directory: t.Sandbox,
			Tasks: []ExecutorTask{{ID: t.ID, FrameworkID: t.FrameworkID, State: t.State}},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
