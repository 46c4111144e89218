package master_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
	"github.com/stadionhq/stadion/internal/testenv"
)

func TestOfferShape(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024;disk:100;ports:[31000-31005]")
	if !strings.HasPrefix(a.id, m.ID()+"-S") {
		t.Errorf("agent id %q", a.id)
	}
	s := subscribe(t, m, frameworkInfo())
	ev := s.next(mesos.EventOffers)
	raw := <-s.raw // SUBSCRIBED
	for !bytes.Contains(raw, []byte(`"OFFERS"`)) {
		raw = <-s.raw
	}
	if bytes.Contains(raw, []byte("allocation_info")) {
		t.Errorf("allocation_info for a framework without MULTI_ROLE: %s", raw)
	}
	if len(ev.Offers.Offers) != 1 {
		t.Fatalf("%d offers", len(ev.Offers.Offers))
	}
	o := ev.Offers.Offers[0]
	if !strings.HasPrefix(o.ID.Value, m.ID()+"-O") || o.FrameworkID.Value != s.frameworkID || o.AgentID.Value != a.id || o.Hostname != "localhost" {
		t.Errorf("offer ids: %+v", o)
	}
	wantURL := &mesos.URL{Scheme: "http", Address: mesos.Address{Hostname: "localhost", IP: "127.0.0.1", Port: int32(portOf(a.srv.URL))}, Path: "/slave(1)"}
	if diff := cmp.Diff(wantURL, o.URL); diff != "" {
		t.Errorf("offer url (-want +got):\n%s", diff)
	}
	res := mesos.Resources(o.Resources)
	if res.Scalar("cpus") != 2 || res.Scalar("mem") != 1024 || mesos.FormatRanges(res.Ranges("ports")) != "[31000-31005]" {
		t.Errorf("offer resources %s", res)
	}
	for _, r := range o.Resources {
		if r.Role != "*" {
			t.Errorf("resource %s role %q, want *", r.Name, r.Role)
		}
	}
	if len(o.Attributes) != 1 || o.Attributes[0].Name != "rack" {
		t.Errorf("attributes %+v", o.Attributes)
	}

	// A MULTI_ROLE framework gets allocation_info.
	info := frameworkInfo(mesos.CapabilityMultiRole)
	info.Roles = []string{"web"}
	s2 := subscribe(t, m, info)
	s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{o.ID}, Filters: &mesos.Filters{RefuseSeconds: float(60)}}})
	o2 := s2.next(mesos.EventOffers).Offers.Offers[0]
	if o2.AllocationInfo == nil || o2.AllocationInfo.Role != "web" {
		t.Errorf("offer allocation_info %+v", o2.AllocationInfo)
	}
	for _, r := range o2.Resources {
		if r.AllocationInfo == nil || r.AllocationInfo.Role != "web" || r.Role != "*" {
			t.Errorf("resource %+v", r)
		}
	}
}

func portOf(url string) int {
	i := strings.LastIndexByte(url, ':')
	p := 0
	for _, c := range url[i+1:] {
		p = p*10 + int(c-'0')
	}
	return p
}

func TestLaunchAndStatusUpdates(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024;ports:[31000-31005]")
	s := subscribe(t, m, frameworkInfo())
	offer := s.next(mesos.EventOffers).Offers.Offers[0]
	task := commandTask("t1", offer, "cpus:0.5;mem:64;ports:[31001-31001]")
	task.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker, Docker: &mesos.DockerInfo{
		Image: "nginx", Network: mesos.NetworkBridge, PortMappings: []mesos.PortMapping{{HostPort: 31001, ContainerPort: 80}},
	}}
	s.mustCall(launchCall(offer, task))
	run := recv(t, a.runs, "run")
	if run.FrameworkID.Value != s.frameworkID || run.Task.TaskID.Value != "t1" || run.FrameworkInfo.Name != "test" {
		t.Errorf("run %+v", run)
	}

	uuid := a.update(s.frameworkID, "t1", mesos.TaskRunning)
	st := s.update("t1")
	if st.State != mesos.TaskRunning || !bytes.Equal(st.UUID, uuid) {
		t.Errorf("update %+v", st)
	}
	s.mustCall(mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
		AgentID: mesos.AgentID{Value: a.id}, TaskID: mesos.TaskID{Value: "t1"}, UUID: uuid}})
	ack := recv(t, a.acks, "ack")
	if ack.TaskID.Value != "t1" || !bytes.Equal(ack.UUID, uuid) || ack.FrameworkID.Value != s.frameworkID {
		t.Errorf("ack %+v", ack)
	}

	// The rest of the offer came back (after the 5 s default filter would
	// apply; REVIVE clears it) without the task's resources.
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
	next := s.next(mesos.EventOffers).Offers.Offers[0]
	res := mesos.Resources(next.Resources)
	if res.Scalar("cpus") != 1.5 || mesos.FormatRanges(res.Ranges("ports")) != "[31000-31000, 31002-31005]" {
		t.Errorf("offer after launch %s", res)
	}
}

