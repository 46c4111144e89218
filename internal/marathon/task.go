package marathon

// TaskState is a Mesos task state as Marathon reports it ("TASK_RUNNING").
type TaskState string

// Task states.
const (
	TaskStaging     TaskState = "TASK_STAGING"
	TaskStarting    TaskState = "TASK_STARTING"
	TaskRunning     TaskState = "TASK_RUNNING"
	TaskKilling     TaskState = "TASK_KILLING"
	TaskFinished    TaskState = "TASK_FINISHED"
	TaskFailed      TaskState = "TASK_FAILED"
	TaskKilled      TaskState = "TASK_KILLED"
	TaskError       TaskState = "TASK_ERROR"
	TaskLost        TaskState = "TASK_LOST"
	TaskDropped     TaskState = "TASK_DROPPED"
	TaskUnreachable TaskState = "TASK_UNREACHABLE"
	TaskGone        TaskState = "TASK_GONE"
	TaskUnknown     TaskState = "TASK_UNKNOWN"
)

// IPAddr is one entry of a task's ipAddresses.
type IPAddr struct {
	IPAddress string     `json:"ipAddress"`
	Protocol  IPProtocol `json:"protocol"`
}

// HealthCheckResult is a task's result for one health check.
type HealthCheckResult struct {
	Alive               bool `json:"alive"`
	ConsecutiveFailures int  `json:"consecutiveFailures"`
	// The optional fields are left out when unset, as Marathon's Health
	// (RAML firstSuccess?, lastSuccess?, lastFailure?, lastFailureCause?).
	FirstSuccess     *Timestamp `json:"firstSuccess,omitempty"`
	LastSuccess      *Timestamp `json:"lastSuccess,omitempty"`
	LastFailure      *Timestamp `json:"lastFailure,omitempty"`
	LastFailureCause *string    `json:"lastFailureCause,omitempty"`
	InstanceID       string     `json:"instanceId"`
	// TaskID is the pre-1.4 field; set it for old consumers if wanted.
	TaskID string `json:"taskId,omitempty"`
}

// Task is a task as /v2/tasks and /v2/apps/{id}/tasks return it. A task
// with a zero StagedAt is inactive (reserved, not launched): its stagedAt,
// startedAt, ports and version are omitted, as Marathon's TaskConversion
// does. The agent id is "slaveId" on the wire.
type Task struct {
	ID           string    `json:"id"`
	AppID        PathID    `json:"appId"`
	Host         string    `json:"host"`
	IPAddresses  []IPAddr  `json:"ipAddresses"`
	Ports        []uint32  `json:"ports"`
	ServicePorts []uint32  `json:"servicePorts"`
	SlaveID      string    `json:"slaveId,omitempty"`
	State        TaskState `json:"state"`
	StagedAt     Timestamp `json:"stagedAt,omitzero"`
	StartedAt    Timestamp `json:"startedAt,omitzero"`
	Version      Timestamp `json:"version,omitzero"`
	// HealthCheckResults and LocalVolumes are always written, [] when
	// empty, as Marathon's TaskConversion does.
	HealthCheckResults []HealthCheckResult `json:"healthCheckResults"`
	CheckResult        *CheckResult        `json:"checkResult,omitempty"`
	LocalVolumes       []LocalVolume       `json:"localVolumes"`
	Region             string              `json:"region,omitempty"`
	Zone               string              `json:"zone,omitempty"`
	Role               string              `json:"role,omitempty"`
	// UnknownSince is Stadion's own: set while Mesos answers TASK_UNKNOWN
	// for the task (its agent has not re-registered with the master),
	// whose state stays the last one known.
	UnknownSince Timestamp `json:"unknownSince,omitzero"`
}

// CheckResult is the last result of app.check.
type CheckResult struct {
	HTTP *struct {
		StatusCode int `json:"statusCode"`
	} `json:"http,omitempty"`
	TCP *struct {
		Succeeded bool `json:"succeeded"`
	} `json:"tcp,omitempty"`
	Exec *struct {
		ExitCode int `json:"exitCode"`
	} `json:"exec,omitempty"`
}

// LocalVolume names a persistent volume of a resident task.
type LocalVolume struct {
	RunSpecID     PathID `json:"runSpecId"`
	ContainerPath string `json:"containerPath"`
	UUID          string `json:"uuid"`
	PersistenceID string `json:"persistenceId"`
}

// MarshalJSON omits the launch fields of inactive tasks and writes empty
// lists as [] (see AppendJSON).
func (t Task) MarshalJSON() ([]byte, error) {
	return t.AppendJSON(nil), nil
}

// IsHealthy reports what Marathon's consumers read as healthy: results for
// every check (checks is the app's number of health checks) and all alive;
// an app without checks is healthy when running.
func (t Task) IsHealthy(checks int) bool {
	if checks == 0 {
		return t.State == TaskRunning
	}
	if len(t.HealthCheckResults) < checks {
		return false
	}
	for _, r := range t.HealthCheckResults {
		if !r.Alive {
			return false
		}
	}
	return true
}

// TaskList is the body of GET /v2/tasks and /v2/apps/{id}/tasks.
type TaskList struct {
	Tasks []Task `json:"tasks"`
}

// TaskBody is the body of DELETE /v2/apps/{id}/tasks/{taskId}: {"task": t}.
type TaskBody struct {
	Task Task `json:"task"`
}

// TaskIDs is the body of POST /v2/tasks/delete: {"ids": [...]}.
type TaskIDs struct {
	IDs []string `json:"ids"`
}
