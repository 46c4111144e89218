package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// ErrClosed is returned by a closed store.
var ErrClosed = errors.New("state: store closed")

// ErrInvalidChange is returned by Apply for a Change that fails
// Change.Validate; nothing of such a Change is written.
var ErrInvalidChange = errors.New("state: invalid change")

// DefaultMaxVersions is the number of app and group versions kept per id
// when a store's configuration leaves it unset, as Marathon's
// --zk_max_versions.
const DefaultMaxVersions = 50

// Store keeps the scheduler's state durably. Implementations are safe for
// concurrent use, but the scheduler writes from one goroutine only. Every
// method of a closed store returns an error wrapping ErrClosed, except Close,
// which may be called again and returns nil.
type Store interface {
	// Load returns everything the store holds: current app versions,
	// groups, instances, deployments and the framework id. Old app and
	// group versions are not loaded; AppVersions and AppVersion read them.
	// Load reads one consistent state, never half of an Apply.
	Load(ctx context.Context) (Snapshot, error)
	// Apply writes c atomically: after a crash either all of it or none
	// of it is stored. It first checks c with c.Validate and returns an
	// error wrapping ErrInvalidChange, writing nothing, when c is invalid.
	Apply(ctx context.Context, c Change) error
	// AppVersions lists the stored versions of an app, oldest first; none
	// (and no error) for an unknown app.
	AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error)
	// AppVersion returns one stored version of an app; ok is false when
	// there is no such app or version.
	AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (app marathon.App, ok bool, err error)
	// GroupVersions lists the stored versions of a group, oldest first.
	GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error)
	// GroupVersion returns one stored version of a group.
	GroupVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (g Group, ok bool, err error)
	// PodVersions lists the stored versions of a pod, oldest first; none
	// (and no error) for an unknown pod.
	PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error)
	// PodVersion returns one stored version of a pod; ok is false when
	// there is no such pod or version.
	PodVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (pod marathon.Pod, ok bool, err error)
	// Close releases the store.
	Close() error
}

// Snapshot is the whole current state, as loaded at leader start. Every
// slice is sorted by id (byte order), so that two loads of the same state
// are equal.
type Snapshot struct {
	FrameworkID string
	// Apps are the current version of every app.
	Apps []marathon.App
	// Pods are the current version of every pod.
	Pods        []marathon.Pod
	Groups      []Group
	Instances   []Instance
	Deployments []Deployment
	// SetAside lists the records that could not be decoded: they are
	// left in the store and missing from the slices above.
	SetAside []SetAside
}

// Change is one atomic write. Puts replace whole records; deletes of absent
// records are no-ops. Deletes are applied before puts, so a Change that
// deletes and puts the same id leaves the put record (for apps and groups:
// only the versions put by this Change). Within one list, a later entry for
// the same id wins.
type Change struct {
	// FrameworkID, when not empty, replaces the stored framework id.
	FrameworkID string
	// PutApps stores each app as a new version (App.Version must be set)
	// and makes it the app's current version. A version already stored is
	// replaced. Versions beyond the store's limit are dropped, oldest
	// first.
	PutApps []marathon.App
	// DeleteApps removes apps with all their versions.
	DeleteApps []marathon.PathID
	// PutPods and DeletePods write pods as PutApps and DeleteApps write
	// apps: versioned, the same limit, deletes first.
	PutPods    []marathon.Pod
	DeletePods []marathon.PathID
	// PutGroups stores each group as a new version and makes it current.
	PutGroups    []Group
	DeleteGroups []marathon.PathID
	// PutInstances and DeleteInstances write instances by Instance.ID.
	PutInstances    []Instance
	DeleteInstances []string
	// PutDeployments and DeleteDeployments write deployments by ID.
	PutDeployments    []Deployment
	DeleteDeployments []string
}

// Validate reports why c cannot be applied, as an error wrapping
// ErrInvalidChange that lists every problem, or nil. A valid Change has
//
//   - apps and pods with an absolute, non-root id and a version;
//   - groups with an absolute id (the root "/" included) and a version;
//   - instances and deployments with an id;
//   - no empty id among the deletes.
//
// Stores call it at the start of Apply; callers may call it earlier.
func (c Change) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	for i, a := range c.PutApps {
		if !a.ID.IsAbsolute() || a.ID.IsRoot() {
			bad("put app %d: id %q is not an absolute app id", i, a.ID)
		}
		if a.Version.IsZero() {
			bad("put app %d (%s): no version", i, a.ID)
		}
	}
	for i, p := range c.PutPods {
		if !p.ID.IsAbsolute() || p.ID.IsRoot() {
			bad("put pod %d: id %q is not an absolute pod id", i, p.ID)
		}
		if p.Version.IsZero() {
			bad("put pod %d (%s): no version", i, p.ID)
		}
	}
	for i, id := range c.DeletePods {
		if id == "" {
			bad("delete pod %d: empty id", i)
		}
	}
	for i, g := range c.PutGroups {
		if !g.ID.IsAbsolute() {
			bad("put group %d: id %q is not absolute", i, g.ID)
		}
		if g.Version.IsZero() {
			bad("put group %d (%s): no version", i, g.ID)
		}
	}
	for i, in := range c.PutInstances {
		if in.ID == "" {
			bad("put instance %d (app %s): no id", i, in.AppID)
		}
	}
	for i, d := range c.PutDeployments {
		if d.ID == "" {
			bad("put deployment %d: no id", i)
		}
	}
	for i, id := range c.DeleteApps {
		if id == "" {
			bad("delete app %d: empty id", i)
		}
	}
	for i, id := range c.DeleteGroups {
		if id == "" {
			bad("delete group %d: empty id", i)
		}
	}
	for i, id := range c.DeleteInstances {
		if id == "" {
			bad("delete instance %d: empty id", i)
		}
	}
	for i, id := range c.DeleteDeployments {
		if id == "" {
			bad("delete deployment %d: empty id", i)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidChange, errors.Join(errs...))
}

