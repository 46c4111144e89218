package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// taskGroup is the DEFAULT executor of a LAUNCH_GROUP, as this agent runs
// it: the group's tasks share the executor's sandbox, where their
// SANDBOX_PATH PARENT volumes live, and the agent's network namespace;
// when one of them fails or is killed, the others are killed (Mesos's
// default executor's restart policy). Guarded by Agent.mu.
type taskGroup struct {
	executorID string
	// containerID names the executor's run; sandbox is its directory.
	containerID string
	sandbox     string
	// taskIDs are the ids of the group's tasks, in order.
	taskIDs []string
	// killing says a task ended badly and the others are being killed.
	killing bool
}

type groupKey struct {
	framework string
	executor  string
}

// joinGroupLocked returns the group of a LAUNCH_GROUP task: the one its
// siblings already created, or a new one. A group of the same executor id
// with other tasks (a relaunch of the instance) gets a new run.
func (a *Agent) joinGroupLocked(run *cluster.Run) (*taskGroup, error) {
	e := run.Executor
	if msg := cluster.ValidateID(e.ExecutorID.Value); msg != "" {
		return nil, errors.New("invalid executor id: " + msg)
	}
	if e.Type != mesos.ExecutorDefault {
		return nil, fmt.Errorf("executor type %q is not supported by this agent", e.Type)
	}
	ids := make([]string, len(run.Group))
	for i, id := range run.Group {
		ids[i] = id.Value
	}
	if !slices.Contains(ids, run.Task.TaskID.Value) {
		return nil, errors.New("the task is not in its own group")
	}
	key := groupKey{framework: run.FrameworkID.Value, executor: e.ExecutorID.Value}
	if g := a.groups[key]; g != nil && slices.Equal(g.taskIDs, ids) {
		return g, nil
	}
	g := &taskGroup{executorID: e.ExecutorID.Value, containerID: newUUIDString(), taskIDs: ids}
	slaves := filepath.Join(a.cfg.WorkDir, "slaves")
	g.sandbox = filepath.Join(slaves, a.id, "frameworks", key.framework, "executors", key.executor, "runs", g.containerID)
	if !sandboxWithin(slaves, g.sandbox) {
		return nil, errors.New("the executor's sandbox would leave the work dir")
	}
	a.groups[key] = g
	return g, nil
}

// taskSandbox is a group task's sandbox: tasks/<task id> in the
// executor's, as Mesos lays it out.
func (g *taskGroup) taskSandbox(taskID string) (string, bool) {
	p := filepath.Join(g.sandbox, "tasks", taskID)
	rel, err := filepath.Rel(g.sandbox, p)
	return p, err == nil && within(g.sandbox, p) && len(strings.Split(rel, string(filepath.Separator))) == 2
}

// prepareGroupVolumes makes a group task's volumes: a SANDBOX_PATH volume
// is a directory of the executor's sandbox (PARENT, shared by the group)
// or of the task's (SELF), a host_path volume the host's directory; each
// appears in the task's sandbox at its container path. Without a
// container image there is no mount namespace: a container path must be
// relative, and the volume is a symbolic link there.
func prepareGroupVolumes(g *taskGroup, sandbox string, ci *mesos.ContainerInfo) error {
	if ci == nil {
		return nil
	}
	for _, v := range ci.Volumes {
		target, err := volumeTarget(g, sandbox, v)
		if err != nil {
			return err
		}
		if filepath.IsAbs(v.ContainerPath) {
			return fmt.Errorf("volume at %s: an absolute container path needs a container image, which this agent does not run", v.ContainerPath)
		}
		link := filepath.Join(sandbox, v.ContainerPath)
		if !within(sandbox, link) || link == sandbox {
			return fmt.Errorf("volume at %s leaves the task's sandbox", v.ContainerPath)
		}
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return fmt.Errorf("volume at %s: %w", v.ContainerPath, err)
		}
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("volume at %s: %w", v.ContainerPath, err)
		}
	}
	return nil
}

// volumeTarget is the directory a volume shows, created when it is in a
// sandbox.
func volumeTarget(g *taskGroup, sandbox string, v mesos.Volume) (string, error) {
	if len(v.Source) == 0 {
		if v.HostPath == "" {
			return "", fmt.Errorf("volume at %s has neither a source nor a host path", v.ContainerPath)
		}
		return v.HostPath, nil
	}
	var src mesos.VolumeSource
	if err := json.Unmarshal(v.Source, &src); err != nil {
		return "", fmt.Errorf("volume at %s: source: %w", v.ContainerPath, err)
	}
	switch {
	case src.Type == mesos.VolumeSourceHostPath && src.HostPath != nil:
		return src.HostPath.Path, nil
	case src.Type == mesos.VolumeSourceSandboxPath && src.SandboxPath != nil:
		base := sandbox
		if src.SandboxPath.Type == mesos.SandboxPathParent {
			base = g.sandbox
		}
		dir := filepath.Join(base, src.SandboxPath.Path)
		if !within(base, dir) || filepath.IsAbs(src.SandboxPath.Path) {
			return "", fmt.Errorf("volume at %s: sandbox path %s leaves the sandbox", v.ContainerPath, src.SandboxPath.Path)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("volume at %s: %w", v.ContainerPath, err)
		}
		return dir, nil
	}
	return "", fmt.Errorf("volume at %s: source type %q is not supported by this agent", v.ContainerPath, src.Type)
}

// killGroupLocked kills the other live tasks of t's group after t ended
// in state (Mesos's default executor kills the group when a task fails or
// is killed); it returns the calls to make without the lock.
func (a *Agent) killGroupLocked(t *task, state mesos.TaskState) []func() {
	g := t.group
	if g == nil || g.killing || (state != mesos.TaskFailed && state != mesos.TaskKilled) {
		return nil
	}
	g.killing = true
	var kills []func()
	for _, id := range g.taskIDs {
		sib := a.tasks[taskKey{framework: t.key.framework, task: id}]
		if sib == nil || sib == t || sib.group != g || sib.terminal || sib.killing {
			continue
		}
		if kill := a.killLocked(sib, sib.grace, ""); kill != nil {
			kills = append(kills, kill)
		}
	}
	a.log.Info("killing task group", "executor_id", g.executorID, "framework_id", t.key.framework,
		"because", t.key.task, "state", state)
	return kills
}

// forgetGroupLocked drops t's group once none of its tasks is known.
func (a *Agent) forgetGroupLocked(t *task) {
	g := t.group
	if g == nil {
		return
	}
	for _, id := range g.taskIDs {
		if sib := a.tasks[taskKey{framework: t.key.framework, task: id}]; sib != nil && sib.group == g {
			return
		}
	}
	key := groupKey{framework: t.key.framework, executor: g.executorID}
	if a.groups[key] == g {
		delete(a.groups, key)
	}
}
