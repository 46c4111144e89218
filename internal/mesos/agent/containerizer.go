package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Containerizer starts task containers. The agent picks one per task: docker
// for DOCKER containers, else the process or the simulated containerizer.
type Containerizer interface {
	// Launch starts the container of spec and returns once it runs. exited
	// is called exactly once, from any goroutine, when a launched container
	// ends; it is never called when Launch fails.
	Launch(ctx context.Context, spec Spec, exited func(Exit)) (Container, error)
}

// Container is a running task container.
type Container interface {
	// PID is the process id of the container's main process, 0 when there
	// is none.
	PID() int
	// IP is the container's own address, "" when it shares the agent's
	// network.
	IP() string
	// Kill asks the container to stop: SIGTERM, then SIGKILL after grace.
	// It returns at once; the end is reported through exited.
	Kill(grace time.Duration)
	// Exec runs a health-check command in the container's context and
	// returns an error when it fails or exits non-zero.
	Exec(ctx context.Context, cmd *mesos.CommandInfo) error
}

// Spec is what a containerizer needs to launch one task.
type Spec struct {
	Task        mesos.TaskInfo
	FrameworkID string
	AgentID     string
	ContainerID string
	// ExecutorID is the task's executor: its group's DEFAULT executor, or
	// "" for the task's own command executor (named after the task).
	ExecutorID string
	// Sandbox is the task's sandbox directory on the host; it exists.
	Sandbox string
	// AgentEndpoint is the agent's ip:port.
	AgentEndpoint string
	// User is the user the task runs as when the agent switches users
	// (CommandInfo.user, else FrameworkInfo.user); "" when it does not
	// (Config.DisableSwitchUser).
	User string
	// account is User resolved on the host, for command tasks; nil when
	// the task runs as the agent's user.
	account *account
}

// Exit is how a container ended.
type Exit struct {
	// Code is the exit status when Signal is 0.
	Code int
	// Signal is the signal that terminated the main process, if any.
	Signal syscall.Signal
	// Message overrides the default description of the exit.
	Message string
	// Reason, when set, marks an end the agent inferred rather than saw
	// (a task that ended while the agent was down): the update comes from
	// the agent with this reason.
	Reason mesos.Reason
}

// describe renders e as Mesos's executors do: "Command exited with status 3",
// "Command terminated with signal Terminated".
func (e Exit) describe(subject string) string {
	if e.Message != "" {
		return e.Message
	}
	if e.Signal != 0 {
		return subject + " terminated with signal " + signalName(e.Signal)
	}
	return fmt.Sprintf("%s exited with status %d", subject, e.Code)
}

// success reports whether the container ended with status 0.
func (e Exit) success() bool { return e.Signal == 0 && e.Code == 0 && e.Message == "" }

// signalName is strsignal's capitalised name: "Terminated", "Killed".
func signalName(s syscall.Signal) string {
	name := s.String()
	if name == "" {
		return fmt.Sprintf("%d", int(s))
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// LaunchError is a failure to start a container; it becomes TASK_FAILED with
// REASON_CONTAINER_LAUNCH_FAILED.
type LaunchError struct {
	Err error
}

func (e *LaunchError) Error() string { return e.Err.Error() }
func (e *LaunchError) Unwrap() error { return e.Err }

// errNotSupported is returned by Exec where a containerizer cannot run
// commands.
var errNotSupported = errors.New("not supported by this containerizer")

// taskEnv is the Mesos task environment, before CommandInfo's variables:
// what Mesos's executors set for a command task.
func taskEnv(spec Spec, sandbox string) []string {
	return []string{
		"MESOS_SANDBOX=" + sandbox,
		"MESOS_DIRECTORY=" + spec.Sandbox,
		"MESOS_TASK_ID=" + spec.Task.TaskID.Value,
		"MESOS_FRAMEWORK_ID=" + spec.FrameworkID,
		"MESOS_EXECUTOR_ID=" + cmp.Or(spec.ExecutorID, spec.Task.TaskID.Value),
		"MESOS_AGENT_ENDPOINT=" + spec.AgentEndpoint,
		"MESOS_SLAVE_ID=" + spec.AgentID,
	}
}

// mergeEnv appends the command's variables to base; a later name wins.
// A SECRET variable gets its VALUE secret's bytes; one that cannot be
// read (a REFERENCE: this agent has no secret resolver) is left out, and
// checkSecrets fails its task before it starts.
func mergeEnv(base []string, env *mesos.Environment) []string {
	out := append([]string(nil), base...)
	if env == nil {
		return out
	}
	for _, v := range env.Variables {
		if v.Type == mesos.VariableSecret {
			if data, err := v.SecretData(); err == nil {
				out = setEnv(out, v.Name, string(data))
			}
			continue
		}
		if v.Value == nil {
			continue
		}
		out = setEnv(out, v.Name, *v.Value)
	}
	return out
}

// checkSecrets reports a SECRET variable of the command that the agent
// cannot resolve, as Mesos's default secret resolver fails a REFERENCE.
func checkSecrets(ci *mesos.CommandInfo) error {
	if ci == nil || ci.Environment == nil {
		return nil
	}
	for _, v := range ci.Environment.Variables {
		if v.Type != mesos.VariableSecret {
			continue
		}
		if _, err := v.SecretData(); err != nil {
			return fmt.Errorf("failed to resolve secrets: %w", err)
		}
	}
	return nil
}

// setEnv sets name=value in env, replacing an earlier entry.
func setEnv(env []string, name, value string) []string {
	prefix := name + "="
	for i, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			env[i] = prefix + value
			return env
		}
	}
	return append(env, prefix+value)
}
