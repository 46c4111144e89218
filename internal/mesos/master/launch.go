package master

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// accept handles ACCEPT: the offers are checked and consumed, LAUNCH tasks
// are validated and sent to the agent, and what the operations leave unused
// is declined with the call's filters.
func (m *Master) accept(st *clusterState, fw *framework, acc *mesos.Accept) {
	now := time.Now()
	var (
		offers  []*offer
		invalid string
		seen    = map[string]bool{}
	)
	for _, id := range acc.OfferIDs {
		o := st.offers[id.Value]
		switch {
		case seen[id.Value]:
			invalid = "Duplicate offer " + id.Value + " in ACCEPT"
		case o == nil:
			invalid = "Offer " + id.Value + " is no longer valid"
		case o.frameworkID != fw.id:
			invalid = "Offer " + id.Value + " has invalid framework " + o.frameworkID + " while framework " + fw.id + " is expected"
		default:
			offers = append(offers, o)
		}
		seen[id.Value] = true
	}
	if len(acc.OfferIDs) == 0 {
		invalid = "No offers specified"
	}
	for _, o := range offers[min(1, len(offers)):] {
		if o.agentID != offers[0].agentID {
			invalid = "Aggregated offers must belong to one single agent"
		}
		if o.role != offers[0].role {
			invalid = "Aggregated offers must be allocated to the same role. Offer " + o.id +
				" uses role '" + o.role + " but another is using role '" + offers[0].role
		}
	}
	var available mesos.Resources
	for _, o := range offers {
		removeOffer(st, o)
		available = available.Plus(o.resources)
	}
	m.kickAllocator()
	if invalid != "" {
		m.log.Debug("accept with invalid offers", "framework_id", fw.id, "error", invalid)
		for _, ti := range launchTasks(acc.Operations) {
			m.masterUpdate(fw, nil, ti.TaskID, ti.AgentID.Value, mesos.TaskDropped,
				mesos.ReasonInvalidOffers, "Task launched with invalid offers: "+invalid, now)
		}
		return
	}
	a := st.agents[offers[0].agentID]
	role := offers[0].role
	for _, op := range acc.Operations {
		switch op.Type {
		case mesos.OperationLaunch:
			if op.Launch == nil {
				continue
			}
			for _, ti := range op.Launch.TaskInfos {
				ti.Resources = allocate(fw, ti.Resources, role)
				res := mesos.Resources(ti.Resources)
				if msg := validateTask(fw, a, &ti, available, role); msg != "" {
					m.log.Debug("task invalid", "framework_id", fw.id, "task_id", ti.TaskID.Value, "error", msg)
					m.masterUpdate(fw, nil, ti.TaskID, ti.AgentID.Value, mesos.TaskError, mesos.ReasonTaskInvalid, msg, now)
					continue
				}
				available = available.Minus(res)
				m.launch(st, fw, a, ti, now, nil)
			}
		case mesos.OperationLaunchGroup:
			available = m.launchGroup(st, fw, a, op, available, role, now)
		default:
			m.log.Warn("offer operation not supported, ignored", "framework_id", fw.id, "operation", op.Type)
		}
	}
	refuse(fw, a.id, role, available, acc.Filters, now)
}

// allocate returns a LAUNCH task's resources as Mesos normalises them for
// a MULTI_ROLE framework: a resource without allocation_info gets the
// offer's (protobuf::injectAllocationInfo); one with allocation_info
// keeps it, and validateTask refuses it when it names another role.
func allocate(fw *framework, resources []mesos.Resource, role string) []mesos.Resource {
	if !fw.has(mesos.CapabilityMultiRole) {
		return resources
	}
	out := make([]mesos.Resource, len(resources))
	for i, r := range resources {
		if r.AllocationInfo == nil {
			r.AllocationInfo = &mesos.AllocationInfo{Role: role}
		}
		out[i] = r
	}
	return out
}

