package registrator

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/marathon"
)

// registered is how Consul would list s, with its checks' statuses.
func registered(s Service) Registered {
	r := Registered{ID: s.ID, Node: s.Node, Name: s.Name, Meta: s.Meta, Checks: map[string]Status{}}
	for _, c := range s.Checks {
		r.Checks[c.ID] = c.Status
	}
	return r
}

// planView is what the table tests compare of a Plan.
type planView struct {
	Register   []string
	Update     []string
	Seed       []string
	Stale      []string
	Deregister []string
	Nodes      []string
}

func planOf(p Plan) planView {
	var v planView
	for _, s := range p.Register {
		v.Register = append(v.Register, s.Node+"/"+s.ID)
	}
	for _, u := range p.Update {
		v.Update = append(v.Update, u.Check.ID+"="+string(u.Check.Status))
	}
	for _, u := range p.Seed {
		v.Seed = append(v.Seed, u.Check.ID+"="+string(u.Check.Status))
	}
	for _, c := range p.StaleChecks {
		v.Stale = append(v.Stale, c.Node+"/"+c.CheckID)
	}
	for _, r := range p.Deregister {
		v.Deregister = append(v.Deregister, r.Node+"/"+r.ID)
	}
	v.Nodes = p.DeregisterNodes
	return v
}

