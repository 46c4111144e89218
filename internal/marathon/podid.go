package marathon

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// instanceIDRegexp is Marathon's Instance.Id pattern: the ids that
// DELETE /v2/pods/{id}::instances accepts.
var instanceIDRegexp = regexp.MustCompile(`^(.+)\.(instance-|marathon-)([^\.]+)$`)

// executorPrefix starts the Mesos ExecutorID of a pod instance.
const executorPrefix = "instance-"

// ParseInstanceID returns the run spec id of an instance id of the form
// "<prefix>.instance-<uuid>" (or the legacy ".marathon-"), or an error
// wrapping ErrBadTaskID.
func ParseInstanceID(s string) (PathID, error) {
	m := instanceIDRegexp.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%w: instance id %q", ErrBadTaskID, s)
	}
	return PathIDFromTaskPrefix(m[1]), nil
}

// PodTaskID returns the Mesos TaskID of container name in an instance, at
// the given incarnation (1 at the first launch, incremented at each
// relaunch of the same instance): "<prefix>.instance-<uuid>.<name>.<n>".
func PodTaskID(instanceID, container string, incarnation int) string {
	return instanceID + "." + container + "." + strconv.Itoa(incarnation)
}

// PodExecutorID returns the Mesos ExecutorID of a pod instance:
// "instance-<prefix>.<uuid>" for "<prefix>.instance-<uuid>".
func PodExecutorID(instanceID string) string {
	prefix, uuid, ok := strings.Cut(instanceID, instanceMarker)
	if !ok {
		prefix, uuid, _ = strings.Cut(instanceID, legacyMarker)
	}
	return executorPrefix + prefix + "." + uuid
}

// TaskContainer returns the container name and incarnation of a pod task
// id; incarnation is 0 for the older form without one. ok is false for
// ids that name no container (app tasks name "_app" and give ok true).
func TaskContainer(taskID string) (name string, incarnation int, ok bool) {
	_, inst, err := ParseTaskID(taskID)
	if err != nil || len(taskID) <= len(inst)+1 {
		return "", 0, false
	}
	tail := taskID[len(inst)+1:]
	name, inc, hasInc := strings.Cut(tail, ".")
	if !hasInc {
		return name, 0, name != ""
	}
	n, err := strconv.Atoi(inc)
	if err != nil {
		return "", 0, false
	}
	return name, n, name != ""
}
