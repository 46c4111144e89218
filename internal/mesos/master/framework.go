package master

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// validateFrameworkInfo applies the FrameworkInfo checks that Mesos answers
// with an ERROR event rather than an HTTP error.
func validateFrameworkInfo(info *mesos.FrameworkInfo) string {
	multi := info.HasCapability(mesos.CapabilityMultiRole)
	if multi && info.Role != "" {
		return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
	}
	if !multi && len(info.Roles) > 0 {
		return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
	}
	seen := map[string]bool{}
	for _, r := range info.Roles {
		if seen[r] {
			return "'FrameworkInfo.roles' contains duplicate items"
		}
		seen[r] = true
	}
	roles := slices.Clone(info.Roles)
	if info.Role != "" {
		roles = append(roles, info.Role)
	}
	for _, r := range roles {
		if msg := validateRole(r); msg != "" {
			return msg
		}
	}
	if info.ID != nil {
		if msg := cluster.ValidateID(info.ID.Value); msg != "" {
			return "'FrameworkInfo.id' is not valid: " + msg
		}
	}
	if ft := info.FailoverTimeout; ft != nil && (math.IsNaN(*ft) || math.IsInf(*ft, 0) || *ft > math.MaxInt64/1e9 || *ft < -math.MaxInt64/1e9) {
		return fmt.Sprintf("Invalid 'FrameworkInfo.failover_timeout': %v is not a valid duration", *ft)
	}
	return ""
}

// validateRole follows Mesos's role name rules.
func validateRole(r string) string {
	switch {
	case r == "":
		return "Invalid role '': Empty role name is invalid"
	case r == "*":
		return ""
	case r == "." || r == "..":
		return fmt.Sprintf("Invalid role '%s': Role name '%s' is disallowed", r, r)
	case strings.HasPrefix(r, "-"):
		return fmt.Sprintf("Invalid role '%s': Role name '%s' is invalid because it starts with a dash", r, r)
	case strings.HasPrefix(r, "/") || strings.HasSuffix(r, "/") || strings.Contains(r, "//"):
		return fmt.Sprintf("Invalid role '%s': Role name '%s' has an empty path component", r, r)
	case strings.ContainsFunc(r, func(c rune) bool { return c <= ' ' || c == 0x7f }):
		return fmt.Sprintf("Invalid role '%s': Role name '%s' contains an invalid character", r, r)
	}
	return ""
}

// subscribe registers or reregisters a framework and returns its new
// subscription, whose queue already holds SUBSCRIBED and a HEARTBEAT, or an
// ERROR event when the framework is refused.
func (m *Master) subscribe(s *mesos.Subscribe) *subscription {
	info := s.FrameworkInfo
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	refuse := func(msg string) *subscription {
		sub := m.newSubscription("")
		sub.send(mesos.Event{Type: mesos.EventError, Error: &mesos.ErrorEvent{Message: msg}})
		sub.close()
		m.log.Debug("subscription refused", "error", msg)
		return sub
	}
	if !m.leading {
		return refuse("Master is not the leader")
	}
	if msg := validateFrameworkInfo(&info); msg != "" {
		return refuse(msg)
	}
	now := time.Now()
	var fw *framework
	if info.ID == nil {
		// The master id is fresh on every start and the counter never
		// goes back, so only a framework that made up an id with this
		// prefix can hold it; skip such ids all the same.
		id := fmt.Sprintf("%s-%04d", m.id, m.nextFramework)
		for st.frameworks[id] != nil || st.removed[id] {
			m.nextFramework++
			id = fmt.Sprintf("%s-%04d", m.id, m.nextFramework)
		}
		m.nextFramework++
		fw = newFramework(id)
		fw.registeredTime = now
		st.frameworks[id] = fw
		info.ID = &mesos.FrameworkID{Value: id}
		m.log.Info("framework registered", "framework_id", id, "name", info.Name)
	} else {
		id := info.ID.Value
		if st.removed[id] {
			return refuse("Framework has been removed")
		}
		fw = st.frameworks[id]
		switch {
		case fw == nil:
			// Unknown but never removed: a framework coming back after a
			// master restart or failover. Adopt it with its id.
			fw = newFramework(id)
			fw.registeredTime = now
			st.frameworks[id] = fw
			m.log.Info("framework adopted", "framework_id", id, "name", info.Name)
		case fw.info.Principal != info.Principal && (!fw.recovered || fw.info.Principal != ""):
			// As Mesos, which does not tell the old principal to the
			// newcomer. A framework recovered from agents carries the
			// principal its tasks were launched with, when known. The
			// subscription in place, if any, is left alone.
			m.log.Warn("subscription with another principal refused", "framework_id", id, "principal", fw.info.Principal, "new_principal", info.Principal)
			return refuse("Changing framework's principal is not allowed.")
		case fw.recovered:
			fw.registeredTime = now
			m.log.Info("recovered framework resubscribed", "framework_id", id)
		default:
			// user and checkpoint cannot change on resubscription.
			info.User, info.Checkpoint = fw.info.User, fw.info.Checkpoint
			fw.reregisteredTime = now
			m.log.Info("framework resubscribed", "framework_id", id)
		}
	}
	if fw.sub != nil {
		// One subscription per framework: the old stream learns why it ends.
		fw.sub.send(mesos.Event{Type: mesos.EventError, Error: &mesos.ErrorEvent{Message: "Framework failed over"}})
		fw.sub.close()
	}
	m.dropOffers(st, fw, false)
	if fw.failover != nil {
		fw.failover.Stop()
		fw.failover = nil
	}
	fw.failoverGen++
	fw.recovered = false
	fw.info = info
	fw.filters = map[string][]refusal{}
	fw.suppressed = suppressedAll(&info, s.SuppressedRoles)
	sub := m.newSubscription(fw.id)
	fw.sub = sub
	m.streams.Store(fw.id, sub)
	interval := m.cfg.HeartbeatInterval.Seconds()
	mi := m.info
	sub.send(mesos.Event{Type: mesos.EventSubscribed, Subscribed: &mesos.Subscribed{
		FrameworkID:              mesos.FrameworkID{Value: fw.id},
		HeartbeatIntervalSeconds: &interval,
		MasterInfo:               &mi,
	}})
	sub.push(heartbeat)
	m.kickAllocator()
	return sub
}

