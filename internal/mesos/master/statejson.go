package master

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// The /master/state endpoint renders Mesos's hand-written JSON model, not
// protobuf JSON: plain string ids, flat resource maps, plain label arrays.

type object = map[string]any

func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		plain(w, http.StatusInternalServerError, "encode: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", contentJSON)
	w.Write(data)
}

func (m *Master) handleState(w http.ResponseWriter, r *http.Request) {
	if !m.serveAsLeader(w, "/master/state") {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "Expecting one of { 'GET', 'HEAD' }, but received '"+r.Method+"'")
		return
	}
	writeJSON(w, m.stateJSON())
}

func (m *Master) stateJSON() object {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	out := object{
		"version":                 Version,
		"build_date":              "",
		"build_time":              0,
		"build_user":              "",
		"git_sha":                 "",
		"start_time":              unixSeconds(m.startTime),
		"id":                      m.id,
		"pid":                     m.info.PID,
		"hostname":                m.info.Hostname,
		"capabilities":            []string{"AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"},
		"flags":                   m.flags(),
		"log_dir":                 "",
		"orphan_tasks":            []any{},
		"unregistered_frameworks": []any{},
		"recovered_slaves":        []any{},
		"deactivated_slaves":      0,
	}
	if !m.electedTime.IsZero() {
		out["elected_time"] = unixSeconds(m.electedTime)
	}
	if m.leader != nil {
		out["leader"] = m.leader.PID
		out["leader_info"] = m.leader
	}
	var agents []*agent
	for _, a := range st.agents {
		agents = append(agents, a)
	}
	slices.SortFunc(agents, func(a, b *agent) int { return compareStrings(a.id, b.id) })
	slaves := []any{}
	active, unreachable := 0, 0
	for _, a := range agents {
		if !a.reachable {
			unreachable++
			continue
		}
		active++
		slaves = append(slaves, slaveJSON(a))
	}
	out["slaves"] = slaves
	out["activated_slaves"] = active
	out["unreachable_slaves"] = unreachable

	var fws []*framework
	for _, fw := range st.frameworks {
		fws = append(fws, fw)
	}
	slices.SortFunc(fws, func(a, b *framework) int { return compareStrings(a.id, b.id) })
	frameworks := []any{}
	for _, fw := range fws {
		frameworks = append(frameworks, frameworkJSON(fw, true))
	}
	out["frameworks"] = frameworks
	completed := []any{}
	for _, fw := range st.completed {
		completed = append(completed, frameworkJSON(fw, false))
	}
	out["completed_frameworks"] = completed
	return out
}

func (m *Master) flags() object {
	c := m.cfg
	f := object{
		"ip":                      c.IP,
		"port":                    strconv.Itoa(int(m.info.Port)),
		"hostname":                c.Hostname,
		"agent_ping_timeout":      formatDuration(c.AgentPingTimeout),
		"max_agent_ping_timeouts": strconv.Itoa(c.MaxAgentPingTimeouts),
		"allocation_interval":     formatDuration(c.AllocationInterval),
		"zk_session_timeout":      formatDuration(c.ZKSessionTimeout),
	}
	if c.WorkDir != "" {
		f["work_dir"] = c.WorkDir
	}
	if c.ZK != "" {
		f["zk"] = c.ZK
	}
	return f
}

