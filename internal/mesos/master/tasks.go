package master

import (
	"bytes"
	"net/http"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// forFramework converts a canonical status for fw: frameworks that are not
// PARTITION_AWARE see TASK_LOST for the partition-aware states.
func forFramework(fw *framework, s mesos.TaskStatus) mesos.TaskStatus {
	if fw.has(mesos.CapabilityPartitionAware) {
		return s
	}
	switch s.State {
	case mesos.TaskDropped, mesos.TaskUnreachable, mesos.TaskGone, mesos.TaskGoneByOperator, mesos.TaskUnknown:
		s.State = mesos.TaskLost
	}
	return s
}

// deliver sends s to fw as an UPDATE if it is subscribed.
func (m *Master) deliver(fw *framework, s mesos.TaskStatus) {
	if fw.sub == nil {
		return
	}
	s = forFramework(fw, s)
	fw.sub.send(mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: s}})
}

// handleStatus receives a task status update from an agent.
func (m *Master) handleStatus(w http.ResponseWriter, r *http.Request) {
	if !m.serveAsLeader(w, cluster.PathStatus) {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "Expecting POST")
		return
	}
	var u cluster.StatusUpdate
	if !cluster.Decode(w, r, &u) {
		return
	}
	if sub := m.subscriptionOf(u.FrameworkID.Value); sub != nil && !sub.waitRoom(r.Context()) {
		// The scheduler reads slower than the agents report: the agent
		// resends the update later, with its backoff.
		plain(w, http.StatusServiceUnavailable, "The framework's event stream is full; retry")
		return
	}
	code, msg := m.statusUpdate(u, r)
	if msg != "" {
		plain(w, code, msg)
		return
	}
	w.WriteHeader(code)
}

// subscriptionOf returns the event stream of framework id, nil when it has
// none; it does not take the master's lock.
func (m *Master) subscriptionOf(id string) *subscription {
	if sub, ok := m.streams.Load(id); ok {
		return sub.(*subscription)
	}
	return nil
}

// statusUpdate takes an update that r, which must carry the agent's token,
// brought.
func (m *Master) statusUpdate(u cluster.StatusUpdate, r *http.Request) (int, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	a := st.agents[u.AgentID]
	if a == nil || !a.reachable {
		return http.StatusNotFound, "Agent " + u.AgentID + " is not registered"
	}
	if !cluster.Authorized(r, a.reg.Token) {
		m.log.Debug("status update refused: not from the agent", "agent_id", a.id, "status", 401, "remote_addr", r.RemoteAddr)
		return http.StatusUnauthorized, "Not the agent's token"
	}
	fwID := u.FrameworkID.Value
	s := u.Status
	if s.AgentID == nil {
		s.AgentID = &mesos.AgentID{Value: a.id}
	}
	if st.removed[fwID] {
		// A straggler of a removed framework: make sure the agent kills it.
		a.link.send(outbound{path: cluster.PathShutdown, body: cluster.Shutdown{FrameworkID: u.FrameworkID}})
		return http.StatusAccepted, ""
	}
	fw := st.frameworks[fwID]
	if fw == nil {
		fw = newFramework(fwID)
		fw.recovered = true
		fw.info.ID = &mesos.FrameworkID{Value: fwID}
		st.frameworks[fwID] = fw
	}
	t := fw.tasks[s.TaskID.Value]
	if t == nil {
		t = &task{
			info:        mesos.TaskInfo{TaskID: s.TaskID, AgentID: mesos.AgentID{Value: a.id}},
			frameworkID: fwID,
			agentID:     a.id,
		}
		fw.tasks[s.TaskID.Value] = t
		a.setTask(taskKey{fwID, s.TaskID.Value}, t)
	}
	// Agents send TASK_KILLING only for frameworks that had
	// TASK_KILLING_STATE when the task was launched. One that has dropped it
	// since (UPDATE_FRAMEWORK, resubscription) never sees the state: it is
	// not recorded, and the master acknowledges it on the framework's
	// behalf so that the agent moves on to the next update.
	hidden := s.State == mesos.TaskKilling && !fw.has(mesos.CapabilityTaskKillingState)
	redelivery := len(s.UUID) > 0 && bytes.Equal(s.UUID, t.status.UUID)
	if !redelivery && !hidden {
		t.record(s)
		m.log.Debug("task status update", "framework_id", fwID, "task_id", s.TaskID.Value, "agent_id", a.id, "state", s.State)
	}
	switch {
	case fw.sub == nil:
		// Resent by the agent until the framework is back.
	case hidden:
		if len(s.UUID) > 0 {
			a.link.send(outbound{path: cluster.PathAck, body: cluster.Ack{FrameworkID: u.FrameworkID, TaskID: s.TaskID, UUID: s.UUID}})
		}
	default:
		m.deliver(fw, s)
	}
	if s.State.Terminal() {
		if len(s.UUID) == 0 {
			m.finishTask(fw, t)
		} else {
			m.kickAllocator() // its resources are free
		}
	}
	return http.StatusAccepted, ""
}

