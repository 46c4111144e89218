package master

import (
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// group is a task group being launched: its executor and the ids of its
// tasks, in order.
type group struct {
	executor *groupExecutor
	taskIDs  []mesos.TaskID
}

// launchGroup handles one LAUNCH_GROUP operation, all or nothing, as
// Mesos's master does: a group whose executor or any task is invalid, or
// which needs more than available, is answered with TASK_ERROR
// (REASON_TASK_GROUP_INVALID) for each of its tasks; otherwise every task
// is launched with the group's DEFAULT executor. The executor's and the
// tasks' resources get the offer's allocation role as LAUNCH's do
// (allocate). It returns what is left available.
func (m *Master) launchGroup(st *clusterState, fw *framework, a *agent, op mesos.Operation, available mesos.Resources, role string, now time.Time) mesos.Resources {
	lg, err := op.DecodeLaunchGroup()
	if err != nil {
		for _, ti := range groupTasks(op.LaunchGroup) {
			m.masterUpdate(fw, nil, ti.TaskID, ti.AgentID.Value, mesos.TaskError, mesos.ReasonTaskGroupInvalid, err.Error(), now)
		}
		return available
	}
	lg.Executor.Resources = allocate(fw, lg.Executor.Resources, role)
	for i := range lg.TaskGroup.Tasks {
		lg.TaskGroup.Tasks[i].Resources = allocate(fw, lg.TaskGroup.Tasks[i].Resources, role)
	}
	left, msg := validateGroup(fw, a, &lg, available, role)
	if msg != "" {
		m.log.Debug("task group invalid", "framework_id", fw.id, "executor_id", lg.Executor.ExecutorID.Value, "error", msg)
		for _, ti := range lg.TaskGroup.Tasks {
			m.masterUpdate(fw, nil, ti.TaskID, ti.AgentID.Value, mesos.TaskError, mesos.ReasonTaskGroupInvalid, msg, now)
		}
		return available
	}
	if lg.Executor.FrameworkID == nil {
		lg.Executor.FrameworkID = &mesos.FrameworkID{Value: fw.id}
	}
	g := &group{executor: &groupExecutor{info: lg.Executor, resources: mesos.Resources(nil).Plus(lg.Executor.Resources)}}
	for _, ti := range lg.TaskGroup.Tasks {
		g.taskIDs = append(g.taskIDs, ti.TaskID)
	}
	for _, ti := range lg.TaskGroup.Tasks {
		m.launch(st, fw, a, ti, now, g)
	}
	return left
}

// validateGroup checks a task group against Mesos's rules for the DEFAULT
// executor and returns what is left of available, or the reason the group
// is invalid.
func validateGroup(fw *framework, a *agent, lg *mesos.LaunchGroup, available mesos.Resources, role string) (mesos.Resources, string) {
	if msg := validateExecutor(fw, a, &lg.Executor); msg != "" {
		return available, msg
	}
	if len(lg.TaskGroup.Tasks) == 0 {
		return available, "Task group must not be empty"
	}
	for _, r := range lg.Executor.Resources {
		if msg := validateResource(r); msg != "" {
			return available, "Executor has invalid resources: " + msg
		}
	}
	exec := mesos.Resources(nil).Plus(lg.Executor.Resources)
	if !available.Contains(exec) || !allocatedTo(lg.Executor.Resources, fw, role) {
		return available, fmt.Sprintf("Executor uses more resources %s than available %s", exec, available)
	}
	left := available.Minus(exec)
	seen := map[string]bool{}
	for i := range lg.TaskGroup.Tasks {
		ti := &lg.TaskGroup.Tasks[i]
		if seen[ti.TaskID.Value] {
			return available, "Task group has duplicate task ID: " + ti.TaskID.Value
		}
		seen[ti.TaskID.Value] = true
		if len(ti.Executor) > 0 && string(ti.Executor) != "null" {
			return available, "Task '" + ti.TaskID.Value + "' in a task group must not have an executor"
		}
		if ti.Container != nil && len(ti.Container.NetworkInfos) > 0 {
			return available, "NetworkInfos must be set on the executor, not on task '" + ti.TaskID.Value + "' of a task group"
		}
		if ti.Container != nil && ti.Container.Type == mesos.ContainerDocker {
			return available, "Docker ContainerInfo is not supported on task '" + ti.TaskID.Value + "' of a task group"
		}
		if msg := validateTask(fw, a, ti, left, role); msg != "" {
			return available, "Task '" + ti.TaskID.Value + "' is invalid: " + msg
		}
		left = left.Minus(mesos.Resources(nil).Plus(ti.Resources))
	}
	return left, ""
}

// validateExecutor checks the ExecutorInfo of a LAUNCH_GROUP: only the
// DEFAULT executor, without a command, in a MESOS container without an
// image, with a fresh id.
func validateExecutor(fw *framework, a *agent, e *mesos.ExecutorInfo) string {
	switch e.Type {
	case mesos.ExecutorDefault:
	case "":
		return "'ExecutorInfo.type' must be set"
	default:
		return "Executor type '" + string(e.Type) + "' is not supported by this master"
	}
	if msg := cluster.ValidateID(e.ExecutorID.Value); msg != "" {
		return "Executor ID is invalid: " + msg
	}
	if e.FrameworkID != nil && e.FrameworkID.Value != fw.id {
		return "ExecutorInfo has an invalid FrameworkID (Actual: " + e.FrameworkID.Value + " vs Expected: " + fw.id + ")"
	}
	if e.Command != nil {
		return "'ExecutorInfo.command' must not be set for 'DEFAULT' executor"
	}
	if c := e.Container; c != nil {
		if c.Type != mesos.ContainerMesos {
			return "'ExecutorInfo.container.type' must be 'MESOS' for 'DEFAULT' executor"
		}
		if c.Docker != nil || len(c.Mesos) > 0 {
			return "'ExecutorInfo.container' must not have an image for 'DEFAULT' executor"
		}
	}
	for _, t := range a.tasks {
		if t.executor != nil && t.frameworkID == fw.id && t.executor.info.ExecutorID == e.ExecutorID && t.holdsResources() {
			return "Executor '" + e.ExecutorID.Value + "' is already running: this master launches one task group per executor"
		}
	}
	return ""
}
