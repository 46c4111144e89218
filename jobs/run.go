package jobs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RunState is where a run is in its life.
type RunState string

// Run states. Queued runs wait for an offer (and for RetryAt, a running
// run of a non-concurrent job); launched ones were sent to Mesos; the
// rest are final.
const (
	RunQueued   RunState = "queued"
	RunLaunched RunState = "launched"
	RunRunning  RunState = "running"
	// RunAwaiting is an async (2.x) job's run whose task finished and
	// that waits for PUT /scheduler/task/{taskId}.
	RunAwaiting RunState = "awaiting"
	RunSuccess  RunState = "success"
	RunFailure  RunState = "failure"
	RunKilled   RunState = "killed"
	// RunSkipped is a scheduled run that could not start within its
	// job's epsilon.
	RunSkipped RunState = "skipped"
)

// Final reports whether s is an outcome.
func (s RunState) Final() bool {
	switch s {
	case RunSuccess, RunFailure, RunKilled, RunSkipped:
		return true
	}
	return false
}

// Active reports whether a task of the run may be alive on Mesos.
func (s RunState) Active() bool { return s == RunLaunched || s == RunRunning }

// Trigger is what started a run.
type Trigger string

// Triggers.
const (
	TriggerSchedule   Trigger = "schedule"
	TriggerManual     Trigger = "manual"
	TriggerDependency Trigger = "dependency"
	TriggerRetry      Trigger = "retry"
)

// Run is one attempt at running a job: a Mesos task, its id built as
// Chronos builds it. Runs are stored, so that a restart or a new leader
// knows what is queued, what runs and what ran.
type Run struct {
	TaskID  string   `json:"taskId"`
	Job     string   `json:"jobName"`
	Trigger Trigger  `json:"trigger"`
	State   RunState `json:"state"`
	Attempt int      `json:"attempt"`
	// Due is the due time in the task id (the enqueue time, as Chronos 3).
	Due time.Time `json:"due"`
	// ScheduledFor is the occurrence a scheduled run is for.
	ScheduledFor *time.Time `json:"scheduledFor,omitempty"`
	// NotBefore holds a retry back until then.
	NotBefore *time.Time `json:"notBefore,omitempty"`
	// Arguments is the manual ?arguments= override, "" for the job's own.
	Arguments string     `json:"arguments,omitempty"`
	Queued    time.Time  `json:"queued"`
	Start     *time.Time `json:"start,omitempty"`
	End       *time.Time `json:"end,omitempty"`
	// TaskState is the last Mesos state, Message its message.
	TaskState  string `json:"taskState,omitempty"`
	Message    string `json:"message,omitempty"`
	ExitStatus *int   `json:"exitStatus,omitempty"`
	AgentID    string `json:"agentId,omitempty"`
	Hostname   string `json:"hostname,omitempty"`
	// ContainerID and Sandbox say where the task's stdout and stderr
	// are: the sandbox directory below the agent's work dir (absolute
	// with the built-in cluster).
	ContainerID string `json:"containerId,omitempty"`
	Sandbox     string `json:"sandbox,omitempty"`
	// Seq orders runs of one job (a counter of the loop, persisted).
	Seq int64 `json:"seq"`
}

// taskIDRE is Chronos's task id pattern (J/TaskUtils.scala).
var taskIDRE = regexp.MustCompile(`^ct:(\d+):(\d+):([\w.-]+):?(.*)$`)

// TaskID builds Chronos's task id ct:<dueMillis>:<attempt>:<job>:<args>,
// with every ';' removed from the arguments.
func TaskID(due time.Time, attempt int, job, args string) string {
	return fmt.Sprintf("ct:%d:%d:%s:%s", due.UnixMilli(), attempt, job, strings.ReplaceAll(args, ";", ""))
}

// ParseTaskID splits a task id; ok is false for ids that are not Chronos
// task ids (their updates are ignored, as Chronos does).
func ParseTaskID(id string) (due time.Time, attempt int, job, args string, ok bool) {
	m := taskIDRE.FindStringSubmatch(id)
	if m == nil {
		return time.Time{}, 0, "", "", false
	}
	ms, err1 := strconv.ParseInt(m[1], 10, 64)
	a, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, "", "", false
	}
	return time.UnixMilli(ms).UTC(), a, m[3], m[4], true
}

// exitRE finds the exit code in Mesos's "Command exited with status N".
var exitRE = regexp.MustCompile(`exited with status (\d+)`)

// exitStatus reads the exit code from a task status message.
func exitStatus(msg string) *int {
	m := exitRE.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	v, err := strconv.Atoi(m[1])
	if err != nil {
		return nil
	}
	return &v
}
