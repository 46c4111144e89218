package scheduler

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/deployment"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// Deploy applies change to the apps as one deployment. It answers once the
// new app versions and the deployment are stored; the deployment then runs
// in the loop. Conflicting deployments give a 409 *marathon.Error unless
// opts.Force cancels them.
//
// Each call publishes group_change_success, or group_change_failed when
// it fails (but for 401 and 403), for opts.GroupID, as Marathon does for
// every change of its root group.
func (s *Scheduler) Deploy(ctx context.Context, change Change, opts DeployOptions) (marathon.DeploymentResult, error) {
	var (
		res     marathon.DeploymentResult
		changed []marathon.PathID
	)
	record := func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		put, remove, err := change(current)
		for _, a := range put {
			changed = append(changed, a.ID)
		}
		changed = append(changed, remove...)
		return put, remove, err
	}
	err := s.writeThen(ctx, func(ctx context.Context) (err error) {
		res, err = s.deploy(ctx, record, opts)
		return err
	}, func(err error) {
		s.publishGroupChange(opts.GroupID, changed, res.Version, err)
	})
	if err != nil {
		return marathon.DeploymentResult{}, err
	}
	return res, nil
}

// publishGroupChange publishes the outcome of a change of the apps under
// group (when empty, the nearest group that holds every changed app).
// Marathon publishes no event for a change refused for lack of rights.
func (s *Scheduler) publishGroupChange(group marathon.PathID, changed []marathon.PathID, version marathon.Timestamp, err error) {
	var me *marathon.Error
	if errors.As(err, &me) && (me.Status == http.StatusUnauthorized || me.Status == http.StatusForbidden) {
		return
	}
	if group == "" {
		group = commonGroup(changed)
	}
	now := s.cfg.Now()
	if version.IsZero() {
		version = marathon.NewTimestamp(now)
	}
	e := marathon.GroupChangeEvent{GroupID: group, Version: version, EventMeta: marathon.Meta(marathon.EventGroupChangeSuccess, now)}
	if err != nil {
		e.EventType, e.Reason = marathon.EventGroupChangeFailed, err.Error()
	}
	s.cfg.Events.Publish(e)
}

