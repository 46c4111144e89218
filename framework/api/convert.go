package api

import (
	"net"
	"sort"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/health"
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
func isTask(in *state.Instance) bool {
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
func taskState(in *state.Instance) marathon.TaskState {
	if in.State == "" {
		return marathon.TaskStaging
	}
	return marathon.TaskState(in.State)
}

// taskBuf converts instances to tasks with as few allocations as it can:
// the tasks it returns share its buffers (and the instances' host ports),
// and stay valid until its next use. The zero taskBuf is ready.
type taskBuf struct {
	tasks        []marathon.Task
	ips          []marathon.IPAddr
	health       []marathon.HealthCheckResult
	servicePorts []uint32
	deployments  []marathon.DeploymentRef
}

// tasksOf lists the tasks of an app; [] when it has none.
func (b *taskBuf) tasksOf(av *scheduler.AppView) []marathon.Task {
	b.tasks, b.ips, b.health = b.tasks[:0], b.ips[:0], b.health[:0]
	if b.tasks == nil {
		b.tasks = []marathon.Task{}
	}
	b.servicePorts = servicePorts(b.servicePorts[:0], &av.App)
	for i := range av.Instances {
		if in := &av.Instances[i]; isTask(in) {
			b.tasks = append(b.tasks, b.task(&av.App, in))
		}
	}
	return b.tasks
}

// task converts an instance that is a task (isTask); b.servicePorts must
// hold app's service ports.
func (b *taskBuf) task(app *marathon.App, in *state.Instance) marathon.Task {
	t := marathon.Task{
		ID:      in.TaskID,
		AppID:   in.AppID,
		Host:    in.Hostname,
		Ports:   in.HostPorts,
		SlaveID: in.AgentID,
		State:   taskState(in),
		Version: in.AppVersion,
	}
	n := len(b.ips)
	b.ips = appendIPAddresses(b.ips, in.IPAddresses)
	t.IPAddresses = b.ips[n:len(b.ips):len(b.ips)]
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
	if len(b.servicePorts) > 0 {
		t.ServicePorts = b.servicePorts[:len(b.servicePorts):len(b.servicePorts)]
	}
	// The role Mesos applied; tasks launched before it was recorded show
	// their app's.
	t.Role = in.Role
	if t.Role == "" {
		t.Role = app.Role
	}
	if !in.UnknownSince.IsZero() {
		t.UnknownSince = marathon.NewTimestamp(in.UnknownSince)
	}
	if len(app.HealthChecks) > 0 && (in.Healthy != nil || len(in.Health) > 0) {
		n := len(b.health)
		b.health = appendHealthResults(b.health, app, in)
		t.HealthCheckResults = b.health[n:len(b.health):len(b.health)]
	}
	return t
}

// release drops the buffers' references into a View, so that a pooled
// taskBuf keeps no instance data alive.
func (b *taskBuf) release() {
	clear(b.tasks[:cap(b.tasks)])
	clear(b.ips[:cap(b.ips)])
	clear(b.health[:cap(b.health)])
	clear(b.deployments[:cap(b.deployments)])
}

// servicePorts appends app.ServicePorts() as the tasks carry them.
func servicePorts(dst []uint32, app *marathon.App) []uint32 {
	for _, p := range app.ServicePorts() {
		dst = append(dst, uint32(p))
	}
	return dst
}

// appendHealthResults appends one result per health check of the app that
// has one, as Marathon lists them: alive, the consecutive failures and the
// times of the first and last success and of the last failure.
// Instances stored before results were kept per check (only Healthy is
// known) get one result per check, without times.
func appendHealthResults(dst []marathon.HealthCheckResult, app *marathon.App, in *state.Instance) []marathon.HealthCheckResult {
	if len(in.Health) == 0 {
		for range app.HealthChecks {
			r := marathon.HealthCheckResult{Alive: *in.Healthy, InstanceID: in.ID}
			if !*in.Healthy {
				r.ConsecutiveFailures = 1
			}
			dst = append(dst, r)
		}
		return dst
	}
	for _, h := range in.Health {
		if h.Known() {
			dst = append(dst, health.State(h).Result(in.ID))
		}
	}
	return dst
}

func appendIPAddresses(dst []marathon.IPAddr, ips []string) []marathon.IPAddr {
	for _, s := range ips {
		p := marathon.IPv4
		// Only an address with a colon can parse as IPv6; net.ParseIP
		// allocates, and most addresses are IPv4.
		if strings.IndexByte(s, ':') >= 0 {
			if ip := net.ParseIP(s); ip != nil && ip.To4() == nil {
				p = marathon.IPv6
			}
		}
		dst = append(dst, marathon.IPAddr{IPAddress: s, Protocol: p})
	}
	return dst
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
	for i := range av.Instances {
		in := &av.Instances[i]
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
	var b taskBuf
	return s.appInfoBuf(v, av, e, &b)
}

// appInfoBuf is appInfo with the tasks and deployments in b's buffers:
// the AppInfo is valid until b's next use.
func (s *server) appInfoBuf(v *scheduler.View, av *scheduler.AppView, e appEmbed, b *taskBuf) marathon.AppInfo {
	c := s.defs.counts(av)
	info := marathon.AppInfo{
		App:            av.App,
		TasksStaged:    c.Staged,
		TasksRunning:   c.Running,
		TasksHealthy:   c.Healthy,
		TasksUnhealthy: c.Unhealthy,
	}
	b.deployments = b.deployments[:0]
	if b.deployments == nil {
		b.deployments = []marathon.DeploymentRef{}
	}
	for _, id := range av.Deployments {
		b.deployments = append(b.deployments, marathon.DeploymentRef{ID: id})
	}
	info.Deployments = b.deployments
	if e.tasks {
		info.Tasks = b.tasksOf(av)
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
// outdated config, and of all tasks. Groups without tasks are omitted, so
// an app without tasks has an empty object.
func (s *server) taskStats(av *scheduler.AppView) *marathon.TasksStats {
	var lastScaling, lastConfig time.Time
	if vi := av.App.VersionInfo; vi != nil {
		lastScaling, lastConfig = vi.LastScalingAt.Time, vi.LastConfigChangeAt.Time
	} else {
		lastScaling, lastConfig = av.App.Version.Time, av.App.Version.Time
	}
	var afterScaling, latest, outdated, total []state.Instance
	for _, in := range av.Instances {
		if !isTask(&in) {
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
		// Marathon writes the object, without any group.
		return &marathon.TasksStats{}
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
