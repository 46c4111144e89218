package scheduler_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// sleeperPod is a pod of two sleeping containers.
func sleeperPod(t *testing.T, id string, n int) marathon.Pod {
	t.Helper()
	p, err := marathon.ParsePod([]byte(fmt.Sprintf(`{"id":%q,"scaling":{"kind":"fixed","instances":%d},"containers":[
		{"name":"a","resources":{"cpus":0.05,"mem":16},"exec":{"command":{"shell":"sleep 600"}}},
		{"name":"b","resources":{"cpus":0.05,"mem":16},"exec":{"command":{"shell":"sleep 600"}}}]}`, id, n)), marathon.NormalizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// podRunning checks that pod id has n instances whose tasks all run.
func podRunning(id marathon.PathID, n int) func(v *scheduler.View) error {
	return func(v *scheduler.View) error {
		pv := v.Pod(id)
		if pv == nil {
			return fmt.Errorf("no pod %s", id)
		}
		if len(pv.Instances) != n {
			return fmt.Errorf("%d instances", len(pv.Instances))
		}
		for _, inst := range pv.Instances {
			if len(inst.Tasks) != 2 {
				return fmt.Errorf("instance %s has %d tasks", inst.ID, len(inst.Tasks))
			}
			for _, task := range inst.Tasks {
				if task.State != mesos.TaskRunning {
					return fmt.Errorf("task %s %s", task.TaskID, task.State)
				}
			}
		}
		return nil
	}
}

// TestPodRestartAdoptsInstances: a restarted scheduler adopts the stored
// pod instance and its running tasks (no new launch), and drives them: a
// kill of the instance without wipe launches the same instance again, its
// tasks in the next incarnation.
func TestPodRestartAdoptsInstances(t *testing.T) {
	h := start(t)
	if _, err := h.sched.PutPod(context.Background(), sleeperPod(t, "/pod", 1), true, false); err != nil {
		t.Fatal(err)
	}
	h.wait("the pod instance running", podRunning("/pod", 1))
	before := h.sched.View().Pod("/pod").Instances[0]

	h.stop()
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	h.wait("the same instance and tasks after the restart", func(v *scheduler.View) error {
		if err := podRunning("/pod", 1)(v); err != nil {
			return err
		}
		inst := v.Pod("/pod").Instances[0]
		if inst.ID != before.ID || inst.Tasks[0].TaskID != before.Tasks[0].TaskID || inst.Tasks[1].TaskID != before.Tasks[1].TaskID {
			return fmt.Errorf("instance %s tasks %+v, want %s %+v", inst.ID, inst.Tasks, before.ID, before.Tasks)
		}
		return nil
	})

	killed, err := h.sched.KillPodInstances(context.Background(), "/pod", []string{before.ID}, false)
	if err != nil || len(killed) != 1 {
		t.Fatalf("kill: %v %v", killed, err)
	}
	h.wait("the instance launched again", func(v *scheduler.View) error {
		if err := podRunning("/pod", 1)(v); err != nil {
			return err
		}
		inst := v.Pod("/pod").Instances[0]
		if inst.ID != before.ID || inst.Incarnation != before.Incarnation+1 {
			return fmt.Errorf("instance %s incarnation %d", inst.ID, inst.Incarnation)
		}
		want := marathon.PodTaskID(before.ID, "a", before.Incarnation+1)
		if inst.Tasks[0].TaskID != want {
			return fmt.Errorf("task %s, want %s", inst.Tasks[0].TaskID, want)
		}
		return nil
	})
}

// TestPodWriteIsDurable: PutPod answers only once the pod is stored; a
// failed write answers 503 and leaves neither the pod nor an instance.
func TestPodWriteIsDurable(t *testing.T) {
	h := start(t)
	store := &failingStore{Store: h.store}
	h.stop()
	h.store = store
	h.run(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	<-h.sched.Ready()

	store.fail.Store(true)
	_, err := h.sched.PutPod(context.Background(), sleeperPod(t, "/durable", 1), true, false)
	wantStatus(t, "put while the store fails", err, http.StatusServiceUnavailable)
	if pv := h.sched.View().Pod("/durable"); pv != nil {
		t.Errorf("an unstored pod is shown: %+v", pv)
	}
	snap, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Pods) != 0 || len(snap.Instances) != 0 {
		t.Errorf("stored %d pods, %d instances after a failed write", len(snap.Pods), len(snap.Instances))
	}

	store.fail.Store(false)
	var res scheduler.PodResult
	h.wait("the put answered once the store writes", func(*scheduler.View) error {
		// 503 while the scheduler still takes the store for failing.
		res, err = h.sched.PutPod(context.Background(), sleeperPod(t, "/durable", 1), true, false)
		return err
	})
	if !res.Created || res.DeploymentID == "" {
		t.Errorf("result %+v", res)
	}
	snap, err = store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Pods) != 1 || snap.Pods[0].Version != res.Pod.Version {
		t.Errorf("stored pods %+v, want the put one", snap.Pods)
	}
	stored := 0
	for _, inst := range snap.Instances {
		if inst.Pod && inst.AppID == "/durable" && inst.Goal == state.GoalRunning {
			stored++
		}
	}
	if stored != 1 {
		t.Errorf("%d stored instances of the pod, want 1", stored)
	}
	h.wait("the pod instance running", podRunning("/durable", 1))
}

// TestPodConstraints: a pod's placement constraints decide where its
// instances go: with a hostname no agent has, the instance waits while
// another pod launches on the same offers; without it, it runs.
func TestPodConstraints(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	pinned := sleeperPod(t, "/pinned", 1)
	pinned.Scheduling.Placement.Constraints = []marathon.PodConstraint{{FieldName: "hostname", Operator: "LIKE", Value: "no-such-host"}}
	if _, err := h.sched.PutPod(ctx, pinned, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sched.PutPod(ctx, sleeperPod(t, "/free", 1), true, false); err != nil {
		t.Fatal(err)
	}
	h.wait("the unconstrained pod running", podRunning("/free", 1))
	if inst := h.sched.View().Pod("/pinned").Instances; len(inst) != 1 || len(inst[0].Tasks) != 0 {
		t.Fatalf("the pinned pod's instances %+v, want one waiting", inst)
	}
	pinned.Scheduling.Placement.Constraints = nil
	// Its start never ends: the change must force past it.
	if _, err := h.sched.PutPod(ctx, pinned, false, false); err == nil {
		t.Fatal("a change of a deploying pod was taken without force")
	}
	if _, err := h.sched.PutPod(ctx, pinned, false, true); err != nil {
		t.Fatal(err)
	}
	h.wait("the pod running without its constraint", podRunning("/pinned", 1))
}