// commonGroup is the nearest group that holds every app of ids: the
// parent of a single app, the root when there is none.
func commonGroup(ids []marathon.PathID) marathon.PathID {
	if len(ids) == 0 {
		return marathon.RootID
	}
	common := ids[0].Parent().Segments()
	for _, id := range ids[1:] {
		segs := id.Parent().Segments()
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	return marathon.PathID("/" + strings.Join(common, "/"))
}

// DryRun returns the steps of the deployment that change would start,
// changing nothing: PUT /v2/groups?dryRun=true. No steps when nothing
// would change. Conflicts with running deployments are not checked, as
// in Marathon.
func (s *Scheduler) DryRun(ctx context.Context, change Change, opts DeployOptions) ([]marathon.Step, error) {
	var steps []marathon.Step
	var perr error
	err := s.do(ctx, func(context.Context) {
		var p prepared
		if p, perr = s.prepare(change, opts); perr != nil || !p.changed {
			return
		}
		for _, st := range p.d.Steps {
			steps = append(steps, stepOf(st))
		}
	})
	if err != nil {
		return nil, err
	}
	return steps, perr
}

// prepared is what a change would do, computed without touching the
// loop's state: the apps to store and remove, and the deployment.
type prepared struct {
	now       time.Time
	version   marathon.Timestamp
	requested []marathon.App
	remove    []marathon.PathID
	target    map[marathon.PathID]marathon.App
	settings  map[marathon.PathID]GroupSettings
	res       marathon.DeploymentResult
	// d is the deployment; changed is false when there is none.
	d       state.Deployment
	changed bool
}

// prepare applies change to a copy of the apps and plans the deployment;
// it changes nothing.
func (s *Scheduler) prepare(change Change, opts DeployOptions) (prepared, error) {
	st := s.st
	requested, remove, err := change(maps.Clone(st.apps))
	if err != nil {
		return prepared{}, err
	}
	if err := st.appsClashWithPods(requested); err != nil {
		return prepared{}, err
	}
	now := s.cfg.Now()
	version := opts.version
	if version.IsZero() {
		version = s.nextVersion(now, requested, remove)
	}
	original := map[marathon.PathID]marathon.App{}
	target := map[marathon.PathID]marathon.App{}
	// Service ports are handed out in the order of the request, each app
	// seeing the ports given to those before it (Marathon draws them from
	// one iterator), so apps of one group never share a port.
	assigned := slices.Clone(requested)
	for i := range assigned {
		s.assignServicePorts(&assigned[i], assigned)
	}
	for _, app := range assigned {
		old, existed := st.apps[app.ID]
		keep := opts.rollback && !app.Version.IsZero()
		if !keep {
			app.Version = version
		}
		upgrade := !existed || marathon.IsUpgrade(old, app)
		switch {
		case existed && !upgrade && !opts.Restart && old.Instances == app.Instances && (!keep || old.Version.Equal(app.Version.Time)):
			continue // nothing changed
		case keep:
			// The version's own VersionInfo stays.
		case existed && !upgrade && !opts.Restart:
			app.VersionInfo = &marathon.VersionInfo{LastScalingAt: version, LastConfigChangeAt: configChangeOf(old)}
		default:
			app.VersionInfo = &marathon.VersionInfo{LastScalingAt: version, LastConfigChangeAt: version}
		}
		if existed {
			original[app.ID] = old
		}
		target[app.ID] = app
	}
	for _, id := range remove {
		old, existed := st.apps[id]
		if !existed {
			return prepared{}, marathon.AppNotFound(id)
		}
		original[id] = old
	}
	id := opts.id
	if id == "" {
		id = newDeploymentID()
	}
	p := prepared{
		now: now, version: version, requested: requested, remove: remove, target: target,
		settings: map[marathon.PathID]GroupSettings{},
		res:      marathon.DeploymentResult{DeploymentID: id, Version: version},
	}
	for _, g := range opts.Groups {
		p.settings[g.ID] = g
	}
	if len(target) == 0 && len(remove) == 0 {
		return p, nil
	}
	deps := s.groupDependencies(p.settings)
	p.d, p.changed, err = deployment.Plan(withGroupDependencies(original, deps), withGroupDependencies(target, deps), version, id)
	if err != nil {
		return prepared{}, marathon.NotValid(marathon.Detail{Path: "/dependencies", Errors: []string{err.Error()}})
	}
	return p, nil
}

func (s *Scheduler) deploy(ctx context.Context, change Change, opts DeployOptions) (marathon.DeploymentResult, error) {
	st := s.st
	p, err := s.prepare(change, opts)
	if err != nil {
		return marathon.DeploymentResult{}, err
	}
	now, version, requested, remove, target, settings, res, d := p.now, p.version, p.requested, p.remove, p.target, p.settings, p.res, p.d
	if !p.changed {
		s.storeGroupSettings(ctx, settings, version)
		return res, nil
	}
	d.CreatedAt = now
	s.setDeadline(&d, target, now)
	running := derefDeployments(st.sortedDeployments())
	if conflicts := deployment.Conflicts(running, d); len(conflicts) > 0 {
		switch {
		case opts.Force:
			s.supersede(conflicts, d.ID, opts.rollback, now)
		case s.queues(opts):
			return s.enqueue(ctx, d, requested, remove, conflicts), nil
		default:
			return marathon.DeploymentResult{}, marathon.AppLocked(conflicts...)
		}
	}

	for appID, app := range target {
		if old, ok := st.apps[appID]; ok && st.byApp[appID] != nil {
			st.remember(old)
		}
		st.apps[appID] = app
		st.appIDsStale = true
		st.addRole(app.Role)
		st.change.PutApps = append(st.change.PutApps, app)
		delete(st.backoffs, appID)
		st.touch(appID)
	}
	for _, appID := range remove {
		delete(st.apps, appID)
		st.appIDsStale = true
		delete(st.backoffs, appID)
		st.touch(appID)
		st.change.DeleteApps = append(st.change.DeleteApps, appID)
		s.cfg.Events.Publish(marathon.AppTerminatedEvent{AppID: appID, EventMeta: marathon.Meta(marathon.EventAppTerminated, now)})
	}
	changedIDs := slices.Collect(maps.Keys(target))
	s.versionGroups(append(changedIDs, remove...), version, settings)
	st.deployments[d.ID] = &d
	s.counters.Deployments.Add(1)
	st.change.PutDeployments = append(st.change.PutDeployments, d)
	st.dirty = true
	s.cfg.Events.Publish(marathon.DeploymentInfoEvent{
		Plan: planOf(d), CurrentStep: currentStep(d), EventMeta: marathon.Meta(marathon.EventDeploymentInfo, now),
	})
	s.log.Info("deployment started", "deployment_id", d.ID, "apps", len(d.AffectedApps()))
	return res, nil
}

// queues reports whether a conflicting deployment waits instead of being
// refused.
func (s *Scheduler) queues(opts DeployOptions) bool {
	if opts.Queue != nil {
		return *opts.Queue
	}
	return s.cfg.QueueConflicting
}

// setDeadline gives d the progress deadline and rollback choice of its
// target apps (the longest deadline of those that set one), else the
// scheduler's.
func (s *Scheduler) setDeadline(d *state.Deployment, target map[marathon.PathID]marathon.App, now time.Time) {
	deadline, rollback := time.Duration(0), s.cfg.RollbackOnFailure
	for _, app := range target {
		deadline = max(deadline, time.Duration(app.UpgradeStrategy.ProgressDeadlineSeconds)*time.Second)
		if r := app.UpgradeStrategy.RollbackOnFailure; r != nil {
			rollback = *r
		}
	}
	if deadline == 0 {
		deadline = s.cfg.ProgressDeadline
	}
	d.ProgressDeadline, d.Rollback = deadline, rollback && deadline > 0
	d.Progress = noProgress
	if deadline > 0 {
		d.Deadline = now.Add(deadline)
	}
}

// noProgress is a deployment's progress before its first pass.
const noProgress = math.MinInt32

// supersede cancels the deployments a forced one conflicts with. A
// rollback leaves queued deployments queued, behind itself: what was
// asked after the failed deployment still comes after its rollback.
func (s *Scheduler) supersede(conflicts []string, by string, rollback bool, now time.Time) {
	for _, cid := range conflicts {
		c := s.st.deployments[cid]
		if c == nil {
			continue
		}
		if rollback && c.Queued() {
			c.WaitsFor = append(c.WaitsFor, by)
			s.st.change.PutDeployments = append(s.st.change.PutDeployments, *c)
			s.st.dirty = true
			continue
		}
		s.cancel(cid, "canceled by a forced deployment", now)
	}
}

// enqueue stores a deployment that waits for the running ones it
// conflicts with; its change is applied when they are gone
// (startQueued).
func (s *Scheduler) enqueue(ctx context.Context, d state.Deployment, put []marathon.App, remove []marathon.PathID, waitsFor []string) marathon.DeploymentResult {
	st := s.st
	d.WaitsFor = waitsFor
	d.Apps = put
	d.Remove = remove
	st.deployments[d.ID] = &d
	s.counters.Deployments.Add(1)
	st.change.PutDeployments = append(st.change.PutDeployments, d)
	st.dirty = true
	s.log.Info("deployment queued", "deployment_id", d.ID, "waits_for", waitsFor)
	return marathon.DeploymentResult{DeploymentID: d.ID, Version: d.Version}
}

// startQueued starts the queued deployments whose predecessors are gone,
// oldest first, planned again against the apps as they are now.
func (s *Scheduler) startQueued(ctx context.Context, now time.Time) {
	st := s.st
	for _, d := range st.sortedDeployments() {
		if !d.Queued() || slices.ContainsFunc(d.WaitsFor, func(id string) bool { return st.deployments[id] != nil }) {
			continue
		}
		q := *d
		delete(st.deployments, q.ID)
		st.change.DeleteDeployments = append(st.change.DeleteDeployments, q.ID)
		st.dirty = true
		change := func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
			return q.Apps, q.Remove, nil
		}
		_, err := s.deploy(ctx, change, DeployOptions{id: q.ID, version: q.Version, Queue: new(true)})
		if err != nil {
			s.log.Warn("queued deployment cannot start", "deployment_id", q.ID, "error", err)
			s.cfg.Events.Publish(marathon.DeploymentStatusEvent{
				ID: q.ID, Plan: planOf(q), Reason: err.Error(), EventMeta: marathon.Meta(marathon.EventDeploymentFailed, now),
			})
			continue
		}
		if st.deployments[q.ID] == nil {
			// Nothing left to change: done at once.
			s.cfg.Events.Publish(marathon.DeploymentStatusEvent{
				ID: q.ID, Plan: planOf(q), EventMeta: marathon.Meta(marathon.EventDeploymentSuccess, now),
			})
		}
	}
}

