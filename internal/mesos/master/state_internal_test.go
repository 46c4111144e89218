package master

import (
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
)

// TestAgentUsedFollowsTasks checks that the cached sum of an agent's used
// resources changes with its tasks: added, turned terminal, dropped.
func TestAgentUsedFollowsTasks(t *testing.T) {
	res := func(s string) mesos.Resources {
		r, err := mesos.ParseResources(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := &agent{id: "a1", tasks: map[taskKey]*task{}}
	a.setTotal(res("cpus:4;mem:1024"))
	cpus := func() float64 {
		t.Helper()
		used := a.used().Scalar("cpus")
		if free := a.free().Scalar("cpus"); free != 4-used {
			t.Errorf("%g cpus free with %g used of 4", free, used)
		}
		return used
	}
	if got := cpus(); got != 0 {
		t.Fatalf("no task: %g cpus used", got)
	}
	t1 := &task{agentID: "a1", resources: res("cpus:0.5;mem:32"), status: mesos.TaskStatus{State: mesos.TaskStaging}}
	t2 := &task{agentID: "a1", resources: res("cpus:0.25;mem:16"), status: mesos.TaskStatus{State: mesos.TaskStaging}}
	a.setTask(taskKey{"fw", "t1"}, t1)
	if got := cpus(); got != 0.5 {
		t.Errorf("one task: %g cpus used, want 0.5", got)
	}
	a.setTask(taskKey{"fw", "t2"}, t2)
	if got := cpus(); got != 0.75 {
		t.Errorf("two tasks: %g cpus used, want 0.75", got)
	}
	t1.record(mesos.TaskStatus{State: mesos.TaskRunning})
	if got := cpus(); got != 0.75 {
		t.Errorf("one running: %g cpus used, want 0.75", got)
	}
	t1.record(mesos.TaskStatus{State: mesos.TaskFinished})
	if got := cpus(); got != 0.25 {
		t.Errorf("one finished: %g cpus used, want 0.25", got)
	}
	t3 := &task{agentID: "a1", resources: res("cpus:0.125;mem:8"), status: mesos.TaskStatus{State: mesos.TaskStaging}}
	a.setTask(taskKey{"fw", "t1"}, t3) // replaces the finished t1
	if got := cpus(); got != 0.375 {
		t.Errorf("finished one replaced: %g cpus used, want 0.375", got)
	}
	a.dropTask(taskKey{"fw", "t2"})
	if got := cpus(); got != 0.125 {
		t.Errorf("t2 dropped: %g cpus used, want 0.125", got)
	}
	a.setTask(taskKey{"fw", "t4"}, &task{agentID: "a1", resources: res("cpus:1;mem:8"), status: mesos.TaskStatus{State: mesos.TaskFailed}})
	if got := cpus(); got != 0.125 {
		t.Errorf("terminal task added: %g cpus used, want 0.125", got)
	}
}