// Empty reports whether c writes nothing.
func (c Change) Empty() bool {
	return c.FrameworkID == "" && len(c.PutApps) == 0 && len(c.DeleteApps) == 0 &&
		len(c.PutPods) == 0 && len(c.DeletePods) == 0 &&
		len(c.PutGroups) == 0 && len(c.DeleteGroups) == 0 &&
		len(c.PutInstances) == 0 && len(c.DeleteInstances) == 0 &&
		len(c.PutDeployments) == 0 && len(c.DeleteDeployments) == 0
}

// Group is a group's own settings and, per version, what it held, so that
// PUT /v2/groups/{id} {"version": v} can roll back. A version holds
// references only: the version of each app directly in the group and the
// version of each group directly below it, so that a write stores what
// changed on the way from an app up to the root, never a whole subtree.
// (Versions stored before Groups existed list every app of their subtree
// in Apps, and no Groups; both read the same way.)
type Group struct {
	ID           marathon.PathID                        `json:"id"`
	Version      marathon.Timestamp                     `json:"version"`
	Dependencies []marathon.PathID                      `json:"dependencies,omitempty"`
	EnforceRole  bool                                   `json:"enforceRole,omitempty"`
	Apps         map[marathon.PathID]marathon.Timestamp `json:"apps,omitempty"`
	Groups       map[marathon.PathID]marathon.Timestamp `json:"groups,omitempty"`
}

// Goal is what the scheduler wants for an instance.
type Goal string

// Instance goals, as Marathon has them.
const (
	// GoalRunning: keep a task running, relaunching it when it ends.
	GoalRunning Goal = "Running"
	// GoalStopped: kill the task and keep the instance (not used by apps
	// without resident volumes; kept for Marathon's vocabulary).
	GoalStopped Goal = "Stopped"
	// GoalDecommissioned: kill the task and forget the instance once it is
	// terminal.
	GoalDecommissioned Goal = "Decommissioned"
)

// Instance is one instance of an app: a slot that a task fills. Its task
// id changes with every launch (the incarnation); the instance id does not.
type Instance struct {
	// ID is "<app task prefix>.instance-<uuid>".
	ID    string          `json:"id"`
	AppID marathon.PathID `json:"appId"`
	// AppVersion is the version of the app the instance runs (or will).
	AppVersion marathon.Timestamp `json:"appVersion"`
	Goal       Goal               `json:"goal"`
	// Incarnation counts launches; the task id is ID + "._app." + Incarnation.
	Incarnation int `json:"incarnation"`
	// TaskID is the current task; "" before the first launch.
	TaskID string `json:"taskId,omitempty"`
	// State is the task's latest Mesos state; "" while the instance waits
	// for an offer (Marathon's "Scheduled").
	State    mesos.TaskState `json:"state,omitempty"`
	AgentID  string          `json:"agentId,omitempty"`
	Hostname string          `json:"hostname,omitempty"`
	// HostPorts are the host ports the task got, in port order.
	HostPorts []uint32 `json:"hostPorts,omitempty"`
	// IPAddresses are the task's addresses from its container status.
	IPAddresses []string `json:"ipAddresses,omitempty"`
	// Healthy is the task's health over all of its app's health checks:
	// true when every check is alive, false when one is not, nil while
	// a check has no result yet.
	Healthy *bool `json:"healthy,omitempty"`
	// Health holds one result per health check of the app the task runs,
	// in the app's order (zero: no result yet). It is stored so that a
	// restarted or new leader goes on from the same results instead of
	// turning every task's health unknown at once.
	Health []HealthResult `json:"health,omitempty"`
	// Ready is the latest readiness result during a deployment.
	Ready *bool `json:"ready,omitempty"`
	// Message is the latest status message (for lastTaskFailure).
	Message string `json:"message,omitempty"`
	// Attributes are the agent's attributes, kept for constraints.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Role is the role Mesos allocated the task's resources to (its
	// offer's allocation_info); "" for tasks launched before Stadion
	// recorded it, which show their app's role.
	Role string `json:"role,omitempty"`
	// Times of the task's life.
	LaunchedAt       time.Time `json:"launchedAt,omitzero"`
	StagedAt         time.Time `json:"stagedAt,omitzero"`
	StartedAt        time.Time `json:"startedAt,omitzero"`
	UnreachableSince time.Time `json:"unreachableSince,omitzero"`
	// UnknownSince is when Mesos first answered TASK_UNKNOWN for the
	// task (zero: it did not). Its agent may not have re-registered with
	// a new master yet: State stays the last known state until the task
	// is heard of again or the scheduler relaunches it.
	UnknownSince time.Time `json:"unknownSince,omitzero"`
	// Pod says the instance is a pod's: AppID is the pod id, AppVersion
	// the pod version, TaskID is empty and Tasks holds one task per
	// container, launched together as one task group. HostPorts are then
	// those of all the pod's endpoints, in container and endpoint order.
	Pod   bool      `json:"pod,omitempty"`
	Tasks []PodTask `json:"tasks,omitempty"`
}