// nextVersion returns a version later than every version of the apps it
// touches, so that two changes within a millisecond stay ordered.
func (s *Scheduler) nextVersion(now time.Time, put []marathon.App, remove []marathon.PathID) marathon.Timestamp {
	v := marathon.NewTimestamp(now)
	ids := slices.Clone(remove)
	for _, a := range put {
		ids = append(ids, a.ID)
	}
	for _, id := range ids {
		if old, ok := s.st.apps[id]; ok && !old.Version.Time.Before(v.Time) {
			v = marathon.NewTimestamp(old.Version.Time.Add(time.Millisecond))
		}
	}
	return v
}

func configChangeOf(a marathon.App) marathon.Timestamp {
	if a.VersionInfo != nil && !a.VersionInfo.LastConfigChangeAt.IsZero() {
		return a.VersionInfo.LastConfigChangeAt
	}
	return a.Version
}

// cancel drops a running deployment without rolling it back.
func (s *Scheduler) cancel(id, reason string, now time.Time) {
	d := s.st.deployments[id]
	if d == nil {
		return
	}
	delete(s.st.deployments, id)
	s.st.change.DeleteDeployments = append(s.st.change.DeleteDeployments, id)
	s.st.dirty = true
	s.cfg.Events.Publish(marathon.DeploymentStatusEvent{
		ID: id, Plan: planOf(*d), Reason: reason, EventMeta: marathon.Meta(marathon.EventDeploymentFailed, now),
	})
}

