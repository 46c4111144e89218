package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/memstore"
)

const waitFor = 30 * time.Second

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// harness is a scheduler on the built-in cluster with an in-memory store.
type harness struct {
	t       *testing.T
	cluster *local.Cluster
	store   state.Store
	sched   *scheduler.Scheduler
	cancel  context.CancelFunc
	done    chan error
}

func start(t *testing.T) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	cluster, err := local.Start(ctx, local.Config{
		Agents:  2,
		WorkDir: t.TempDir(),
		Master: master.Config{
			AgentPingTimeout: 200 * time.Millisecond, MaxAgentPingTimeouts: 3,
			AllocationInterval: 50 * time.Millisecond, HeartbeatInterval: time.Second,
		},
		Agent:  agent.Config{Resources: "cpus:4;mem:2048;disk:1024;ports:[31000-31100]", StatusRetryMin: 200 * time.Millisecond, StatusRetryMax: time.Second},
		Logger: log.With("component", "cluster"),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, cluster: cluster, store: store, cancel: cancel, done: make(chan error, 1)}
	h.run(log)
	t.Cleanup(func() {
		h.stop()
		cluster.Stop()
		cancel()
	})
	return h
}

func (h *harness) run(log *slog.Logger) {
	det, err := mesos.StaticDetector(h.cluster.URL())
	if err != nil {
		h.t.Fatal(err)
	}
	h.runWith(log, det, nil)
}

