package marathon

import (
	"time"
)

// PodState is PodStatus.status (types/podStatus.raml): there is no
// DEPLOYING; a rolling upgrade shows DEGRADED.
type PodState string

// Pod states.
const (
	PodDegraded PodState = "DEGRADED"
	PodStable   PodState = "STABLE"
	PodTerminal PodState = "TERMINAL"
)

// PodInstanceState is PodInstanceStatus.status.
type PodInstanceState string

// Pod instance states.
const (
	InstancePending  PodInstanceState = "PENDING"
	InstanceStaging  PodInstanceState = "STAGING"
	InstanceStable   PodInstanceState = "STABLE"
	InstanceDegraded PodInstanceState = "DEGRADED"
	InstanceTerminal PodInstanceState = "TERMINAL"
)

// Messages of the instance states (PodStatusConversion.scala).
const (
	msgContainerUnhealthy  = "at least one container is not healthy"
	msgInstanceUnreachable = "pod instance has become unreachable"
)

// Condition names and reasons of a container's health condition.
const (
	ConditionHealthy         = "healthy"
	reasonHealthReported     = "health-reported-by-mesos"
	reasonHealthUnreported   = "health-unreported-by-mesos"
	containerStateStagingStr = "TASK_STAGING"
)

// PodStatus is GET /v2/pods/{id}::status.
type PodStatus struct {
	ID                 PathID               `json:"id"`
	Spec               Pod                  `json:"spec"`
	Status             PodState             `json:"status"`
	StatusSince        Timestamp            `json:"statusSince"`
	Message            string               `json:"message,omitempty"`
	Instances          []PodInstanceStatus  `json:"instances"`
	TerminationHistory []TerminationHistory `json:"terminationHistory"`
	LastUpdated        Timestamp            `json:"lastUpdated"`
	LastChanged        Timestamp            `json:"lastChanged"`
}

// PodInstanceStatus is one instance of a PodStatus.
type PodInstanceStatus struct {
	ID            string            `json:"id"`
	Status        PodInstanceState  `json:"status"`
	StatusSince   Timestamp         `json:"statusSince"`
	Message       string            `json:"message,omitempty"`
	Conditions    []StatusCondition `json:"conditions"`
	AgentHostname string            `json:"agentHostname,omitempty"`
	AgentID       string            `json:"agentId,omitempty"`
	AgentRegion   string            `json:"agentRegion,omitempty"`
	AgentZone     string            `json:"agentZone,omitempty"`
	Resources     *PodResources     `json:"resources,omitempty"`
	Networks      []NetworkStatus   `json:"networks"`
	Containers    []ContainerStatus `json:"containers"`
	SpecReference string            `json:"specReference,omitempty"`
	LocalVolumes  []any             `json:"localVolumes"`
	LastUpdated   Timestamp         `json:"lastUpdated"`
	LastChanged   Timestamp         `json:"lastChanged"`
	Role          string            `json:"role"`
}

// StatusCondition is a named condition of a container or instance.
type StatusCondition struct {
	Name        string    `json:"name"`
	LastChanged Timestamp `json:"lastChanged"`
	LastUpdated Timestamp `json:"lastUpdated"`
	Value       string    `json:"value"`
	Reason      string    `json:"reason,omitempty"`
}

// ContainerStatus is one container (task) of an instance.
type ContainerStatus struct {
	Name        string                    `json:"name"`
	Status      string                    `json:"status"`
	StatusSince Timestamp                 `json:"statusSince"`
	Message     string                    `json:"message,omitempty"`
	Conditions  []StatusCondition         `json:"conditions"`
	ContainerID string                    `json:"containerId,omitempty"`
	Endpoints   []ContainerEndpointStatus `json:"endpoints"`
	Resources   *PodResources             `json:"resources,omitempty"`
	LastUpdated Timestamp                 `json:"lastUpdated"`
	LastChanged Timestamp                 `json:"lastChanged"`
}

// ContainerEndpointStatus is an endpoint with its allocated host port and
// the health of the check that probes it.
type ContainerEndpointStatus struct {
	Name              string `json:"name"`
	AllocatedHostPort *int   `json:"allocatedHostPort,omitempty"`
	Healthy           *bool  `json:"healthy,omitempty"`
}

// NetworkStatus is a network of an instance and its addresses.
type NetworkStatus struct {
	Name      string   `json:"name,omitempty"`
	Addresses []string `json:"addresses"`
}