func TestInvalidTasks(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	startAgent(t, m, "cpus:2;mem:1024;ports:[31000-31005]")
	s := subscribe(t, m, frameworkInfo(mesos.CapabilityPartitionAware))
	tests := []struct {
		name    string
		task    func(mesos.Offer) mesos.TaskInfo
		state   mesos.TaskState
		reason  mesos.Reason
		message string
	}{
		{name: "too many cpus", task: func(o mesos.Offer) mesos.TaskInfo { return commandTask("big", o, "cpus:3;mem:64") },
			state: mesos.TaskError, reason: mesos.ReasonTaskInvalid, message: "Task uses more resources"},
		{name: "port not offered", task: func(o mesos.Offer) mesos.TaskInfo { return commandTask("port", o, "cpus:1;ports:[40000-40000]") },
			state: mesos.TaskError, reason: mesos.ReasonTaskInvalid, message: "Task uses more resources"},
		{name: "no command", task: func(o mesos.Offer) mesos.TaskInfo {
			ti := commandTask("nocmd", o, "cpus:1")
			ti.Command = nil
			return ti
		}, state: mesos.TaskError, reason: mesos.ReasonTaskInvalid, message: "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"},
		{name: "wrong agent", task: func(o mesos.Offer) mesos.TaskInfo {
			ti := commandTask("agent", o, "cpus:1")
			ti.AgentID.Value = "other"
			return ti
		}, state: mesos.TaskError, reason: mesos.ReasonTaskInvalid, message: "Task uses invalid agent: other"},
		{name: "docker without image", task: func(o mesos.Offer) mesos.TaskInfo {
			ti := commandTask("noimage", o, "cpus:1")
			ti.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker}
			return ti
		}, state: mesos.TaskError, reason: mesos.ReasonTaskInvalid, message: "DockerInfo"},
		{name: "host port outside task ports", task: func(o mesos.Offer) mesos.TaskInfo {
			ti := commandTask("mapping", o, "cpus:1;ports:[31000-31000]")
			ti.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker, Docker: &mesos.DockerInfo{
				Image: "x", Network: mesos.NetworkBridge, PortMappings: []mesos.PortMapping{{HostPort: 31003, ContainerPort: 80}}}}
			return ti
		}, state: mesos.TaskError, reason: mesos.ReasonTaskInvalid, message: "Port [31003] not included in resources"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.mustCall(mesos.Call{Type: mesos.CallRevive})
			offer := s.next(mesos.EventOffers).Offers.Offers[0]
			ti := tc.task(offer)
			s.mustCall(launchCall(offer, ti))
			st := s.update(ti.TaskID.Value)
			if st.State != tc.state || st.Reason != tc.reason || st.Source != mesos.SourceMaster || len(st.UUID) != 0 || !strings.HasPrefix(st.Message, tc.message) {
				t.Errorf("status %+v", st)
			}
		})
	}

	t.Run("duplicate and second over budget", func(t *testing.T) {
		s.mustCall(mesos.Call{Type: mesos.CallRevive})
		offer := s.next(mesos.EventOffers).Offers.Offers[0]
		s.mustCall(launchCall(offer, commandTask("a", offer, "cpus:1.5"), commandTask("a", offer, "cpus:0.1"), commandTask("b", offer, "cpus:1")))
		var got []string
		for range 2 {
			ev := s.next(mesos.EventUpdate)
			got = append(got, ev.Update.Status.TaskID.Value+" "+ev.Update.Status.Message)
		}
		if !strings.HasPrefix(got[0], "a Task has duplicate ID: a") || !strings.HasPrefix(got[1], "b Task uses more resources") {
			t.Errorf("updates %q", got)
		}
	})

	t.Run("invalid offer", func(t *testing.T) {
		s.mustCall(mesos.Call{Type: mesos.CallRevive})
		offer := s.next(mesos.EventOffers).Offers.Offers[0]
		bad := offer
		bad.ID.Value = "no-such-offer"
		s.mustCall(launchCall(bad, commandTask("c", offer, "cpus:1")))
		st := s.update("c")
		if st.State != mesos.TaskDropped || st.Reason != mesos.ReasonInvalidOffers || st.Source != mesos.SourceMaster {
			t.Errorf("status %+v", st)
		}
	})
}

