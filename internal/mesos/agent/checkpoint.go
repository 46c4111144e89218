package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Checkpoint layout under Config.WorkDir, written so that a restarted agent
// finds its tasks again (see recover.go):
//
//	meta/agent.json                               {"agent_id": "..."}
//	meta/tasks/<framework_id>/<task_id>.json      one taskCheckpoint per task
//
// Ids are path-escaped. Every file is replaced atomically (temporary file,
// fsync, rename, fsync of the directory). A task's file is written before
// its container starts, again once its process or container is known, and
// before each of its status updates is sent; it is removed when the task is
// forgotten (its terminal update acknowledged). Simulated tasks are not
// checkpointed.
const (
	metaDir       = "meta"
	agentFile     = "agent.json"
	tasksDir      = "tasks"
	checkpointExt = ".json"
)

// agentCheckpoint is meta/agent.json.
type agentCheckpoint struct {
	AgentID string `json:"agent_id"`
}

// taskCheckpoint is what the agent keeps of a task to find and judge it
// again after a restart.
type taskCheckpoint struct {
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	Task        mesos.TaskInfo    `json:"task_info"`
	// Containerizer is ContainerizerMesos or ContainerizerDocker.
	Containerizer string `json:"containerizer"`
	ContainerID   string `json:"container_id"`
	Sandbox       string `json:"sandbox"`
	// User is the user the task runs as; "" when the agent does not
	// switch users.
	User string `json:"user,omitempty"`
	// KillingState is whether the framework had TASK_KILLING_STATE at the
	// launch.
	KillingState bool `json:"killing_state,omitempty"`
	// Principal is the framework's principal at the launch.
	Principal string `json:"principal,omitempty"`
	// Killing is set once a kill was requested; GraceNanos is its grace
	// period.
	Killing    bool   `json:"killing,omitempty"`
	GraceNanos int64  `json:"grace_nanos"`
	HealthKill string `json:"health_kill,omitempty"`
	// PID is the task's main process (a command task's, or a container's
	// init as the engine reports it), 0 until started. A command task's
	// process leads its own process group, whose id is PID.
	PID int `json:"pid,omitempty"`
	// StartTime is field 22 of /proc/<pid>/stat (clock ticks after boot)
	// and BootID the kernel's boot id at the launch: together with PID
	// they tell the task's process from a later one with a reused pid.
	StartTime uint64 `json:"start_time,omitempty"`
	BootID    string `json:"boot_id,omitempty"`
	// DockerID is the container id of a DOCKER task, once created.
	DockerID string `json:"docker_id,omitempty"`
	// Latest is the task's latest status, Pending its updates not yet
	// acknowledged, oldest first.
	Latest  mesos.TaskStatus   `json:"latest"`
	Pending []mesos.TaskStatus `json:"pending,omitempty"`
}

func (a *Agent) metaPath(elem ...string) string {
	return filepath.Join(append([]string{a.cfg.WorkDir, metaDir}, elem...)...)
}

func (a *Agent) taskPath(key taskKey) string {
	return a.metaPath(tasksDir, url.PathEscape(key.framework), url.PathEscape(key.task)+checkpointExt)
}

// checkpointLocked is t's checkpoint.
func checkpointLocked(t *task) taskCheckpoint {
	return taskCheckpoint{
		FrameworkID:   t.frameworkID,
		Task:          t.info,
		Containerizer: t.containerizer,
		ContainerID:   t.containerID,
		Sandbox:       t.sandbox,
		User:          t.user,
		KillingState:  t.killingState,
		Principal:     t.principal,
		Killing:       t.killing,
		GraceNanos:    int64(t.grace),
		HealthKill:    t.healthKill,
		PID:           t.pid,
		StartTime:     t.startTime,
		BootID:        t.bootID,
		DockerID:      t.dockerID,
		Latest:        t.latest,
		Pending:       append([]mesos.TaskStatus(nil), t.pending...),
	}
}

// saveTask writes t's checkpoint, or removes it once the agent has
// forgotten t. It is called without Agent.mu, after a change of t; writes of
// one task are serialised and each writes the task's state at the time it
// runs, so the file never goes back to an older state. A failed write is
// logged: the task runs on, but a restart may not find it.
func (a *Agent) saveTask(t *task) {
	t.ckMu.Lock()
	defer t.ckMu.Unlock()
	a.mu.Lock()
	if t.containerizer == "" || t.containerizer == ContainerizerSimulated {
		a.mu.Unlock()
		return
	}
	forgotten := a.tasks[t.key] != t
	ck := checkpointLocked(t)
	a.mu.Unlock()
	path := a.taskPath(t.key)
	if forgotten {
		if t.ckLast != nil {
			a.removeCheckpoint(path, t.containerID)
			t.ckLast = nil
		}
		return
	}
	data, err := json.Marshal(ck)
	if err != nil {
		a.log.Error("cannot encode task checkpoint", "task_id", t.key.task, "framework_id", t.key.framework, "error", err)
		return
	}
	if bytes.Equal(data, t.ckLast) {
		return
	}
	if err := writeFileAtomic(path, data); err != nil {
		a.log.Error("cannot checkpoint task", "task_id", t.key.task, "framework_id", t.key.framework, "path", path, "error", err)
		return
	}
	t.ckLast = data
}

// removeCheckpoint removes a forgotten task's file unless it now holds
// another task of the same id (another container).
func (a *Agent) removeCheckpoint(path, containerID string) {
	var ck taskCheckpoint
	if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &ck) == nil && ck.ContainerID != containerID {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.log.Warn("cannot remove task checkpoint", "path", path, "error", err)
		return
	}
	_ = syncDir(filepath.Dir(path))
}

// saveAgentID records the agent id for the next start.
func (a *Agent) saveAgentID(id string) error {
	data, err := json.Marshal(agentCheckpoint{AgentID: id})
	if err != nil {
		return err
	}
	return writeFileAtomic(a.metaPath(agentFile), data)
}

// loadCheckpoints reads what a previous run left: its agent id ("" when
// none) and its tasks. A task file that cannot be read is logged and left
// where it is; temporary files of interrupted writes are removed.
func (a *Agent) loadCheckpoints() (string, []taskCheckpoint, error) {
	id := ""
	data, err := os.ReadFile(a.metaPath(agentFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", nil, fmt.Errorf("read agent checkpoint: %w", err)
	default:
		var ck agentCheckpoint
		if err := json.Unmarshal(data, &ck); err != nil {
			return "", nil, fmt.Errorf("agent checkpoint %s: %w", a.metaPath(agentFile), err)
		}
		id = ck.AgentID
	}
	var tasks []taskCheckpoint
	root := a.metaPath(tasksDir)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && path == root:
			return filepath.SkipDir
		case err != nil:
			return err
		case d.IsDir():
			return nil
		case strings.HasPrefix(d.Name(), ".tmp-"):
			_ = os.Remove(path)
			return nil
		case !strings.HasSuffix(d.Name(), checkpointExt):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var ck taskCheckpoint
		if err := json.Unmarshal(data, &ck); err != nil || ck.Task.TaskID.Value == "" || ck.FrameworkID.Value == "" {
			a.log.Error("ignoring unreadable task checkpoint", "path", path, "error", err)
			return nil
		}
		tasks = append(tasks, ck)
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("read task checkpoints: %w", err)
	}
	return id, tasks, nil
}

// grace is the checkpoint's grace period.
func (ck taskCheckpoint) grace() time.Duration { return time.Duration(ck.GraceNanos) }

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced, renamed over path, and the directory synced: after a
// crash path holds either its old content or data, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return nil // file systems that cannot sync directories
	}
	return err
}