// runWith starts a scheduler that finds its master with det; tweak, when
// set, changes its configuration.
func (h *harness) runWith(log *slog.Logger, det mesos.Detector, tweak func(*scheduler.Config)) {
	failover := 3600.0
	client, err := mesos.New(mesos.Config{
		Detector: det,
		Framework: mesos.FrameworkInfo{User: "root", Name: "stadion-test", FailoverTimeout: &failover,
			Capabilities: []mesos.Capability{{Type: mesos.CapabilityPartitionAware}, {Type: mesos.CapabilityTaskKillingState}}},
		Store:      scheduler.FrameworkIDs(h.store),
		MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond,
		Logger:     log.With("component", "mesos"),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := scheduler.Config{
		Mesos: client, Store: h.store, Logger: log.With("component", "scheduler"),
		ReconciliationInitialDelay: time.Second, KillRetry: 2 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	sched, err := scheduler.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.sched, h.cancel, h.done = sched, cancel, make(chan error, 1)
	go func() { h.done <- sched.Run(ctx) }()
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

// wait polls the view until check passes.
func (h *harness) wait(what string, check func(v *scheduler.View) error) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	var err error
	for time.Now().Before(deadline) {
		if err = check(h.sched.View()); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("%s: %v", what, err)
}

func (h *harness) deploy(apps ...marathon.App) marathon.DeploymentResult {
	h.t.Helper()
	res, err := h.sched.Deploy(context.Background(), func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return apps, nil, nil
	}, scheduler.DeployOptions{})
	if err != nil {
		h.t.Fatalf("deploy: %v", err)
	}
	return res
}

func sleeper(id string, n int) marathon.App {
	app := marathon.NewApp(marathon.PathID(id))
	app.Cmd = "sleep 120"
	app.Instances = n
	app.Cpus, app.Mem = 0.1, 16
	admitted, err := marathon.Admit(app, marathon.NormalizeOptions{})
	if err != nil {
		panic(err)
	}
	return admitted
}

// running checks that an app has exactly n running instances of its current
// configuration (a scale keeps the instances' older version) and no
// deployment left.
func running(id marathon.PathID, n int) func(v *scheduler.View) error {
	return func(v *scheduler.View) error {
		a := v.App(id)
		if a == nil {
			return fmt.Errorf("no app %s", id)
		}
		config := a.App.VersionInfo.LastConfigChangeAt
		got := 0
		for _, inst := range a.Instances {
			if inst.State == mesos.TaskRunning && !inst.AppVersion.Time.Before(config.Time) {
				got++
			}
		}
		if got != n || len(a.Instances) != n || len(v.Deployments) != 0 {
			return fmt.Errorf("%d of %d instances running with config %s, %d deployments", got, len(a.Instances), config, len(v.Deployments))
		}
		return nil
	}
}

func TestAppLifecycle(t *testing.T) {
	h := start(t)
	app := sleeper("/web", 3)
	h.deploy(app)
	h.wait("3 instances running", running("/web", 3))

	// Scale down: no restart, two instances go.
	before := h.sched.View().App("/web").Instances
	app.Instances = 1
	h.deploy(app)
	h.wait("1 instance running", running("/web", 1))
	kept := h.sched.View().App("/web").Instances[0]
	if kept.TaskID == "" || !containsTask(before, kept.TaskID) {
		t.Fatalf("scaling down restarted the kept instance: %s", kept.TaskID)
	}

	// Restart: a new version, the task replaced.
	res, err := h.sched.Deploy(context.Background(), func(cur map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return []marathon.App{cur["/web"]}, nil, nil
	}, scheduler.DeployOptions{Restart: true})
	if err != nil {
		t.Fatal(err)
	}
	h.wait("restarted", running("/web", 1))
	after := h.sched.View().App("/web")
	if after.App.Version != res.Version || after.Instances[0].TaskID == kept.TaskID {
		t.Fatalf("restart kept version %s task %s", after.App.Version, after.Instances[0].TaskID)
	}

	// Kill without scale: the instance gets a new task.
	killed := after.Instances[0]
	if _, err := h.sched.KillTasks(context.Background(), []string{killed.TaskID}, scheduler.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	h.wait("relaunched", func(v *scheduler.View) error {
		if err := running("/web", 1)(v); err != nil {
			return err
		}
		if v.App("/web").Instances[0].TaskID == killed.TaskID {
			return errors.New("same task still there")
		}
		return nil
	})

	// Delete: the app goes, its tasks are killed.
	if _, err := h.sched.Deploy(context.Background(), func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return nil, []marathon.PathID{"/web"}, nil
	}, scheduler.DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	h.wait("app removed and its instances gone", func(v *scheduler.View) error {
		if v.App("/web") != nil || len(v.Deployments) != 0 {
			return fmt.Errorf("app %v, %d deployments", v.App("/web") != nil, len(v.Deployments))
		}
		snap, err := h.store.Load(context.Background())
		if err != nil {
			return err
		}
		if len(snap.Instances) != 0 {
			return fmt.Errorf("%d instances stored: %+v", len(snap.Instances), snap.Instances)
		}
		return nil
	})
}

func TestConflictingDeployment(t *testing.T) {
	h := start(t)
	// A constraint no agent meets keeps the first deployment running.
	stuck := sleeper("/slow", 2)
	stuck.Constraints = []marathon.Constraint{{Field: "hostname", Operator: marathon.OpLike, Value: "nowhere"}}
	first := h.deploy(stuck)

	app := sleeper("/slow", 3)
	change := func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return []marathon.App{app}, nil, nil
	}
	_, err := h.sched.Deploy(context.Background(), change, scheduler.DeployOptions{})
	var merr *marathon.Error
	if !errors.As(err, &merr) || merr.Status != 409 {
		t.Fatalf("conflicting deploy: %v, want 409", err)
	}
	if len(merr.Deployments) != 1 || merr.Deployments[0].ID != first.DeploymentID {
		t.Fatalf("409 names %+v, want %s", merr.Deployments, first.DeploymentID)
	}
	if _, err := h.sched.Deploy(context.Background(), change, scheduler.DeployOptions{Force: true}); err != nil {
		t.Fatalf("forced deploy: %v", err)
	}
	h.wait("3 instances running", running("/slow", 3))
}

func TestRestartKeepsInstances(t *testing.T) {
	h := start(t)
	h.deploy(sleeper("/keep", 2))
	h.wait("2 running", running("/keep", 2))
	before := h.sched.View().App("/keep").Instances

	// The scheduler goes away and comes back with the same store: it
	// resubscribes as the same framework and adopts its tasks.
	h.stop()
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.wait("the same 2 running after the restart", func(v *scheduler.View) error {
		if err := running("/keep", 2)(v); err != nil {
			return err
		}
		for _, inst := range v.App("/keep").Instances {
			if !containsTask(before, inst.TaskID) {
				return fmt.Errorf("new task %s", inst.TaskID)
			}
		}
		return nil
	})
	// The restarted scheduler drives the adopted tasks: a kill reaches the
	// agent and the instance gets a new task.
	victim := before[0]
	if _, err := h.sched.KillTasks(context.Background(), []string{victim.TaskID}, scheduler.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	h.wait("the killed task replaced", func(v *scheduler.View) error {
		if err := running("/keep", 2)(v); err != nil {
			return err
		}
		if containsTask(v.App("/keep").Instances, victim.TaskID) {
			return errors.New("killed task still there")
		}
		return nil
	})
}

func containsTask(insts []state.Instance, taskID string) bool {
	for _, i := range insts {
		if i.TaskID == taskID {
			return true
		}
	}
	return false
}

// TestUnknownTaskIsKilled: a task Mesos runs for the framework that the
// scheduler does not know (here: its instance was lost from the store while
// the scheduler was away) is killed when reconciliation reports it, and the
// app gets its instance back.
func TestUnknownTaskIsKilled(t *testing.T) {
	h := start(t)
	lost := forgetRunningInstance(t, h, "/orphaned")
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.wait("the unknown task killed and a new instance running", func(v *scheduler.View) error {
		if err := running("/orphaned", 1)(v); err != nil {
			return err
		}
		if got := v.App("/orphaned").Instances[0].TaskID; got == lost.TaskID {
			return fmt.Errorf("still the lost task %s", got)
		}
		for _, a := range h.cluster.Agents {
			for _, task := range a.State().Tasks {
				if task.ID == lost.TaskID {
					return fmt.Errorf("agent still runs %s (%s)", task.ID, task.State)
				}
			}
		}
		return nil
	})
}

// forgetRunningInstance runs one instance of app id, stops the scheduler and
// deletes the instance from the store behind its back, so that its task,
// still running, is unknown to the next scheduler. It returns the instance.
func forgetRunningInstance(t *testing.T, h *harness, id marathon.PathID) state.Instance {
	t.Helper()
	h.deploy(sleeper(string(id), 1))
	h.wait("1 running", running(id, 1))
	lost := h.sched.View().App(id).Instances[0]
	h.stop()
	if err := h.store.Apply(context.Background(), state.Change{DeleteInstances: []string{lost.ID}}); err != nil {
		t.Fatal(err)
	}
	return lost
}