func TestDeclineReviveSuppress(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	offer := s.next(mesos.EventOffers).Offers.Offers[0]
	s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{offer.ID}, Filters: &mesos.Filters{RefuseSeconds: float(3600)}}})
	s.noEvent(300*time.Millisecond, mesos.EventOffers)
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
	offer = s.next(mesos.EventOffers).Offers.Offers[0]

	s.mustCall(mesos.Call{Type: mesos.CallSuppress})
	s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{offer.ID}, Filters: &mesos.Filters{RefuseSeconds: float(0)}}})
	s.noEvent(300*time.Millisecond, mesos.EventOffers)
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
	s.next(mesos.EventOffers)
}

func TestKill(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "t1")
	s.mustCall(mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: mesos.TaskID{Value: "t1"},
		KillPolicy: &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: 5e9}}}})
	k := recv(t, a.kills, "kill")
	if k.TaskID.Value != "t1" || k.FrameworkID.Value != s.frameworkID || k.KillPolicy == nil || k.KillPolicy.GracePeriod.Nanoseconds != 5e9 {
		t.Errorf("kill %+v", k)
	}
	// TASK_KILLING is not for a framework without TASK_KILLING_STATE: the
	// master acknowledges it itself.
	uuid := a.update(s.frameworkID, "t1", mesos.TaskKilling)
	if ack := recv(t, a.acks, "ack"); !bytes.Equal(ack.UUID, uuid) {
		t.Errorf("ack %+v", ack)
	}
	a.update(s.frameworkID, "t1", mesos.TaskKilled)
	if st := s.update("t1"); st.State != mesos.TaskKilled {
		t.Errorf("update %+v", st)
	}

	// Unknown task: answered like reconciliation.
	s.mustCall(mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: mesos.TaskID{Value: "nope"}}})
	if st := s.update("nope"); st.State != mesos.TaskLost || st.Reason != mesos.ReasonReconciliation || len(st.UUID) != 0 {
		t.Errorf("update %+v", st)
	}
}

// TestTaskKillingHiddenWithoutCapability checks that a TASK_KILLING that
// reaches the master for a framework without TASK_KILLING_STATE (it dropped
// the capability after the launch) is neither delivered nor recorded, so
// reconciliation and /master/state never show it.
func TestTaskKillingHiddenWithoutCapability(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "t1")
	a.update(s.frameworkID, "t1", mesos.TaskRunning)
	if st := s.update("t1"); st.State != mesos.TaskRunning {
		t.Fatalf("update %+v", st)
	}
	uuid := a.update(s.frameworkID, "t1", mesos.TaskKilling)
	if ack := recv(t, a.acks, "ack"); !bytes.Equal(ack.UUID, uuid) {
		t.Errorf("ack %+v, want the master's acknowledgement of TASK_KILLING", ack)
	}
	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	if st := s.update("t1"); st.State != mesos.TaskRunning || st.Reason != mesos.ReasonReconciliation {
		t.Errorf("reconciliation %s %s, want TASK_RUNNING", st.State, st.Reason)
	}
	if _, _, state := post(t, m.URL()+"/master/state", http.MethodGet, "", nil, ""); strings.Contains(state, string(mesos.TaskKilling)) {
		t.Errorf("/master/state shows %s: %s", mesos.TaskKilling, state)
	}
}

