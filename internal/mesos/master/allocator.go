package master

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Refuse filter bounds, as Mesos has them.
const (
	defaultRefuseSeconds = 5.0
	maxRefuseSeconds     = 31536000.0
)

// Mesos's default minimum allocatable resources: an agent with less free
// than this of both is not offered.
const (
	minAllocatableCPUs = 0.01
	minAllocatableMem  = 32
)

// kickAllocator asks for an allocation pass soon; it never blocks.
func (m *Master) kickAllocator() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *Master) allocateLoop() {
	ticker := time.NewTicker(m.cfg.AllocationInterval)
	defer ticker.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-ticker.C:
		case <-m.kick:
		}
		m.allocate()
	}
}

// allocate offers every agent's free resources to one eligible framework,
// rotating the starting framework so that frameworks take turns.
func (m *Master) allocate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.leading {
		return
	}
	st := m.st
	now := time.Now()
	var fws []*framework
	for _, fw := range st.frameworks {
		if fw.sub != nil && !fw.suppressed {
			fws = append(fws, fw)
		}
	}
	if len(fws) == 0 {
		return
	}
	slices.SortFunc(fws, func(a, b *framework) int { return compareStrings(a.id, b.id) })
	var agents []*agent
	for _, a := range st.agents {
		if a.reachable {
			agents = append(agents, a)
		}
	}
	slices.SortFunc(agents, func(a, b *agent) int { return compareStrings(a.id, b.id) })
	batches := map[*framework][]mesos.Offer{}
	for i, a := range agents {
		// free only for an agent that some framework may be offered:
		// most agents are held by the frameworks between allocations.
		var free mesos.Resources
		freeKnown := false
		for j := range fws {
			fw := fws[(st.rotation+i+j)%len(fws)]
			if a.hasOfferFor(fw) || !m.offerable(fw, a) {
				continue
			}
			if !freeKnown {
				free, freeKnown = a.free(), true
				if free.Scalar("cpus") < minAllocatableCPUs && free.Scalar("mem") < minAllocatableMem {
					break
				}
			}
			role, ok := pickRole(fw, a.id, free, st.rotation+i, now)
			if !ok {
				continue
			}
			o := &offer{
				id:          fmt.Sprintf("%s-O%d", m.id, m.nextOffer),
				frameworkID: fw.id,
				agentID:     a.id,
				role:        role,
				resources:   slices.Clone(free), // free may be the agent's cache
			}
			m.nextOffer++
			st.offers[o.id] = o
			fw.offers[o.id] = o
			a.offers[o.id] = o
			batches[fw] = append(batches[fw], wireOffer(o, fw, a))
			break
		}
	}
	st.rotation++
	for fw, offers := range batches {
		m.log.Debug("offers sent", "framework_id", fw.id, "offers", len(offers))
		fw.sub.send(mesos.Event{Type: mesos.EventOffers, Offers: &mesos.Offers{Offers: offers}})
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// offerable reports whether fw may be offered a's resources: an agent in
// another region than the master's (isRemoteSlave in Mesos's allocator)
// only goes to REGION_AWARE frameworks.
func (m *Master) offerable(fw *framework, a *agent) bool {
	region := mesos.DomainRegion(a.reg.Domain)
	if region == "" || fw.has(mesos.CapabilityRegionAware) {
		return true
	}
	return region == mesos.DomainRegion(m.info.Domain)
}

// pickRole chooses the role fw's offer on an agent is allocated to: the
// framework's roles take turns (turn rotates with the agent and the
// allocation pass), skipping those whose refuse filter covers free. As in
// Mesos, each offer is allocated to one role, and a role's filters do not
// hold back the others.
func pickRole(fw *framework, agentID string, free mesos.Resources, turn int, now time.Time) (string, bool) {
	roles := fw.offerRoles()
	for k := range roles {
		role := roles[(turn+k)%len(roles)]
		if !refused(fw, agentID, role, free, now) {
			return role, true
		}
	}
	return "", false
}

// refused reports whether a live refuse filter of fw for role covers free
// on the agent; expired filters are dropped.
func refused(fw *framework, agentID, role string, free mesos.Resources, now time.Time) bool {
	list := fw.filters[agentID]
	live := list[:0]
	hit := false
	for _, r := range list {
		if now.Before(r.until) {
			live = append(live, r)
			if r.role == role && r.resources.Contains(free) {
				hit = true
			}
		}
	}
	if len(live) == 0 {
		delete(fw.filters, agentID)
	} else {
		fw.filters[agentID] = live
	}
	return hit
}

// wireOffer renders an offer for fw: unreserved resources with role "*",
// allocation_info with the offer's role for MULTI_ROLE frameworks, and the
// agent's fault domain.
func wireOffer(o *offer, fw *framework, a *agent) mesos.Offer {
	var alloc *mesos.AllocationInfo
	if fw.has(mesos.CapabilityMultiRole) {
		alloc = &mesos.AllocationInfo{Role: o.role}
	}
	res := make([]mesos.Resource, 0, len(o.resources))
	for _, r := range o.resources {
		r.Role = mesos.RoleUnreserved
		if alloc != nil {
			ai := *alloc
			r.AllocationInfo = &ai
		}
		res = append(res, r)
	}
	return mesos.Offer{
		ID:             mesos.OfferID{Value: o.id},
		FrameworkID:    mesos.FrameworkID{Value: fw.id},
		AgentID:        mesos.AgentID{Value: a.id},
		Hostname:       a.reg.Hostname,
		URL:            agentURL(a),
		Domain:         a.reg.Domain,
		Resources:      res,
		Attributes:     a.reg.Attributes,
		AllocationInfo: alloc,
	}
}

// agentURL is the agent's address as offers carry it.
func agentURL(a *agent) *mesos.URL {
	addr := mesos.Address{Hostname: a.reg.Hostname, Port: a.reg.Port}
	if u, err := url.Parse(a.reg.URL); err == nil {
		if host, port, err := net.SplitHostPort(u.Host); err == nil {
			addr.IP = host
			if p, err := strconv.Atoi(port); err == nil && addr.Port == 0 {
				addr.Port = int32(p)
			}
		}
	}
	return &mesos.URL{Scheme: "http", Address: addr, Path: "/slave(1)"}
}

// removeOffer forgets o; its resources become free again.
func removeOffer(st *clusterState, o *offer) {
	delete(st.offers, o.id)
	if fw := st.frameworks[o.frameworkID]; fw != nil {
		delete(fw.offers, o.id)
	}
	if a := st.agents[o.agentID]; a != nil {
		delete(a.offers, o.id)
	}
}

// dropOffers removes every outstanding offer of fw, telling it with RESCIND
// events when rescind is set.
func (m *Master) dropOffers(st *clusterState, fw *framework, rescind bool) {
	for _, o := range fw.offers {
		removeOffer(st, o)
		if rescind && fw.sub != nil {
			fw.sub.send(mesos.Event{Type: mesos.EventRescind, Rescind: &mesos.Rescind{OfferID: mesos.OfferID{Value: o.id}}})
		}
	}
	m.kickAllocator()
}

// rescindAgentOffers removes every offer on a, with RESCIND events.
func (m *Master) rescindAgentOffers(st *clusterState, a *agent) {
	for _, o := range a.offers {
		removeOffer(st, o)
		if fw := st.frameworks[o.frameworkID]; fw != nil && fw.sub != nil {
			fw.sub.send(mesos.Event{Type: mesos.EventRescind, Rescind: &mesos.Rescind{OfferID: mesos.OfferID{Value: o.id}}})
		}
	}
}

// refuse installs a refuse filter of fw for res of role on the agent.
func refuse(fw *framework, agentID, role string, res mesos.Resources, f *mesos.Filters, now time.Time) {
	secs := defaultRefuseSeconds
	if f != nil && f.RefuseSeconds != nil && *f.RefuseSeconds >= 0 {
		secs = min(*f.RefuseSeconds, maxRefuseSeconds)
	}
	if secs <= 0 || res.Empty() {
		return
	}
	until := now.Add(time.Duration(secs * float64(time.Second)))
	fw.filters[agentID] = append(fw.filters[agentID], refusal{role: role, resources: res, until: until})
}

// decline handles DECLINE: the offers go back, filtered for refuse_seconds.
func (m *Master) decline(st *clusterState, fw *framework, d *mesos.Decline) {
	now := time.Now()
	for _, id := range d.OfferIDs {
		o := st.offers[id.Value]
		if o == nil || o.frameworkID != fw.id {
			m.log.Debug("declined offer is not valid", "framework_id", fw.id, "offer_id", id.Value)
			continue
		}
		removeOffer(st, o)
		refuse(fw, o.agentID, o.role, o.resources, d.Filters, now)
	}
	m.kickAllocator()
}

// revive clears fw's filters and ends its suppression.
func (m *Master) revive(fw *framework) {
	fw.filters = map[string][]refusal{}
	fw.suppressed = false
	m.kickAllocator()
}
