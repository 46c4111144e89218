package main

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestMesosCommands runs `stadion mesos master` and two `stadion mesos agent`
// processes: a scheduler launches and kills tasks on both agents, then one
// agent is killed with -9 and its task turns unreachable.
func TestMesosCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	masterPort := testenv.FreePort(t)
	masterAddr := "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--work_dir", dir+"/master", "--agent_ping_timeout", "200ms", "--max_agent_ping_timeouts", "3", "--allocation_interval", "100ms")
	waitHTTP(t, "http://"+masterAddr+"/health")

	agents := map[string]*process{}
	for i := range 2 {
		port := testenv.FreePort(t)
		p := startStadion(t, fmt.Sprintf("agent%d", i), "mesos", "agent", "--master", masterAddr, "--ip", "127.0.0.1",
			"--port", strconv.Itoa(port), "--work_dir", fmt.Sprintf("%s/agent%d", dir, i),
			"--resources", "cpus:1;mem:512;disk:512;ports:[31000-31010]")
		agents["127.0.0.1:"+strconv.Itoa(port)] = p
	}

	det, err := mesos.StaticDetector(masterAddr)
	if err != nil {
		t.Fatal(err)
	}
	failover := 60.0
	client, err := mesos.New(mesos.Config{
		Detector: det,
		Framework: mesos.FrameworkInfo{User: "root", Name: "commands-test", FailoverTimeout: &failover,
			Capabilities: []mesos.Capability{{Type: mesos.CapabilityPartitionAware}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan mesos.Event, 256)
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx, events) }()
	t.Cleanup(func() { cancel(); <-done })

	// next returns the next event that match accepts, acknowledging updates.
	next := func(what string, match func(mesos.Event) bool) mesos.Event {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Type == mesos.EventUpdate && len(ev.Update.Status.UUID) > 0 {
					if err := client.Acknowledge(ctx, ev.Update.Status); err != nil {
						t.Fatalf("acknowledge: %v", err)
					}
				}
				if match(ev) {
					return ev
				}
			case err := <-done:
				t.Fatalf("waiting for %s: client stopped: %v", what, err)
			case <-deadline:
				t.Fatalf("no %s", what)
			}
		}
	}

	// One offer from each agent; launch a task on each.
	// A task may turn running before the second agent's offer arrives, so
	// running updates are collected from the start.
	offers := map[string]mesos.Offer{}
	running := map[string]mesos.TaskStatus{}
	next("offers from both agents", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventUpdate && ev.Update.Status.State == mesos.TaskRunning {
			running[ev.Update.Status.TaskID.Value] = ev.Update.Status
		}
		if ev.Type == mesos.EventOffers {
			for _, o := range ev.Offers.Offers {
				if _, seen := offers[o.AgentID.Value]; !seen {
					offers[o.AgentID.Value] = o
					task := taskOn(o, "task-"+o.AgentID.Value)
					if err := client.Launch(ctx, []mesos.OfferID{o.ID}, []mesos.TaskInfo{task}, nil); err != nil {
						t.Fatalf("launch: %v", err)
					}
				}
			}
		}
		return len(offers) == 2
	})
	if len(running) < 2 {
		next("both tasks running", func(ev mesos.Event) bool {
			if ev.Type == mesos.EventUpdate && ev.Update.Status.State == mesos.TaskRunning {
				running[ev.Update.Status.TaskID.Value] = ev.Update.Status
			}
			return len(running) == 2
		})
	}

	// Kill both tasks.
	for id := range running {
		agentID := running[id].AgentID
		if err := client.Kill(ctx, mesos.TaskID{Value: id}, agentID, nil); err != nil {
			t.Fatal(err)
		}
	}
	killed := map[string]bool{}
	next("both tasks killed", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventUpdate && ev.Update.Status.State == mesos.TaskKilled {
			killed[ev.Update.Status.TaskID.Value] = true
		}
		return len(killed) == 2
	})

	// Launch again on one agent, then kill that agent with -9.
	var survivor mesos.Offer
	next("a new offer", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventOffers && len(ev.Offers.Offers) > 0 {
			survivor = ev.Offers.Offers[0]
			return true
		}
		return false
	})
	if err := client.Launch(ctx, []mesos.OfferID{survivor.ID}, []mesos.TaskInfo{taskOn(survivor, "orphan")}, nil); err != nil {
		t.Fatal(err)
	}
	running["orphan"] = next("the orphan running", func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == "orphan" && ev.Update.Status.State == mesos.TaskRunning
	}).Update.Status

	orphan := running["orphan"]
	agent := agents[fmt.Sprintf("%s:%d", survivor.URL.Address.IP, survivor.URL.Address.Port)]
	if agent == nil {
		t.Fatalf("no agent process at %+v", survivor.URL.Address)
	}
	// The killed agent leaves its task's process behind, as a real one
	// would; end it with the test. Without its pid it would leak, so the
	// test stops here, with the agent alive to kill it.
	if orphan.ContainerStatus == nil || orphan.ContainerStatus.ExecutorPID == 0 {
		t.Fatalf("TASK_RUNNING of %s has no executor_pid: %+v", orphan.TaskID.Value, orphan.ContainerStatus)
	}
	pid := int(orphan.ContainerStatus.ExecutorPID)
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	if err := agent.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	st := next("TASK_UNREACHABLE", func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == orphan.TaskID.Value &&
			ev.Update.Status.State == mesos.TaskUnreachable
	}).Update.Status
	if st.Source != mesos.SourceMaster || st.UUID != nil || st.UnreachableTime == nil {
		t.Errorf("TASK_UNREACHABLE source %s, uuid %x, unreachable_time %v; want from the master, no uuid, with a time", st.Source, st.UUID, st.UnreachableTime)
	}
}

func taskOn(o mesos.Offer, id string) mesos.TaskInfo {
	cmd := "sleep 120"
	return mesos.TaskInfo{
		Name:    id,
		TaskID:  mesos.TaskID{Value: id},
		AgentID: o.AgentID,
		Command: &mesos.CommandInfo{Value: &cmd},
		Resources: mesos.Resources{
			{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.1}},
			{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 32}},
		},
	}
}
