package api

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/stadionhq/stadion/framework/deployment"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// fakeBackend keeps apps in a map, applies Changes at once and records
// every command.
type fakeBackend struct {
	mu          sync.Mutex
	now         time.Time
	seq         int
	apps        map[marathon.PathID]marathon.App
	versions    map[marathon.PathID][]marathon.App
	instances   map[marathon.PathID][]state.Instance
	failures    map[marathon.PathID]*marathon.TaskFailure
	queue       map[marathon.PathID]*scheduler.QueueView
	deployments []scheduler.DeploymentView
	groups      []state.Group
	store       scheduler.StoreHealth
	// locked maps app ids to the deployment that holds them (409).
	locked map[marathon.PathID]string

	deploys []deployCall
	dryRuns int
	kills   []killCall
	cancels []string
	resets  []marathon.PathID
}

type deployCall struct {
	put    []marathon.App
	remove []marathon.PathID
	opts   scheduler.DeployOptions
	result marathon.DeploymentResult
}

type killCall struct {
	ids  []string
	opts scheduler.KillOptions
}

var _ Backend = (*fakeBackend)(nil)

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		now:       time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		apps:      map[marathon.PathID]marathon.App{},
		versions:  map[marathon.PathID][]marathon.App{},
		instances: map[marathon.PathID][]state.Instance{},
		failures:  map[marathon.PathID]*marathon.TaskFailure{},
		queue:     map[marathon.PathID]*scheduler.QueueView{},
		locked:    map[marathon.PathID]string{},
	}
}

// seed stores apps as if deployed earlier.
func (f *fakeBackend) seed(apps ...marathon.App) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range apps {
		f.storeLocked(a, f.nextVersionLocked())
	}
}

func (f *fakeBackend) nextVersionLocked() marathon.Timestamp {
	f.seq++
	return marathon.NewTimestamp(f.now.Add(time.Duration(f.seq) * time.Second))
}

func (f *fakeBackend) storeLocked(a marathon.App, v marathon.Timestamp) {
	a.Version = v
	a.VersionInfo = &marathon.VersionInfo{LastScalingAt: v, LastConfigChangeAt: v}
	f.apps[a.ID] = a
	f.versions[a.ID] = append(f.versions[a.ID], a)
}

func (f *fakeBackend) View() *scheduler.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := &scheduler.View{Seq: uint64(f.seq), At: f.now, FrameworkID: "fw-1", Groups: f.groups, Store: f.store}
	ids := make([]marathon.PathID, 0, len(f.apps))
	for id := range f.apps {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		av := &scheduler.AppView{App: f.apps[id], Instances: f.instances[id], LastTaskFailure: f.failures[id], Queue: f.queue[id]}
		for _, d := range f.deployments {
			for _, a := range d.AffectedApps() {
				if a == id {
					av.Deployments = append(av.Deployments, d.ID)
				}
			}
		}
		v.Apps = append(v.Apps, av)
	}
	v.Deployments = f.deployments
	return v
}

func (f *fakeBackend) Deploy(ctx context.Context, change scheduler.Change, opts scheduler.DeployOptions) (marathon.DeploymentResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	current := make(map[marathon.PathID]marathon.App, len(f.apps))
	for id, a := range f.apps {
		current[id] = a
	}
	put, remove, err := change(current)
	if err != nil {
		return marathon.DeploymentResult{}, err
	}
	if !opts.Force {
		var ids []string
		for _, a := range put {
			if d, ok := f.locked[a.ID]; ok {
				ids = append(ids, d)
			}
		}
		for _, id := range remove {
			if d, ok := f.locked[id]; ok {
				ids = append(ids, d)
			}
		}
		if len(ids) > 0 {
			return marathon.DeploymentResult{}, marathon.AppLocked(ids...)
		}
	}
	v := f.nextVersionLocked()
	for _, a := range put {
		f.storeLocked(a, v)
	}
	for _, id := range remove {
		delete(f.apps, id)
	}
	res := marathon.DeploymentResult{DeploymentID: fmt.Sprintf("dep-%d", f.seq), Version: v}
	f.deploys = append(f.deploys, deployCall{put: put, remove: remove, opts: opts, result: res})
	return res, nil
}

// DryRun plans the change against the apps without storing anything.
func (f *fakeBackend) DryRun(ctx context.Context, change scheduler.Change, opts scheduler.DeployOptions) ([]marathon.Step, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dryRuns++
	current := make(map[marathon.PathID]marathon.App, len(f.apps))
	for id, a := range f.apps {
		current[id] = a
	}
	put, remove, err := change(current)
	if err != nil {
		return nil, err
	}
	original := map[marathon.PathID]marathon.App{}
	target := map[marathon.PathID]marathon.App{}
	for _, a := range put {
		if old, ok := f.apps[a.ID]; ok {
			original[a.ID] = old
			a.Version, a.VersionInfo = old.Version, old.VersionInfo
		}
		target[a.ID] = a
	}
	for _, id := range remove {
		original[id] = f.apps[id]
	}
	d, changed, err := deployment.Plan(original, target, marathon.Timestamp{Time: f.now}, "dry")
	if err != nil || !changed {
		return nil, err
	}
	var steps []marathon.Step
	for _, st := range d.Steps {
		var out marathon.Step
		for _, a := range st.Actions {
			out.Actions = append(out.Actions, marathon.Action{Action: a.Type, App: a.AppID})
		}
		steps = append(steps, out)
	}
	return steps, nil
}

func (f *fakeBackend) KillTasks(ctx context.Context, ids []string, opts scheduler.KillOptions) (scheduler.KillResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kills = append(f.kills, killCall{ids: ids, opts: opts})
	if opts.Scale {
		f.seq++
		return scheduler.KillResult{Deployment: &marathon.DeploymentResult{
			DeploymentID: fmt.Sprintf("dep-%d", f.seq), Version: marathon.NewTimestamp(f.now)}}, nil
	}
	var res scheduler.KillResult
	for _, id := range ids {
		res.Tasks = append(res.Tasks, marathon.Task{ID: id, State: marathon.TaskKilling})
	}
	return res, nil
}

func (f *fakeBackend) CancelDeployment(ctx context.Context, id string, force bool) (*marathon.DeploymentResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, id)
	if force {
		return nil, nil
	}
	f.seq++
	return &marathon.DeploymentResult{DeploymentID: fmt.Sprintf("rollback-%d", f.seq), Version: marathon.NewTimestamp(f.now)}, nil
}

func (f *fakeBackend) ResetDelay(ctx context.Context, id marathon.PathID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, id)
	return nil
}

func (f *fakeBackend) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []marathon.Timestamp
	for _, a := range f.versions[id] {
		out = append(out, a.Version)
	}
	return out, nil
}

func (f *fakeBackend) AppVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (marathon.App, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.versions[id] {
		if a.Version.Equal(v.Time) {
			return a, true, nil
		}
	}
	return marathon.App{}, false, nil
}

func (f *fakeBackend) GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []marathon.Timestamp
	for _, g := range f.groups {
		if g.ID == id {
			out = append(out, g.Version)
		}
	}
	return out, nil
}

func (f *fakeBackend) GroupVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (state.Group, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.groups {
		if g.ID == id && g.Version.Equal(v.Time) {
			return g, true, nil
		}
	}
	return state.Group{}, false, nil
}

func (f *fakeBackend) lastDeploy() deployCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deploys) == 0 {
		return deployCall{}
	}
	return f.deploys[len(f.deploys)-1]
}
