package scheduler

import (
	"sort"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// View is an immutable snapshot of the scheduler's state for readers (the
// /v2 API). The loop publishes a new View after every change; readers never
// lock and never see a half-applied change. Nothing reachable from a View is
// modified after it is published.
type View struct {
	// Seq increases with every published View.
	Seq uint64
	// At is when the View was published.
	At          time.Time
	FrameworkID string
	// Apps are the current apps, sorted by id.
	Apps []*AppView
	// Deployments are the running deployments, oldest first.
	Deployments []DeploymentView
	// Groups are the explicitly stored groups (dependencies, enforceRole);
	// the group tree itself is derived from app ids.
	Groups []state.Group
	// Store says whether the state store takes writes.
	Store StoreHealth
	// Counters are the scheduler's live counters; nil between terms.
	Counters *Counters
	// Pods are the pods, sorted by id, and PodDeployments their running
	// deployments, oldest first (pods.go).
	Pods           []*PodView
	PodDeployments []marathon.Deployment

	byID map[marathon.PathID]*AppView
}

// App returns the app with id, or nil. A View that was not indexed (built
// in a test) is searched by id, which Apps' order allows.
func (v *View) App(id marathon.PathID) *AppView {
	if v == nil {
		return nil
	}
	if v.byID == nil {
		i := sort.Search(len(v.Apps), func(i int) bool { return v.Apps[i].App.ID >= id })
		if i < len(v.Apps) && v.Apps[i].App.ID == id {
			return v.Apps[i]
		}
		return nil
	}
	return v.byID[id]
}

// AppView is one app with its runtime state.
type AppView struct {
	App marathon.App
	// Instances are the app's instances that are not expunged, sorted by id.
	Instances []state.Instance
	// Deployments are the ids of the running deployments that affect the app.
	Deployments []string
	// LastTaskFailure is the app's latest failed task, if any.
	LastTaskFailure *marathon.TaskFailure
	// Queue is the app's launch queue entry; nil when nothing waits.
	Queue *QueueView
}

// QueueView is what waits for offers for an app (GET /v2/queue).
type QueueView struct {
	// Count is the number of instances waiting for a task.
	Count int
	// Since is when the oldest of them started waiting.
	Since time.Time
	// DelayUntil is the end of the app's launch backoff; zero when none.
	DelayUntil time.Time
	// Unplaced counts, by Marathon's reason name (InsufficientCpus, ...),
	// the offers the last placement pass declined for this app.
	Unplaced map[string]int
	// ProcessedOffers and UnusedOffers count recent offers.
	ProcessedOffers, UnusedOffers int
}

// DeploymentView is a running deployment and its progress. The embedded
// Deployment.CurrentStep is 1-based, as Marathon's currentStep (0 reads as
// the first step).
type DeploymentView struct {
	state.Deployment
	// CurrentActions describe the current step's actions.
	CurrentActions []ActionView
}

// ActionView is the progress of one action of the current step.
type ActionView struct {
	state.Action
	// ReadinessCheckResults of the action's new instances.
	ReadinessCheckResults []marathon.ReadinessCheckResult
}

// index builds the lookup table; the loop calls it once before publishing.
func (v *View) index() {
	v.byID = make(map[marathon.PathID]*AppView, len(v.Apps))
	for _, a := range v.Apps {
		v.byID[a.App.ID] = a
	}
}