// TestKillOnOtherAgentIgnored checks that a KILL naming an agent other than
// the task's does nothing, as in Mesos.
func TestKillOnOtherAgentIgnored(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "t1")
	s.mustCall(mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: mesos.TaskID{Value: "t1"}, AgentID: &mesos.AgentID{Value: a.id + "-other"}}})
	select {
	case k := <-a.kills:
		t.Fatalf("kill for another agent reached the task's agent: %+v", k)
	case <-time.After(300 * time.Millisecond):
	}
	s.noEvent(100*time.Millisecond, mesos.EventUpdate)
	s.mustCall(mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: mesos.TaskID{Value: "t1"}, AgentID: &mesos.AgentID{Value: a.id}}})
	if k := recv(t, a.kills, "kill"); k.TaskID.Value != "t1" {
		t.Errorf("kill %+v", k)
	}
}

// TestImplicitReconcileUnacknowledgedTerminal checks that implicit
// reconciliation answers for a terminal task whose update is not yet
// acknowledged: Mesos answers for every task the framework still has.
func TestImplicitReconcileUnacknowledgedTerminal(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "t1")
	a.update(s.frameworkID, "t1", mesos.TaskFailed)
	if st := s.update("t1"); st.State != mesos.TaskFailed {
		t.Fatalf("update %+v", st)
	}
	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	if st := s.update("t1"); st.State != mesos.TaskFailed || st.Reason != mesos.ReasonReconciliation || len(st.UUID) != 0 {
		t.Errorf("reconciliation %+v, want TASK_FAILED", st)
	}
}

