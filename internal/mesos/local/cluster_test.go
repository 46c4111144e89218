package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

func TestLaunchRunKill(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 1))
	s := startScheduler(t, c.URL(), framework(60, mesos.CapabilityPartitionAware, mesos.CapabilityTaskKillingState), &memStore{})
	sub := s.subscribed()
	if !strings.HasPrefix(sub.FrameworkID.Value, c.Master.ID()+"-") {
		t.Errorf("framework id %q does not start with the master id %q", sub.FrameworkID.Value, c.Master.ID())
	}

	offer := s.offer("")
	if got := mesos.Resources(offer.Resources).Scalar("cpus"); got != 2 {
		t.Errorf("offered cpus = %v, want 2", got)
	}
	s.launch(offer, commandTask("sleeper", "sleep 30"))
	starting := s.update("sleeper", mesos.TaskStarting)
	if len(starting.UUID) != 16 || starting.Source != mesos.SourceExecutor {
		t.Errorf("TASK_STARTING uuid %d bytes, source %s; want 16 bytes from the executor", len(starting.UUID), starting.Source)
	}
	running := s.update("sleeper", mesos.TaskRunning)
	if running.AgentID == nil || running.AgentID.Value != offer.AgentID.Value {
		t.Errorf("TASK_RUNNING agent %v, want %s", running.AgentID, offer.AgentID.Value)
	}

	if err := s.client.Kill(context.Background(), mesos.TaskID{Value: "sleeper"}, &offer.AgentID, nil); err != nil {
		t.Fatalf("kill: %v", err)
	}
	s.update("sleeper", mesos.TaskKilling)
	killed := s.update("sleeper", mesos.TaskKilled)
	if killed.Message != "Command terminated with signal Terminated" {
		t.Errorf("TASK_KILLED message %q", killed.Message)
	}
}

func TestUnacknowledgedUpdateIsRedelivered(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 1))
	s := startScheduler(t, c.URL(), framework(60, mesos.CapabilityPartitionAware), &memStore{})
	s.subscribed()
	s.launch(s.offer(""), commandTask("patient", "sleep 30"))

	s.autoAck = false
	first := s.update("patient", mesos.TaskStarting)
	again := s.update("patient", mesos.TaskStarting)
	if string(again.UUID) != string(first.UUID) {
		t.Fatalf("redelivered update has a new uuid: %x, want %x", again.UUID, first.UUID)
	}
	// The agent holds TASK_RUNNING back until TASK_STARTING is acknowledged.
	if err := s.client.Acknowledge(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	s.autoAck = true
	s.update("patient", mesos.TaskRunning)
}

func TestReconciliation(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 1))
	tests := []struct {
		name        string
		fw          mesos.FrameworkInfo
		unknownWant mesos.TaskState
	}{
		{name: "partition aware", fw: framework(60, mesos.CapabilityPartitionAware), unknownWant: mesos.TaskGone},
		{name: "not partition aware", fw: framework(60), unknownWant: mesos.TaskLost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startScheduler(t, c.URL(), tc.fw, &memStore{})
			s.subscribed()
			offer := s.offer("")
			id := "known-" + strings.ReplaceAll(tc.name, " ", "-")
			s.launch(offer, commandTask(id, "sleep 30"))
			s.update(id, mesos.TaskRunning)

			err := s.client.Reconcile(context.Background(), []mesos.ReconcileTask{
				{TaskID: mesos.TaskID{Value: id}, AgentID: &offer.AgentID},
				{TaskID: mesos.TaskID{Value: "never-launched"}, AgentID: &offer.AgentID},
			})
			if err != nil {
				t.Fatal(err)
			}
			known := s.update(id, mesos.TaskRunning)
			checkReconciliation(t, known)
			unknown := s.update("never-launched", tc.unknownWant)
			checkReconciliation(t, unknown)

			// Implicit reconciliation answers for every task the master knows.
			if err := s.client.Reconcile(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			checkReconciliation(t, s.update(id, mesos.TaskRunning))
		})
	}
}

func checkReconciliation(t *testing.T, st mesos.TaskStatus) {
	t.Helper()
	if st.Reason != mesos.ReasonReconciliation || st.Source != mesos.SourceMaster || st.UUID != nil {
		t.Errorf("reconciliation answer for %s: reason %s, source %s, uuid %x; want REASON_RECONCILIATION from the master without uuid",
			st.TaskID.Value, st.Reason, st.Source, st.UUID)
	}
}

