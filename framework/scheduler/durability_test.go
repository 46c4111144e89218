package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/state"
)

// failingStore fails every Apply while fail is set, as a full disk does;
// reads go on working.
type failingStore struct {
	state.Store
	fail atomic.Bool
}

func (f *failingStore) Apply(ctx context.Context, c state.Change) error {
	if f.fail.Load() {
		return fmt.Errorf("write state: %w", syscall.ENOSPC)
	}
	return f.Store.Apply(ctx, c)
}

func scale(id marathon.PathID, n int) scheduler.Change {
	return func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		app, ok := current[id]
		if !ok {
			return nil, nil, marathon.AppNotFound(id)
		}
		app.Instances = n
		return []marathon.App{app}, nil, nil
	}
}

func put(apps ...marathon.App) scheduler.Change {
	return func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return apps, nil, nil
	}
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var merr *marathon.Error
	if !errors.As(err, &merr) || merr.Status != status {
		t.Fatalf("%s: got %v, want a %d", what, err, status)
	}
}

// TestFailedWriteChangesNothing: while the store cannot write, commands
// answer 503 and leave the scheduler's memory (and so every answer) as it
// was, kills included; once it writes again commands succeed, and a
// restarted scheduler has exactly what was answered 2xx.
func TestFailedWriteChangesNothing(t *testing.T) {
	h := start(t)
	store := &failingStore{Store: h.store}
	h.stop()
	h.store = store
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	ctx := context.Background()

	h.deploy(sleeper("/kept", 2))
	h.wait("2 running", running("/kept", 2))
	before := h.sched.View().App("/kept")

	store.fail.Store(true)
	_, err := h.sched.Deploy(ctx, put(sleeper("/lost", 1)), scheduler.DeployOptions{})
	wantStatus(t, "create while the store fails", err, http.StatusServiceUnavailable)
	_, err = h.sched.Deploy(ctx, scale("/kept", 5), scheduler.DeployOptions{})
	wantStatus(t, "scale while the store fails", err, http.StatusServiceUnavailable)
	victim := before.Instances[0].TaskID
	_, err = h.sched.KillTasks(ctx, []string{victim}, scheduler.KillOptions{Scale: true})
	wantStatus(t, "kill and scale while the store fails", err, http.StatusServiceUnavailable)

	v := h.sched.View()
	if v.App("/lost") != nil {
		t.Errorf("/lost is shown after its create answered 503")
	}
	if a := v.App("/kept"); a.App.Instances != 2 || !a.App.Version.Equal(before.App.Version.Time) || len(a.Instances) != 2 {
		t.Errorf("/kept changed after 503s: %d instances wanted, version %s, %d instances", a.App.Instances, a.App.Version, len(a.Instances))
	}
	if !v.Store.Failing || v.Store.Failures == 0 || v.Store.Error == "" {
		t.Errorf("view's store health = %+v, want failing with an error", v.Store)
	}

	store.fail.Store(false)
	deadline := time.Now().Add(waitFor)
	for {
		_, err = h.sched.Deploy(ctx, put(sleeper("/after", 1)), scheduler.DeployOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		wantStatus(t, "create right after the store recovered", err, http.StatusServiceUnavailable)
		time.Sleep(100 * time.Millisecond) // poll: commands are refused for a second after a failed write
	}
	if err != nil {
		t.Fatalf("create once the store writes again: %v", err)
	}
	h.wait("/after running", running("/after", 1))
	h.wait("/kept untouched", func(v *scheduler.View) error {
		if err := running("/kept", 2)(v); err != nil {
			return err
		}
		if !containsTask(v.App("/kept").Instances, victim) {
			return fmt.Errorf("task %s, whose kill answered 503, is gone", victim)
		}
		if v.Store.Failing {
			return errors.New("store still reported failing")
		}
		return nil
	})

	h.stop()
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.wait("after a restart: what was answered 2xx, nothing else", func(v *scheduler.View) error {
		if v.App("/lost") != nil {
			return errors.New("/lost exists")
		}
		if err := running("/kept", 2)(v); err != nil {
			return err
		}
		return running("/after", 1)(v)
	})
}

// only returns the one instance of an app.
func only(v *scheduler.View, id marathon.PathID) (state.Instance, error) {
	a := v.App(id)
	if a == nil || len(a.Instances) != 1 {
		return state.Instance{}, fmt.Errorf("no single instance of %s", id)
	}
	return a.Instances[0], nil
}

// switchDetector answers the master it was last pointed at.
type switchDetector struct{ url atomic.Pointer[string] }

func (d *switchDetector) point(url string) { d.url.Store(&url) }

func (d *switchDetector) Leader(context.Context) (string, error) { return *d.url.Load(), nil }

// freshMaster starts a second built-in cluster: a master that knows
// nothing of the first one's agents, as an Apache Mesos master that failed
// over with an in-memory registry before the agents re-registered.
func freshMaster(t *testing.T) *local.Cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := local.Start(ctx, local.Config{
		WorkDir: t.TempDir(),
		Master:  master.Config{AllocationInterval: 50 * time.Millisecond, HeartbeatInterval: time.Second},
		Agent:   agent.Config{Resources: "cpus:4;mem:2048;disk:1024;ports:[31200-31300]", StatusRetryMin: 200 * time.Millisecond, StatusRetryMax: time.Second},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(); cancel() })
	return c
}