// formatDuration writes d as Mesos does: "15secs", "100ms", "1mins".
func formatDuration(d time.Duration) string {
	units := []struct {
		name string
		d    time.Duration
	}{
		{"weeks", 7 * 24 * time.Hour}, {"days", 24 * time.Hour}, {"hrs", time.Hour},
		{"mins", time.Minute}, {"secs", time.Second}, {"ms", time.Millisecond},
		{"us", time.Microsecond},
	}
	for _, u := range units {
		if d >= u.d {
			return strconv.FormatFloat(float64(d)/float64(u.d), 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// resourcesJSON is the flat resource map: scalars summed, ranges and sets
// as strings; cpus, gpus, mem and disk are always present.
func resourcesJSON(r mesos.Resources) object {
	out := object{"cpus": 0.0, "gpus": 0.0, "mem": 0.0, "disk": 0.0}
	for _, res := range r {
		switch res.Type {
		case mesos.ValueScalar:
			out[res.Name] = r.Scalar(res.Name)
		case mesos.ValueRanges:
			out[res.Name] = mesos.FormatRanges(r.Ranges(res.Name))
		case mesos.ValueSet:
			if res.Set != nil {
				out[res.Name] = "{" + strings.Join(res.Set.Item, ", ") + "}"
			}
		}
	}
	return out
}

func attributesJSON(attrs []mesos.Attribute) object {
	out := object{}
	for _, a := range attrs {
		switch {
		case a.Text != nil:
			out[a.Name] = a.Text.Value
		case a.Scalar != nil:
			out[a.Name] = a.Scalar.Value
		case a.Ranges != nil:
			out[a.Name] = mesos.FormatRanges(a.Ranges.Range)
		case a.Set != nil:
			out[a.Name] = "{" + strings.Join(a.Set.Item, ", ") + "}"
		}
	}
	return out
}

func labelsJSON(l *mesos.Labels) []mesos.Label {
	if l == nil || len(l.Labels) == 0 {
		return nil
	}
	return l.Labels
}

func slaveJSON(a *agent) object {
	ip, port := a.reg.Hostname, int(a.reg.Port)
	if u, err := url.Parse(a.reg.URL); err == nil {
		if h, p, err := net.SplitHostPort(u.Host); err == nil {
			ip = h
			if port == 0 {
				port, _ = strconv.Atoi(p)
			}
		}
	}
	version := a.reg.Version
	if version == "" {
		version = Version
	}
	out := object{
		"id":                   a.id,
		"hostname":             a.reg.Hostname,
		"port":                 port,
		"pid":                  "slave(1)@" + net.JoinHostPort(ip, strconv.Itoa(port)),
		"attributes":           attributesJSON(a.reg.Attributes),
		"registered_time":      unixSeconds(a.registeredTime),
		"resources":            resourcesJSON(a.total),
		"used_resources":       resourcesJSON(a.used()),
		"offered_resources":    resourcesJSON(a.offered()),
		"reserved_resources":   object{},
		"unreserved_resources": resourcesJSON(a.total),
		"active":               a.reachable,
		"deactivated":          false,
		"version":              version,
		"capabilities":         []string{"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT", "TASK_NO_EXECUTOR"},
	}
	if !a.reregisteredTime.IsZero() {
		out["reregistered_time"] = unixSeconds(a.reregisteredTime)
	}
	return out
}

func frameworkJSON(fw *framework, live bool) object {
	info := fw.info
	caps := []string{}
	for _, c := range info.Capabilities {
		caps = append(caps, c.Type)
	}
	failover := 0.0
	if info.FailoverTimeout != nil {
		failover = *info.FailoverTimeout
	}
	checkpoint := info.Checkpoint != nil && *info.Checkpoint
	tasks, unreachable := []any{}, []any{}
	var used mesos.Resources
	ids := make([]string, 0, len(fw.tasks))
	for id := range fw.tasks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := fw.tasks[id]
		if t.state() == mesos.TaskUnreachable {
			unreachable = append(unreachable, taskJSON(t, fw))
			continue
		}
		tasks = append(tasks, taskJSON(t, fw))
		if t.holdsResources() {
			used = used.Plus(t.resources)
		}
	}
	completed := []any{}
	for _, t := range fw.completed {
		completed = append(completed, taskJSON(t, fw))
	}
	offers := []any{}
	var offered mesos.Resources
	for _, o := range fw.offers {
		offered = offered.Plus(o.resources)
		offers = append(offers, object{
			"id": o.id, "framework_id": o.frameworkID, "slave_id": o.agentID,
			"resources": resourcesJSON(o.resources),
		})
	}
	out := object{
		"id":                fw.id,
		"name":              info.Name,
		"user":              info.User,
		"hostname":          info.Hostname,
		"webui_url":         info.WebUIURL,
		"active":            live && fw.sub != nil,
		"connected":         live && fw.sub != nil,
		"recovered":         fw.recovered,
		"failover_timeout":  failover,
		"checkpoint":        checkpoint,
		"capabilities":      caps,
		"registered_time":   unixSeconds(fw.registeredTime),
		"unregistered_time": 0.0,
		"resources":         resourcesJSON(used.Plus(offered)),
		"used_resources":    resourcesJSON(used),
		"offered_resources": resourcesJSON(offered),
		"tasks":             tasks,
		"unreachable_tasks": unreachable,
		"completed_tasks":   completed,
		"offers":            offers,
		"executors":         []any{},
	}
	if fw.sub == nil && !fw.unregisteredTime.IsZero() {
		out["unregistered_time"] = unixSeconds(fw.unregisteredTime)
	}
	if !fw.reregisteredTime.IsZero() {
		out["reregistered_time"] = unixSeconds(fw.reregisteredTime)
	}
	if info.HasCapability(mesos.CapabilityMultiRole) {
		roles := info.Roles
		if roles == nil {
			roles = []string{}
		}
		out["roles"] = roles
	} else {
		out["role"] = fw.role()
	}
	if info.Principal != "" {
		out["principal"] = info.Principal
	}
	if l := labelsJSON(info.Labels); l != nil {
		out["labels"] = l
	}
	return out
}

// taskRole is the role a task's resources are allocated to, as Mesos shows
// it; the framework's role for a task without allocation_info.
func taskRole(t *task, fw *framework) string {
	for _, r := range t.info.Resources {
		if r.AllocationInfo != nil {
			return r.AllocationInfo.Role
		}
	}
	return fw.role()
}

func taskJSON(t *task, fw *framework) object {
	statuses := []any{}
	for _, s := range t.statuses {
		so := object{"state": s.State, "timestamp": s.Timestamp}
		if s.ContainerStatus != nil {
			so["container_status"] = s.ContainerStatus
		}
		if s.Healthy != nil {
			so["healthy"] = *s.Healthy
		}
		if l := labelsJSON(s.Labels); l != nil {
			so["labels"] = l
		}
		statuses = append(statuses, so)
	}
	out := object{
		"id":           t.info.TaskID.Value,
		"name":         t.info.Name,
		"framework_id": t.frameworkID,
		"executor_id":  "",
		"slave_id":     t.agentID,
		"state":        t.state(),
		"resources":    resourcesJSON(t.resources),
		"role":         taskRole(t, fw),
		"statuses":     statuses,
	}
	if l := labelsJSON(t.info.Labels); l != nil {
		out["labels"] = l
	}
	if t.info.Discovery != nil {
		out["discovery"] = t.info.Discovery
	}
	if t.info.Container != nil {
		out["container"] = t.info.Container
	}
	if t.info.HealthCheck != nil {
		out["health_check"] = t.info.HealthCheck
	}
	if t.info.KillPolicy != nil {
		out["kill_policy"] = t.info.KillPolicy
	}
	if t.info.Command != nil && t.info.Command.User != "" {
		out["user"] = t.info.Command.User
	} else if fw.info.User != "" {
		out["user"] = fw.info.User
	}
	return out
}