// PodTask is the task of one container of a pod instance.
type PodTask struct {
	Container string          `json:"container"`
	TaskID    string          `json:"taskId"`
	State     mesos.TaskState `json:"state,omitempty"`
	// Healthy is the Mesos health of the task; nil while unreported.
	Healthy   *bool     `json:"healthy,omitempty"`
	Message   string    `json:"message,omitempty"`
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// HealthResult is the state of one health check of one task, as Marathon
// keeps it (core/health/Health.scala). The zero value is "no result yet".
type HealthResult struct {
	// ConsecutiveFailures counts failures since the last success.
	ConsecutiveFailures int       `json:"consecutiveFailures,omitempty"`
	FirstSuccess        time.Time `json:"firstSuccess,omitzero"`
	LastSuccess         time.Time `json:"lastSuccess,omitzero"`
	LastFailure         time.Time `json:"lastFailure,omitzero"`
	LastFailureCause    string    `json:"lastFailureCause,omitempty"`
}

// Known reports whether the check has a result.
func (r HealthResult) Known() bool { return !r.LastSuccess.IsZero() || !r.LastFailure.IsZero() }

// Alive is Marathon's alive: there was a success, later than the last
// failure.
func (r HealthResult) Alive() bool {
	return !r.LastSuccess.IsZero() && (r.LastFailure.IsZero() || r.LastSuccess.After(r.LastFailure))
}

// Deployment is a running deployment: a plan of steps towards target app
// versions. It is stored so that a new leader resumes it.
type Deployment struct {
	ID      string             `json:"id"`
	Version marathon.Timestamp `json:"version"`
	// Steps run one after another; the actions of a step run together.
	Steps       []Step `json:"steps"`
	CurrentStep int    `json:"currentStep"`
	// Original and Target map the affected apps to their version before
	// and after the deployment; a missing target means the app is removed.
	Original map[marathon.PathID]marathon.Timestamp `json:"original,omitempty"`
	Target   map[marathon.PathID]marathon.Timestamp `json:"target,omitempty"`
	// ProgressDeadline, when not zero, is how long the deployment may go
	// without progress (an instance of a target turning ready, or a step
	// finishing) before it fails; Deadline is when that is, moved on with
	// every progress.
	ProgressDeadline time.Duration `json:"progressDeadline,omitempty"`
	Deadline         time.Time     `json:"deadline,omitzero"`
	// Progress is the count of ready target instances of the current step
	// when Deadline was last moved.
	Progress int `json:"progress,omitempty"`
	// Rollback asks for the original versions to be restored when the
	// deadline passes.
	Rollback  bool      `json:"rollback,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// WaitsFor, when not empty, queues the deployment behind the running
	// deployments it names: its apps are not changed until they are all
	// gone. Apps and Remove are then the change to apply: the target
	// definitions (with their versions) and the apps to remove.
	WaitsFor []string          `json:"waitsFor,omitempty"`
	Apps     []marathon.App    `json:"apps,omitempty"`
	Remove   []marathon.PathID `json:"remove,omitempty"`
}

// Queued reports whether the deployment waits for others to finish.
func (d Deployment) Queued() bool { return len(d.WaitsFor) > 0 }

// Step is one step of a deployment plan.
type Step struct {
	Actions []Action `json:"actions"`
}

// Action is one action of a step: what happens to one app.
type Action struct {
	Type  marathon.DeploymentAction `json:"action"`
	AppID marathon.PathID           `json:"app"`
}

// AffectedApps lists the apps a deployment touches.
func (d Deployment) AffectedApps() []marathon.PathID {
	var ids []marathon.PathID
	seen := map[marathon.PathID]bool{}
	for _, s := range d.Steps {
		for _, a := range s.Actions {
			if !seen[a.AppID] {
				seen[a.AppID] = true
				ids = append(ids, a.AppID)
			}
		}
	}
	return ids
}