// unknownToFreshMaster runs one instance of /kept, then restarts the
// scheduler on a fresh master (freshMaster) with timeout as its
// TaskUnknownTimeout, and waits until the instance is marked unknown with
// its task and last state kept. It returns the instance as it was and
// the fresh cluster.
func unknownToFreshMaster(t *testing.T, h *harness, timeout time.Duration) (state.Instance, *local.Cluster, *switchDetector) {
	t.Helper()
	h.deploy(sleeper("/kept", 1))
	h.wait("1 running", running("/kept", 1))
	old := h.sched.View().App("/kept").Instances[0]

	h.stop()
	b := freshMaster(t)
	det := &switchDetector{}
	det.point(b.URL())
	h.runWith(slog.New(slog.NewTextHandler(testWriter{t}, nil)), det, func(c *scheduler.Config) { c.TaskUnknownTimeout = timeout })
	h.wait("the unknown task listed with its last state", func(v *scheduler.View) error {
		inst, err := only(v, "/kept")
		if err != nil {
			return err
		}
		if inst.UnknownSince.IsZero() {
			return errors.New("not marked unknown yet")
		}
		if inst.TaskID != old.TaskID || inst.State != mesos.TaskRunning {
			return fmt.Errorf("task %s %s, want %s TASK_RUNNING", inst.TaskID, inst.State, old.TaskID)
		}
		return nil
	})
	return old, b, det
}

// TestTaskUnknownIsKeptThenReplaced: a restarted scheduler whose master
// answers TASK_UNKNOWN for a task keeps it listed with its last state
// until --task_unknown_timeout, then relaunches the instance.
func TestTaskUnknownIsKeptThenReplaced(t *testing.T) {
	h := start(t)
	old, b, _ := unknownToFreshMaster(t, h, 3*time.Second)
	h.wait("replaced on the new master's agent once the window passed", func(v *scheduler.View) error {
		if err := running("/kept", 1)(v); err != nil {
			return err
		}
		inst := v.App("/kept").Instances[0]
		if inst.ID != old.ID || inst.TaskID == old.TaskID || inst.AgentID != b.Agents[0].ID() {
			return fmt.Errorf("instance %s task %s on %s, want instance %s with a new task on %s", inst.ID, inst.TaskID, inst.AgentID, old.ID, b.Agents[0].ID())
		}
		if !inst.UnknownSince.IsZero() {
			return errors.New("the new task is still marked unknown")
		}
		return nil
	})
}

