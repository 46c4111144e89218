package deployment

import (
	"cmp"
	"slices"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// CycleError reports apps whose dependencies form a cycle; no plan can
// order them. Marathon answers such a change with 422.
type CycleError struct {
	// Cycle lists the apps of the cycle in dependency order; the first app
	// depends on the second and the last on the first.
	Cycle []marathon.PathID
}

func (e *CycleError) Error() string {
	ids := make([]string, 0, len(e.Cycle)+1)
	for _, id := range e.Cycle {
		ids = append(ids, string(id))
	}
	if len(e.Cycle) > 0 {
		ids = append(ids, string(e.Cycle[0]))
	}
	return "dependency cycle: " + strings.Join(ids, " -> ")
}

// Plan returns the deployment that takes the apps from original to target,
// both keyed by app id: an app only in target is started, an app only in
// original is stopped, an app whose definition changed (marathon.IsUpgrade,
// or a new versionInfo.lastConfigChangeAt as a restart leaves it) is
// restarted, an app whose instance count alone changed is scaled, and an
// app that did not change is left alone. changed is false when there is
// nothing to do.
//
// Steps follow `dependencies` (an app id, or a group id meaning every app
// under it), as Marathon's docs describe: stops come first, dependents
// before their dependencies; then starts, scales and restarts, dependencies
// before their dependents. Apps at the same depth of the dependency graph
// share a step. A dependency cycle is a *CycleError.
//
// The deployment's Version is now, CurrentStep is 1 (Marathon's 1-based
// currentStep), Original and Target hold the affected apps' versions.
func Plan(original, target map[marathon.PathID]marathon.App, now marathon.Timestamp, id string) (d state.Deployment, changed bool, err error) {
	actions := map[marathon.PathID]marathon.DeploymentAction{}
	var stopped, kept []marathon.PathID
	for appID := range original {
		if _, ok := target[appID]; !ok {
			actions[appID] = marathon.StopApplication
			stopped = append(stopped, appID)
		}
	}
	for appID, t := range target {
		o, ok := original[appID]
		switch {
		case !ok:
			actions[appID] = marathon.StartApplication
		case needsRestart(o, t):
			actions[appID] = marathon.RestartApplication
		case o.Instances != t.Instances:
			actions[appID] = marathon.ScaleApplication
		default:
			continue
		}
		kept = append(kept, appID)
	}
	if len(actions) == 0 {
		return state.Deployment{}, false, nil
	}

	stopLevels, err := levels(original, stopped)
	if err != nil {
		return state.Deployment{}, false, err
	}
	keptLevels, err := levels(target, kept)
	if err != nil {
		return state.Deployment{}, false, err
	}
	var steps []state.Step
	for _, ids := range slices.Backward(group(stopLevels)) {
		steps = append(steps, step(ids, actions))
	}
	for _, ids := range group(keptLevels) {
		steps = append(steps, step(ids, actions))
	}

	d = state.Deployment{
		ID:          id,
		Version:     now,
		Steps:       steps,
		CurrentStep: 1,
		Original:    map[marathon.PathID]marathon.Timestamp{},
		Target:      map[marathon.PathID]marathon.Timestamp{},
		CreatedAt:   now.Time,
	}
	for appID := range actions {
		if o, ok := original[appID]; ok {
			d.Original[appID] = o.Version
		}
		if t, ok := target[appID]; ok {
			d.Target[appID] = t.Version
		}
	}
	return d, true, nil
}

// Restart returns the deployment of POST /v2/apps/{id}/restart: one
// RestartApplication of app towards newVersion. The caller stores app with
// Version newVersion (and a new versionInfo.lastConfigChangeAt) and hands
// that definition to Next.
func Restart(app marathon.App, newVersion marathon.Timestamp, id string) state.Deployment {
	return state.Deployment{
		ID:      id,
		Version: newVersion,
		Steps: []state.Step{{Actions: []state.Action{
			{Type: marathon.RestartApplication, AppID: app.ID},
		}}},
		CurrentStep: 1,
		Original:    map[marathon.PathID]marathon.Timestamp{app.ID: app.Version},
		Target:      map[marathon.PathID]marathon.Timestamp{app.ID: newVersion},
		CreatedAt:   newVersion.Time,
	}
}

// Conflicts returns the ids of the running deployments that affect an app d
// affects, in the order of running; d itself (same id) is skipped. Marathon
// answers 409 with them unless force is given.
func Conflicts(running []state.Deployment, d state.Deployment) []string {
	mine := map[marathon.PathID]bool{}
	for _, appID := range d.AffectedApps() {
		mine[appID] = true
	}
	var ids []string
	for _, r := range running {
		if r.ID == d.ID {
			continue
		}
		if slices.ContainsFunc(r.AffectedApps(), func(appID marathon.PathID) bool { return mine[appID] }) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// needsRestart reports whether the tasks of o must be replaced to run t.
func needsRestart(o, t marathon.App) bool {
	if marathon.IsUpgrade(o, t) {
		return true
	}
	if o.VersionInfo == nil || t.VersionInfo == nil {
		return false
	}
	return !o.VersionInfo.LastConfigChangeAt.Equal(t.VersionInfo.LastConfigChangeAt.Time)
}

// step builds one step of the given apps, sorted by id.
func step(ids []marathon.PathID, actions map[marathon.PathID]marathon.DeploymentAction) state.Step {
	slices.Sort(ids)
	s := state.Step{Actions: make([]state.Action, 0, len(ids))}
	for _, appID := range ids {
		s.Actions = append(s.Actions, state.Action{Type: actions[appID], AppID: appID})
	}
	return s
}

// group turns depths into groups of apps, shallowest first, without gaps.
func group(depth map[marathon.PathID]int) [][]marathon.PathID {
	byDepth := map[int][]marathon.PathID{}
	for appID, n := range depth {
		byDepth[n] = append(byDepth[n], appID)
	}
	ds := make([]int, 0, len(byDepth))
	for n := range byDepth {
		ds = append(ds, n)
	}
	slices.Sort(ds)
	out := make([][]marathon.PathID, 0, len(ds))
	for _, n := range ds {
		out = append(out, byDepth[n])
	}
	return out
}

// levels returns, for each of ids, its depth in the dependency graph of
// apps: 0 for an app that depends on no app of apps, else one more than its
// deepest dependency. The whole graph counts, so that a → b → c orders a
// after c even when b does not change.
func levels(apps map[marathon.PathID]marathon.App, ids []marathon.PathID) (map[marathon.PathID]int, error) {
	g := graph{apps: apps, depth: map[marathon.PathID]int{}, onPath: map[marathon.PathID]int{}}
	slices.Sort(ids) // deterministic cycle reports
	out := make(map[marathon.PathID]int, len(ids))
	for _, appID := range ids {
		n, err := g.visit(appID)
		if err != nil {
			return nil, err
		}
		out[appID] = n
	}
	return out, nil
}

// graph memoises depths during a depth-first walk.
type graph struct {
	apps  map[marathon.PathID]marathon.App
	depth map[marathon.PathID]int
	// onPath maps the apps of the current walk to their index in path.
	onPath map[marathon.PathID]int
	path   []marathon.PathID
}

func (g *graph) visit(appID marathon.PathID) (int, error) {
	if n, ok := g.depth[appID]; ok {
		return n, nil
	}
	if i, ok := g.onPath[appID]; ok {
		return 0, &CycleError{Cycle: slices.Clone(g.path[i:])}
	}
	g.onPath[appID] = len(g.path)
	g.path = append(g.path, appID)
	n := 0
	for _, dep := range g.dependencies(appID) {
		m, err := g.visit(dep)
		if err != nil {
			return 0, err
		}
		n = max(n, m+1)
	}
	g.path = g.path[:len(g.path)-1]
	delete(g.onPath, appID)
	g.depth[appID] = n
	return n, nil
}

// dependencies resolves the dependencies of an app to the apps they name:
// an app id, or a group id standing for every app below it. Relative ids
// resolve against the app's group. Ids that name nothing are ignored.
func (g *graph) dependencies(appID marathon.PathID) []marathon.PathID {
	app := g.apps[appID]
	seen := map[marathon.PathID]bool{}
	for _, dep := range app.Dependencies {
		d := dep.Resolve(appID.Parent())
		for other := range g.apps {
			if other != appID && (other == d || other.IsChildOf(d)) {
				seen[other] = true
			}
		}
	}
	deps := make([]marathon.PathID, 0, len(seen))
	for d := range seen {
		deps = append(deps, d)
	}
	slices.SortFunc(deps, cmp.Compare)
	return deps
}