// launch records a valid task as TASK_STAGING and sends it to its agent;
// g is its task group (nil for a LAUNCH task).
func (m *Master) launch(st *clusterState, fw *framework, a *agent, ti mesos.TaskInfo, now time.Time, g *group) {
	t := &task{
		info:        ti,
		frameworkID: fw.id,
		agentID:     a.id,
		resources:   mesos.Resources(nil).Plus(ti.Resources),
		status: mesos.TaskStatus{
			TaskID:    ti.TaskID,
			State:     mesos.TaskStaging,
			AgentID:   &mesos.AgentID{Value: a.id},
			Timestamp: unixSeconds(now),
		},
	}
	run := cluster.Run{FrameworkID: mesos.FrameworkID{Value: fw.id}, FrameworkInfo: fw.info, Task: ti}
	if g != nil {
		t.executor = g.executor
		run.Executor, run.Group = &g.executor.info, g.taskIDs
	}
	fw.tasks[ti.TaskID.Value] = t
	a.setTask(taskKey{fw.id, ti.TaskID.Value}, t)
	m.log.Debug("task launched", "framework_id", fw.id, "task_id", ti.TaskID.Value, "agent_id", a.id)
	fwID, taskID, agentID := fw.id, ti.TaskID, a.id
	a.link.send(outbound{
		path: cluster.PathRun,
		body: run,
		failed: func(err error) {
			m.runFailed(st, fwID, taskID, agentID, err)
		},
	})
}

// runFailed turns a task the agent could not be given into TASK_DROPPED
// (TASK_LOST for frameworks that are not PARTITION_AWARE).
func (m *Master) runFailed(st *clusterState, fwID string, taskID mesos.TaskID, agentID string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st != st {
		return
	}
	fw := st.frameworks[fwID]
	if fw == nil {
		return
	}
	t := fw.tasks[taskID.Value]
	if t == nil || t.state() != mesos.TaskStaging {
		return
	}
	m.log.Warn("task could not be sent to its agent", "framework_id", fwID, "task_id", taskID.Value, "agent_id", agentID, "error", err)
	m.masterUpdate(fw, t, taskID, agentID, mesos.TaskDropped, mesos.ReasonAgentDisconnected,
		"Failed to send the task to the agent: "+err.Error(), time.Now())
}

// masterUpdate sends a master-generated status (no uuid) to fw. A known
// task t records it; a terminal one is completed at once, since there is
// nothing to acknowledge.
func (m *Master) masterUpdate(fw *framework, t *task, taskID mesos.TaskID, agentID string, state mesos.TaskState, reason mesos.Reason, msg string, now time.Time) {
	s := mesos.TaskStatus{
		TaskID:    taskID,
		State:     state,
		Message:   msg,
		Source:    mesos.SourceMaster,
		Reason:    reason,
		Timestamp: unixSeconds(now),
	}
	if agentID != "" {
		s.AgentID = &mesos.AgentID{Value: agentID}
	}
	if t != nil {
		t.record(s)
		if state.Terminal() {
			m.finishTask(fw, t)
		}
	}
	m.deliver(fw, s)
}

// finishTask moves a terminal task to the framework's completed tasks.
func (m *Master) finishTask(fw *framework, t *task) {
	if a := m.st.agents[t.agentID]; a != nil {
		a.dropTask(taskKey{fw.id, t.info.TaskID.Value})
	}
	fw.complete(t)
	m.kickAllocator()
}

// launchTasks lists the tasks of the LAUNCH and LAUNCH_GROUP operations.
func launchTasks(ops []mesos.Operation) []mesos.TaskInfo {
	var out []mesos.TaskInfo
	for _, op := range ops {
		if op.Launch != nil {
			out = append(out, op.Launch.TaskInfos...)
		}
		out = append(out, groupTasks(op.LaunchGroup)...)
	}
	return out
}

func groupTasks(raw json.RawMessage) []mesos.TaskInfo {
	if len(raw) == 0 {
		return nil
	}
	var lg struct {
		TaskGroup struct {
			Tasks []mesos.TaskInfo `json:"tasks"`
		} `json:"task_group"`
	}
	if json.Unmarshal(raw, &lg) != nil {
		return nil
	}
	return lg.TaskGroup.Tasks
}