// acknowledge forwards ACKNOWLEDGE to the agent; an acknowledged terminal
// task becomes completed.
func (m *Master) acknowledge(st *clusterState, fw *framework, ack *mesos.Acknowledge) {
	if t := fw.tasks[ack.TaskID.Value]; t != nil && t.state().Terminal() && bytes.Equal(t.status.UUID, ack.UUID) {
		m.finishTask(fw, t)
	}
	a := st.agents[ack.AgentID.Value]
	if a == nil || !a.reachable {
		m.log.Debug("acknowledgement for an unknown agent dropped", "framework_id", fw.id, "agent_id", ack.AgentID.Value, "task_id", ack.TaskID.Value)
		return
	}
	a.link.send(outbound{path: cluster.PathAck, body: cluster.Ack{
		FrameworkID: mesos.FrameworkID{Value: fw.id}, TaskID: ack.TaskID, UUID: ack.UUID,
	}})
}

// kill forwards KILL to the task's agent. An unknown task, or one whose agent
// is unreachable, is answered like an explicit reconciliation.
func (m *Master) kill(st *clusterState, fw *framework, k *mesos.Kill) {
	t := fw.tasks[k.TaskID.Value]
	var a *agent
	if t != nil {
		a = st.agents[t.agentID]
	}
	if t == nil || a == nil || !a.reachable {
		m.reconcile(st, fw, []mesos.ReconcileTask{{TaskID: k.TaskID, AgentID: k.AgentID}})
		return
	}
	if k.AgentID != nil && k.AgentID.Value != t.agentID {
		// As Mesos does: a KILL naming another agent than the task's is
		// ignored.
		m.log.Debug("kill for a task of another agent ignored", "framework_id", fw.id, "task_id", k.TaskID.Value,
			"agent_id", k.AgentID.Value, "task_agent_id", t.agentID)
		return
	}
	m.log.Debug("killing task", "framework_id", fw.id, "task_id", k.TaskID.Value, "agent_id", a.id)
	a.link.send(outbound{path: cluster.PathKill, body: cluster.Kill{
		FrameworkID: mesos.FrameworkID{Value: fw.id}, TaskID: k.TaskID, KillPolicy: k.KillPolicy,
	}})
}

// reconcile answers RECONCILE: explicit for the listed tasks, implicit when
// none are listed. Implicit reconciliation answers for every task the
// framework still has, as Mesos does: the live ones and the terminal ones
// whose update is not acknowledged yet.
func (m *Master) reconcile(st *clusterState, fw *framework, tasks []mesos.ReconcileTask) {
	now := time.Now()
	if len(tasks) == 0 {
		for _, t := range fw.tasks {
			m.deliver(fw, reconciled(t))
		}
		return
	}
	for _, rt := range tasks {
		if t := fw.tasks[rt.TaskID.Value]; t != nil {
			m.deliver(fw, reconciled(t))
			continue
		}
		s := mesos.TaskStatus{
			TaskID:    rt.TaskID,
			State:     mesos.TaskUnknown,
			Message:   "Reconciliation: Task is unknown",
			Source:    mesos.SourceMaster,
			Reason:    mesos.ReasonReconciliation,
			AgentID:   rt.AgentID,
			Timestamp: unixSeconds(now),
		}
		if rt.AgentID != nil {
			if a := st.agents[rt.AgentID.Value]; a != nil {
				if a.reachable {
					s.State, s.Message = mesos.TaskGone, "Reconciliation: Task is unknown to the agent"
				} else {
					s.State, s.Message = mesos.TaskUnreachable, "Reconciliation: Task is unreachable"
					s.UnreachableTime = &mesos.TimeInfo{Nanoseconds: a.unreachableTime.UnixNano()}
				}
			}
		}
		m.deliver(fw, s)
	}
}

// reconciled is a task's latest status as reconciliation reports it.
func reconciled(t *task) mesos.TaskStatus {
	l := t.status
	return mesos.TaskStatus{
		TaskID:          t.info.TaskID,
		State:           l.State,
		Message:         "Reconciliation: Latest task state",
		Source:          mesos.SourceMaster,
		Reason:          mesos.ReasonReconciliation,
		AgentID:         &mesos.AgentID{Value: t.agentID},
		ExecutorID:      l.ExecutorID,
		Timestamp:       unixSeconds(time.Now()),
		Healthy:         l.Healthy,
		Labels:          l.Labels,
		ContainerStatus: l.ContainerStatus,
		UnreachableTime: l.UnreachableTime,
		CheckStatus:     l.CheckStatus,
	}
}
