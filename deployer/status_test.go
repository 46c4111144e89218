package deployer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// ver is the version n seconds after t0.
func ver(n int) marathon.Timestamp {
	return marathon.NewTimestamp(t0.Add(time.Duration(n) * time.Second))
}

// appAt builds an app at version v whose config changed at config, with
// instances and tasks.
func appAt(v, config marathon.Timestamp, instances, checks int, tasks ...marathon.Task) *marathon.AppInfo {
	a := &marathon.AppInfo{App: marathon.NewApp("/web")}
	a.Version, a.Instances = v, instances
	a.VersionInfo = &marathon.VersionInfo{LastScalingAt: v, LastConfigChangeAt: config}
	for range checks {
		a.HealthChecks = append(a.HealthChecks, marathon.HealthCheck{Protocol: marathon.ProtocolMesosHTTP})
	}
	a.Tasks = tasks
	return a
}

// task builds a task of version v in state st with health results.
func task(v marathon.Timestamp, st marathon.TaskState, alive ...bool) marathon.Task {
	t := marathon.Task{ID: "web." + string(st), State: st, Version: v, StagedAt: v}
	for _, a := range alive {
		t.HealthCheckResults = append(t.HealthCheckResults, marathon.HealthCheckResult{Alive: a})
	}
	return t
}

func dep(id string, step, total int, actions ...marathon.DeploymentAction) *marathon.Deployment {
	d := &marathon.Deployment{ID: id, CurrentStep: step, TotalSteps: total}
	for _, a := range actions {
		d.CurrentActions = append(d.CurrentActions, marathon.CurrentAction{Action: a, App: "/web"})
	}
	return d
}

