package scheduler

import (
	"github.com/stadionhq/stadion/internal/marathon"
)

// Change is what an API call wants done to the apps, computed on the loop
// from the current apps so that concurrent calls cannot lose each other's
// updates (PATCH, partialUpdate, scaleBy and restart read the current app).
// It returns the apps to create or replace and the ids to remove; it must not
// modify current. An error (a *marathon.Error for 404, 409, 422) aborts the
// call with nothing changed.
type Change func(current map[marathon.PathID]marathon.App) (put []marathon.App, remove []marathon.PathID, err error)

// DeployOptions are the query options of deployable calls.
type DeployOptions struct {
	// Force cancels conflicting deployments instead of answering 409.
	Force bool
	// Restart makes a new version of every put app even when nothing
	// changed (POST /v2/apps/{id}/restart).
	Restart bool
	// Groups are group settings a group definition sets (POST and PUT
	// /v2/groups): their dependencies order the deployment of every app
	// below them, and they are stored with the group.
	Groups []GroupSettings
	// Queue, when set, says whether a deployment that conflicts with
	// running ones waits for them (true) or is refused with 409 (false);
	// nil means the scheduler's Config.QueueConflicting. Force wins.
	Queue *bool
	// GroupID is the group the change is published for in
	// group_change_success and group_change_failed: Marathon names the
	// parent of the group a /v2/groups call names, the root for PUT
	// /v2/apps, the app's group otherwise. Empty is the nearest group
	// that holds every app the change puts or removes.
	GroupID marathon.PathID

	// The scheduler's own deployments: a queued deployment starting
	// keeps its id and version; a rollback restores app versions as
	// they were, so that the instances that still run them stay.
	id       string
	version  marathon.Timestamp
	rollback bool
}

// GroupSettings are a group's own settings.
type GroupSettings struct {
	ID           marathon.PathID
	Dependencies []marathon.PathID
	EnforceRole  bool
}

// KillOptions are the options of task kills (DELETE /v2/apps/{id}/tasks,
// POST /v2/tasks/delete).
type KillOptions struct {
	// Scale lowers the apps' instance counts by the killed tasks, as a
	// deployment; without it the instances are relaunched.
	Scale bool
	// Wipe forgets the instances (there are no local volumes to destroy).
	Wipe  bool
	Force bool
}

// KillResult answers a kill: the killed tasks, or the deployment with Scale.
type KillResult struct {
	Tasks      []marathon.Task
	Deployment *marathon.DeploymentResult
}