// suppressedAll reports whether suppressed covers every role of the
// framework (its offers are all-or-nothing here).
func suppressedAll(info *mesos.FrameworkInfo, suppressed []string) bool {
	if len(suppressed) == 0 {
		return false
	}
	roles := info.Roles
	if !info.HasCapability(mesos.CapabilityMultiRole) {
		r := info.Role
		if r == "" {
			r = mesos.RoleUnreserved
		}
		roles = []string{r}
	}
	if len(roles) == 0 {
		roles = []string{mesos.RoleUnreserved}
	}
	for _, r := range roles {
		if !slices.Contains(suppressed, r) {
			return false
		}
	}
	return true
}

// updateFramework applies UPDATE_FRAMEWORK; it returns a 400 body on error.
func (m *Master) updateFramework(fw *framework, info mesos.FrameworkInfo, suppressed []string) string {
	if info.Principal != fw.info.Principal {
		return "Changing framework's principal is not allowed."
	}
	if info.User != fw.info.User {
		return "Updating 'FrameworkInfo.user' is unsupported"
	}
	info.Checkpoint = fw.info.Checkpoint
	fw.info = info
	fw.suppressed = suppressedAll(&info, suppressed)
	m.kickAllocator()
	return ""
}

// streamGone handles the end of a subscription's connection: if it is still
// the framework's current one, the framework is disconnected.
func (m *Master) streamGone(sub *subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	fw := st.frameworks[sub.frameworkID]
	if fw == nil || fw.sub != sub {
		return
	}
	fw.sub = nil
	m.streams.CompareAndDelete(fw.id, sub)
	fw.unregisteredTime = time.Now()
	m.dropOffers(st, fw, false)
	var timeout time.Duration
	if ft := fw.info.FailoverTimeout; ft != nil && *ft > 0 {
		timeout = time.Duration(*ft * float64(time.Second))
	}
	m.log.Info("framework disconnected", "framework_id", fw.id, "failover_timeout", timeout)
	if timeout <= 0 {
		m.removeFramework(st, fw)
		return
	}
	fw.failoverGen++
	gen := fw.failoverGen
	fw.failover = time.AfterFunc(timeout, func() { m.failoverExpired(st, fw.id, gen) })
	m.kickAllocator()
}

func (m *Master) failoverExpired(st *clusterState, id string, gen int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st != st {
		return
	}
	fw := st.frameworks[id]
	if fw == nil || fw.sub != nil || fw.failoverGen != gen {
		return
	}
	m.log.Info("framework failover timeout expired", "framework_id", id)
	m.removeFramework(st, fw)
}

// removeFramework removes fw: its stream closes, its offers go, its tasks
// are killed (every agent is told to shut the framework down) and later calls
// get "Framework cannot be found".
func (m *Master) removeFramework(st *clusterState, fw *framework) {
	if fw.sub != nil {
		fw.sub.close()
		m.streams.CompareAndDelete(fw.id, fw.sub)
		fw.sub = nil
	}
	if fw.failover != nil {
		fw.failover.Stop()
		fw.failover = nil
	}
	m.dropOffers(st, fw, false)
	now := time.Now()
	for _, t := range fw.tasks {
		if a := st.agents[t.agentID]; a != nil {
			a.dropTask(taskKey{fw.id, t.info.TaskID.Value})
		}
		if !t.state().Terminal() {
			t.record(mesos.TaskStatus{
				TaskID:    t.info.TaskID,
				State:     mesos.TaskKilled,
				Message:   "Framework " + fw.id + " removed",
				Source:    mesos.SourceMaster,
				Reason:    mesos.ReasonFrameworkRemoved,
				AgentID:   &mesos.AgentID{Value: t.agentID},
				Timestamp: unixSeconds(now),
			})
		}
		fw.complete(t)
	}
	for _, a := range st.agents {
		if a.reachable {
			a.link.send(outbound{path: cluster.PathShutdown, body: cluster.Shutdown{FrameworkID: mesos.FrameworkID{Value: fw.id}}})
		}
	}
	fw.unregisteredTime = now
	delete(st.frameworks, fw.id)
	st.removed[fw.id] = true
	st.completed = append(st.completed, fw)
	if n := len(st.completed); n > maxCompletedFrameworks {
		st.completed = append([]*framework(nil), st.completed[n-maxCompletedFrameworks:]...)
	}
	m.log.Info("framework removed", "framework_id", fw.id)
	m.kickAllocator()
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
