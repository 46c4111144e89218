package api

import (
	"github.com/stadionhq/stadion/internal/marathon"
)

// admitOptions returns the normalize options of one request with the role
// rules of Marathon 1.9+ (marathon.RolesFor): an app's or pod's role defaults to
// --mesos_role (NormalizeOptions.DefaultRole) or to the role of its
// top-level group when that group enforces it, and any other role than
// those, or the one the app has now, is a 422. defined holds the
// enforceRole of the group a request defines (a group PUT or POST, ids
// relative to base), which wins over the stored groups; the stored
// groups and apps come from the current View.
func (s *server) admitOptions(defined *marathon.Group, base marathon.PathID) marathon.NormalizeOptions {
	opts := s.cfg.NormalizeOptions
	view := s.backend.View()
	enforce := map[marathon.PathID]bool{}
	if view != nil {
		for _, g := range view.Groups {
			enforce[g.ID] = g.EnforceRole
		}
	}
	var walk func(g *marathon.Group, base marathon.PathID)
	walk = func(g *marathon.Group, base marathon.PathID) {
		id := g.ID.Resolve(base)
		if g.EnforceRole != nil {
			enforce[id] = *g.EnforceRole
		}
		for i := range g.Groups {
			walk(&g.Groups[i], id)
		}
	}
	if defined != nil {
		if base == "" {
			base = marathon.RootID
		}
		walk(defined, base)
	}
	opts.Roles = func(id marathon.PathID) marathon.RoleSettings {
		var group marathon.GroupRoles
		if segs := id.Segments(); len(segs) > 1 {
			e, ok := enforce[marathon.PathID("/"+segs[0])]
			group = marathon.GroupRoles{Known: ok, EnforceRole: e}
		}
		existing := ""
		if av := view.App(id); av != nil {
			existing = av.App.Role
		} else if pv := view.Pod(id); pv != nil {
			existing = pv.Pod.Role
		}
		return marathon.RolesFor(id, opts.DefaultRole, group, existing)
	}
	return opts
}