// validateTask checks a LAUNCH task against the framework, the agent and
// what is left of the offered resources; the message becomes TASK_ERROR's.
func validateTask(fw *framework, a *agent, ti *mesos.TaskInfo, available mesos.Resources, role string) string {
	// Mesos's message as it is: the id names the task's sandbox directory
	// on the agent, which checks it again.
	if msg := cluster.ValidateID(ti.TaskID.Value); msg != "" {
		return msg
	}
	if ti.AgentID.Value != a.id {
		return "Task uses invalid agent: " + ti.AgentID.Value
	}
	if _, dup := fw.tasks[ti.TaskID.Value]; dup {
		return "Task has duplicate ID: " + ti.TaskID.Value
	}
	hasExecutor := len(ti.Executor) > 0 && string(ti.Executor) != "null"
	if (ti.Command == nil) == !hasExecutor {
		return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
	}
	if hasExecutor {
		return "Custom executors are not supported by this master"
	}
	for _, r := range ti.Resources {
		if msg := validateResource(r); msg != "" {
			return "Invalid resources: " + msg
		}
	}
	res := mesos.Resources(nil).Plus(ti.Resources)
	if res.Empty() {
		return "Task uses no resources"
	}
	// The offered resources are allocated to the offer's role: a task
	// resource allocated to another is not among them (Mesos's
	// Resources::contains compares allocation_info).
	if !available.Contains(res) || !allocatedTo(ti.Resources, fw, role) {
		return fmt.Sprintf("Task uses more resources %s than available %s", res, available)
	}
	if c := ti.Container; c != nil {
		switch c.Type {
		case mesos.ContainerDocker:
			if c.Docker == nil {
				return "DockerInfo 'docker' is not set for DOCKER typed ContainerInfo"
			}
			if c.Docker.Image == "" {
				return "DockerInfo 'image' must be set"
			}
		case mesos.ContainerMesos:
		default:
			return "Unsupported container type '" + string(c.Type) + "'"
		}
		if msg := validatePortMappings(c, res); msg != "" {
			return msg
		}
	}
	return ""
}

// allocatedTo reports whether every resource of a MULTI_ROLE framework's
// task is allocated to role.
func allocatedTo(resources []mesos.Resource, fw *framework, role string) bool {
	if !fw.has(mesos.CapabilityMultiRole) {
		return true
	}
	for _, r := range resources {
		if r.AllocationInfo == nil || r.AllocationInfo.Role != role {
			return false
		}
	}
	return true
}

func validateResource(r mesos.Resource) string {
	switch r.Type {
	case mesos.ValueScalar:
		if r.Scalar == nil {
			return "resource '" + r.Name + "' of type SCALAR has no scalar value"
		}
		if r.Scalar.Value < 0 {
			return "resource '" + r.Name + "' is negative"
		}
	case mesos.ValueRanges:
		if r.Ranges == nil {
			return "resource '" + r.Name + "' of type RANGES has no ranges value"
		}
		for _, rg := range r.Ranges.Range {
			if rg.Begin > rg.End {
				return fmt.Sprintf("resource '%s' has an invalid range [%d-%d]", r.Name, rg.Begin, rg.End)
			}
		}
	case mesos.ValueSet:
		if r.Set == nil {
			return "resource '" + r.Name + "' of type SET has no set value"
		}
	default:
		return "resource '" + r.Name + "' has unsupported type '" + string(r.Type) + "'"
	}
	return ""
}

// validatePortMappings checks that Docker port mappings are used on BRIDGE or
// USER networks and that every host port is one of the task's ports.
func validatePortMappings(c *mesos.ContainerInfo, res mesos.Resources) string {
	var mappings []mesos.PortMapping
	if c.Docker != nil {
		mappings = append(mappings, c.Docker.PortMappings...)
		if len(c.Docker.PortMappings) > 0 && c.Docker.Network != mesos.NetworkBridge && c.Docker.Network != mesos.NetworkUser {
			return "Port mappings are only supported for bridge and user-defined networks"
		}
	}
	for _, n := range c.NetworkInfos {
		mappings = append(mappings, n.PortMappings...)
	}
	ports := res.Ranges("ports")
	for _, pm := range mappings {
		in := false
		for _, rg := range ports {
			if uint64(pm.HostPort) >= rg.Begin && uint64(pm.HostPort) <= rg.End {
				in = true
				break
			}
		}
		if !in {
			return fmt.Sprintf("Port [%d] not included in resources", pm.HostPort)
		}
	}
	return ""
}
