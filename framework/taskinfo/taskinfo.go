package taskinfo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/placement"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// ErrInvalid is wrapped by every error of Build: the input cannot make a
// valid TaskInfo (a validated app and a Launch from placement.Fit for it
// never give one).
var ErrInvalid = errors.New("taskinfo: invalid input")

// Input is what Build needs for one task.
type Input struct {
	// App is the (normalised) app version the instance runs.
	App marathon.App
	// Instance is the instance, with the new task id already in TaskID.
	Instance state.Instance
	// Launch is the instance's placement: agent, hostname, resources and
	// host ports.
	Launch placement.Launch
	// EnvPrefix is --env_vars_prefix: put before the port variables and
	// HOST only.
	EnvPrefix string
	// DefaultUser is --mesos_user: the user of a task whose app has none,
	// except for DOCKER containers, which then run as their image's USER.
	DefaultUser string
	// Secrets holds the value of every secret the app's env refers to, by
	// secret name (App.Secrets' keys), resolved by the caller.
	Secrets map[string]string
}

// Build returns the TaskInfo of in. Marathon's choices it follows:
//
//   - name and discovery name are the app id's hostname form, its segments
//     reversed and joined by "." ("/prod/web" → "web.prod", PathId
//     toHostname);
//   - resources are exactly Launch.Resources;
//   - the command: cmd runs in a shell; args run without one, with
//     arguments = args and, for tasks without a container, value =
//     args[0] (the command executor needs a value); a container without
//     cmd and args runs its image's entrypoint (shell false, no value);
//   - the environment is marathon.TaskEnv plus MESOS_TASK_ID; the app's
//     own variables win over all of them. A variable that refers to a
//     secret is a Mesos SECRET variable carrying the value from
//     Input.Secrets (docs/secrets.md);
//   - the first COMMAND / MESOS_HTTP / MESOS_HTTPS / MESOS_TCP health check
//     becomes the Mesos health check (Mesos runs one per task; Marathon's
//     validation rejects more than one); HTTP, HTTPS and TCP checks run in
//     the scheduler and are not in the TaskInfo;
//   - the command's user is the app's user, else DefaultUser (Marathon's
//     --mesos_user, which is also the framework's user, the one Mesos
//     falls back to); a DOCKER container without an app user gets none, so
//     that its image's USER stands;
//   - taskKillGracePeriodSeconds becomes the kill policy; absent, none;
//   - the app's labels become the task labels, sorted by key.
//
// Custom executors (App.Executor other than "" and "//cmd") are not
// supported.
func Build(in Input) (mesos.TaskInfo, error) {
	app := &in.App
	if in.Instance.TaskID == "" {
		return mesos.TaskInfo{}, fmt.Errorf("%w: instance %s has no task id", ErrInvalid, in.Instance.ID)
	}
	if app.Executor != "" && app.Executor != "//cmd" {
		return mesos.TaskInfo{}, fmt.Errorf("%w: custom executor %q of %s is not supported", ErrInvalid, app.Executor, app.ID)
	}
	hostPorts := in.Launch.HostPorts
	if n := app.PortCount(); len(hostPorts) != n {
		return mesos.TaskInfo{}, fmt.Errorf("%w: %d host ports for the %d ports of %s", ErrInvalid, len(hostPorts), n, app.ID)
	}
	ti := mesos.TaskInfo{
		Name:      Name(app.ID),
		TaskID:    mesos.TaskID{Value: in.Instance.TaskID},
		AgentID:   in.Launch.AgentID,
		Resources: slices.Clone(in.Launch.Resources),
		Labels:    labels(app.Labels),
		Discovery: discovery(app, hostPorts),
	}
	var err error
	if ti.Command, err = command(app, in.Instance.TaskID, in.Launch.Hostname, in.EnvPrefix, hostPorts, in.DefaultUser, in.Secrets); err != nil {
		return mesos.TaskInfo{}, err
	}
	if ti.Container, err = container(app, hostPorts); err != nil {
		return mesos.TaskInfo{}, err
	}
	if ti.HealthCheck, err = healthCheck(app, hostPorts); err != nil {
		return mesos.TaskInfo{}, err
	}
	if s := app.TaskKillGracePeriodSeconds; s != nil {
		ti.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(*s) * int64(time.Second)}}
	}
	return ti, nil
}

// Name is the task and discovery name of an app: its id's segments in
// reverse order joined by "." ("/prod/web" → "web.prod"), a valid
// hostname for service discovery (Marathon's PathId.toHostname).
func Name(id marathon.PathID) string {
	segs := id.Canonical().Segments()
	slices.Reverse(segs)
	return strings.Join(segs, ".")
}

// labels converts a label map, sorted by key; nil for none.
func labels(m map[string]string) *mesos.Labels {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ls := &mesos.Labels{Labels: make([]mesos.Label, len(keys))}
	for i, k := range keys {
		ls.Labels[i] = mesos.Label{Key: k, Value: m[k]}
	}
	return ls
}

func ptr[T any](v T) *T { return &v }