// CancelDeployment stops a running deployment. With force it only stops;
// otherwise it starts a deployment back to the original versions and
// returns it.
func (s *Scheduler) CancelDeployment(ctx context.Context, id string, force bool) (*marathon.DeploymentResult, error) {
	var res *marathon.DeploymentResult
	rolledBack := false
	err := s.writeThen(ctx, func(ctx context.Context) error {
		d := s.st.deployments[id]
		if d == nil {
			return marathon.DeploymentNotFound(id)
		}
		now := s.cfg.Now()
		if force || d.Queued() {
			s.cancel(id, "canceled", now)
			return nil
		}
		rolledBack = true
		r, err := s.rollBack(ctx, *d, "rolled back", now)
		if err != nil {
			return err
		}
		res = &r
		return nil
	}, func(err error) {
		// Marathon's rollback is a change of the root group.
		if rolledBack {
			var version marathon.Timestamp
			if res != nil {
				version = res.Version
			}
			s.publishGroupChange(marathon.RootID, nil, version, err)
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// rollBack cancels d and starts a deployment back to the app versions d
// replaced, as they were: the instances that still run them stay, the
// others are replaced. Apps d created are removed. When an original
// version cannot be read, d is left running.
func (s *Scheduler) rollBack(ctx context.Context, d state.Deployment, reason string, now time.Time) (marathon.DeploymentResult, error) {
	var originals []marathon.App
	var removeIDs []marathon.PathID
	for _, appID := range d.AffectedApps() {
		v, had := d.Original[appID]
		if !had {
			if _, exists := s.st.apps[appID]; exists {
				removeIDs = append(removeIDs, appID)
			}
			continue
		}
		app, ok, err := s.cfg.Store.AppVersion(ctx, appID, v)
		if err != nil || !ok {
			return marathon.DeploymentResult{}, fmt.Errorf("load %s version %s for the rollback: %w", appID, v, err)
		}
		originals = append(originals, app)
	}
	s.cancel(d.ID, reason, now)
	rollback := func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return originals, removeIDs, nil
	}
	return s.deploy(ctx, rollback, DeployOptions{Force: true, rollback: true})
}

// KillTasks kills tasks by id. Without Scale their instances get new tasks;
// with Scale the apps' instance counts drop by the killed tasks, as a
// deployment; with Wipe the instances are forgotten and replaced.
func (s *Scheduler) KillTasks(ctx context.Context, taskIDs []string, opts KillOptions) (KillResult, error) {
	var res KillResult
	err := s.writeThen(ctx, func(ctx context.Context) (err error) {
		res, err = s.killTasks(ctx, taskIDs, opts)
		return err
	}, func(err error) {
		// A kill with scale is a change of the root group in Marathon,
		// made once every task is found.
		var me *marathon.Error
		if !opts.Scale || errors.As(err, &me) && me.Status == http.StatusNotFound {
			return
		}
		var version marathon.Timestamp
		if res.Deployment != nil {
			version = res.Deployment.Version
		}
		s.publishGroupChange(marathon.RootID, nil, version, err)
	})
	if err != nil {
		return KillResult{}, err
	}
	return res, nil
}

func (s *Scheduler) killTasks(ctx context.Context, taskIDs []string, opts KillOptions) (KillResult, error) {
	st := s.st
	now := s.cfg.Now()
	var victims []*state.Instance
	for _, tid := range taskIDs {
		inst := st.instances[st.byTask[tid]]
		if inst == nil || inst.TaskID != tid {
			return KillResult{}, marathon.TaskNotFound(tid)
		}
		victims = append(victims, inst)
	}
	var res KillResult
	for _, inst := range victims {
		res.Tasks = append(res.Tasks, TaskOf(st.apps[inst.AppID], *inst))
	}
	if opts.Scale {
		perApp := map[marathon.PathID]int{}
		for _, inst := range victims {
			perApp[inst.AppID]++
		}
		scale := func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
			var put []marathon.App
			for id, n := range perApp {
				app := current[id]
				app.Instances = max(0, app.Instances-n)
				put = append(put, app)
			}
			return put, nil, nil
		}
		r, err := s.deploy(ctx, scale, DeployOptions{Force: opts.Force})
		if err != nil {
			return KillResult{}, err
		}
		res.Deployment = &r
	}
	for _, inst := range victims {
		if opts.Scale || opts.Wipe {
			inst.Goal = state.GoalDecommissioned
			st.putInstance(inst)
		}
		if inst.State != "" && !inst.State.Terminal() {
			delete(st.kills, inst.TaskID)
			s.kill(inst.ID, inst.TaskID, inst.AgentID, "killed through the API", now)
		}
	}
	return res, nil
}

// ResetDelay ends an app's launch backoff.
func (s *Scheduler) ResetDelay(ctx context.Context, appID marathon.PathID) error {
	var err error
	doErr := s.do(ctx, func(context.Context) {
		if _, ok := s.st.apps[appID]; !ok {
			err = marathon.AppNotFound(appID)
			return
		}
		delete(s.st.backoffs, appID)
		s.st.touch(appID)
		s.st.dirty = true
	})
	if doErr != nil {
		return doErr
	}
	return err
}

// AppVersions lists an app's stored versions, oldest first.
func (s *Scheduler) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.cfg.Store.AppVersions(ctx, id)
}

// AppVersion returns one stored version of an app.
func (s *Scheduler) AppVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (marathon.App, bool, error) {
	return s.cfg.Store.AppVersion(ctx, id, v)
}

// planOf is the plan of a deployment as the events show it.
func planOf(d state.Deployment) marathon.DeploymentPlan {
	p := marathon.DeploymentPlan{ID: d.ID, Version: d.Version}
	for _, step := range d.Steps {
		p.Steps = append(p.Steps, stepOf(step))
	}
	return p
}

// currentStep is the deployment's current step; CurrentStep is 1-based as
// on Marathon's wire, 0 meaning the first.
func currentStep(d state.Deployment) marathon.Step {
	i := max(d.CurrentStep, 1) - 1
	if i >= len(d.Steps) {
		return marathon.Step{}
	}
	return stepOf(d.Steps[i])
}

func stepOf(step state.Step) marathon.Step {
	var out marathon.Step
	for _, a := range step.Actions {
		out.Actions = append(out.Actions, marathon.Action{Action: a.Type, App: a.AppID})
	}
	return out
}

func newDeploymentID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// TaskOf renders an instance's task as the /v2 API shows it.
func TaskOf(app marathon.App, inst state.Instance) marathon.Task {
	t := marathon.Task{
		ID:          inst.TaskID,
		AppID:       inst.AppID,
		Host:        inst.Hostname,
		IPAddresses: ipAddrs(inst.IPAddresses),
		SlaveID:     inst.AgentID,
		State:       marathon.TaskState(inst.State),
		Role:        taskRole(app, inst),
	}
	if inst.State != "" && !inst.State.Terminal() {
		t.Ports = inst.HostPorts
		for _, p := range app.ServicePorts() {
			t.ServicePorts = append(t.ServicePorts, uint32(p))
		}
		t.StagedAt = marathon.NewTimestamp(inst.StagedAt)
		if !inst.StartedAt.IsZero() {
			t.StartedAt = marathon.NewTimestamp(inst.StartedAt)
		}
		t.Version = inst.AppVersion
	}
	if !inst.UnknownSince.IsZero() {
		t.UnknownSince = marathon.NewTimestamp(inst.UnknownSince)
	}
	return t
}

// The range Marathon assigns service ports from (--local_port_min and
// --local_port_max).
const (
	servicePortMin = 10000
	servicePortMax = 20000
)

// assignServicePorts gives every service port 0 of app a port of the range
// that no other app uses: the one the app had before when it is free, else
// the lowest free one. It copies what it changes, since app shares its
// slices with the loop's current apps.
func (s *Scheduler) assignServicePorts(app *marathon.App, batch []marathon.App) {
	used := map[int]bool{}
	for id, other := range s.st.apps {
		if id != app.ID {
			for _, p := range other.ServicePorts() {
				used[p] = true
			}
		}
	}
	for _, other := range batch {
		if other.ID != app.ID {
			for _, p := range other.ServicePorts() {
				used[p] = true
			}
		}
	}
	for _, p := range app.ServicePorts() {
		used[p] = true
	}
	var previous []int
	if old, ok := s.st.apps[app.ID]; ok {
		previous = old.ServicePorts()
	}
	next := servicePortMin
	pick := func(i int) int {
		if i < len(previous) && previous[i] != 0 && !used[previous[i]] {
			used[previous[i]] = true
			return previous[i]
		}
		for ; next <= servicePortMax; next++ {
			if !used[next] {
				used[next] = true
				return next
			}
		}
		return 0 // the range is exhausted; the port stays unassigned
	}
	if app.IsHostNetworking() {
		app.PortDefinitions = slices.Clone(app.PortDefinitions)
		for i := range app.PortDefinitions {
			if app.PortDefinitions[i].Port == 0 && !app.RequirePorts {
				app.PortDefinitions[i].Port = pick(i)
			}
		}
		return
	}
	if app.Container == nil {
		return
	}
	c := *app.Container
	c.PortMappings = slices.Clone(c.PortMappings)
	for i := range c.PortMappings {
		if c.PortMappings[i].ServicePort == 0 {
			c.PortMappings[i].ServicePort = pick(i)
		}
	}
	app.Container = &c
}

// GroupVersions lists a group's stored versions, oldest first.
func (s *Scheduler) GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.cfg.Store.GroupVersions(ctx, id)
}

