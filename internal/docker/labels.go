package docker

import "strings"

// Labels the built-in Mesos agent puts on the containers it runs.
const (
	LabelTaskID      = "stadion.task_id"
	LabelFrameworkID = "stadion.framework_id"
	LabelAgentID     = "stadion.agent_id"
	LabelContainerID = "stadion.container_id"
)

// MesosNamePrefix starts the name of every container that Apache Mesos's
// Docker containerizer ("mesos-<container id>", older versions
// "mesos-<agent id>.<container id>") or the built-in agent launches.
const MesosNamePrefix = "mesos-"

// LaunchedByMesos reports whether a container, by its name (with or without
// the engine's leading "/") and labels, was launched by a Mesos Docker
// containerizer or Stadion's built-in agent: its ports belong to a Mesos
// task, which the scheduler's registrator already registers.
func LaunchedByMesos(name string, labels map[string]string) bool {
	if _, ok := labels[LabelTaskID]; ok {
		return true
	}
	return strings.HasPrefix(strings.TrimPrefix(name, "/"), MesosNamePrefix)
}