func TestResubscribeAfterConnectionDrop(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 1))
	p := startProxy(t, strings.TrimPrefix(c.URL(), "http://"))
	s := startScheduler(t, p.URL(), framework(60, mesos.CapabilityPartitionAware), &memStore{})
	first := s.subscribed()
	offer := s.offer("")
	s.launch(offer, commandTask("survivor", "sleep 30"))
	s.update("survivor", mesos.TaskRunning)

	p.cut()
	again := s.subscribed()
	if again.FrameworkID != first.FrameworkID {
		t.Fatalf("resubscribed as %s, want %s", again.FrameworkID.Value, first.FrameworkID.Value)
	}
	reconcileRunning(t, s, "survivor", offer.AgentID)
}

func TestResubscribeAfterMasterRestart(t *testing.T) {
	cfg := clusterConfig(t, 1)
	c := startCluster(t, cfg)
	s := startScheduler(t, c.URL(), framework(60, mesos.CapabilityPartitionAware), &memStore{})
	first := s.subscribed()
	offer := s.offer("")
	s.launch(offer, commandTask("survivor", "sleep 30"))
	s.update("survivor", mesos.TaskRunning)

	// A new master, with a new id, on the same address and work dir: the
	// agent reregisters with its task and the scheduler resubscribes with
	// its framework id; the master adopts both by id.
	u, err := url.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.Master.Stop()
	<-c.Master.Done()
	mcfg := cfg.Master
	mcfg.Port = mustPort(t, u.Port())
	mcfg.WorkDir = cfg.WorkDir + "/master"
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var m *master.Master
	poll(t, "restart the master on its port", func() error {
		m, err = master.Start(ctx, mcfg)
		return err
	})
	c.Master = m

	again := s.subscribed()
	if again.FrameworkID != first.FrameworkID {
		t.Fatalf("resubscribed as %s, want %s", again.FrameworkID.Value, first.FrameworkID.Value)
	}
	reconcileRunning(t, s, "survivor", offer.AgentID)
	if err := s.client.Kill(context.Background(), mesos.TaskID{Value: "survivor"}, &offer.AgentID, nil); err != nil {
		t.Fatal(err)
	}
	s.update("survivor", mesos.TaskKilled)
}

// reconcileRunning asks the master for the task until it answers
// TASK_RUNNING: after a failover the agent may not have reregistered yet.
func reconcileRunning(t *testing.T, s *scheduler, taskID string, agentID mesos.AgentID) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		if err := s.client.Reconcile(context.Background(), []mesos.ReconcileTask{{TaskID: mesos.TaskID{Value: taskID}, AgentID: &agentID}}); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		st := s.next("a reconciliation answer", func(ev mesos.Event) bool {
			return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == taskID && ev.Update.Status.Reason == mesos.ReasonReconciliation
		}).Update.Status
		if st.State == mesos.TaskRunning {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %s after the failover, want TASK_RUNNING", taskID, st.State)
		}
	}
}

func TestFailoverTimeout(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 1))
	store := &memStore{}
	fw := framework(1.5, mesos.CapabilityPartitionAware)

	s := startScheduler(t, c.URL(), fw, store)
	first := s.subscribed()
	offer := s.offer("")
	s.launch(offer, commandTask("orphan", "sleep 60"))
	s.update("orphan", mesos.TaskRunning)

	// Away for less than the failover timeout: the task is kept.
	s.stop()
	s = startScheduler(t, c.URL(), fw, store)
	if got := s.subscribed().FrameworkID; got != first.FrameworkID {
		t.Fatalf("resubscribed as %s, want %s", got.Value, first.FrameworkID.Value)
	}
	reconcileRunning(t, s, "orphan", offer.AgentID)

	// Away for longer: the master removes the framework and kills its tasks.
	s.stop()
	poll(t, "the framework to be removed and its task killed", func() error {
		st, err := masterState(c)
		if err != nil {
			return err
		}
		for _, fw := range st.CompletedFrameworks {
			if fw.ID == first.FrameworkID.Value {
				for _, task := range slices.Concat(fw.Tasks, fw.CompletedTasks) {
					if task.ID == "orphan" && task.State == string(mesos.TaskKilled) {
						return nil
					}
				}
				return fmt.Errorf("framework removed, task orphan not killed yet: %+v", fw)
			}
		}
		return errNotYet
	})
	poll(t, "the agent to stop running the task", func() error {
		body, err := httpGet(c.Agents[0].URL() + "/state")
		if err != nil {
			return err
		}
		if strings.Contains(body, `"orphan"`) {
			return errNotYet
		}
		return nil
	})

	// The removed framework cannot come back.
	s = startScheduler(t, c.URL(), fw, store)
	select {
	case err := <-s.done:
		s.done <- err
		var fe *mesos.FrameworkError
		if !errors.As(err, &fe) {
			t.Fatalf("subscribing a removed framework: %v, want a FrameworkError", err)
		}
	case <-time.After(waitFor):
		t.Fatal("subscribing a removed framework did not fail")
	}
}