// GroupVersion returns one stored version of a group, with every app of
// its subtree in Apps (resolveGroup).
func (s *Scheduler) GroupVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (state.Group, bool, error) {
	return resolveGroup(ctx, s.cfg.Store, id, v)
}

// versionGroups stores a new version of every group above the changed apps
// and of every group whose settings are given (and of the groups above
// those). A version holds references only, so that its size is what the
// group holds directly, not its whole subtree: the version of each app
// directly in the group, and the version of each group directly below it
// (resolveGroup follows them). PUT /v2/groups/{id} {"version": v}
// restores the group from them. A group left without apps is removed (the
// root group never is).
func (s *Scheduler) versionGroups(changed []marathon.PathID, version marathon.Timestamp, settings map[marathon.PathID]GroupSettings) {
	st := s.st
	groups := map[marathon.PathID]bool{marathon.RootID: true}
	for id := range settings {
		for g := id; g != marathon.RootID; g = parentOf(g) {
			groups[g] = true
		}
	}
	for _, id := range changed {
		for g := parentOf(id); g != marathon.RootID; g = parentOf(g) {
			groups[g] = true
		}
	}
	tree := childrenOf(st.apps)
	// A group below a versioned one without a stored record (stored by
	// an older Stadion, which kept whole subtrees) gets one now, so that
	// its parent can refer to it.
	for g := range groups {
		for sub := range tree.groups[g] {
			if _, ok := st.groups[sub]; !ok {
				groups[sub] = true
			}
		}
	}
	order := slices.Collect(maps.Keys(groups))
	// Deepest first: a group refers to the new versions of those below.
	slices.SortFunc(order, func(a, b marathon.PathID) int {
		if c := cmp.Compare(depthOf(b), depthOf(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, g := range order {
		apps, subs := tree.apps[g], tree.groups[g]
		if len(apps) == 0 && len(subs) == 0 && g != marathon.RootID {
			if _, ok := st.groups[g]; ok {
				delete(st.groups, g)
				st.change.DeleteGroups = append(st.change.DeleteGroups, g)
			}
			s.dropBuckets(g)
			continue
		}
		prev := st.groups[g]
		next := state.Group{ID: g, Version: version, Dependencies: prev.Dependencies, EnforceRole: prev.EnforceRole, Apps: apps}
		// Once in buckets, always: the buckets stay current.
		inBuckets := len(apps) > bucketAbove || st.hasBuckets(g)
		if len(subs) > 0 || inBuckets {
			next.Groups = make(map[marathon.PathID]marathon.Timestamp, len(subs))
			for sub := range subs {
				next.Groups[sub] = st.groups[sub].Version
			}
		}
		if inBuckets {
			next.Apps = nil
			s.versionBuckets(g, apps, version, next.Groups)
		}
		if set, ok := settings[g]; ok {
			next.Dependencies, next.EnforceRole = slices.Clone(set.Dependencies), set.EnforceRole
		}
		st.groups[g] = next
		st.change.PutGroups = append(st.change.PutGroups, next)
	}
}

// A group with more than bucketAbove apps of its own keeps their
// references in buckets, buckets of them: each bucket is stored as a
// record of its own (a hidden group below the group, whose name starts
// with a dot, which no Marathon id can), and the group's version refers to
// the buckets' versions. A write of one app stores its bucket and the
// group's list of buckets, not a reference to every app of a flat group
// (10,000 apps in the root group made each write store 10,000
// references).
const (
	bucketAbove = 64
	buckets     = 64
)

// bucketOf returns the id of the bucket of app in group g.
func bucketOf(g, app marathon.PathID) marathon.PathID {
	h := fnv.New32a()
	h.Write([]byte(app))
	return bucketID(g, int(h.Sum32()%buckets))
}

func bucketID(g marathon.PathID, i int) marathon.PathID {
	name := fmt.Sprintf(".apps-%02d", i)
	if g == marathon.RootID {
		return marathon.PathID("/" + name)
	}
	return g + "/" + marathon.PathID(name)
}

// isBucket reports whether a stored group record is a bucket.
func isBucket(id marathon.PathID) bool {
	return strings.HasPrefix(string(id[strings.LastIndexByte(string(id), '/')+1:]), ".")
}

// versionBuckets stores a new version of each bucket of group g whose apps
// changed and refers to every bucket's version in refs.
func (s *Scheduler) versionBuckets(g marathon.PathID, apps map[marathon.PathID]marathon.Timestamp, version marathon.Timestamp, refs map[marathon.PathID]marathon.Timestamp) {
	st := s.st
	split := map[marathon.PathID]map[marathon.PathID]marathon.Timestamp{}
	for id, v := range apps {
		b := bucketOf(g, id)
		if split[b] == nil {
			split[b] = map[marathon.PathID]marathon.Timestamp{}
		}
		split[b][id] = v
	}
	for i := range buckets {
		b := bucketID(g, i)
		in := split[b]
		prev, ok := st.buckets[b]
		if !ok && len(in) == 0 {
			continue
		}
		if !ok || !maps.Equal(prev.Apps, in) {
			// A bucket left empty is stored empty: its current version
			// names no app that is gone.
			prev = state.Group{ID: b, Version: version, Apps: in}
			st.buckets[b] = prev
			st.change.PutGroups = append(st.change.PutGroups, prev)
		}
		if len(in) > 0 {
			refs[b] = prev.Version
		}
	}
}

// hasBuckets reports whether group g keeps its apps in buckets.
func (st *loopState) hasBuckets(g marathon.PathID) bool {
	for i := range buckets {
		if _, ok := st.buckets[bucketID(g, i)]; ok {
			return true
		}
	}
	return false
}

// dropBuckets deletes the buckets of a group that is removed.
func (s *Scheduler) dropBuckets(g marathon.PathID) {
	for i := range buckets {
		b := bucketID(g, i)
		if _, ok := s.st.buckets[b]; ok {
			delete(s.st.buckets, b)
			s.st.change.DeleteGroups = append(s.st.change.DeleteGroups, b)
		}
	}
}

// groupTree is the direct children of every group, as the app ids make it.
type groupTree struct {
	apps   map[marathon.PathID]map[marathon.PathID]marathon.Timestamp
	groups map[marathon.PathID]map[marathon.PathID]bool
}

// childrenOf indexes apps by the group they are directly in, and groups by
// the group directly above them.
func childrenOf(apps map[marathon.PathID]marathon.App) groupTree {
	t := groupTree{apps: map[marathon.PathID]map[marathon.PathID]marathon.Timestamp{}, groups: map[marathon.PathID]map[marathon.PathID]bool{}}
	for id, app := range apps {
		g := parentOf(id)
		if t.apps[g] == nil {
			t.apps[g] = map[marathon.PathID]marathon.Timestamp{}
		}
		t.apps[g][id] = app.Version
		for child := g; child != marathon.RootID; child = parentOf(child) {
			up := parentOf(child)
			if t.groups[up][child] {
				break // the rest of the way up is indexed already
			}
			if t.groups[up] == nil {
				t.groups[up] = map[marathon.PathID]bool{}
			}
			t.groups[up][child] = true
		}
	}
	return t
}

// parentOf is PathID.Parent for canonical ids, without allocating.
func parentOf(id marathon.PathID) marathon.PathID {
	i := strings.LastIndexByte(string(id), '/')
	if i <= 0 {
		return marathon.RootID
	}
	return id[:i]
}

// depthOf is the number of segments of a canonical id: 0 for the root.
func depthOf(id marathon.PathID) int {
	if id == marathon.RootID {
		return 0
	}
	return strings.Count(string(id), "/")
}

// resolveGroup returns a stored group version with every app of its
// subtree in Apps, following the versions of the groups below it; ok is
// false when a version it refers to is not stored (any more).
func resolveGroup(ctx context.Context, store state.Store, id marathon.PathID, v marathon.Timestamp) (state.Group, bool, error) {
	g, ok, err := store.GroupVersion(ctx, id, v)
	if err != nil || !ok || len(g.Groups) == 0 {
		return g, ok, err
	}
	apps := maps.Clone(g.Apps)
	if apps == nil {
		apps = map[marathon.PathID]marathon.Timestamp{}
	}
	for sub, sv := range g.Groups {
		if !sub.IsChildOf(id) {
			return state.Group{}, false, fmt.Errorf("group %s version %s refers to %s, which is not below it", id, v, sub)
		}
		below, ok, err := resolveGroup(ctx, store, sub, sv)
		if err != nil || !ok {
			return state.Group{}, ok, err
		}
		maps.Copy(apps, below.Apps)
	}
	g.Apps, g.Groups = apps, nil
	return g, true, nil
}

// storeGroupSettings stores settings that came without any app change.
func (s *Scheduler) storeGroupSettings(ctx context.Context, settings map[marathon.PathID]GroupSettings, version marathon.Timestamp) {
	changed := map[marathon.PathID]GroupSettings{}
	for id, set := range settings {
		prev, ok := s.st.groups[id]
		if !ok || !slices.Equal(prev.Dependencies, set.Dependencies) || prev.EnforceRole != set.EnforceRole {
			changed[id] = set
		}
	}
	if len(changed) == 0 {
		return
	}
	s.versionGroups(nil, version, changed)
	s.st.dirty = true
}

// groupDependencies returns the dependencies of every group: the given
// settings, else the stored ones.
func (s *Scheduler) groupDependencies(settings map[marathon.PathID]GroupSettings) map[marathon.PathID][]marathon.PathID {
	deps := map[marathon.PathID][]marathon.PathID{}
	for id, g := range s.st.groups {
		if len(g.Dependencies) > 0 {
			deps[id] = g.Dependencies
		}
	}
	for id, set := range settings {
		deps[id] = set.Dependencies
	}
	return deps
}

// withGroupDependencies returns apps whose dependencies include those of
// every group above them, for planning only: a group's dependencies order
// the deployment of every app below it, as in Marathon.
func withGroupDependencies(apps map[marathon.PathID]marathon.App, groupDeps map[marathon.PathID][]marathon.PathID) map[marathon.PathID]marathon.App {
	if len(groupDeps) == 0 {
		return apps
	}
	out := make(map[marathon.PathID]marathon.App, len(apps))
	for id, app := range apps {
		var extra []marathon.PathID
		for g := id.Parent(); ; g = g.Parent() {
			for _, dep := range groupDeps[g] {
				// A group depending on a group above or at the app
				// says nothing about the app itself.
				if dep != id && !id.IsChildOf(dep) {
					extra = append(extra, dep)
				}
			}
			if g == marathon.RootID {
				break
			}
		}
		if len(extra) > 0 {
			app.Dependencies = append(slices.Clone(app.Dependencies), extra...)
		}
		out[id] = app
	}
	return out
}
