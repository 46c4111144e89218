package registrator

import (
	"cmp"
	"maps"
	"slices"
)

// Diff returns the changes that bring Consul from cur to want. A service is
// registered again when it is missing, its definition hash differs or its
// checks are not the wanted ones (checks it no longer has are listed as
// stale); a status check whose status differs gets an update; a
// seedable check Consul runs that is not passing there is seeded with the
// scheduler's passing verdict; an owned service that is not wanted is deregistered unless its
// task or app was skipped. Owned catalog nodes that end up without any
// service are deregistered. It does no I/O.
func Diff(want Desired, cur Current) Plan {
	var p Plan
	have := make(map[string]Registered, len(cur.Services))
	for _, r := range cur.Services {
		have[r.key()] = r
	}
	wanted := make(map[string]bool, len(want.Services))
	used := map[string]bool{} // catalog nodes that keep a service
	for _, s := range want.Services {
		wanted[s.key()] = true
		used[s.Node] = true
		r, ok := have[s.key()]
		if !ok {
			p.Register = append(p.Register, s)
			continue
		}
		stale := staleChecks(s, r)
		p.StaleChecks = append(p.StaleChecks, stale...)
		if r.Meta[MetaHash] != s.Meta[MetaHash] || len(stale) > 0 || missingCheck(s, r) {
			p.Register = append(p.Register, s)
			continue
		}
		for _, c := range s.Checks {
			u := StatusUpdate{Node: s.Node, NodeAddress: s.NodeAddress, ServiceID: s.ID, Check: c}
			switch {
			case c.Kind == CheckStatus && r.Checks[c.ID] != c.Status:
				p.Update = append(p.Update, u)
			case c.Kind != CheckStatus && c.Status == StatusPassing && r.Checks[c.ID] != StatusPassing && r.Seedable[c.ID]:
				p.Seed = append(p.Seed, u)
			}
		}
	}
	for _, r := range cur.Services {
		switch {
		case wanted[r.key()]:
		case want.kept(r):
			used[r.Node] = true
		default:
			p.Deregister = append(p.Deregister, r)
		}
	}
	slices.SortFunc(p.Deregister, func(a, b Registered) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.ID, b.ID))
	})
	for _, n := range cur.Nodes {
		if !used[n.Name] && n.Foreign == 0 {
			p.DeregisterNodes = append(p.DeregisterNodes, n.Name)
		}
	}
	slices.Sort(p.DeregisterNodes)
	return p
}

// staleChecks returns the checks r has and s does not, by id.
func staleChecks(s Service, r Registered) []CheckRef {
	var out []CheckRef
	for _, id := range slices.Sorted(maps.Keys(r.Checks)) {
		if !slices.ContainsFunc(s.Checks, func(c Check) bool { return c.ID == id }) {
			out = append(out, CheckRef{Node: r.Node, ServiceID: r.ID, CheckID: id})
		}
	}
	return out
}

// missingCheck reports whether a check of s is not in Consul (an agent that
// lost it, or a check removed by hand).
func missingCheck(s Service, r Registered) bool {
	for _, c := range s.Checks {
		if _, ok := r.Checks[c.ID]; !ok {
			return true
		}
	}
	return false
}
