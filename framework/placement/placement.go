package placement

import (
	"maps"
	"regexp"
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// DefaultMaxPerOffer is Marathon's --max_instances_per_offer default.
const DefaultMaxPerOffer = 5

// Request is one round of offer matching.
type Request struct {
	// Offers are the offers at hand, tried in this order.
	Offers []mesos.Offer
	// Pending are the instances waiting for a task, in priority order.
	Pending []Pending
	// Running are the live instances of every app. Constraints count the
	// instances of the same app that are placed (Hostname set), not in a
	// terminal state and not themselves pending.
	Running []state.Instance
	// MaxPerOffer caps the instances launched on one offer (Marathon's
	// --max_instances_per_offer): 0 means DefaultMaxPerOffer, a negative
	// value means no cap.
	MaxPerOffer int
	// LocalRegion is the region of the Mesos master's fault domain ("":
	// none). As Marathon does for a REGION_AWARE framework, an offer
	// from an agent with a fault domain in another region (or any
	// region, when the master has none) takes only instances of apps
	// with a constraint on "@region" or "@zone".
	LocalRegion string
}

// Pending is an instance waiting for a task and the app version it runs.
type Pending struct {
	Instance state.Instance
	App      marathon.App
}

// Result is what Fit decided. Every offer is in exactly one Launch group
// or in Unused; every pending instance is in exactly one Launch or in
// Unplaced.
type Result struct {
	// Launches are grouped by offer, in offer order, and within an offer
	// in placement order.
	Launches []Launch
	// Unused are the offers that got nothing, in offer order: decline
	// them.
	Unused []mesos.OfferID
	// Unplaced are the pending instances that fit no offer, in pending
	// order.
	Unplaced []Unplaced
}

// Launch is one instance placed on one offer.
type Launch struct {
	OfferID    mesos.OfferID
	AgentID    mesos.AgentID
	Hostname   string
	InstanceID string
	AppID      marathon.PathID
	// Resources is exactly what the task takes from the offer: cpus, mem,
	// disk and gpus when asked for, and the host ports, each entry with
	// the role, reservation and allocation info of the offered entry it
	// comes from.
	Resources []mesos.Resource
	// HostPorts has one entry per port of the app (App.PortCount) in port
	// order; 0 for a container port mapping without a host port.
	HostPorts []uint32
	// Attributes are the offer's constraint fields (see Fields), to be
	// stored on the instance. Nil when the agent has none.
	Attributes map[string]string
	// Role is the role the offer is allocated to (its allocation_info),
	// which Mesos applies to the task; "" when the offer has none (a
	// framework that is not MULTI_ROLE).
	Role string
}

// Unplaced is a pending instance that fit no offer.
type Unplaced struct {
	InstanceID string
	AppID      marathon.PathID
	// Reason is a short text for the reason that rejected the most offers:
	// "no offers", "insufficient cpus", "insufficient mem", "no ports",
	// "constraint hostname UNIQUE", "offers full (5 instances per
	// offer)", ...
	Reason string
	// Rejections counts the offers per reason, in funnel order, for
	// /v2/queue's processedOffersSummary.
	Rejections []Rejection
}

// Fit places the pending instances, in order, into the offers. Each
// instance goes to the first offer, in offer order, that has the app's
// resources in an accepted role, its host ports and satisfies its
// constraints; for apps with a GROUP_BY constraint, to the fitting offer
// whose value of the first GROUP_BY field has the fewest instances, so
// that instances spread evenly. Resources are consumed as instances are
// placed, and constraints count the instances placed earlier in the same
// call. Fit is deterministic: equal requests give equal results.
//
// Once an instance of an app version does not fit, the later instances of
// the same app version get the same verdict without being tried again,
// as long as no instance of the app was placed in between: offers only
// shrink, so they cannot fit either.
func Fit(req Request) Result {
	f := newFitter(req)
	for i := range req.Pending {
		f.place(&req.Pending[i])
	}
	return f.result()
}

// appKey identifies an app version within one Fit call.
type appKey struct {
	id      marathon.PathID
	version int64
}

// plan is what one app version needs, computed once per Fit call.
type plan struct {
	roles       roles
	faultDomain bool // has a constraint on @region or @zone
	need        [numKinds]int64
	ports       []portRequest
	constraints []rule
	groupBy     int // index in constraints of the first GROUP_BY, or -1
	// dead[i] is set when offer i rejected the app for a reason that
	// cannot go away in this call (role, resources, ports); deadReason
	// keeps the reason.
	dead       []bool
	deadReason []Reason
	// verdict, once set, is the answer for every further instance while
	// the app's placements stay at verdictAt (another version of the same
	// app may still place instances and change what its constraints
	// allow).
	verdict   *Unplaced
	verdictAt int
}

type fitter struct {
	offers  []*offerState
	local   string // Request.LocalRegion
	max     int
	open    int // offers not yet full
	plans   map[appKey]*plan
	spreads map[marathon.PathID]*spread
	running map[marathon.PathID][]*state.Instance
	regexps map[string]*regexp.Regexp
	picks   []portPick
	// unplaced collects Unplaced in pending order.
	unplaced []Unplaced
}

func newFitter(req Request) *fitter {
	f := &fitter{
		local:   req.LocalRegion,
		max:     req.MaxPerOffer,
		plans:   map[appKey]*plan{},
		spreads: map[marathon.PathID]*spread{},
		regexps: map[string]*regexp.Regexp{},
	}
	if f.max == 0 {
		f.max = DefaultMaxPerOffer
	}
	for i := range req.Offers {
		f.offers = append(f.offers, newOfferState(&req.Offers[i]))
	}
	f.open = len(f.offers)
	pending := make(map[string]bool, len(req.Pending))
	for i := range req.Pending {
		pending[req.Pending[i].Instance.ID] = true
	}
	f.running = map[marathon.PathID][]*state.Instance{}
	for i := range req.Running {
		inst := &req.Running[i]
		if inst.Hostname == "" || inst.State.Terminal() || pending[inst.ID] {
			continue
		}
		f.running[inst.AppID] = append(f.running[inst.AppID], inst)
	}
	return f
}

func (f *fitter) plan(app *marathon.App) *plan {
	key := appKey{id: app.ID, version: app.Version.UnixNano()}
	if p, ok := f.plans[key]; ok {
		return p
	}
	p := &plan{
		roles:      rolesOf(app),
		ports:      portRequests(app),
		groupBy:    -1,
		dead:       make([]bool, len(f.offers)),
		deadReason: make([]Reason, len(f.offers)),
	}
	p.need[kindCpus] = toMilli(app.Cpus)
	p.need[kindMem] = toMilli(app.Mem)
	p.need[kindDisk] = toMilli(app.Disk)
	p.need[kindGpus] = int64(app.Gpus) * 1000
	for _, c := range app.Constraints {
		pc := prepare(c, f.regexps)
		if c.Field == FieldRegion || c.Field == FieldZone {
			p.faultDomain = true
		}
		if pc.Operator == marathon.OpGroupBy && p.groupBy < 0 {
			p.groupBy = len(p.constraints)
		}
		p.constraints = append(p.constraints, pc)
	}
	f.plans[key] = p
	return p
}

func (f *fitter) spread(id marathon.PathID) *spread {
	s, ok := f.spreads[id]
	if !ok {
		running := f.running[id]
		s = &spread{running: running, total: len(running)}
		f.spreads[id] = s
	}
	return s
}

// place tries one pending instance against the offers.
func (f *fitter) place(pd *Pending) {
	app := &pd.App
	p := f.plan(app)
	sp := f.spread(app.ID)
	if p.verdict != nil && p.verdictAt == sp.total {
		u := *p.verdict
		u.InstanceID = pd.Instance.ID
		u.Rejections = slices.Clone(u.Rejections)
		f.unplaced = append(f.unplaced, u)
		return
	}
	if f.open == 0 && len(f.offers) > 0 {
		// Every offer is full: nothing to try.
		f.unplaced = append(f.unplaced, Unplaced{
			InstanceID: pd.Instance.ID, AppID: app.ID, Reason: ReasonOfferFull.text("", f.max),
			Rejections: []Rejection{{Reason: ReasonOfferFull, Offers: len(f.offers)}},
		})
		return
	}
	var t tally
	best, bestCount := -1, 0
	for i, o := range f.offers {
		if p.dead[i] {
			t.add(p.deadReason[i])
			continue
		}
		if o.full {
			t.add(ReasonOfferFull)
			continue
		}
		r, failed := f.check(p, sp, o)
		if r == ReasonConstraint {
			t.addConstraint(failed)
			continue
		}
		if r != "" {
			t.add(r)
			p.dead[i], p.deadReason[i] = true, r
			continue
		}
		if p.groupBy < 0 {
			best = i
			break
		}
		c := &p.constraints[p.groupBy]
		v, ok := o.field(c.Field)
		if !ok {
			v = missing
		}
		n := sp.of(c.Field)[v]
		if best < 0 || n < bestCount {
			best, bestCount = i, n
		}
		if n == 0 {
			break
		}
	}
	if best >= 0 {
		f.launch(pd, p, sp, f.offers[best])
		return
	}
	u := Unplaced{InstanceID: pd.Instance.ID, AppID: app.ID, Reason: TextNoOffers, Rejections: t.rejections()}
	if r, ok := t.dominant(); ok {
		u.Reason = r.text(t.constraint(), f.max)
	}
	p.verdict, p.verdictAt = &u, sp.total
	f.unplaced = append(f.unplaced, u)
}

// check returns why o cannot take an instance of p, or "" when it can; for
// a constraint it also returns the constraint's text. On success the port
// picks are left in f.picks.
func (f *fitter) check(p *plan, sp *spread, o *offerState) (Reason, string) {
	if !o.allocatedTo(p.roles.own) || !o.hasRole(p.roles) {
		return ReasonRole, ""
	}
	if !p.faultDomain && f.remote(o) {
		return ReasonConstraint, textRemoteRegion
	}
	for i := range p.constraints {
		c := &p.constraints[i]
		v, ok := o.field(c.Field)
		if !sp.allows(c, v, ok) {
			return ReasonConstraint, c.text
		}
	}
	for k := range numKinds {
		if p.need[k] > 0 && o.avail(k, p.roles) < p.need[k] {
			return kindReasons[k], ""
		}
	}
	if len(p.ports) > 0 {
		var ok bool
		f.picks, ok = o.pickPorts(p.ports, p.roles, f.picks)
		if !ok {
			return ReasonPorts, ""
		}
	}
	return "", ""
}

// launch places pd on o, consuming the resources.
func (f *fitter) launch(pd *Pending, p *plan, sp *spread, o *offerState) {
	if len(p.ports) > 0 && p.groupBy >= 0 {
		// The picks in f.picks belong to the last offer checked; redo them
		// for the chosen one.
		f.picks, _ = o.pickPorts(p.ports, p.roles, f.picks)
	}
	res := make([]mesos.Resource, 0, numKinds+1)
	for k := range numKinds {
		if p.need[k] > 0 {
			res = o.takeScalar(k, p.need[k], p.roles, res)
		}
	}
	var hostPorts []uint32
	if len(p.ports) > 0 {
		res, hostPorts = o.takePorts(f.picks, res)
	}
	o.launches = append(o.launches, Launch{
		OfferID:    o.offer.ID,
		AgentID:    o.offer.AgentID,
		Hostname:   o.offer.Hostname,
		InstanceID: pd.Instance.ID,
		AppID:      pd.App.ID,
		Resources:  res,
		HostPorts:  hostPorts,
		Attributes: maps.Clone(o.fields),
		Role:       o.allocation(),
	})
	if f.max > 0 && len(o.launches) >= f.max {
		o.full = true
		f.open--
	}
	sp.add(o)
}

// remote reports whether o comes from an agent outside the master's
// region: one with a fault domain whose region is not LocalRegion.
// Marathon's ResourceMatcher (meetsFaultDomainRequirements).
func (f *fitter) remote(o *offerState) bool {
	region, ok := o.fields[FieldRegion]
	return ok && region != f.local
}

func (f *fitter) result() Result {
	var r Result
	for _, o := range f.offers {
		if len(o.launches) == 0 {
			r.Unused = append(r.Unused, o.offer.ID)
			continue
		}
		r.Launches = append(r.Launches, o.launches...)
	}
	r.Unplaced = f.unplaced
	return r
}
