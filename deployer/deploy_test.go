package deployer

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/testenv"
)

// failFast is the timeout of deployments that cannot succeed.
const failFast = 5 * time.Second

// fixture is a server and what the tests deploy on it.
type fixture struct {
	t       *testing.T
	c       *Client
	healthy string // template whose tasks pass their check
	broken  string // template whose tasks never do
}

func newFixture(t *testing.T) *fixture {
	srv := startServer(t)
	c, err := NewClient(ClientConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, c: c, healthy: webTemplate(t, "/health"), broken: webTemplate(t, "/nope")}
}

// def renders tmpl for environment staging.
func (f *fixture) def(tmpl, instances, tag string) Definition {
	f.t.Helper()
	d, err := PrepareText("service.json", []byte(tmpl), map[string]string{"environment": "staging", "instances": instances, "tag": tag})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// deployer returns a Deployer writing to a buffer that is logged at the
// end of the test.
func (f *fixture) deployer(cfg Config) (*Deployer, *testenv.Buffer) {
	f.t.Helper()
	out := &testenv.Buffer{}
	f.t.Cleanup(func() { f.t.Logf("deploy output:\n%s", out.String()) })
	cfg.Client, cfg.Out = f.c, out
	if cfg.Logger == nil {
		// Poll failures and requests, shown when the test fails.
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{f.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = waitFor
	}
	d, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return d, out
}

// deploy deploys def and requires success.
func (f *fixture) deploy(def Definition) (Outcome, string) {
	f.t.Helper()
	d, out := f.deployer(Config{})
	o, err := d.Deploy(f.t.Context(), def)
	if err != nil {
		f.t.Fatalf("deploy %s: %v", def.App.ID, err)
	}
	return o, out.String()
}

// app reads the app; it must exist.
func (f *fixture) app(id marathon.PathID) marathon.AppInfo {
	f.t.Helper()
	a, err := f.c.App(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// settled checks that app id runs n healthy tasks of its version with the
// label version, and no deployment.
func (f *fixture) settled(id marathon.PathID, n int, version string) marathon.AppInfo {
	f.t.Helper()
	a := f.app(id)
	healthy := 0
	for _, task := range a.Tasks {
		if task.IsHealthy(len(a.HealthChecks)) && task.Version.Equal(a.Version.Time) {
			healthy++
		}
	}
	if a.Labels["version"] != version || healthy != n || len(a.Tasks) != n || len(a.Deployments) != 0 {
		f.t.Errorf("%s: label version %q (want %q), %d tasks, %d healthy at version %s (want %d), deployments %v",
			id, a.Labels["version"], version, len(a.Tasks), healthy, a.Version, n, a.Deployments)
	}
	return a
}

// progressLine matches a progress line: "    1.2s  1/2 healthy, ...".
var progressLine = regexp.MustCompile(`^ +[0-9m.]+s  (.*)$`)

// progressLines returns the statuses of a deploy's progress lines.
func progressLines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if m := progressLine.FindStringSubmatch(l); m != nil {
			ls = append(ls, m[1])
		}
	}
	return ls
}

func TestDeployCreateUpdateNoop(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"

	created, out := f.deploy(f.def(f.healthy, "2", "v1"))
	if !created.Created || created.AppID != id || created.DeploymentID == "" || !created.Waited {
		t.Errorf("create: %+v", created)
	}
	for _, s := range []string{"rendered " + id + " from service.json:", `"version": "v1"`, "POST /v2/apps: 201 Created",
		"waiting for deployment " + created.DeploymentID, "finished: 2/2 healthy, 2 running"} {
		if !strings.Contains(out, s) {
			t.Errorf("create output lacks %q", s)
		}
	}
	f.settled(id, 2, "v1")

	updated, out := f.deploy(f.def(f.healthy, "2", "v2"))
	if updated.Created || updated.DeploymentID == "" || updated.DeploymentID == created.DeploymentID {
		t.Errorf("update: %+v", updated)
	}
	for _, s := range []string{"POST /v2/apps: 409 Conflict", "An app with id [" + id + "] already exists.",
		"PUT /v2/apps" + id + ": 200 OK", `"deploymentId": "` + updated.DeploymentID + `"`, "finished: 2/2 healthy, 2 running"} {
		if !strings.Contains(out, s) {
			t.Errorf("update output lacks %q", s)
		}
	}
	// Progress: a line per change, from the first observation to the end.
	lines := progressLines(out)
	if len(lines) < 2 || !strings.HasSuffix(lines[len(lines)-1], "2/2 healthy, 2 running") {
		t.Errorf("progress lines %q", lines)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] == lines[i-1] {
			t.Errorf("progress repeats %q", lines[i])
		}
	}
	a := f.settled(id, 2, "v2")
	if !a.Version.Equal(updated.Version.Time) {
		t.Errorf("app version %s, deployed %s", a.Version, updated.Version)
	}

	// The same definition again changes nothing and succeeds at once.
	again, _ := f.deploy(f.def(f.healthy, "2", "v2"))
	if again.Created {
		t.Errorf("no-op: %+v", again)
	}
	if b := f.settled(id, 2, "v2"); !b.Version.Equal(a.Version.Time) {
		t.Errorf("a no-op deploy changed the version %s to %s", a.Version, b.Version)
	}
}

func TestDeployRollsBackVersionThatNeverTurnsHealthy(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"
	f.deploy(f.def(f.healthy, "1", "v1"))

	d, out := f.deployer(Config{Timeout: failFast, RollbackTimeout: waitFor})
	_, err := d.Deploy(t.Context(), f.def(f.broken, "1", "v2"))
	var fail *FailedError
	if !errors.As(err, &fail) || fail.Rollback != RolledBack || !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want a timeout rolled back", err)
	}
	if !strings.Contains(out.String(), "DELETE /v2/deployments/"+fail.DeploymentID+": 200 OK") ||
		!strings.Contains(out.String(), "waiting for rollback deployment "+fail.RollbackDeploymentID) {
		t.Errorf("output does not show the rollback through DELETE /v2/deployments")
	}
	if strings.Contains(fail.Last, "1/1 healthy") {
		t.Errorf("the failed version looked healthy: %s", fail.Last)
	}
	a := f.settled(id, 1, "v1")
	if a.HealthChecks[0].Path != "/health" {
		t.Errorf("running health check path %q, want the previous /health", a.HealthChecks[0].Path)
	}
}