func TestAssess(t *testing.T) {
	forward := target{appID: "/web", deploymentID: "d1", version: ver(10)}
	removal := forward
	removal.removal = true
	restore := forward
	restore.restores = ver(5)
	running, staging, killing := marathon.TaskRunning, marathon.TaskStaging, marathon.TaskKilling
	tests := []struct {
		name    string
		target  target
		seen    bool // the deployment was listed before
		dep     *marathon.Deployment
		app     *marathon.AppInfo
		done    bool
		failed  error
		summary string
	}{
		{name: "deployment listed", target: forward, dep: dep("d1", 1, 1, marathon.RestartApplication),
			app:     appAt(ver(10), ver(10), 2, 1, task(ver(10), running, true), task(ver(10), staging), task(ver(0), running, true)),
			summary: "1/2 healthy, 1 running, 1 staging, 1 old; step 1/1 RestartApplication"},
		{name: "listed even when healthy", target: forward, dep: dep("d1", 1, 1, marathon.RestartApplication),
			app:     appAt(ver(10), ver(10), 1, 1, task(ver(10), running, true)),
			summary: "1/1 healthy, 1 running; step 1/1 RestartApplication"},
		{name: "ended, all healthy", target: forward,
			app:  appAt(ver(10), ver(10), 2, 1, task(ver(10), running, true), task(ver(10), running, true)),
			done: true, summary: "2/2 healthy, 2 running"},
		{name: "ended, one unhealthy", target: forward,
			app:     appAt(ver(10), ver(10), 2, 1, task(ver(10), running, true), task(ver(10), running, false)),
			summary: "1/2 healthy, 2 running; deployment ended"},
		{name: "results missing for a check", target: forward,
			app:     appAt(ver(10), ver(10), 1, 2, task(ver(10), running, true)),
			summary: "0/1 healthy, 1 running; deployment ended"},
		{name: "no checks: running is enough", target: forward,
			app:  appAt(ver(10), ver(10), 2, 0, task(ver(10), running), task(ver(10), running)),
			done: true, summary: "2/2 running"},
		{name: "scale keeps older tasks of the same config", target: forward,
			app:  appAt(ver(10), ver(3), 2, 1, task(ver(3), running, true), task(ver(10), running, true)),
			done: true, summary: "2/2 healthy, 2 running"},
		{name: "old task left", target: forward,
			app:     appAt(ver(10), ver(10), 1, 0, task(ver(10), running), task(ver(2), killing)),
			summary: "1/1 running, 1 old; deployment ended"},
		{name: "terminal and inactive tasks do not count", target: forward,
			app: appAt(ver(10), ver(10), 1, 0, task(ver(10), running), task(ver(2), marathon.TaskKilled),
				marathon.Task{ID: "reserved", State: staging}),
			done: true, summary: "1/1 running"},
		{name: "task of a later version rolled back", target: forward,
			app:     appAt(ver(10), ver(10), 1, 1, task(ver(10), running, true), task(ver(12), running, false)),
			summary: "1/1 healthy, 1 running, 1 old; deployment ended"},
		{name: "no-op change: earlier version", target: forward,
			app:  appAt(ver(5), ver(5), 1, 1, task(ver(5), running, true)),
			done: true, summary: "1/1 healthy, 1 running"},
		{name: "earlier version after the deployment ran: rolled back by another", target: forward, seen: true,
			app:    appAt(ver(5), ver(5), 1, 1, task(ver(5), running, true)),
			failed: ErrReverted, summary: "1/1 healthy, 1 running; deployment ended"},
		{name: "rollback restoring the original version", target: restore, seen: true,
			app:  appAt(ver(5), ver(5), 1, 1, task(ver(5), running, true), task(ver(12), marathon.TaskKilled)),
			done: true, summary: "1/1 healthy, 1 running"},
		{name: "rollback restoring the original version, a new task left", target: restore, seen: true,
			app:     appAt(ver(5), ver(5), 1, 1, task(ver(5), running, true), task(ver(10), running, false)),
			summary: "1/1 healthy, 1 running, 1 old; deployment ended"},
		{name: "later version", target: forward,
			app:    appAt(ver(11), ver(11), 1, 1, task(ver(11), running, true)),
			failed: ErrSuperseded, summary: "1/1 healthy, 1 running; deployment ended"},
		{name: "app gone", target: forward, failed: ErrAppGone, summary: "app not found; deployment ended"},
		{name: "app gone while listed", target: forward, dep: dep("d1", 1, 1, marathon.StartApplication),
			summary: "app not found; step 1/1 StartApplication"},
		{name: "removal done", target: removal, done: true, summary: "app not found"},
		{name: "removal running", target: removal, dep: dep("d1", 1, 1, marathon.StopApplication),
			app: appAt(ver(10), ver(10), 1, 0, task(ver(10), killing)), summary: "0/1 running; step 1/1 StopApplication"},
		{name: "removal left the app", target: removal, app: appAt(ver(10), ver(10), 1, 0),
			failed: ErrAppRemains, summary: "0/1 running; deployment ended"},
		{name: "zero instances", target: forward, app: appAt(ver(10), ver(10), 0, 1), done: true, summary: "0/0 healthy, 0 running"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := assess(tc.target, tc.seen, tc.dep, tc.app)
			if s.Done != tc.done {
				t.Errorf("done %v, want %v", s.Done, tc.done)
			}
			if (tc.failed == nil) != (s.Failed == nil) || tc.failed != nil && !errors.Is(s.Failed, tc.failed) {
				t.Errorf("failed %v, want %v", s.Failed, tc.failed)
			}
			if got := s.summary(); got != tc.summary {
				t.Errorf("summary %q, want %q", got, tc.summary)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		want     string
	}{
		{name: "plain: a line per change", terminal: false, want: "" +
			"    0.0s  0/2 healthy, 0 running; step 1/1 StartApplication\n" +
			"    1.5s  1/2 healthy, 1 running; step 1/1 StartApplication\n" +
			"    3.0s  2/2 healthy, 2 running\n"},
		{name: "terminal: a live bar under the lines", terminal: true, want: "" +
			"    0.0s  0/2 healthy, 0 running; step 1/1 StartApplication\n" +
			"  [........................] deployment 0.0s" +
			"\r\033[K  [........................] deployment 1.0s" +
			"\r\033[K    1.5s  1/2 healthy, 1 running; step 1/1 StartApplication\n" +
			"  [############............] deployment 1.5s" +
			"\r\033[K    3.0s  2/2 healthy, 2 running\n"},
	}
	listed := dep("d1", 1, 1, marathon.StartApplication)
	steps := []struct {
		at  time.Duration
		dep *marathon.Deployment
		app *marathon.AppInfo
	}{
		{0, listed, appAt(ver(10), ver(10), 2, 1)},
		{time.Second, listed, appAt(ver(10), ver(10), 2, 1)},
		{1500 * time.Millisecond, listed, appAt(ver(10), ver(10), 2, 1, task(ver(10), marathon.TaskRunning, true))},
		{3 * time.Second, nil, appAt(ver(10), ver(10), 2, 1, task(ver(10), marathon.TaskRunning, true), task(ver(10), marathon.TaskRunning, true))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			p := newProgress(&out, tc.terminal, "deployment", t0)
			for _, s := range steps {
				p.update(assess(target{appID: "/web", deploymentID: "d1", version: ver(10)}, true, s.dep, s.app), t0.Add(s.at))
			}
			p.finish()
			if out.String() != tc.want {
				t.Errorf("output\n%q\nwant\n%q", out.String(), tc.want)
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{name: "zero", d: 0, want: "0.0s"},
		{name: "rounded", d: 12345 * time.Millisecond, want: "12.3s"},
		{name: "minutes", d: 125 * time.Second, want: "2m05.0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := elapsed(tc.d); got != tc.want {
				t.Errorf("elapsed(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestFailedErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *FailedError
		want string
	}{
		{name: "rolled back", err: &FailedError{AppID: "/web", DeploymentID: "d1", Reason: ErrTimeout, Last: "0/1 healthy", Rollback: RolledBack, RollbackDeploymentID: "d2"},
			want: "deployment d1 of /web failed: deployment did not finish in time (0/1 healthy); rolled back (deployment d2)"},
		{name: "rolled back by the scheduler", err: &FailedError{AppID: "/web", DeploymentID: "d1", Reason: ErrReverted, Rollback: RolledBack},
			want: "deployment d1 of /web failed: deployment rolled back by the scheduler; rolled back"},
		{name: "rollback failed", err: &FailedError{AppID: "/web", DeploymentID: "d1", Reason: ErrTimeout, Rollback: RollbackFailed, RollbackErr: ErrAppRemains},
			want: "deployment d1 of /web failed: deployment did not finish in time; rollback failed: app still exists after the rollback"},
		{name: "not rolled back", err: &FailedError{AppID: "/web", DeploymentID: "d1", Reason: ErrSuperseded},
			want: "deployment d1 of /web failed: app changed by a later deployment; not rolled back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !errors.Is(tc.err, tc.err.Reason) {
				t.Errorf("errors.Is does not reach the reason")
			}
		})
	}
}
