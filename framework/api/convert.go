package api

import (
	"net"
	"slices"
	"sort"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// isTask reports whether an instance shows as a task: it has been launched
// and its task is not terminal. Scheduled instances (no task yet) and
// instances whose task ended and that wait for a relaunch or expunge are
// not tasks, as in Marathon's task list. TASK_LOST, TASK_UNREACHABLE and
// TASK_KILLING still are (marathon-lb keeps lost and unreachable tasks).
func isTask(in state.Instance) bool {
	if in.TaskID == "" {
		return false
	}
	switch in.State {
	case mesos.TaskFinished, mesos.TaskFailed, mesos.TaskKilled, mesos.TaskError,
		mesos.TaskDropped, mesos.TaskGone, mesos.TaskGoneByOperator, mesos.TaskUnknown:
		return false
	}
	return true
}

// taskState is the instance's task state; a launched task without a
// status yet is staging.
func taskState(in state.Instance) marathon.TaskState {
	if in.State == "" {
		return marathon.TaskStaging
	}
	return marathon.TaskState(in.State)
}

// taskOf converts an instance to the task JSON; ok is false when the
// instance is no task (isTask).
func taskOf(app *marathon.App, in state.Instance) (marathon.Task, bool) {
	if !isTask(in) {
		return marathon.Task{}, false
	}
	t := marathon.Task{
		ID:          in.TaskID,
		AppID:       in.AppID,
		Host:        in.Hostname,
		IPAddresses: ipAddresses(in.IPAddresses),
		Ports:       slices.Clone(in.HostPorts),
		SlaveID:     in.AgentID,
		State:       taskState(in),
		Version:     in.AppVersion,
	}
	if t.Ports == nil {
		t.Ports = []uint32{}
	}
	staged := in.StagedAt
	if staged.IsZero() {
		staged = in.LaunchedAt
	}
	if staged.IsZero() {
		// Launched before we recorded times: a task is active, and only
		// active tasks carry their launch fields.
		staged = in.AppVersion.Time
	}
	t.StagedAt = marathon.NewTimestamp(staged)
	if !in.StartedAt.IsZero() {
		t.StartedAt = marathon.NewTimestamp(in.StartedAt)
	}
	if app != nil {
		for _, p := range app.ServicePorts() {
			t.ServicePorts = append(t.ServicePorts, uint32(p))
		}
		t.Role = app.Role
		t.HealthCheckResults = healthResults(app, in)
	}
	return t, true
}

// healthResults reports the instance's health once per health check of
// the app, so that consumers that want one alive result per check
// (marathon-registrator, marathon-consul) see a complete set. The store
// keeps one aggregated result per instance; the per-check timestamps are
// not kept and are written as null. Absent until a result is known, as
// in Marathon.
func healthResults(app *marathon.App, in state.Instance) []marathon.HealthCheckResult {
	if len(app.HealthChecks) == 0 || in.Healthy == nil {
		return nil
	}
	out := make([]marathon.HealthCheckResult, len(app.HealthChecks))
	for i := range out {
		r := marathon.HealthCheckResult{Alive: *in.Healthy, InstanceID: in.ID}
		if !*in.Healthy {
			r.ConsecutiveFailures = 1
		}
		out[i] = r
	}
	return out
}

func ipAddresses(ips []string) []marathon.IPAddr {
	out := make([]marathon.IPAddr, 0, len(ips))
	for _, s := range ips {
		p := marathon.IPv4
		if ip := net.ParseIP(s); ip != nil && ip.To4() == nil {
			p = marathon.IPv6
		}
		out = append(out, marathon.IPAddr{IPAddress: s, Protocol: p})
	}
	return out
}

// tasksOf lists the tasks of an app.
func tasksOf(av *scheduler.AppView) []marathon.Task {
	out := []marathon.Task{}
	for _, in := range av.Instances {
		if t, ok := taskOf(&av.App, in); ok {
			out = append(out, t)
		}
	}
	return out
}

// appEmbed says which runtime fields an AppInfo carries. Counts and
// deployments are always written (marathon.AppInfo).
type appEmbed struct {
	tasks, readiness, lastTaskFailure, taskStats bool
}

// counts returns the task counts of an app as Marathon counts them:
// staged are launched tasks not yet running (staging or starting), running
// are TASK_RUNNING, and healthy and unhealthy count tasks with a known
// health result (so both stay 0 for apps without health checks).
func counts(av *scheduler.AppView) marathon.TaskCounts {
	var c marathon.TaskCounts
	for _, in := range av.Instances {
		if !isTask(in) {
			continue
		}
		switch taskState(in) {
		case marathon.TaskStaging, marathon.TaskStarting:
			c.Staged++
		case marathon.TaskRunning:
			c.Running++
		}
		if len(av.App.HealthChecks) > 0 && in.Healthy != nil {
			if *in.Healthy {
				c.Healthy++
			} else {
				c.Unhealthy++
			}
		}
	}
	return c
}

// appInfo builds the AppInfo of an app with the embeds asked for.
func (s *server) appInfo(v *scheduler.View, av *scheduler.AppView, e appEmbed) marathon.AppInfo {
	c := counts(av)
	info := marathon.AppInfo{
		App:            av.App,
		TasksStaged:    c.Staged,
		TasksRunning:   c.Running,
		TasksHealthy:   c.Healthy,
		TasksUnhealthy: c.Unhealthy,
		Deployments:    make([]marathon.DeploymentRef, 0, len(av.Deployments)),
	}
	for _, id := range av.Deployments {
		info.Deployments = append(info.Deployments, marathon.DeploymentRef{ID: id})
	}
	if e.tasks {
		info.Tasks = tasksOf(av)
	}
	if e.readiness {
		info.ReadinessCheckResults = readinessOf(v, av.App.ID)
	}
	if e.lastTaskFailure {
		info.LastTaskFailure = av.LastTaskFailure
	}
	if e.taskStats {
		info.TasksStats = s.taskStats(av)
	}
	return info
}

// readinessOf collects the readiness results of the app's current
// deployment actions; [] when there are none.
func readinessOf(v *scheduler.View, id marathon.PathID) []marathon.ReadinessCheckResult {
	out := []marathon.ReadinessCheckResult{}
	for _, d := range v.Deployments {
		for _, a := range d.CurrentActions {
			if a.AppID == id {
				out = append(out, a.ReadinessCheckResults...)
			}
		}
	}
	return out
}

// taskStats computes embed=apps.taskStats: counts and life times of the
// tasks started after the last scaling, with the latest config, with an
// outdated config, and of all tasks. Groups without tasks are omitted;
// nil when the app has no task.
func (s *server) taskStats(av *scheduler.AppView) *marathon.TasksStats {
	var lastScaling, lastConfig time.Time
	if vi := av.App.VersionInfo; vi != nil {
		lastScaling, lastConfig = vi.LastScalingAt.Time, vi.LastConfigChangeAt.Time
	} else {
		lastScaling, lastConfig = av.App.Version.Time, av.App.Version.Time
	}
	var afterScaling, latest, outdated, total []state.Instance
	for _, in := range av.Instances {
		if !isTask(in) {
			continue
		}
		total = append(total, in)
		staged := in.StagedAt
		if staged.IsZero() {
			staged = in.LaunchedAt
		}
		if !staged.Before(lastScaling) {
			afterScaling = append(afterScaling, in)
		}
		if in.AppVersion.Before(lastConfig) {
			outdated = append(outdated, in)
		} else {
			latest = append(latest, in)
		}
	}
	if len(total) == 0 {
		return nil
	}
	return &marathon.TasksStats{
		StartedAfterLastScaling: s.statsGroup(av, afterScaling),
		WithLatestConfig:        s.statsGroup(av, latest),
		WithOutdatedConfig:      s.statsGroup(av, outdated),
		TotalSummary:            s.statsGroup(av, total),
	}
}

func (s *server) statsGroup(av *scheduler.AppView, ins []state.Instance) *marathon.TaskStatsGroup {
	if len(ins) == 0 {
		return nil
	}
	sub := *av
	sub.Instances = ins
	g := &marathon.TaskStatsGroup{Stats: marathon.TaskStats{Counts: counts(&sub)}}
	var lives []float64
	for _, in := range ins {
		if !in.StartedAt.IsZero() {
			lives = append(lives, s.since(in.StartedAt))
		}
	}
	if len(lives) > 0 {
		sort.Float64s(lives)
		var sum float64
		for _, l := range lives {
			sum += l
		}
		median := lives[len(lives)/2]
		if len(lives)%2 == 0 {
			median = (lives[len(lives)/2-1] + lives[len(lives)/2]) / 2
		}
		g.Stats.LifeTime = &marathon.TaskLifeTime{AverageSeconds: sum / float64(len(lives)), MedianSeconds: median}
	}
	return g
}

// deploymentOf converts a running deployment to GET /v2/deployments'
// entry. currentStep is 1-based, as Marathon's.
func deploymentOf(d scheduler.DeploymentView) marathon.Deployment {
	out := marathon.Deployment{
		ID:           d.ID,
		Version:      d.Version,
		AffectedApps: d.AffectedApps(),
		TotalSteps:   len(d.Steps),
	}
	for _, st := range d.Steps {
		out.Steps = append(out.Steps, stepOf(st))
	}
	for _, a := range d.CurrentActions {
		out.CurrentActions = append(out.CurrentActions, marathon.CurrentAction{
			Action: a.Type, App: a.AppID, ReadinessCheckResults: a.ReadinessCheckResults,
		})
	}
	out.CurrentStep = min(max(d.CurrentStep, 1), len(d.Steps))
	return out
}

func stepOf(st state.Step) marathon.Step {
	s := marathon.Step{Actions: make([]marathon.Action, 0, len(st.Actions))}
	for _, a := range st.Actions {
		s.Actions = append(s.Actions, marathon.Action{Action: a.Type, App: a.AppID})
	}
	return s
}