// TestTaskUnknownComesBack: when the task is heard of again within the
// window (its agent re-registered; here: the scheduler is back on the
// master that knows it), it is adopted as it was, never relaunched.
func TestTaskUnknownComesBack(t *testing.T) {
	h := start(t)
	old, b, det := unknownToFreshMaster(t, h, 10*time.Minute)
	det.point(h.cluster.URL())
	b.Stop()
	h.wait("the same task running and known again", func(v *scheduler.View) error {
		inst, err := only(v, "/kept")
		if err != nil {
			return err
		}
		if inst.TaskID != old.TaskID || inst.State != mesos.TaskRunning || !inst.UnknownSince.IsZero() {
			return fmt.Errorf("task %s %s unknown since %v, want %s running and known", inst.TaskID, inst.State, inst.UnknownSince, old.TaskID)
		}
		return nil
	})
}

// TestGroupVersionsHoldReferences: a group version holds its own apps and
// the versions of the groups directly below it, so that its size does not
// grow with its subtree, and resolves to every app of the subtree as it
// was.
func TestGroupVersionsHoldReferences(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	var first marathon.DeploymentResult
	for i := range 40 {
		res := h.deploy(sleeper(fmt.Sprintf("/team-%d/svc/app-%d", i%4, i), 0))
		if i == 0 {
			first = res
		}
	}
	team1, err := h.store.GroupVersions(ctx, "/team-1")
	if err != nil || len(team1) == 0 {
		t.Fatalf("versions of /team-1: %v %v", team1, err)
	}
	changed := sleeper("/team-0/svc/app-0", 0)
	changed.Cmd = "sleep 121"
	last := h.deploy(changed) // a new version of the first app

	root, ok, err := h.store.GroupVersion(ctx, marathon.RootID, last.Version)
	if err != nil || !ok {
		t.Fatalf("root at %s: %v %v", last.Version, ok, err)
	}
	if len(root.Apps) != 0 || len(root.Groups) != 4 {
		t.Errorf("root version holds %d apps and %d groups, want 0 and the 4 teams", len(root.Apps), len(root.Groups))
	}
	team, ok, err := h.store.GroupVersion(ctx, "/team-0/svc", last.Version)
	if err != nil || !ok || len(team.Apps) != 10 {
		t.Fatalf("/team-0/svc at %s: %d apps (%v %v), want its 10", last.Version, len(team.Apps), ok, err)
	}
	if got, want := root.Groups["/team-1"], team1[len(team1)-1]; !got.Equal(want.Time) {
		t.Errorf("root refers to /team-1 at %s, want %s: nothing below it changed", got, want)
	}

	resolved, ok, err := h.sched.GroupVersion(ctx, marathon.RootID, last.Version)
	if err != nil || !ok || len(resolved.Apps) != 40 {
		t.Fatalf("resolved root: %d apps (%v %v), want 40", len(resolved.Apps), ok, err)
	}
	if v := resolved.Apps["/team-0/svc/app-0"]; !v.Equal(last.Version.Time) {
		t.Errorf("resolved root has app-0 at %s, want %s", v, last.Version)
	}
	// Deployments within one millisecond share a version: the first
	// version holds app-0 and maybe a few more.
	old, ok, err := h.sched.GroupVersion(ctx, marathon.RootID, first.Version)
	if err != nil || !ok || len(old.Apps) >= 40 || !old.Apps["/team-0/svc/app-0"].Equal(first.Version.Time) {
		t.Errorf("root at the first version: %v (%v %v), want app-0 at %s and not the later apps", old.Apps, ok, err, first.Version)
	}

	// A version stored before references existed lists its whole subtree.
	legacy := state.Group{ID: "/team-9", Version: first.Version, Apps: map[marathon.PathID]marathon.Timestamp{"/team-9/a/b": first.Version}}
	if err := h.store.Apply(ctx, state.Change{PutGroups: []state.Group{legacy}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := h.sched.GroupVersion(ctx, "/team-9", first.Version)
	if err != nil || !ok || len(got.Apps) != 1 {
		t.Errorf("legacy version: %v (%v %v)", got.Apps, ok, err)
	}
}

// setAsideStore loads as a store whose record of one app cannot be
// decoded: the app is missing and listed in SetAside (the stores' own
// tests damage real records; here the scheduler's answer is tested).
type setAsideStore struct {
	state.Store
	app marathon.PathID
}

func (d *setAsideStore) Load(ctx context.Context) (state.Snapshot, error) {
	snap, err := d.Store.Load(ctx)
	snap.Apps = slices.DeleteFunc(snap.Apps, func(a marathon.App) bool { return a.ID == d.app })
	snap.SetAside = append(snap.SetAside, state.SetAside{Kind: state.KindApp, ID: string(d.app), Where: "apps/" + string(d.app), Error: "unexpected end of JSON input"})
	return snap, err
}

// TestSetAsideAppKeepsItsTasks: an app whose record cannot be decoded is
// left alone: its tasks keep running (nothing knows how many it wants),
// while the other apps are scheduled as usual; putting the app again
// adopts its instances.
func TestSetAsideAppKeepsItsTasks(t *testing.T) {
	h := start(t)
	h.deploy(sleeper("/held", 2), sleeper("/other", 1))
	h.wait("both running", func(v *scheduler.View) error {
		if err := running("/held", 2)(v); err != nil {
			return err
		}
		return running("/other", 1)(v)
	})
	held := h.sched.View().App("/held").Instances
	h.stop()
	inner := h.store
	h.store = &setAsideStore{Store: inner, app: "/held"}
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))

	h.deploy(sleeper("/other", 2))
	h.wait("/other scaled while /held is set aside", running("/other", 2))
	if h.sched.View().App("/held") != nil {
		t.Fatal("the set-aside app is shown")
	}
	for _, inst := range held {
		if !agentRuns(h.cluster, inst.TaskID) {
			t.Errorf("task %s of the set-aside app was killed", inst.TaskID)
		}
	}

	h.deploy(sleeper("/held", 2))
	h.wait("/held put again adopts its tasks", func(v *scheduler.View) error {
		a := v.App("/held")
		if a == nil || len(a.Instances) != 2 || len(v.Deployments) != 0 {
			return errors.New("not 2 instances and no deployment yet")
		}
		for _, inst := range held {
			if !containsTask(v.App("/held").Instances, inst.TaskID) {
				return fmt.Errorf("task %s replaced", inst.TaskID)
			}
		}
		return nil
	})
}