func TestDiff(t *testing.T) {
	health := checks(healthCheck(marathon.ProtocolHTTP, 0, "/h"))
	healthy := Compute(snapshot(app(id("/web"), portDefs(10000), health, tasks(with(task("web.1", "h1", 31000), results(true))))), ttlOpts())
	sick := Compute(snapshot(app(id("/web"), portDefs(10000), health, tasks(with(task("web.1", "h1", 31000), results(false))))), ttlOpts())
	mirrored := Compute(snapshot(app(id("/web"), portDefs(10000), health, tasks(with(task("web.1", "h1", 31000), results(true))))), agentOpts())
	mirroredSick := Compute(snapshot(app(id("/web"), portDefs(10000), health, tasks(task("web.1", "h1", 31000)))), agentOpts())
	twoHosts := Compute(snapshot(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000), task("web.2", "h2", 31000)))), catalogOpts())
	oneHost := Compute(snapshot(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000)))), catalogOpts())
	none := Desired{}

	withoutAppID := func(r Registered) Registered { r.Meta = map[string]string{MetaHash: "x"}; return r }
	withoutCheck := func(r Registered) Registered { r.Checks = map[string]Status{}; return r }
	otherHash := func(r Registered) Registered {
		m := map[string]string{}
		for k, v := range r.Meta {
			m[k] = v
		}
		m[MetaHash] = "0000000000000000"
		r.Meta = m
		return r
	}
	extraCheck := func(r Registered) Registered {
		r.Checks = map[string]Status{r.ID + ":health": StatusPassing, r.ID + ":check0": StatusPassing}
		return r
	}
	criticalHTTP := func(r Registered) Registered {
		r.Checks = map[string]Status{r.ID + ":check0": StatusCritical}
		return r
	}
	seedable := func(r Registered) Registered {
		r.Seedable = map[string]bool{}
		for id := range r.Checks {
			r.Seedable[id] = true
		}
		return r
	}
	skipped := func(d Desired, s Skip) Desired { d.Skipped = append(d.Skipped, s); return d }

	tests := []struct {
		name string
		want Desired
		cur  Current
		plan planView
	}{
		{
			name: "nothing registered: register",
			want: healthy,
			plan: planView{Register: []string{"/web.1:10000"}},
		},
		{
			name: "registered as wanted: nothing",
			want: healthy,
			cur:  Current{Services: []Registered{registered(healthy.Services[0])}},
		},
		{
			name: "status check differs: update only",
			want: sick,
			cur:  Current{Services: []Registered{registered(healthy.Services[0])}},
			plan: planView{Update: []string{"web.1:10000:health=critical"}},
		},
		{
			name: "a check run by consul keeps its own status",
			want: mirrored,
			cur:  Current{Services: []Registered{criticalHTTP(registered(mirrored.Services[0]))}},
		},
		{
			name: "a seedable check takes the scheduler's passing",
			want: mirrored,
			cur:  Current{Services: []Registered{seedable(criticalHTTP(registered(mirrored.Services[0])))}},
			plan: planView{Seed: []string{"web.1:10000:check0=passing"}},
		},
		{
			name: "a seedable check stays critical while the scheduler says so",
			want: mirroredSick,
			cur:  Current{Services: []Registered{seedable(criticalHTTP(registered(mirroredSick.Services[0])))}},
		},
		{
			name: "definition changed: register again",
			want: healthy,
			cur:  Current{Services: []Registered{otherHash(registered(healthy.Services[0]))}},
			plan: planView{Register: []string{"/web.1:10000"}},
		},
		{
			name: "a check went missing: register again",
			want: healthy,
			cur:  Current{Services: []Registered{withoutCheck(registered(healthy.Services[0]))}},
			plan: planView{Register: []string{"/web.1:10000"}},
		},
		{
			name: "a check too many: register again, the extra one is stale",
			want: healthy,
			cur:  Current{Services: []Registered{extraCheck(registered(healthy.Services[0]))}},
			plan: planView{Register: []string{"/web.1:10000"}, Stale: []string{"/web.1:10000:check0"}},
		},
		{
			name: "task gone: deregister",
			want: none,
			cur:  Current{Services: []Registered{registered(healthy.Services[0])}},
			plan: planView{Deregister: []string{"/web.1:10000"}},
		},
		{
			name: "a skipped task keeps its registration",
			want: skipped(none, Skip{AppID: "/web", TaskID: "web.1", Err: ErrBadTask}),
			cur:  Current{Services: []Registered{registered(healthy.Services[0])}},
		},
		{
			name: "a skipped app keeps its registrations",
			want: skipped(none, Skip{AppID: "/web", Err: ErrBadApp}),
			cur:  Current{Services: []Registered{registered(healthy.Services[0])}},
		},
		{
			name: "a skipped app without id keeps nothing",
			want: skipped(none, Skip{Err: ErrBadApp}),
			cur:  Current{Services: []Registered{withoutAppID(registered(healthy.Services[0]))}},
			plan: planView{Deregister: []string{"/web.1:10000"}},
		},
		{
			name: "catalog: a host's last task gone: its service and node go",
			want: oneHost,
			cur: Current{
				Services: []Registered{registered(twoHosts.Services[0]), registered(twoHosts.Services[1])},
				Nodes:    []Node{{Name: "stadion-h1"}, {Name: "stadion-h2"}},
			},
			plan: planView{Deregister: []string{"stadion-h2/web.2:10000"}, Nodes: []string{"stadion-h2"}},
		},
		{
			name: "catalog: a node with someone else's service stays",
			want: oneHost,
			cur: Current{
				Services: []Registered{registered(twoHosts.Services[0]), registered(twoHosts.Services[1])},
				Nodes:    []Node{{Name: "stadion-h1"}, {Name: "stadion-h2", Foreign: 1}},
			},
			plan: planView{Deregister: []string{"stadion-h2/web.2:10000"}},
		},
		{
			name: "catalog: a node with a kept registration stays",
			want: skipped(oneHost, Skip{AppID: "/web", TaskID: "web.2", Err: ErrBadTask}),
			cur: Current{
				Services: []Registered{registered(twoHosts.Services[0]), registered(twoHosts.Services[1])},
				Nodes:    []Node{{Name: "stadion-h1"}, {Name: "stadion-h2"}},
			},
		},
		{
			name: "catalog: an empty owned node goes",
			want: oneHost,
			cur: Current{
				Services: []Registered{registered(oneHost.Services[0])},
				Nodes:    []Node{{Name: "stadion-h1"}, {Name: "stadion-h9"}},
			},
			plan: planView{Nodes: []string{"stadion-h9"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Diff(tc.want, tc.cur)
			if diff := cmp.Diff(tc.plan, planOf(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if p.Empty() != (cmp.Equal(tc.plan, planView{})) {
				t.Errorf("Empty() = %v for %+v", p.Empty(), planOf(p))
			}
		})
	}
}

// TestDiffApplied: once a plan is applied, the same desired state needs
// nothing more.
func TestDiffApplied(t *testing.T) {
	want := Compute(snapshot(
		app(id("/web"), portDefs(10000, 10001), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h"), commandCheck()),
			tasks(with(task("web.1", "h1", 31000, 31001), results(true, false)), task("web.2", "h1", 31002, 31003))),
		app(id("/db"), portDefs(10002), tasks(task("db.1", "h1", 31004))),
	), agentOpts())
	p := Diff(want, Current{})
	var cur Current
	for _, s := range p.Register {
		cur.Services = append(cur.Services, registered(s))
	}
	if again := Diff(want, cur); !again.Empty() {
		t.Errorf("second diff %+v, want empty", planOf(again))
	}
	if len(p.Register) != 5 {
		t.Errorf("%d registrations, want 5", len(p.Register))
	}
}

// TestSeedMemory: a check run by the agent may be seeded until Consul is
// seen passing it or it was seeded once; TTL checks never are; a check the
// agent no longer has is forgotten.
func TestSeedMemory(t *testing.T) {
	check := func(typ, status string) *api.AgentCheck { return &api.AgentCheck{Type: typ, Status: status} }
	var m seedMemory
	steps := []struct {
		name   string
		checks map[string]*api.AgentCheck
		seeded string // done after the step
		want   []string
	}{
		{
			name: "new http and tcp checks, critical",
			checks: map[string]*api.AgentCheck{
				"a": check("http", api.HealthCritical), "b": check("tcp", api.HealthCritical), "t": check("ttl", api.HealthCritical),
			},
			seeded: "a",
			want:   []string{"a", "b"},
		},
		{
			name:   "seeded once: never again, even critical with no output",
			checks: map[string]*api.AgentCheck{"a": check("http", api.HealthCritical), "b": check("tcp", api.HealthPassing)},
			want:   nil,
		},
		{
			name:   "seen passing: Consul's own runs decide after a failure",
			checks: map[string]*api.AgentCheck{"a": check("http", api.HealthCritical), "b": check("tcp", api.HealthCritical)},
			want:   nil,
		},
		{
			name:   "gone and registered again under the same id: seedable again",
			checks: map[string]*api.AgentCheck{},
			want:   nil,
		},
		{
			name:   "back",
			checks: map[string]*api.AgentCheck{"a": check("http", api.HealthCritical), "b": check("tcp", api.HealthCritical)},
			want:   []string{"a", "b"},
		},
	}
	for _, s := range steps {
		got := slices.Sorted(maps.Keys(m.observe(s.checks)))
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: seedable %v, want %v", s.name, got, s.want)
		}
		if s.seeded != "" {
			m.done(s.seeded)
		}
	}
}