func TestDeployRollsBackEndedDeployment(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"
	first, _ := f.deploy(f.def(f.healthy, "1", "v1"))

	// Another client cancels the deployment without a rollback (force):
	// the broken version stays in place, unhealthy, with no deployment
	// left to cancel, so the rollback PUTs the previous version back.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			deps, _ := f.c.Deployments(ctx)
			for _, dep := range deps {
				if len(dep.AffectedApps) == 1 && dep.AffectedApps[0] == id {
					f.c.DeleteDeployment(ctx, dep.ID, true)
					return
				}
			}
			select {
			case <-ctx.Done(): // the deploy ended: its timeout bounds this poll
				return
			case <-tick.C:
			}
		}
	}()
	d, out := f.deployer(Config{Timeout: failFast, RollbackTimeout: waitFor})
	_, err := d.Deploy(t.Context(), f.def(f.broken, "1", "v2"))
	var fail *FailedError
	if !errors.As(err, &fail) || fail.Rollback != RolledBack || !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want a timeout rolled back", err)
	}
	for _, s := range []string{"DELETE /v2/deployments/" + fail.DeploymentID + ": 404 Not Found", "PUT /v2/apps" + id + ": 200 OK"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
	a := f.settled(id, 1, "v1")
	if !a.Version.After(first.Version.Time) {
		t.Errorf("version %s: the rollback is not a new version after %s", a.Version, first.Version)
	}
}

func TestDeployRemovesNewAppThatNeverTurnsHealthy(t *testing.T) {
	f := newFixture(t)
	d, out := f.deployer(Config{Timeout: failFast, RollbackTimeout: waitFor})
	_, err := d.Deploy(t.Context(), f.def(f.broken, "1", "v1"))
	var fail *FailedError
	if !errors.As(err, &fail) || fail.Rollback != RolledBack {
		t.Fatalf("error %v, want a rollback", err)
	}
	if !strings.Contains(out.String(), "removed (it did not exist before)") {
		t.Errorf("output does not report the removal")
	}
	if _, err := f.c.App(t.Context(), "/deploy-test/staging/web"); !IsStatus(err, http.StatusNotFound) {
		t.Errorf("GET after the rollback: %v, want 404", err)
	}
}

func TestDeployNoRollback(t *testing.T) {
	f := newFixture(t)
	d, _ := f.deployer(Config{Timeout: 2 * time.Second, NoRollback: true})
	_, err := d.Deploy(t.Context(), f.def(f.broken, "1", "v1"))
	var fail *FailedError
	if !errors.As(err, &fail) || fail.Rollback != NotRolledBack || !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want a timeout not rolled back", err)
	}
	if a := f.app("/deploy-test/staging/web"); len(a.Deployments) != 1 || a.Deployments[0].ID != fail.DeploymentID {
		t.Errorf("deployments %v, want the failed one left running", a.Deployments)
	}
}

