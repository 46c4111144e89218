package deployer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Conditions that end a wait without success; FailedError.Reason holds
// one of them.
var (
	// ErrTimeout: the deployment did not finish within the timeout.
	ErrTimeout = errors.New("deployment did not finish in time")
	// ErrSuperseded: the deployment ended and the app has a later version
	// than the one deployed (another client's change); a rollback would
	// undo that change.
	ErrSuperseded = errors.New("app changed by a later deployment")
	// ErrReverted: the deployment ended with the app back at an earlier
	// version: the scheduler rolled it back (a progress deadline), or
	// another client did.
	ErrReverted = errors.New("deployment rolled back by the scheduler")
	// ErrAppGone: the app was removed while the deployment ran.
	ErrAppGone = errors.New("app removed")
	// ErrAppRemains: a rollback that should remove a new app left it.
	ErrAppRemains = errors.New("app still exists after the rollback")
)

// target is what a wait waits for: a deployment of one app, which ends
// with the app at version (or removed, for the rollback of a create).
type target struct {
	appID marathon.PathID
	// deploymentID is the deployment; "" waits for every deployment of
	// the app to end.
	deploymentID string
	version      marathon.Timestamp
	// restores is the version a rollback through DELETE
	// /v2/deployments/{id} brings back: the scheduler restores the
	// original version rather than making a new one.
	restores marathon.Timestamp
	// removal is true when the deployment removes the app.
	removal bool
}

// status is one observation of a deployment and its app.
type status struct {
	// Listed is true while GET /v2/deployments lists the deployment.
	Listed           bool
	Step, TotalSteps int
	Actions          []string
	Exists           bool
	Version          marathon.Timestamp
	Instances        int
	HasChecks        bool
	Healthy, Running int // tasks of the app's current config
	Staging, Old     int // starting tasks of the current config; live tasks of other configs
	Done             bool
	Failed           error
}

// assess compares what the API shows with the target; seen tells whether
// an earlier observation listed the deployment. The wait is done when the
// deployment is no longer listed and the app, at the target version (or
// the version a rollback restores), runs its instances healthy with no
// task of another config left. An app at an earlier version is a change
// that made no deployment (it was already deployed) when the deployment
// was never seen, and a rollback by someone else when it was. A later
// version, or no app, is a failure.
func assess(t target, seen bool, dep *marathon.Deployment, app *marathon.AppInfo) status {
	var s status
	if dep != nil {
		s.Listed = true
		s.Step, s.TotalSteps = dep.CurrentStep, dep.TotalSteps
		for _, a := range dep.CurrentActions {
			if a.App == t.appID || a.App == "" {
				s.Actions = append(s.Actions, string(a.Action))
			}
		}
	}
	if app != nil {
		s.Exists = true
		s.Version = app.Version
		s.Instances = app.Instances
		s.HasChecks = len(app.HealthChecks) > 0
		countTasks(&s, app)
	}
	expected := s.Version.Equal(t.version.Time) || !t.restores.IsZero() && s.Version.Equal(t.restores.Time)
	switch {
	case s.Listed:
	case t.removal && !s.Exists:
		s.Done = true
	case t.removal:
		s.Failed = ErrAppRemains
	case !s.Exists:
		s.Failed = ErrAppGone
	case !expected && s.Version.After(t.version.Time):
		s.Failed = fmt.Errorf("%w: version %s after %s", ErrSuperseded, s.Version, t.version)
	case !expected && seen:
		s.Failed = fmt.Errorf("%w: the app is back at version %s", ErrReverted, s.Version)
	default:
		s.Done = s.Healthy >= s.Instances && s.Old == 0
	}
	return s
}

// countTasks sorts the app's live tasks into those of its current config
// (launched from versionInfo.lastConfigChangeAt to the app's version: a
// scale keeps the running tasks) and the others: older configs, or a
// later one that a rollback replaced.
func countTasks(s *status, app *marathon.AppInfo) {
	config := app.Version
	if vi := app.VersionInfo; vi != nil && !vi.LastConfigChangeAt.IsZero() {
		config = vi.LastConfigChangeAt
	}
	checks := len(app.HealthChecks)
	for _, t := range app.Tasks {
		if t.StagedAt.IsZero() || terminal(t.State) {
			continue
		}
		if t.Version.Before(config.Time) || t.Version.After(app.Version.Time) {
			s.Old++
			continue
		}
		switch t.State {
		case marathon.TaskRunning:
			s.Running++
			if t.IsHealthy(checks) {
				s.Healthy++
			}
		case marathon.TaskStaging, marathon.TaskStarting:
			s.Staging++
		}
	}
}

func terminal(st marathon.TaskState) bool {
	switch st {
	case marathon.TaskFinished, marathon.TaskFailed, marathon.TaskKilled, marathon.TaskError,
		marathon.TaskLost, marathon.TaskDropped, marathon.TaskGone, marathon.TaskUnknown:
		return true
	}
	return false
}

// summary is the progress line of s: "1/2 healthy, 2 running, 1 old;
// step 1/1 RestartApplication".
func (s status) summary() string {
	var b strings.Builder
	switch {
	case !s.Exists:
		b.WriteString("app not found")
	case s.HasChecks:
		fmt.Fprintf(&b, "%d/%d healthy, %d running", s.Healthy, s.Instances, s.Running)
	default:
		fmt.Fprintf(&b, "%d/%d running", s.Running, s.Instances)
	}
	if s.Staging > 0 {
		fmt.Fprintf(&b, ", %d staging", s.Staging)
	}
	if s.Old > 0 {
		fmt.Fprintf(&b, ", %d old", s.Old)
	}
	if s.Listed {
		fmt.Fprintf(&b, "; step %d/%d", s.Step, s.TotalSteps)
		if len(s.Actions) > 0 {
			b.WriteString(" " + strings.Join(s.Actions, ","))
		}
	} else if !s.Done {
		b.WriteString("; deployment ended")
	}
	return b.String()
}

// fraction is the share of the target instances healthy, for the bar.
func (s status) fraction() float64 {
	if s.Done {
		return 1
	}
	if s.Instances <= 0 {
		return 0
	}
	return min(float64(s.Healthy)/float64(s.Instances), 1)
}
