package marathon

import "encoding/json"

// AppInfo is an app with the runtime data of GET /v2/apps and
// /v2/apps/{id}. The counts and Deployments are always written (Marathon
// always embeds them); Tasks, ReadinessCheckResults, LastTaskFailure and
// TasksStats are written only when non-nil, so an embed that asked for
// tasks and found none is written "tasks": [] by setting an empty slice.
type AppInfo struct {
	App
	TasksStaged           int                    `json:"tasksStaged"`
	TasksRunning          int                    `json:"tasksRunning"`
	TasksHealthy          int                    `json:"tasksHealthy"`
	TasksUnhealthy        int                    `json:"tasksUnhealthy"`
	Deployments           []DeploymentRef        `json:"deployments"`
	ReadinessCheckResults []ReadinessCheckResult `json:"readinessCheckResults,omitzero"`
	Tasks                 []Task                 `json:"tasks,omitzero"`
	LastTaskFailure       *TaskFailure           `json:"lastTaskFailure,omitempty"`
	TasksStats            *TasksStats            `json:"tasksStats,omitempty"`
}

type appInfoExtra struct {
	TasksStaged           int                    `json:"tasksStaged"`
	TasksRunning          int                    `json:"tasksRunning"`
	TasksHealthy          int                    `json:"tasksHealthy"`
	TasksUnhealthy        int                    `json:"tasksUnhealthy"`
	Deployments           []DeploymentRef        `json:"deployments"`
	ReadinessCheckResults []ReadinessCheckResult `json:"readinessCheckResults,omitzero"`
	Tasks                 []Task                 `json:"tasks,omitzero"`
	LastTaskFailure       *TaskFailure           `json:"lastTaskFailure,omitempty"`
	TasksStats            *TasksStats            `json:"tasksStats,omitempty"`
}

// MarshalJSON writes the app (App.MarshalJSON) followed by the runtime
// fields (see AppendJSON).
func (i AppInfo) MarshalJSON() ([]byte, error) {
	return i.AppendJSON(nil, nil)
}

// UnmarshalJSON reads the app and the runtime fields (client side).
func (i *AppInfo) UnmarshalJSON(b []byte) error {
	var app App
	if err := json.Unmarshal(b, &app); err != nil {
		return err
	}
	var x appInfoExtra
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*i = AppInfo{App: app, TasksStaged: x.TasksStaged, TasksRunning: x.TasksRunning, TasksHealthy: x.TasksHealthy,
		TasksUnhealthy: x.TasksUnhealthy, Deployments: x.Deployments, ReadinessCheckResults: x.ReadinessCheckResults,
		Tasks: x.Tasks, LastTaskFailure: x.LastTaskFailure, TasksStats: x.TasksStats}
	return nil
}

// ReadinessCheckResult is the state of a readiness check of one task.
type ReadinessCheckResult struct {
	Name         string             `json:"name"`
	TaskID       string             `json:"taskId"`
	Ready        bool               `json:"ready"`
	LastResponse *ReadinessResponse `json:"lastResponse,omitempty"`
}

// ReadinessResponse is the last HTTP answer of a readiness check.
type ReadinessResponse struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

// TaskFailure is the app's last task failure (embed lastTaskFailure).
type TaskFailure struct {
	AppID     PathID    `json:"appId"`
	Host      string    `json:"host"`
	Message   string    `json:"message"`
	State     TaskState `json:"state"`
	TaskID    string    `json:"taskId"`
	Timestamp Timestamp `json:"timestamp"`
	Version   Timestamp `json:"version"`
	SlaveID   string    `json:"slaveId"`
}

// TasksStats is embed taskStats: statistics per task group; groups without
// tasks are omitted.
type TasksStats struct {
	StartedAfterLastScaling *TaskStatsGroup `json:"startedAfterLastScaling,omitempty"`
	WithLatestConfig        *TaskStatsGroup `json:"withLatestConfig,omitempty"`
	WithOutdatedConfig      *TaskStatsGroup `json:"withOutdatedConfig,omitempty"`
	TotalSummary            *TaskStatsGroup `json:"totalSummary,omitempty"`
}

// TaskStatsGroup wraps the stats of one task group.
type TaskStatsGroup struct {
	Stats TaskStats `json:"stats"`
}

// TaskStats counts tasks and summarises their life time.
type TaskStats struct {
	Counts   TaskCounts    `json:"counts"`
	LifeTime *TaskLifeTime `json:"lifeTime,omitempty"`
}

// TaskCounts are task counts by state.
type TaskCounts struct {
	Staged    int `json:"staged"`
	Running   int `json:"running"`
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
}

// TaskLifeTime summarises how long tasks have run.
type TaskLifeTime struct {
	AverageSeconds float64 `json:"averageSeconds"`
	MedianSeconds  float64 `json:"medianSeconds"`
}

// AppList is the body of GET /v2/apps: {"apps": [...]}.
type AppList struct {
	Apps []AppInfo `json:"apps"`
}

// AppBody is the body of GET /v2/apps/{id}: {"app": ...}.
type AppBody struct {
	App AppInfo `json:"app"`
}

// VersionList is the body of GET /v2/apps/{id}/versions.
type VersionList struct {
	Versions []Timestamp `json:"versions"`
}
