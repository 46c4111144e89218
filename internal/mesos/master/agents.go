package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// agentCallTimeout bounds one call from the master to an agent other than a
// ping.
const agentCallTimeout = 30 * time.Second

// handleRegister registers or reregisters an agent.
func (m *Master) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !m.serveAsLeader(w, cluster.PathRegister) {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "Expecting POST")
		return
	}
	if m.cfg.AuthenticateAgents {
		if _, ok := m.auth.principal(r); !ok {
			m.log.Debug("agent registration unauthenticated", "status", 401, "remote_addr", r.RemoteAddr)
			unauthorized(w, agentRealm)
			return
		}
	}
	var reg cluster.Register
	if !cluster.Decode(w, r, &reg) {
		return
	}
	if reg.URL == "" || reg.Hostname == "" {
		plain(w, http.StatusBadRequest, "register: url and hostname are required")
		return
	}
	if reg.Token == "" {
		plain(w, http.StatusBadRequest, "register: token is required")
		return
	}
	if reg.AgentID != "" {
		if msg := cluster.ValidateID(reg.AgentID); msg != "" {
			plain(w, http.StatusBadRequest, "register: invalid agent id: "+msg)
			return
		}
	}
	for _, t := range reg.Tasks {
		if msg := cluster.ValidateID(t.Info.TaskID.Value); msg != "" {
			plain(w, http.StatusBadRequest, "register: invalid task id: "+msg)
			return
		}
		if msg := cluster.ValidateID(t.FrameworkID.Value); msg != "" {
			plain(w, http.StatusBadRequest, "register: invalid framework id: "+msg)
			return
		}
	}
	if len(reg.Domain) > 0 {
		if _, err := mesos.ParseDomain(string(reg.Domain)); err != nil {
			plain(w, http.StatusBadRequest, "register: invalid domain: "+err.Error())
			return
		}
		if len(m.info.Domain) == 0 {
			// Mesos ignores such an agent: every master of a cluster
			// with fault domains must have one.
			plain(w, http.StatusBadRequest, "register: the agent has a domain but the master has none")
			return
		}
	}
	for _, res := range reg.Resources {
		if msg := validateResource(res); msg != "" {
			plain(w, http.StatusBadRequest, "register: invalid resources: "+msg)
			return
		}
	}
	out, err := m.register(reg)
	if err != nil {
		plain(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", contentJSON)
	writeJSON(w, out)
}

func (m *Master) register(reg cluster.Register) (cluster.Registered, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.leading {
		return cluster.Registered{}, fmt.Errorf("not the leading master")
	}
	st := m.st
	now := time.Now()
	id := reg.AgentID
	if id == "" {
		id = fmt.Sprintf("%s-S%d", m.id, m.nextAgent)
		for st.agents[id] != nil {
			m.nextAgent++
			id = fmt.Sprintf("%s-S%d", m.id, m.nextAgent)
		}
		m.nextAgent++
	}
	a := st.agents[id]
	wasUnreachable := false
	if a == nil {
		for _, old := range st.agents {
			if old.reg.URL == reg.URL {
				m.removeRestartedAgent(st, old, id, now)
			}
		}
		a = &agent{id: id, registeredTime: now, tasks: map[taskKey]*task{}, offers: map[string]*offer{}}
		st.agents[id] = a
		m.log.Info("agent registered", "agent_id", id, "hostname", reg.Hostname, "url", reg.URL, "resources", mesos.Resources(reg.Resources).String())
	} else {
		wasUnreachable = !a.reachable
		a.link.close()
		m.rescindAgentOffers(st, a)
		a.reregisteredTime = now
		m.log.Info("agent reregistered", "agent_id", id, "hostname", reg.Hostname, "was_unreachable", wasUnreachable)
	}
	a.reg = reg
	a.setTotal(mesos.Resources(nil).Plus(reg.Resources))
	a.reachable = true
	a.unreachableTime = time.Time{}
	m.adoptTasks(st, a, reg.Tasks, wasUnreachable, now)
	m.startLink(st, a)
	m.kickAllocator()
	return cluster.Registered{AgentID: id, MasterID: m.id, PingTimeoutSeconds: m.cfg.AgentPingTimeout.Seconds()}, nil
}

// adoptTasks makes the master's view of a's tasks match what the agent
// reports. Tasks of unknown frameworks are kept for them as recovered
// frameworks; tasks of removed frameworks are shut down. Tasks that were
// unreachable are reported back to their framework with
// REASON_AGENT_REREGISTERED.
func (m *Master) adoptTasks(st *clusterState, a *agent, reported []cluster.Task, wasUnreachable bool, now time.Time) {
	seen := map[taskKey]bool{}
	shutdown := map[string]bool{}
	for _, rt := range reported {
		fwID := rt.FrameworkID.Value
		key := taskKey{fwID, rt.Info.TaskID.Value}
		seen[key] = true
		if st.removed[fwID] {
			shutdown[fwID] = true
			continue
		}
		fw := st.frameworks[fwID]
		if fw == nil {
			fw = newFramework(fwID)
			fw.recovered = true
			fw.info.ID = &mesos.FrameworkID{Value: fwID}
			fw.info.Principal = rt.Principal
			st.frameworks[fwID] = fw
			m.log.Info("framework recovered from agent", "framework_id", fwID, "agent_id", a.id)
		}
		s := rt.Status
		if s.AgentID == nil {
			s.AgentID = &mesos.AgentID{Value: a.id}
		}
		t := fw.tasks[key.taskID]
		if t == nil {
			t = &task{info: rt.Info, frameworkID: fwID, agentID: a.id, resources: mesos.Resources(nil).Plus(rt.Info.Resources)}
			if s.State == "" {
				s = mesos.TaskStatus{TaskID: rt.Info.TaskID, State: mesos.TaskStaging, AgentID: s.AgentID, Timestamp: unixSeconds(now)}
				t.status = s // before setTask: nothing to invalidate yet
			} else {
				t.record(s)
			}
			fw.tasks[key.taskID] = t
			a.setTask(key, t)
			continue
		}
		was := t.state()
		t.agentID = a.id
		a.setTask(key, t)
		if s.State != "" && (s.State != was || !bytes16Equal(s.UUID, t.status.UUID)) {
			t.record(s)
		}
		if wasUnreachable || was == mesos.TaskUnreachable {
			back := reconciled(t)
			back.Message = "Agent reregistered"
			back.Reason = mesos.Reason("REASON_AGENT_REREGISTERED")
			m.deliver(fw, back)
		}
	}
	for key, t := range a.tasks {
		if seen[key] || t.state().Terminal() {
			continue
		}
		fw := st.frameworks[key.frameworkID]
		if fw == nil {
			a.dropTask(key)
			continue
		}
		m.masterUpdate(fw, t, t.info.TaskID, a.id, mesos.TaskGone, mesos.ReasonTaskUnknown,
			"Task is unknown to the agent after its reregistration", now)
	}
	for fwID := range shutdown {
		a.link.send(outbound{path: cluster.PathShutdown, body: cluster.Shutdown{FrameworkID: mesos.FrameworkID{Value: fwID}}})
	}
}

// removeRestartedAgent removes agent a, at whose address a new agent
// (newID) registers: a is no more, as two agents cannot serve one address.
// This is an agent restarted without its checkpoint, or with
// --recover=cleanup, which has killed a's tasks. Its live tasks become
// TASK_GONE (TASK_LOST for frameworks that are not PARTITION_AWARE) at once,
// rather than unreachable after the ping timeouts, as Mesos removes an agent
// when a new one registers at its address.
func (m *Master) removeRestartedAgent(st *clusterState, a *agent, newID string, now time.Time) {
	m.log.Info("agent replaced by a new agent at its address", "agent_id", a.id, "new_agent_id", newID, "url", a.reg.URL, "tasks", len(a.tasks))
	if a.link != nil {
		a.link.close()
	}
	m.rescindAgentOffers(st, a)
	for key, t := range a.tasks {
		fw := st.frameworks[key.frameworkID]
		if t.state().Terminal() || fw == nil {
			continue
		}
		m.masterUpdate(fw, t, t.info.TaskID, a.id, mesos.TaskGone, mesos.ReasonAgentRemoved,
			"Agent "+a.reg.Hostname+" restarted: a new agent registered at its address", now)
	}
	delete(st.agents, a.id)
}

func bytes16Equal(a, b []byte) bool { return string(a) == string(b) }

// startLink gives a a new link and starts its outbox and pinger.
func (m *Master) startLink(st *clusterState, a *agent) {
	ctx, cancel := context.WithCancel(m.ctx)
	link := &agentLink{url: a.reg.URL, token: a.reg.Token, ctx: ctx, cancel: cancel, q: newQueue[outbound]()}
	a.link = link
	agentID := a.id
	m.spawn(func() { m.outboxLoop(link) })
	m.spawn(func() { m.pingLoop(st, agentID, link) })
}

// outboxLoop sends the link's calls in order until the link closes.
func (m *Master) outboxLoop(link *agentLink) {
	for {
		items, closed := link.q.take()
		for len(items) > 0 {
			if n := ackRun(items); n > 1 {
				m.postAcks(link, items[:n])
				items = items[n:]
			} else {
				m.postOne(link, items[0])
				items = items[1:]
			}
			if link.ctx.Err() != nil {
				return
			}
		}
		if closed {
			return
		}
		select {
		case <-link.q.wake:
		case <-link.ctx.Done():
			return
		}
	}
}

// ackRun is how many of the first items are acknowledgements, at most
// cluster.MaxAcks: they go in one call (postAcks).
func ackRun(items []outbound) int {
	n := 0
	for n < len(items) && n < cluster.MaxAcks && items[n].path == cluster.PathAck && items[n].failed == nil {
		if _, ok := items[n].body.(cluster.Ack); !ok {
			break
		}
		n++
	}
	return n
}

// postOne makes one call to the agent.
func (m *Master) postOne(link *agentLink, o outbound) {
	ctx, cancel := context.WithTimeout(link.ctx, agentCallTimeout)
	err := cluster.Post(ctx, m.hc, link.url, o.path, link.token, o.body, nil)
	cancel()
	if err != nil && link.ctx.Err() == nil {
		m.log.Log(link.ctx, callFailureLevel(o.path, err), "agent call failed", "path", o.path, "url", link.url, "error", err)
		if o.failed != nil {
			o.failed(err)
		}
	}
}

// postAcks forwards acknowledgements in one call (cluster.PathAcks); when
// that fails (an agent without it answers 404), one by one.
func (m *Master) postAcks(link *agentLink, items []outbound) {
	batch := cluster.Acks{Acks: make([]cluster.Ack, len(items))}
	for i, o := range items {
		batch.Acks[i] = o.body.(cluster.Ack)
	}
	ctx, cancel := context.WithTimeout(link.ctx, agentCallTimeout)
	err := cluster.Post(ctx, m.hc, link.url, cluster.PathAcks, link.token, batch, nil)
	cancel()
	if err == nil || link.ctx.Err() != nil {
		return
	}
	m.log.Debug("batched acknowledgements refused; sending them one by one", "url", link.url, "acks", len(items), "error", err)
	for _, o := range items {
		m.postOne(link, o)
		if link.ctx.Err() != nil {
			return
		}
	}
}

// callFailureLevel is the level of a failed call to an agent. An agent
// answers a duplicate or late acknowledgement (a framework acknowledging
// twice, or an update the master acknowledged on its behalf) with 404 or
// 409: routine, so Debug.
func callFailureLevel(path string, err error) slog.Level {
	var se *cluster.StatusError
	if path == cluster.PathAck && errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusConflict) {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// pingLoop pings the agent every AgentPingTimeout; after
// MaxAgentPingTimeouts failures in a row the agent is unreachable.
func (m *Master) pingLoop(st *clusterState, agentID string, link *agentLink) {
	timeout := m.cfg.AgentPingTimeout
	ticker := time.NewTicker(timeout)
	defer ticker.Stop()
	failures := 0
	for {
		select {
		case <-link.ctx.Done():
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(link.ctx, timeout)
		err := cluster.Post(ctx, m.hc, link.url, cluster.PathPing, link.token, cluster.Ping{MasterID: m.id, AgentID: agentID}, nil)
		cancel()
		if link.ctx.Err() != nil {
			return
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		m.log.Debug("agent ping failed", "agent_id", agentID, "failures", failures, "error", err)
		if failures >= m.cfg.MaxAgentPingTimeouts {
			m.markUnreachable(st, agentID, link)
			return
		}
	}
}

// markUnreachable handles an agent that stopped answering pings: its offers
// are rescinded and its tasks become TASK_UNREACHABLE (TASK_LOST for
// frameworks that are not PARTITION_AWARE).
func (m *Master) markUnreachable(st *clusterState, agentID string, link *agentLink) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st != st {
		return
	}
	a := st.agents[agentID]
	if a == nil || a.link != link || !a.reachable {
		return
	}
	now := time.Now()
	m.log.Warn("agent unreachable", "agent_id", agentID, "hostname", a.reg.Hostname, "tasks", len(a.tasks))
	a.reachable = false
	a.unreachableTime = now
	link.close()
	m.rescindAgentOffers(st, a)
	for key, t := range a.tasks {
		if t.state().Terminal() {
			continue
		}
		fw := st.frameworks[key.frameworkID]
		s := mesos.TaskStatus{
			TaskID:          t.info.TaskID,
			State:           mesos.TaskUnreachable,
			Message:         "Agent " + a.reg.Hostname + " is unreachable: health check timed out",
			Source:          mesos.SourceMaster,
			Reason:          mesos.ReasonAgentRemoved,
			AgentID:         &mesos.AgentID{Value: a.id},
			Timestamp:       unixSeconds(now),
			UnreachableTime: &mesos.TimeInfo{Nanoseconds: now.UnixNano()},
		}
		t.record(s)
		if fw != nil {
			m.deliver(fw, s)
		}
	}
	m.kickAllocator()
}