// TestDuplicateAckLoggedAtDebug checks that an agent's 404 or 409 to an
// acknowledgement, its routine answer to a duplicate, is not a warning.
func TestDuplicateAckLoggedAtDebug(t *testing.T) {
	var logs testenv.Buffer
	cfg := fastConfig(t)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := startMaster(t, cfg)
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "t1")
	for _, code := range []int{http.StatusConflict, http.StatusNotFound} {
		a.ackStatus.Store(int32(code))
		uuid := a.update(s.frameworkID, "t1", mesos.TaskRunning)
		s.update("t1")
		s.mustCall(mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
			AgentID: mesos.AgentID{Value: a.id}, TaskID: mesos.TaskID{Value: "t1"}, UUID: uuid}})
		recv(t, a.acks, "ack")
	}
	deadline := time.Now().Add(waitTimeout)
	for strings.Count(logs.String(), `msg="agent call failed"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the failed acknowledgements were not logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, `msg="agent call failed"`) && !strings.Contains(line, "level=DEBUG") {
			t.Errorf("duplicate acknowledgement logged above Debug: %s", line)
		}
	}
}

// TestAcksBatched checks that acknowledgements queued for an agent while
// its link is busy go in one /acks call, in order, and one by one to an
// agent that does not serve /acks.
func TestAcksBatched(t *testing.T) {
	tests := []struct {
		name  string
		batch bool
	}{
		{name: "agent serves /acks", batch: true},
		{name: "agent without /acks", batch: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := startMaster(t, fastConfig(t))
			gate := make(chan struct{})
			a := startAgentWith(t, m, "cpus:2;mem:1024", func(a *fakeAgent) {
				a.ackGate, a.batchAcks = gate, tc.batch
			})
			s := subscribe(t, m, frameworkInfo())
			launched(t, s, a, "t1")
			ackOf := func(uuid []byte) {
				t.Helper()
				a.updateUUID(s.frameworkID, "t1", mesos.TaskRunning, uuid)
				s.update("t1")
				s.mustCall(mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
					AgentID: mesos.AgentID{Value: a.id}, TaskID: mesos.TaskID{Value: "t1"}, UUID: uuid}})
			}
			uuid := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }
			// The first acknowledgement holds the link until the gate opens;
			// the next two queue behind it.
			ackOf(uuid(1))
			if got := recv(t, a.acks, "first ack"); !bytes.Equal(got.UUID, uuid(1)) {
				t.Fatalf("first ack uuid %x", got.UUID)
			}
			ackOf(uuid(2))
			ackOf(uuid(3))
			close(gate)
			var got [][]byte
			if tc.batch {
				b := recv(t, a.batches, "batch of acks")
				for _, ack := range b.Acks {
					if ack.TaskID.Value != "t1" || ack.FrameworkID.Value != s.frameworkID {
						t.Errorf("batched ack %+v", ack)
					}
					got = append(got, ack.UUID)
				}
			} else {
				got = append(got, recv(t, a.acks, "second ack").UUID, recv(t, a.acks, "third ack").UUID)
			}
			if want := [][]byte{uuid(2), uuid(3)}; !slices.EqualFunc(got, want, bytes.Equal) {
				t.Errorf("acks after the first: %x, want %x", got, want)
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo(mesos.CapabilityPartitionAware))
	launched(t, s, a, "t1")
	a.update(s.frameworkID, "t1", mesos.TaskRunning)
	s.update("t1")

	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{Tasks: []mesos.ReconcileTask{
		{TaskID: mesos.TaskID{Value: "t1"}},
		{TaskID: mesos.TaskID{Value: "ghost"}, AgentID: &mesos.AgentID{Value: a.id}},
		{TaskID: mesos.TaskID{Value: "nowhere"}},
	}}})
	check := func(id string, state mesos.TaskState, msg string) {
		t.Helper()
		st := s.update(id)
		if st.State != state || st.Message != msg || st.Reason != mesos.ReasonReconciliation || st.Source != mesos.SourceMaster || len(st.UUID) != 0 {
			t.Errorf("%s: %+v", id, st)
		}
	}
	check("t1", mesos.TaskRunning, "Reconciliation: Latest task state")
	check("ghost", mesos.TaskGone, "Reconciliation: Task is unknown to the agent")
	check("nowhere", mesos.TaskUnknown, "Reconciliation: Task is unknown")

	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	check("t1", mesos.TaskRunning, "Reconciliation: Latest task state")
}

func TestFailover(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	info := frameworkInfo()
	info.FailoverTimeout = float(3600)
	s := subscribe(t, m, info)
	launched(t, s, a, "t1")
	s.disconnect()

	// Resubscribe within the timeout: same id, task kept.
	info.ID = &mesos.FrameworkID{Value: s.frameworkID}
	s2 := subscribe(t, m, info)
	if s2.frameworkID != s.frameworkID {
		t.Fatalf("framework id %q, want %q", s2.frameworkID, s.frameworkID)
	}
	s2.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	if st := s2.update("t1"); st.State != mesos.TaskStaging {
		t.Errorf("task after resubscription %+v", st)
	}
	// The old stream id no longer works.
	if code, _ := s.call(mesos.Call{Type: mesos.CallRevive}); code != http.StatusBadRequest {
		t.Errorf("old stream id: %d", code)
	}

	// Short failover timeout: expiry removes the framework.
	short := info
	short.FailoverTimeout = float(0.2)
	s3 := subscribe(t, m, short)
	s3.disconnect()
	sd := recv(t, a.shutdowns, "shutdown")
	if sd.FrameworkID.Value != s.frameworkID {
		t.Errorf("shutdown %+v", sd)
	}
	if code, body := s3.call(mesos.Call{Type: mesos.CallRevive}); code != 400 || body != "Framework cannot be found" {
		t.Errorf("after removal: %d %q", code, body)
	}
	// A removed framework cannot come back.
	gone := subscribeRaw(t, m, mesos.Call{Type: mesos.CallSubscribe, FrameworkID: info.ID, Subscribe: &mesos.Subscribe{FrameworkInfo: info}})
	if ev := gone.next(mesos.EventError); ev.Error.Message != "Framework has been removed" {
		t.Errorf("error %+v", ev.Error)
	}
}

func TestTeardown(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "t1")
	s.mustCall(mesos.Call{Type: mesos.CallTeardown})
	if sd := recv(t, a.shutdowns, "shutdown"); sd.FrameworkID.Value != s.frameworkID {
		t.Errorf("shutdown %+v", sd)
	}
	s.closed()
	if code, body := s.call(mesos.Call{Type: mesos.CallRevive}); code != 400 || body != "Framework cannot be found" {
		t.Errorf("after teardown: %d %q", code, body)
	}
}

func TestAdoptUnknownFramework(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	info := frameworkInfo()
	info.ID = &mesos.FrameworkID{Value: "from-another-master-0003"}
	s := subscribe(t, m, info)
	if s.frameworkID != "from-another-master-0003" {
		t.Errorf("framework id %q", s.frameworkID)
	}
}

func TestAgentUnreachable(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	pa := subscribe(t, m, frameworkInfo(mesos.CapabilityPartitionAware))
	launched(t, pa, a, "pa")
	legacy := subscribe(t, m, frameworkInfo())
	pa.mustCall(mesos.Call{Type: mesos.CallRevive})
	legacyOffer := legacy.next(mesos.EventOffers).Offers.Offers[0]
	legacy.mustCall(launchCall(legacyOffer, commandTask("legacy", legacyOffer, "cpus:0.5;mem:64")))
	recv(t, a.runs, "run")
	// An outstanding offer to be rescinded.
	pa.mustCall(mesos.Call{Type: mesos.CallRevive})
	offer := pa.next(mesos.EventOffers).Offers.Offers[0]

	a.down.Store(true)
	if ev := pa.next(mesos.EventRescind); ev.Rescind.OfferID != offer.ID {
		t.Errorf("rescind %+v, want %s", ev.Rescind, offer.ID.Value)
	}
	st := pa.update("pa")
	if st.State != mesos.TaskUnreachable || st.Source != mesos.SourceMaster || st.Reason != mesos.ReasonAgentRemoved || st.UnreachableTime == nil || len(st.UUID) != 0 {
		t.Errorf("partition-aware update %+v", st)
	}
	if st := legacy.update("legacy"); st.State != mesos.TaskLost {
		t.Errorf("legacy update %+v", st)
	}
	// Status updates from the unreachable agent are refused so that it
	// reregisters.
	u := cluster.StatusUpdate{AgentID: a.id, FrameworkID: mesos.FrameworkID{Value: pa.frameworkID},
		Status: mesos.TaskStatus{TaskID: mesos.TaskID{Value: "pa"}, State: mesos.TaskRunning}}
	if err := cluster.Post(t.Context(), http.DefaultClient, m.URL(), cluster.PathStatus, a.token, u, nil); err == nil || err.(*cluster.StatusError).Code != 404 {
		t.Errorf("status from unreachable agent: %v", err)
	}

	// Reconciliation of a task on the unreachable agent.
	pa.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{Tasks: []mesos.ReconcileTask{{TaskID: mesos.TaskID{Value: "pa"}}}}})
	if st := pa.update("pa"); st.State != mesos.TaskUnreachable {
		t.Errorf("reconciled %+v", st)
	}

	// The agent comes back with its tasks.
	a.down.Store(false)
	a.register(mesos.Resources{}, []cluster.Task{
		{FrameworkID: mesos.FrameworkID{Value: pa.frameworkID}, Info: mesos.TaskInfo{TaskID: mesos.TaskID{Value: "pa"}},
			Status: mesos.TaskStatus{TaskID: mesos.TaskID{Value: "pa"}, State: mesos.TaskRunning}},
	})
	if st := pa.update("pa"); st.State != mesos.TaskRunning || st.Reason != "REASON_AGENT_REREGISTERED" || len(st.UUID) != 0 {
		t.Errorf("after reregistration %+v", st)
	}
}

// TestAgentRestartedAsNewAgent: an agent registering with a new id at the
// address of a known one replaces it; the old one's tasks are gone at once.
func TestAgentRestartedAsNewAgent(t *testing.T) {
	cfg := fastConfig(t)
	cfg.AgentPingTimeout = time.Hour // unreachability must play no part
	m := startMaster(t, cfg)
	a := startAgent(t, m, "cpus:2;mem:1024")
	pa := subscribe(t, m, frameworkInfo(mesos.CapabilityPartitionAware))
	launched(t, pa, a, "pa")
	legacy := subscribe(t, m, frameworkInfo())
	pa.mustCall(mesos.Call{Type: mesos.CallRevive})
	legacyOffer := legacy.next(mesos.EventOffers).Offers.Offers[0]
	legacy.mustCall(launchCall(legacyOffer, commandTask("legacy", legacyOffer, "cpus:0.5;mem:64")))
	recv(t, a.runs, "run")

	oldID := a.id
	a.id = ""
	res, _ := mesos.ParseResources("cpus:2;mem:1024")
	a.register(res, nil)
	if a.id == oldID {
		t.Fatalf("new agent got the old id %q", oldID)
	}
	st := pa.update("pa")
	if st.State != mesos.TaskGone || st.Reason != mesos.ReasonAgentRemoved || st.Source != mesos.SourceMaster || st.AgentID.Value != oldID {
		t.Errorf("partition-aware update %+v, want TASK_GONE from the master on %s", st, oldID)
	}
	if st := legacy.update("legacy"); st.State != mesos.TaskLost {
		t.Errorf("legacy update %+v, want TASK_LOST", st)
	}
	_, _, state := post(t, m.URL()+"/master/state", http.MethodGet, "", nil, "")
	var ms struct {
		Slaves []struct {
			ID string `json:"id"`
		} `json:"slaves"`
	}
	if err := json.Unmarshal([]byte(state), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms.Slaves) != 1 || ms.Slaves[0].ID != a.id {
		t.Errorf("agents %+v, want only the new %s", ms.Slaves, a.id)
	}
}

func TestMasterState(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024;ports:[31000-31005]")
	s := subscribe(t, m, frameworkInfo())
	offer := s.next(mesos.EventOffers).Offers.Offers[0]
	ti := commandTask("t1", offer, "cpus:0.5;mem:64;ports:[31002-31003]")
	ti.Labels = &mesos.Labels{Labels: []mesos.Label{{Key: "app", Value: "web"}}}
	s.mustCall(launchCall(offer, ti))
	recv(t, a.runs, "run")
	a.update(s.frameworkID, "t1", mesos.TaskRunning)
	s.update("t1")

	for _, path := range []string{"/master/state", "/state"} {
		code, _, body := post(t, m.URL()+path, http.MethodGet, "", nil, "")
		if code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		var state map[string]any
		if err := json.Unmarshal([]byte(body), &state); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"version", "id", "pid", "hostname", "start_time", "elected_time", "activated_slaves",
			"leader", "leader_info", "flags", "slaves", "frameworks", "completed_frameworks", "orphan_tasks", "unregistered_frameworks"} {
			if _, ok := state[k]; !ok {
				t.Errorf("%s: key %q missing", path, k)
			}
		}
		if state["version"] != "1.11.0" || state["id"] != m.ID() || state["activated_slaves"] != 1.0 {
			t.Errorf("top level: version %v id %v activated_slaves %v", state["version"], state["id"], state["activated_slaves"])
		}
		slave := state["slaves"].([]any)[0].(map[string]any)
		if slave["id"] != a.id || slave["resources"].(map[string]any)["ports"] != "[31000-31005]" ||
			slave["used_resources"].(map[string]any)["ports"] != "[31002-31003]" || slave["attributes"].(map[string]any)["rack"] != "r1" {
			t.Errorf("slave %v", slave)
		}
		fw := state["frameworks"].([]any)[0].(map[string]any)
		task := fw["tasks"].([]any)[0].(map[string]any)
		want := map[string]any{
			"id": "t1", "name": "t1", "framework_id": s.frameworkID, "executor_id": "", "slave_id": a.id,
			"state": "TASK_RUNNING", "role": "*",
			"resources": map[string]any{"cpus": 0.5, "mem": 64.0, "disk": 0.0, "gpus": 0.0, "ports": "[31002-31003]"},
			"labels":    []any{map[string]any{"key": "app", "value": "web"}},
			"user":      "root",
		}
		delete(task, "statuses")
		if diff := cmp.Diff(want, task); diff != "" {
			t.Errorf("task (-want +got):\n%s", diff)
		}
	}
}

func TestResubscribeReplacesStream(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	info := frameworkInfo()
	info.FailoverTimeout = float(3600)
	s := subscribe(t, m, info)
	info.ID = &mesos.FrameworkID{Value: s.frameworkID}
	s2 := subscribe(t, m, info)
	if ev := s.next(mesos.EventError); ev.Error.Message != "Framework failed over" {
		t.Errorf("error %+v", ev.Error)
	}
	s.closed()
	s2.mustCall(mesos.Call{Type: mesos.CallRevive})
}

func TestRecoveredFramework(t *testing.T) {
	// A master that has never seen the framework learns its task from a
	// reregistering agent, and hands it over when the framework resubscribes.
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	res, _ := mesos.ParseResources("cpus:1;mem:128")
	total, _ := mesos.ParseResources("cpus:2;mem:1024")
	a.register(total, []cluster.Task{{
		FrameworkID: mesos.FrameworkID{Value: "old-master-0007"},
		Info:        mesos.TaskInfo{Name: "web", TaskID: mesos.TaskID{Value: "web.1"}, AgentID: mesos.AgentID{Value: a.id}, Resources: res},
		Status:      mesos.TaskStatus{TaskID: mesos.TaskID{Value: "web.1"}, State: mesos.TaskRunning},
	}})
	info := frameworkInfo()
	info.ID = &mesos.FrameworkID{Value: "old-master-0007"}
	s := subscribe(t, m, info)
	// The task's resources are in use: the offer has the rest.
	if res := mesos.Resources(s.next(mesos.EventOffers).Offers.Offers[0].Resources); res.Scalar("cpus") != 1 {
		t.Errorf("offer %s", res)
	}
	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	if st := s.update("web.1"); st.State != mesos.TaskRunning || st.AgentID.Value != a.id {
		t.Errorf("recovered task %+v", st)
	}
}

func TestUpdateFramework(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	s := subscribe(t, m, frameworkInfo())
	info := frameworkInfo()
	info.ID = &mesos.FrameworkID{Value: s.frameworkID}
	info.Name = "renamed"
	code, body := s.call(mesos.Call{Type: mesos.CallUpdateFramework, UpdateFramework: &mesos.UpdateFramework{FrameworkInfo: info}})
	if code != http.StatusOK {
		t.Fatalf("update framework: %d %s", code, body)
	}
	_, _, state := post(t, m.URL()+"/master/state", http.MethodGet, "", nil, "")
	if !strings.Contains(state, `"name":"renamed"`) {
		t.Errorf("state %s", state)
	}
}

// TestRestartDoesNotReuseIDs restarts a master with the same work dir: a new
// framework and a new agent of the restarted master must not get the ids of
// the previous run's, which come back later and are adopted by id.
func TestRestartDoesNotReuseIDs(t *testing.T) {
	cfg := fastConfig(t)
	cfg.WorkDir = t.TempDir()
	m1 := startMaster(t, cfg)
	oldAgent := startAgent(t, m1, "cpus:1;mem:128")
	info := frameworkInfo()
	info.FailoverTimeout = float(3600)
	old := subscribe(t, m1, info)
	m1.Stop()
	old.closed()

	m2 := startMaster(t, cfg)
	if m2.ID() == m1.ID() {
		t.Errorf("restarted master kept id %q", m1.ID())
	}
	// The new ones come first, while the old framework is within its
	// failover timeout and the old agent has yet to reregister.
	fresh := subscribe(t, m2, frameworkInfo())
	if fresh.frameworkID == old.frameworkID {
		t.Fatalf("new framework got the id %q of the previous run's", fresh.frameworkID)
	}
	newAgent := startAgent(t, m2, "cpus:1;mem:128")
	if newAgent.id == oldAgent.id {
		t.Fatalf("new agent got the id %q of the previous run's", newAgent.id)
	}

	info.ID = &mesos.FrameworkID{Value: old.frameworkID}
	if back := subscribe(t, m2, info); back.frameworkID != old.frameworkID {
		t.Errorf("old framework resubscribed as %q, want %q", back.frameworkID, old.frameworkID)
	}
	oldAgent.masterURL = m2.URL()
	wasID := oldAgent.id
	oldAgent.register(mesos.Resources{}, nil)
	if oldAgent.id != wasID {
		t.Errorf("old agent reregistered as %q, want %q", oldAgent.id, wasID)
	}
	// Both frameworks and both agents are there, apart.
	fresh.noEvent(200*time.Millisecond, mesos.EventError)
	_, _, state := post(t, m2.URL()+"/master/state", http.MethodGet, "", nil, "")
	var st struct {
		Frameworks []struct {
			ID     string `json:"id"`
			Active bool   `json:"active"`
		} `json:"frameworks"`
		Slaves []struct {
			ID string `json:"id"`
		} `json:"slaves"`
	}
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Frameworks) != 2 || !st.Frameworks[0].Active || !st.Frameworks[1].Active || len(st.Slaves) != 2 {
		t.Errorf("state has frameworks %+v and agents %+v, want two active frameworks and two agents", st.Frameworks, st.Slaves)
	}
}