// state is the part of /master/state these tests read.
type state struct {
	Frameworks          []frameworkState `json:"frameworks"`
	CompletedFrameworks []frameworkState `json:"completed_frameworks"`
}

type frameworkState struct {
	ID               string      `json:"id"`
	Tasks            []taskState `json:"tasks"`
	CompletedTasks   []taskState `json:"completed_tasks"`
	UnreachableTasks []taskState `json:"unreachable_tasks"`
}

type taskState struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	SlaveID string `json:"slave_id"`
}

func masterState(c *local.Cluster) (state, error) {
	var st state
	body, err := httpGet(c.URL() + "/master/state")
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(body), &st)
}

func mustPort(t *testing.T, s string) int {
	t.Helper()
	var p int
	if _, err := fmt.Sscan(s, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMalformedCallsGetMesosStatusCodes(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 1))
	s := startScheduler(t, c.URL(), framework(60), &memStore{})
	s.subscribed()
	tests := []struct {
		name string
		call mesos.Call
		code int
		body string
	}{
		{name: "acknowledge with a short uuid", call: mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{TaskID: mesos.TaskID{Value: "t"}, AgentID: mesos.AgentID{Value: "a"}, UUID: []byte{1, 2, 3}}}, code: 400, body: "Not a valid UUID"},
		{name: "accept without accept", call: mesos.Call{Type: mesos.CallAccept}, code: 400, body: "accept"},
		{name: "unknown call", call: mesos.Call{Type: mesos.CallUnknown}, code: 501},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.client.Call(context.Background(), tc.call)
			var apiErr *mesos.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			if apiErr.Code != tc.code || !strings.Contains(apiErr.Body, tc.body) {
				t.Fatalf("got %d %q, want %d containing %q", apiErr.Code, apiErr.Body, tc.code, tc.body)
			}
		})
	}
}

// TestAgentsOwnLoopbackAddresses checks that each agent of the cluster
// stands in for a machine of its own: it listens on its own loopback
// address and offers carry that address as the agent's hostname.
func TestAgentsOwnLoopbackAddresses(t *testing.T) {
	c := startCluster(t, clusterConfig(t, 2))
	want := map[string]string{} // agent id -> address
	for i, a := range c.Agents {
		ip := fmt.Sprintf("127.0.0.%d", i+2)
		want[a.ID()] = ip
		u, err := url.Parse(a.URL())
		if err != nil || u.Hostname() != ip {
			t.Errorf("agent %d URL %s, want host %s", i, a.URL(), ip)
		}
		if _, err := httpGet(a.URL() + "/state"); err != nil {
			t.Errorf("agent %d does not answer on %s: %v", i, a.URL(), err)
		}
	}
	s := startScheduler(t, c.URL(), framework(60), &memStore{})
	s.subscribed()
	offers := map[string]mesos.Offer{}
	s.next("an offer of each agent", func(ev mesos.Event) bool {
		if ev.Type == mesos.EventOffers {
			for _, o := range ev.Offers.Offers {
				offers[o.AgentID.Value] = o
			}
		}
		return len(offers) == len(want)
	})
	for id, ip := range want {
		if got := offers[id].Hostname; got != ip {
			t.Errorf("offer of agent %s: hostname %q, want %q", id, got, ip)
		}
	}
	// A task reports its agent's address as its own.
	second := c.Agents[1].ID()
	s.launch(offers[second], commandTask("addressed", "sleep 30"))
	running := s.update("addressed", mesos.TaskRunning)
	var ips []string
	if cs := running.ContainerStatus; cs != nil {
		for _, n := range cs.NetworkInfos {
			for _, a := range n.IPAddresses {
				ips = append(ips, a.IPAddress)
			}
		}
	}
	if !slices.Equal(ips, []string{want[second]}) {
		t.Errorf("TASK_RUNNING of a task on agent %s reports addresses %v, want [%s]", second, ips, want[second])
	}
}