// TerminationHistory is the pod's latest instance termination.
type TerminationHistory struct {
	InstanceID   string                        `json:"instanceID"`
	StartedAt    Timestamp                     `json:"startedAt"`
	TerminatedAt Timestamp                     `json:"terminatedAt"`
	Message      string                        `json:"message,omitempty"`
	Containers   []ContainerTerminationHistory `json:"containers"`
}

// ContainerTerminationHistory is one container of a TerminationHistory.
type ContainerTerminationHistory struct {
	ContainerID    string `json:"containerId"`
	LastKnownState string `json:"lastKnownState,omitempty"`
}

// PodTaskObservation is what the scheduler knows of one container's task.
type PodTaskObservation struct {
	// Container is the container name; TaskID the Mesos task id ("" when
	// not launched).
	Container string
	TaskID    string
	// State is the Mesos task state name ("TASK_RUNNING"); "" before a
	// launch.
	State string
	// Healthy is the Mesos health of the task; nil while unreported.
	Healthy *bool
	// HostPorts are the task's host ports, in the order of its endpoints
	// that have a hostPort.
	HostPorts []uint32
	Message   string
	StagedAt  time.Time
	StartedAt time.Time
}

// PodInstanceObservation is what the scheduler knows of one instance.
type PodInstanceObservation struct {
	ID             string
	RunSpecVersion Timestamp
	AgentHostname  string
	AgentID        string
	AgentRegion    string
	AgentZone      string
	Role           string
	// Networks are the instance's networks from its container statuses.
	Networks []NetworkStatus
	// Tasks has one entry per container with a task.
	Tasks []PodTaskObservation
	// Since is when the instance's condition last changed.
	Since time.Time
}

// condition ranks, worst first (Instance.scala conditionHierarchy).
var conditionRank = []string{
	"TASK_ERROR", "TASK_FAILED", "TASK_GONE", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_KILLING",
	"TASK_STARTING", "TASK_STAGING", "TASK_UNKNOWN", "", "TASK_RUNNING", "TASK_FINISHED", "TASK_KILLED",
}

func rank(state string) int {
	if state == "TASK_LOST" || state == "TASK_GONE_BY_OPERATOR" {
		state = "TASK_UNREACHABLE"
	}
	for i, s := range conditionRank {
		if s == state {
			return i
		}
	}
	return 0
}

// instanceCondition is the worst of the instance's task states; "" when
// no task was launched.
func instanceCondition(o PodInstanceObservation) string {
	if len(o.Tasks) == 0 {
		return ""
	}
	worst := o.Tasks[0].State
	for _, t := range o.Tasks[1:] {
		if rank(t.State) < rank(worst) {
			worst = t.State
		}
	}
	return worst
}

// activeState reports a task that holds its resources.
func activeState(s string) bool {
	switch s {
	case "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_UNREACHABLE", "TASK_KILLING":
		return true
	}
	return false
}

// PodInstanceStatusOf derives an instance's status as Marathon's
// PodStatusConversion does (reference §7).
func PodInstanceStatusOf(pod Pod, o PodInstanceObservation, now time.Time) PodInstanceStatus {
	ts := NewTimestamp(now)
	since := NewTimestamp(o.Since)
	out := PodInstanceStatus{
		ID: o.ID, StatusSince: since, AgentHostname: o.AgentHostname, AgentID: o.AgentID,
		AgentRegion: o.AgentRegion, AgentZone: o.AgentZone, Role: o.Role,
		Conditions: []StatusCondition{}, Networks: o.Networks, Containers: []ContainerStatus{},
		LocalVolumes: []any{}, LastUpdated: ts, LastChanged: since,
		SpecReference: "/v2/pods" + string(pod.ID) + "::versions/" + o.RunSpecVersion.String(),
	}
	if out.Networks == nil {
		out.Networks = []NetworkStatus{}
	}
	res := PodResources{Cpus: DefaultExecutorCpus, Mem: DefaultExecutorMem, Disk: DefaultExecutorDisk}
	unhealthy := false
	for _, c := range pod.Containers {
		t, ok := taskOf(o, c.Name)
		if !ok {
			continue
		}
		cs := containerStatusOf(c, t, ts)
		if cs.Resources != nil {
			res.Cpus += c.Resources.Cpus
			res.Mem += c.Resources.Mem
			res.Disk += c.Resources.Disk
			res.Gpus += c.Resources.Gpus
		}
		for _, cond := range cs.Conditions {
			if cond.Name == ConditionHealthy && cond.Value == "false" {
				unhealthy = true
			}
		}
		out.Containers = append(out.Containers, cs)
	}
	out.Resources = &res
	out.Status, out.Message = instanceState(instanceCondition(o), unhealthy)
	return out
}

