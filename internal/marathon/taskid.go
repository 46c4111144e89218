package marathon

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadTaskID is returned by ParseTaskID for ids of no known form.
var ErrBadTaskID = errors.New("marathon: malformed task id")

const (
	instanceMarker = ".instance-"
	legacyMarker   = ".marathon-"
	appContainer   = "_app"
)

// NewInstanceID returns a fresh instance id "<prefix>.instance-<uuid>" for
// the app (prefix as PathID.TaskPrefix).
func NewInstanceID(appID PathID) string {
	return appID.TaskPrefix() + instanceMarker + newUUID()
}

// NewTaskID returns the id of the first task of a fresh instance in the
// Marathon 1.8+ form "<prefix>.instance-<uuid>._app.1".
func NewTaskID(appID PathID) string {
	return TaskIDForInstance(NewInstanceID(appID), 1)
}

// TaskIDForInstance returns the id of the given incarnation (1 for the
// first launch, incremented per relaunch of a resident instance).
func TaskIDForInstance(instanceID string, incarnation int) string {
	return instanceID + "." + appContainer + "." + strconv.Itoa(incarnation)
}

// ParseTaskID splits a task id into its app id and instance id. It accepts
// the 1.8+ form "a_b.instance-<uuid>._app.<n>", the 1.4 forms
// "a_b.instance-<uuid>._app" and "a_b.instance-<uuid>", pod container
// tasks "a_b.instance-<uuid>.<container>", and the legacy "a_b.<uuid>",
// whose instance id is "a_b.marathon-<uuid>" as in Marathon.
func ParseTaskID(s string) (appID PathID, instanceID string, err error) {
	for _, marker := range []string{instanceMarker, legacyMarker} {
		i := strings.LastIndex(s, marker)
		if i <= 0 {
			continue
		}
		prefix, rest := s[:i], s[i+len(marker):]
		uuid, tail, _ := strings.Cut(rest, ".")
		if uuid == "" || !validTaskTail(tail) {
			return "", "", fmt.Errorf("%w: %q", ErrBadTaskID, s)
		}
		return PathIDFromTaskPrefix(prefix), prefix + marker + uuid, nil
	}
	i := strings.LastIndexAny(s, "._")
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("%w: %q", ErrBadTaskID, s)
	}
	prefix, uuid := s[:i], s[i+1:]
	return PathIDFromTaskPrefix(prefix), prefix + legacyMarker + uuid, nil
}

// validTaskTail accepts "", "<container>" and "<container>.<incarnation>".
func validTaskTail(tail string) bool {
	if tail == "" {
		return true
	}
	name, inc, hasInc := strings.Cut(tail, ".")
	if name == "" {
		return false
	}
	if hasInc {
		n, err := strconv.Atoi(inc)
		return err == nil && n >= 0
	}
	return true
}

// InstanceIDOfTask returns the instance id of a task id, or "".
func InstanceIDOfTask(taskID string) string {
	_, inst, err := ParseTaskID(taskID)
	if err != nil {
		return ""
	}
	return inst
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