// agentRuns reports whether an agent of the cluster runs the task.
func agentRuns(c *local.Cluster, taskID string) bool {
	for _, a := range c.Agents {
		for _, task := range a.State().Tasks {
			if task.ID == taskID && task.State == mesos.TaskRunning {
				return true
			}
		}
	}
	return false
}

// TestLargeGroupVersionsInBuckets: a group with many apps of its own keeps
// their references in buckets, so that a write of one app stores one
// bucket and the group's list of buckets; the version still resolves to
// every app.
func TestLargeGroupVersionsInBuckets(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	apps := make([]marathon.App, 200)
	for i := range apps {
		apps[i] = sleeper(fmt.Sprintf("/flat-%03d", i), 0)
	}
	h.deploy(apps...)
	changed := sleeper("/flat-007", 0)
	changed.Cmd = "sleep 121"
	last := h.deploy(changed)

	root, ok, err := h.store.GroupVersion(ctx, marathon.RootID, last.Version)
	if err != nil || !ok {
		t.Fatalf("root at %s: %v %v", last.Version, ok, err)
	}
	if len(root.Apps) != 0 || len(root.Groups) == 0 || len(root.Groups) > 64 {
		t.Fatalf("root version holds %d apps and %d buckets, want none and at most 64", len(root.Apps), len(root.Groups))
	}
	fresh := 0
	for b, v := range root.Groups {
		if v.Equal(last.Version.Time) {
			fresh++
			bucket, ok, err := h.store.GroupVersion(ctx, b, v)
			if err != nil || !ok || bucket.Apps["/flat-007"].IsZero() {
				t.Errorf("the new bucket %s does not hold /flat-007: %v (%v %v)", b, bucket.Apps, ok, err)
			}
		}
	}
	if fresh != 1 {
		t.Errorf("%d buckets written for one app, want 1", fresh)
	}
	resolved, ok, err := h.sched.GroupVersion(ctx, marathon.RootID, last.Version)
	if err != nil || !ok || len(resolved.Apps) != 200 || !resolved.Apps["/flat-007"].Equal(last.Version.Time) {
		t.Errorf("resolved root: %d apps, /flat-007 at %s (%v %v), want 200 and %s", len(resolved.Apps), resolved.Apps["/flat-007"], ok, err, last.Version)
	}
	for _, g := range h.sched.View().Groups {
		if strings.Contains(string(g.ID), ".apps-") {
			t.Errorf("bucket %s is shown as a group", g.ID)
		}
	}

	// Removing most apps leaves no current bucket naming a removed app.
	var gone []marathon.PathID
	for i := range 190 {
		gone = append(gone, marathon.PathID(fmt.Sprintf("/flat-%03d", i)))
	}
	if _, err := h.sched.Deploy(ctx, func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return nil, gone, nil
	}, scheduler.DeployOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	snap, err := h.store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := state.CheckReferences(snap, func(id marathon.PathID, v marathon.Timestamp) (bool, error) {
		_, ok, err := h.store.AppVersion(ctx, id, v)
		return ok, err
	})
	if err != nil || len(problems) > 0 {
		t.Errorf("references after removing 190 apps: %v %v", problems, err)
	}
	resolved, ok, err = h.sched.GroupVersion(ctx, marathon.RootID, h.sched.View().Groups[0].Version)
	if err != nil || !ok || len(resolved.Apps) != 10 {
		t.Errorf("resolved root after the removal: %d apps (%v %v), want 10", len(resolved.Apps), ok, err)
	}
}