func taskOf(o PodInstanceObservation, container string) (PodTaskObservation, bool) {
	for _, t := range o.Tasks {
		if t.Container == container {
			return t, true
		}
	}
	return PodTaskObservation{}, false
}

// instanceState maps the instance condition to its status and message.
// An instance unreachable for longer than inactiveAfterSeconds
// (UnreachableInactive) still has unreachable tasks: DEGRADED too.
func instanceState(cond string, unhealthy bool) (PodInstanceState, string) {
	switch cond {
	case "":
		return InstancePending, ""
	case "TASK_STAGING", "TASK_STARTING":
		return InstanceStaging, ""
	case "TASK_RUNNING":
		if unhealthy {
			return InstanceDegraded, msgContainerUnhealthy
		}
		return InstanceStable, ""
	case "TASK_UNREACHABLE", "TASK_LOST":
		return InstanceDegraded, msgInstanceUnreachable
	}
	return InstanceTerminal, ""
}

// containerStatusOf derives one container's status.
func containerStatusOf(c PodContainer, t PodTaskObservation, now Timestamp) ContainerStatus {
	since := t.StartedAt
	if since.IsZero() {
		since = t.StagedAt
	}
	cs := ContainerStatus{
		Name: c.Name, Status: t.State, StatusSince: NewTimestamp(since), Message: t.Message,
		ContainerID: t.TaskID, Conditions: []StatusCondition{}, Endpoints: []ContainerEndpointStatus{},
		LastUpdated: now, LastChanged: NewTimestamp(since),
	}
	if cs.Status == "" || cs.Status == "TASK_LOST" {
		cs.Status = containerStateStagingStr
	}
	if activeState(t.State) {
		r := c.Resources
		cs.Resources = &r
		checked := ""
		if c.HealthCheck != nil {
			checked = c.HealthCheck.Endpoint()
		}
		hp := 0
		for _, e := range c.Endpoints {
			es := ContainerEndpointStatus{Name: e.Name}
			if e.HostPort != nil && hp < len(t.HostPorts) {
				p := int(t.HostPorts[hp])
				es.AllocatedHostPort = &p
				hp++
			}
			if e.Name == checked && t.Healthy != nil {
				h := *t.Healthy
				es.Healthy = &h
			}
			cs.Endpoints = append(cs.Endpoints, es)
		}
	}
	if c.HealthCheck != nil && !t.StartedAt.IsZero() {
		cond := StatusCondition{Name: ConditionHealthy, Value: "false", Reason: reasonHealthUnreported, LastChanged: cs.StatusSince, LastUpdated: now}
		if t.Healthy != nil {
			cond.Reason = reasonHealthReported
			if *t.Healthy {
				cond.Value = "true"
			}
		}
		cs.Conditions = append(cs.Conditions, cond)
	}
	return cs
}

// PodStatusOf derives GET ::status of a pod from its instances: TERMINAL
// while a deployment deletes it, STABLE when at least scaling.instances
// instances are STABLE, DEGRADED otherwise. Instances that have no agent
// yet are left out.
func PodStatusOf(pod Pod, instances []PodInstanceObservation, deleting bool, now time.Time) PodStatus {
	ts := NewTimestamp(now)
	out := PodStatus{ID: pod.ID, Spec: pod, Instances: []PodInstanceStatus{}, TerminationHistory: []TerminationHistory{}, LastUpdated: ts}
	stable := 0
	var latest time.Time
	for _, o := range instances {
		if o.AgentID == "" {
			continue
		}
		is := PodInstanceStatusOf(pod, o, now)
		if is.Status == InstanceStable {
			stable++
		}
		if o.Since.After(latest) {
			latest = o.Since
		}
		out.Instances = append(out.Instances, is)
	}
	switch {
	case deleting:
		out.Status = PodTerminal
	case stable >= pod.Scaling.Instances:
		out.Status = PodStable
	default:
		out.Status = PodDegraded
	}
	if latest.IsZero() {
		latest = now
	}
	out.StatusSince = NewTimestamp(latest)
	out.LastChanged = out.StatusSince
	return out
}
