package marathon

// Group is a node of the group tree (/v2/groups).
type Group struct {
	ID           PathID   `json:"id"`
	Apps         []App    `json:"apps"`
	Groups       []Group  `json:"groups"`
	Pods         []any    `json:"pods"`
	Dependencies []PathID `json:"dependencies"`
	// Version is the time of the last change of the group.
	Version Timestamp `json:"version,omitzero"`
	// EnforceRole makes apps of a top-level group use the group's role.
	EnforceRole *bool `json:"enforceRole,omitempty"`
}

// MarshalJSON emits the empty collections Marathon always writes.
func (g Group) MarshalJSON() ([]byte, error) {
	type plain Group
	p := plain(g)
	if p.Apps == nil {
		p.Apps = []App{}
	}
	if p.Groups == nil {
		p.Groups = []Group{}
	}
	if p.Pods == nil {
		p.Pods = []any{}
	}
	if p.Dependencies == nil {
		p.Dependencies = []PathID{}
	}
	return marshalPlain(p)
}

// AllApps returns the apps of the tree, depth first.
func (g Group) AllApps() []App {
	apps := append([]App(nil), g.Apps...)
	for _, c := range g.Groups {
		apps = append(apps, c.AllApps()...)
	}
	return apps
}

// GroupUpdate is the body of PUT and PATCH /v2/groups/{id}: a group
// definition, or one of the special forms {"version": v} (roll back to that
// version; it wins over scaleBy) and {"scaleBy": f} (scale every app of the
// tree by f).
type GroupUpdate struct {
	ID           PathID     `json:"id,omitempty"`
	Apps         []App      `json:"apps,omitempty"`
	Groups       []Group    `json:"groups,omitempty"`
	Dependencies []PathID   `json:"dependencies,omitempty"`
	EnforceRole  *bool      `json:"enforceRole,omitempty"`
	Version      *Timestamp `json:"version,omitempty"`
	ScaleBy      *float64   `json:"scaleBy,omitempty"`
}

// Group returns the update as a group definition with the given id.
func (u GroupUpdate) Group(id PathID) Group {
	if u.ID != "" {
		id = u.ID
	}
	return Group{ID: id, Apps: u.Apps, Groups: u.Groups, Dependencies: u.Dependencies, EnforceRole: u.EnforceRole}
}