func TestDeployForce(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"
	f.deploy(f.def(f.healthy, "1", "v1"))
	// A broken version left deploying holds the app.
	d, _ := f.deployer(Config{NoWait: true})
	stuck, err := d.Deploy(t.Context(), f.def(f.broken, "1", "v2"))
	if err != nil || stuck.Waited {
		t.Fatalf("deploy without waiting: %+v, %v", stuck, err)
	}

	d, _ = f.deployer(Config{})
	_, err = d.Deploy(t.Context(), f.def(f.healthy, "1", "v3"))
	if !IsStatus(err, http.StatusConflict) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("error %v, want 409 with a hint at --force", err)
	}

	d, out := f.deployer(Config{Force: true})
	if _, err := d.Deploy(t.Context(), f.def(f.healthy, "1", "v3")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "PUT /v2/apps"+id+": 200 OK") {
		t.Errorf("forced update not shown")
	}
	f.settled(id, 1, "v3")
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"
	created, _ := f.deploy(f.def(f.healthy, "2", "v1"))
	tests := []struct {
		name      string
		def       Definition
		change    Change
		diffLines []string
	}{
		{name: "same", def: f.def(f.healthy, "2", "v1"), change: ChangeNone},
		{name: "scale", def: f.def(f.healthy, "3", "v1"), change: ChangeScale,
			diffLines: []string{`-  "instances": 2,`, `+  "instances": 3,`}},
		{name: "new tag", def: f.def(f.healthy, "2", "v2"), change: ChangeRestart,
			diffLines: []string{`-    "version": "v1"`, `+    "version": "v2"`}},
		{name: "new app", def: f.def(strings.Replace(f.healthy, "/web", "/api", 1), "1", "v1"), change: ChangeCreate,
			diffLines: []string{"--- (none)", `+  "id": "/deploy-test/staging/api",`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, out := f.deployer(Config{})
			plan, err := d.DryRun(t.Context(), tc.def)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Change != tc.change {
				t.Errorf("change %s, want %s", plan.Change, tc.change)
			}
			if (plan.Diff == "") != (len(tc.diffLines) == 0) || !strings.Contains(out.String(), plan.Diff) {
				t.Errorf("diff %q", plan.Diff)
			}
			got := strings.Split(plan.Diff, "\n")
			for _, l := range tc.diffLines {
				if !contains(got, l) {
					t.Errorf("diff lacks %q:\n%s", l, plan.Diff)
				}
			}
		})
	}
	// Nothing changed.
	a := f.settled(id, 2, "v1")
	if !a.Version.Equal(created.Version.Time) {
		t.Errorf("version %s after dry runs, want %s", a.Version, created.Version)
	}
	if _, err := f.c.App(t.Context(), "/deploy-test/staging/api"); !IsStatus(err, http.StatusNotFound) {
		t.Errorf("dry run created the app: %v", err)
	}
}

// withDeadline gives a template's deployments a progress deadline of 2s
// with rollback, which the scheduler enforces itself.
func withDeadline(tmpl string) string {
	return strings.Replace(tmpl, `"maximumOverCapacity": 1}`, `"maximumOverCapacity": 1, "progressDeadlineSeconds": 2, "rollbackOnFailure": true}`, 1)
}

func TestDeployReportsSchedulerRollback(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"
	first, _ := f.deploy(f.def(f.healthy, "1", "v1"))

	d, out := f.deployer(Config{})
	_, err := d.Deploy(t.Context(), f.def(withDeadline(f.broken), "1", "v2"))
	var fail *FailedError
	if !errors.As(err, &fail) || fail.Rollback != RolledBack || !errors.Is(err, ErrReverted) {
		t.Fatalf("error %v, want a rollback by the scheduler", err)
	}
	if strings.Contains(out.String(), "DELETE /v2/deployments") {
		t.Errorf("stadion deploy rolled back what the scheduler had rolled back")
	}
	if a := f.settled(id, 1, "v1"); !a.Version.Equal(first.Version.Time) {
		t.Errorf("version %s, want the first version %s back", a.Version, first.Version)
	}
}

func TestDeployQueue(t *testing.T) {
	f := newFixture(t)
	const id = "/deploy-test/staging/web"
	f.deploy(f.def(f.healthy, "1", "v1"))
	// A broken version holds the app until the scheduler's deadline
	// rolls it back; the queued change then goes ahead.
	d, _ := f.deployer(Config{NoWait: true})
	if _, err := d.Deploy(t.Context(), f.def(withDeadline(f.broken), "1", "v2")); err != nil {
		t.Fatal(err)
	}
	d, out := f.deployer(Config{Queue: true})
	o, err := d.Deploy(t.Context(), f.def(f.healthy, "1", "v3"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "PUT /v2/apps"+id+": 200 OK") {
		t.Errorf("queued update not shown")
	}
	if a := f.settled(id, 1, "v3"); !a.Version.Equal(o.Version.Time) {
		t.Errorf("version %s, want the queued deployment's %s", a.Version, o.Version)
	}
}