// TestTaskEndsWhileStoreFails: a task that ends while the store cannot
// write is relaunched once it can. In between, the scheduler shows what
// is stored, and the offers of the launches it could not store go back to
// Mesos instead of being held for good.
func TestTaskEndsWhileStoreFails(t *testing.T) {
	h := start(t)
	store := &failingStore{Store: h.store}
	h.stop()
	h.store = store
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))

	app := sleeper("/relaunch", 1)
	app.Cmd = fmt.Sprintf("sleep 131.%d", os.Getpid())
	app.BackoffSeconds = 0 // relaunch at once, while the store still fails
	h.deploy(app)
	h.wait("1 running", running("/relaunch", 1))
	old := h.sched.View().App("/relaunch").Instances[0]

	store.fail.Store(true)
	killProcesses(t, app.Cmd)
	// Each resent TASK_FAILED update makes a pass that plans a launch and
	// fails to store it.
	h.wait("several failed writes", func(v *scheduler.View) error {
		if !v.Store.Failing || v.Store.Failures < 5 {
			return fmt.Errorf("%d failed writes", v.Store.Failures)
		}
		return nil
	})
	if inst, err := only(h.sched.View(), "/relaunch"); err != nil || inst.TaskID != old.TaskID || inst.State != mesos.TaskRunning {
		t.Errorf("while the store fails the view shows %+v (%v), want the stored task %s running", inst, err, old.TaskID)
	}

	store.fail.Store(false)
	h.wait("relaunched once the store writes", func(v *scheduler.View) error {
		if err := running("/relaunch", 1)(v); err != nil {
			return err
		}
		if v.App("/relaunch").Instances[0].TaskID == old.TaskID {
			return errors.New("still the old task")
		}
		return nil
	})
}

// killProcesses kills every process whose command line is cmd (run by
// sh -c or itself), as a task that dies on its own.
func killProcesses(t *testing.T, cmd string) {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		line, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !strings.Contains(strings.ReplaceAll(string(line), "\x00", " "), cmd) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	if killed == 0 {
		t.Fatalf("no process runs %q", cmd)
	}
}
