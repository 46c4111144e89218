package marathon

import (
	"bytes"
	"errors"
)

// The encoders of Task and AppInfo as they were before AppendJSON: nested
// MarshalJSON methods on top of encoding/json. They are the reference the
// hand-written ones must match byte for byte (TestAppendJSONMatchesEncoder).

// legacyTask is a Task with the old MarshalJSON.
type legacyTask Task

func (t legacyTask) MarshalJSON() ([]byte, error) {
	type plain Task
	p := plain(t)
	if p.IPAddresses == nil {
		p.IPAddresses = []IPAddr{}
	}
	if p.ServicePorts == nil {
		p.ServicePorts = []uint32{}
	}
	if p.HealthCheckResults == nil {
		p.HealthCheckResults = []HealthCheckResult{}
	}
	if p.LocalVolumes == nil {
		p.LocalVolumes = []LocalVolume{}
	}
	if t.StagedAt.IsZero() {
		return marshalPlain(struct {
			plain
			Ports     []uint32   `json:"ports,omitempty"`
			StartedAt *Timestamp `json:"startedAt,omitempty"`
			Version   *Timestamp `json:"version,omitempty"`
		}{plain: p})
	}
	if p.Ports == nil {
		p.Ports = []uint32{}
	}
	return marshalPlain(p)
}

type legacyAppInfoExtra struct {
	TasksStaged           int                    `json:"tasksStaged"`
	TasksRunning          int                    `json:"tasksRunning"`
	TasksHealthy          int                    `json:"tasksHealthy"`
	TasksUnhealthy        int                    `json:"tasksUnhealthy"`
	Deployments           []DeploymentRef        `json:"deployments"`
	ReadinessCheckResults []ReadinessCheckResult `json:"readinessCheckResults,omitzero"`
	Tasks                 []legacyTask           `json:"tasks,omitzero"`
	LastTaskFailure       *TaskFailure           `json:"lastTaskFailure,omitempty"`
	TasksStats            *TasksStats            `json:"tasksStats,omitempty"`
}

// legacyAppInfoJSON is the old AppInfo.MarshalJSON.
func legacyAppInfoJSON(i AppInfo) ([]byte, error) {
	app, err := i.App.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var tasks []legacyTask
	if i.Tasks != nil {
		tasks = make([]legacyTask, len(i.Tasks))
		for k, t := range i.Tasks {
			tasks[k] = legacyTask(t)
		}
	}
	x := legacyAppInfoExtra{i.TasksStaged, i.TasksRunning, i.TasksHealthy, i.TasksUnhealthy, i.Deployments,
		i.ReadinessCheckResults, tasks, i.LastTaskFailure, i.TasksStats}
	if x.Deployments == nil {
		x.Deployments = []DeploymentRef{}
	}
	extra, err := marshalPlain(x)
	if err != nil {
		return nil, err
	}
	return mergeObjects(app, extra)
}

// mergeObjects concatenates the members of two JSON objects; members of
// extra are appended after those of base.
func mergeObjects(base, extra []byte) ([]byte, error) {
	base, extra = bytes.TrimSpace(base), bytes.TrimSpace(extra)
	if len(base) < 2 || base[0] != '{' || len(extra) < 2 || extra[0] != '{' {
		return nil, errors.New("marathon: merge of non-objects")
	}
	inner := bytes.TrimSpace(extra[1 : len(extra)-1])
	if len(inner) == 0 {
		return base, nil
	}
	out := make([]byte, 0, len(base)+len(inner)+1)
	out = append(out, base[:len(base)-1]...)
	if len(bytes.TrimSpace(base[1:len(base)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, inner...)
	return append(out, '}'), nil
}
