package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// groupNode is a node of the group tree derived from app ids and the
// stored groups. Children are keyed by their last path element, so that
// building and searching the tree costs the length of the ids, not its
// square (ids stored before MaxIDDepth may be thousands of elements deep).
type groupNode struct {
	id       marathon.PathID
	apps     []*scheduler.AppView
	pods     []*scheduler.PodView
	children map[string]*groupNode
	stored   *state.Group
}

func newGroupNode(id marathon.PathID) *groupNode {
	return &groupNode{id: id, children: map[string]*groupNode{}}
}

// groupTree builds the tree of a View.
func groupTree(v *scheduler.View) *groupNode {
	root := newGroupNode(marathon.RootID)
	node := func(id marathon.PathID) *groupNode {
		n := root
		for cid, seg := range prefixes(id.Canonical()) {
			c, ok := n.children[seg]
			if !ok {
				c = newGroupNode(cid)
				n.children[seg] = c
			}
			n = c
		}
		return n
	}
	for _, av := range v.Apps {
		p := node(av.App.ID.Parent())
		p.apps = append(p.apps, av)
	}
	for _, pv := range v.Pods {
		p := node(pv.Pod.ID.Parent())
		p.pods = append(p.pods, pv)
	}
	for i := range v.Groups {
		g := &v.Groups[i]
		node(g.ID.Canonical()).stored = g
	}
	return root
}

// prefixes yields the ids of the groups on the way from the root to the
// canonical id (the id itself last), each with its last path element;
// the ids share id's memory.
func prefixes(id marathon.PathID) func(yield func(marathon.PathID, string) bool) {
	return func(yield func(marathon.PathID, string) bool) {
		start := 1
		for start < len(id) {
			end := strings.IndexByte(string(id[start:]), '/')
			if end < 0 {
				end = len(id)
			} else {
				end += start
			}
			if !yield(id[:end], string(id[start:end])) {
				return
			}
			start = end + 1
		}
	}
}

// find returns the node of the canonical id, or nil.
func (n *groupNode) find(id marathon.PathID) *groupNode {
	for _, seg := range prefixes(id) {
		if n = n.children[seg]; n == nil {
			return nil
		}
	}
	return n
}

// groupOut is a group as GET /v2/groups writes it. Apps and Groups are
// omitted when not embedded; Apps are App or, with group.apps.* embeds,
// AppInfo.
type groupOut struct {
	ID           marathon.PathID      `json:"id"`
	Apps         any                  `json:"apps,omitempty"`
	Groups       *[]groupOut          `json:"groups,omitempty"`
	Pods         []marathon.PodStatus `json:"pods"`
	Dependencies []marathon.PathID    `json:"dependencies"`
	Version      marathon.Timestamp   `json:"version,omitzero"`
	EnforceRole  *bool                `json:"enforceRole,omitempty"`
}

// render writes a node and returns it with the newest version in its
// subtree (the group version when none is stored). It stops with the
// context's error when the client has gone: nobody would read the rest of
// a large tree with embedded tasks. Under an ACL it leaves out the apps z
// may not view and the groups with nothing z may view, and redacts env
// values; shown reports whether z may see the node at all (it may view
// the group, or something below it).
func (s *server) render(ctx context.Context, v *scheduler.View, n *groupNode, e groupEmbed, z authz) (out groupOut, newest marathon.Timestamp, shown bool, err error) {
	if err := ctx.Err(); err != nil {
		return groupOut{}, marathon.Timestamp{}, false, err
	}
	shown = z.may(acl.View, n.id)
	apps := n.apps
	if !shown {
		apps = z.viewable(n.apps)
		shown = len(apps) > 0
	}
	out = groupOut{ID: n.id, Pods: []marathon.PodStatus{}, Dependencies: []marathon.PathID{}}
	if n.stored != nil {
		newest = n.stored.Version
		if n.stored.Dependencies != nil {
			out.Dependencies = n.stored.Dependencies
		}
	}
	for _, pv := range n.pods {
		if z.may(acl.View, pv.Pod.ID) {
			// Marathon's GroupInfo lists pod statuses (types/group.raml).
			out.Pods = append(out.Pods, s.podStatus(pv))
			shown = true
			if pv.Pod.Version.After(newest.Time) {
				newest = pv.Pod.Version
			}
		}
	}
	if n.id != marathon.RootID {
		er := n.stored != nil && n.stored.EnforceRole
		out.EnforceRole = &er
	}
	switch {
	case e.apps && e.appInfo:
		infos := make([]marathon.AppInfo, 0, len(apps))
		for _, av := range apps {
			if err := ctx.Err(); err != nil {
				return groupOut{}, marathon.Timestamp{}, false, err
			}
			info := s.appInfo(v, av, e.app)
			info.App = z.app(info.App)
			infos = append(infos, info)
		}
		out.Apps = infos
	case e.apps:
		defs := make([]marathon.App, 0, len(apps))
		for _, av := range apps {
			defs = append(defs, z.app(av.App))
		}
		out.Apps = defs
	}
	for _, av := range apps {
		if av.App.Version.After(newest.Time) {
			newest = av.App.Version
		}
	}
	// Siblings share their parent's id, so the order of their last
	// elements is the order of their ids.
	segs := make([]string, 0, len(n.children))
	for seg := range n.children {
		segs = append(segs, seg)
	}
	sort.Strings(segs)
	groups := make([]groupOut, 0, len(segs))
	for _, seg := range segs {
		g, ver, childShown, err := s.render(ctx, v, n.children[seg], e, z)
		if err != nil {
			return groupOut{}, marathon.Timestamp{}, false, err
		}
		if !childShown {
			continue
		}
		shown = true
		groups = append(groups, g)
		if ver.After(newest.Time) {
			newest = ver
		}
	}
	if e.groups {
		out.Groups = &groups
	}
	if n.stored != nil && !n.stored.Version.IsZero() {
		out.Version = n.stored.Version
	} else {
		out.Version = newest
	}
	return out, newest, shown, nil
}

// groupID is the canonical id of the {id} path value; the root without
// one.
func groupID(r *http.Request) marathon.PathID {
	return marathon.PathID("/" + strings.Trim(r.PathValue("id"), "/")).Canonical()
}

// getGroup is GET /v2/groups and /v2/groups/{id}; an id ending in
// "versions" is the list of the group's versions, as Marathon's
// GroupsResource reads it (a group named "versions" is shadowed there too).
func (s *server) getGroup(w http.ResponseWriter, r *http.Request) (any, error) {
	if rest := strings.Trim(r.PathValue("id"), "/"); rest == "versions" || strings.HasSuffix(rest, "/versions") {
		return s.getGroupVersions(r, marathon.PathID("/"+strings.TrimSuffix(rest, "versions")).Canonical())
	}
	id := groupID(r)
	v := s.backend.View()
	n := groupTree(v).find(id)
	if n == nil {
		return nil, marathon.GroupNotFound(id)
	}
	out, _, shown, err := s.render(r.Context(), v, n, groupEmbedOf(r), s.authzOf(r))
	if err != nil {
		return nil, err
	}
	// The root is there for everyone; a group with nothing the principal
	// may view is refused, as Marathon's ViewGroup check does.
	if !shown && !id.IsRoot() {
		return nil, marathon.AccessDenied()
	}
	return out, nil
}

// getGroupVersions is GET /v2/groups[/{id}]/versions: a bare JSON array
// of the group's stored versions, newest first (Marathon's RAML example).
func (s *server) getGroupVersions(r *http.Request, id marathon.PathID) (any, error) {
	if !id.IsRoot() {
		if err := s.authzOf(r).check(acl.View, id); err != nil {
			return nil, err
		}
	}
	vs, err := s.backend.GroupVersions(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 && !id.IsRoot() && groupTree(s.backend.View()).find(id) == nil {
		return nil, marathon.GroupNotFound(id)
	}
	out := make([]marathon.Timestamp, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- {
		out = append(out, vs[i])
	}
	return out, nil
}

// groupPatch is Marathon's GroupPartialUpdate.
type groupPatch struct {
	EnforceRole *bool `json:"enforceRole,omitempty"`
}

// patchGroup is PATCH /v2/groups/{id}: Marathon's GroupPartialUpdate sets
// enforceRole of a top-level group without touching its apps, and answers
// 200 with an empty body.
func (s *server) patchGroup(w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	u, err := marathon.Decode[groupPatch](body)
	if err != nil {
		return nil, err
	}
	id := groupID(r)
	if len(id.Segments()) != 1 {
		return nil, marathon.NotValid(marathon.Detail{Path: "/", Errors: []string{"Path needs to be top-level"}})
	}
	v := s.backend.View()
	n := groupTree(v).find(id)
	if n == nil {
		return nil, marathon.GroupNotFound(id)
	}
	if err := s.authzOf(r).check(acl.Update, id); err != nil {
		return nil, err
	}
	set := scheduler.GroupSettings{ID: id, EnforceRole: u.EnforceRole != nil && *u.EnforceRole}
	if n.stored != nil {
		set.Dependencies = n.stored.Dependencies
	}
	opts := scheduler.DeployOptions{Groups: []scheduler.GroupSettings{set}}
	if _, err := s.deploy(r, func(map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		return nil, nil, nil
	}, opts); err != nil {
		return nil, err
	}
	return reply{status: http.StatusOK}, nil
}

// below lists the current apps in group id (transitively).
func below(current map[marathon.PathID]marathon.App, id marathon.PathID) []marathon.PathID {
	var ids []marathon.PathID
	for cid := range current {
		if cid.IsChildOf(id) {
			ids = append(ids, cid)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// parseGroup decodes, normalises and validates a group body whose ids are
// relative to base.
func (s *server) parseGroup(g marathon.Group, base marathon.PathID) (marathon.Group, error) {
	opts := s.admitOptions(&g, base)
	opts.Base = base
	return marathon.AdmitGroup(g, opts)
}

// createGroup is POST /v2/groups[/{id}]: 201 with the deployment result;
// 409 when the group exists.
func (s *server) createGroup(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	g, err := marathon.DecodeGroup(body)
	if err != nil {
		return nil, err
	}
	if g, err = s.parseGroup(g, groupID(r)); err != nil {
		return nil, err
	}
	if g.ID.IsRoot() {
		return nil, marathon.GroupExists(g.ID)
	}
	if err := s.authzOf(r).check(acl.Create, g.ID); err != nil {
		return nil, err
	}
	apps := g.AllApps()
	opts.Groups = groupSettings(g)
	// Marathon names the parent of the group of the URL in its
	// group_change events.
	opts.GroupID = groupID(r).Parent()
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		if _, ok := current[g.ID]; ok || len(below(current, g.ID)) > 0 {
			return nil, nil, marathon.GroupExists(g.ID)
		}
		for _, a := range apps {
			if err := checkClash(current, a.ID); err != nil {
				return nil, nil, err
			}
		}
		return apps, nil, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	deployed(w, res)
	w.Header().Set("Location", "/v2/groups"+string(g.ID))
	return reply{status: http.StatusCreated, body: res}, nil
}

// putGroup is PUT /v2/groups[/{id}]: {"version": v} rolls the group back,
// {"scaleBy": f} scales every app below it, anything else is the group's
// new definition: changed apps are updated, new ones started, apps and
// subgroups left out of a given "apps" or "groups" list removed. With
// dryRun=true it answers 200 with the steps of that deployment,
// {"steps": [...]}, and changes nothing.
func (s *server) putGroup(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	dryRun, err := boolParam(r, "dryRun", false)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	u, err := marathon.DecodeGroupUpdate(body)
	if err != nil {
		return nil, err
	}
	id := groupID(r)
	if err := s.authzOf(r).check(acl.Update, id); err != nil {
		return nil, err
	}
	var change scheduler.Change
	switch {
	case u.Version != nil:
		change, err = s.rollbackGroup(r, id, *u.Version)
	case u.ScaleBy != nil:
		change, err = scaleGroup(id, *u.ScaleBy, s.cfg.NormalizeOptions)
	default:
		change, err = s.applyGroup(u, id)
		if err == nil {
			def := u.Group(id)
			def.ID = id
			if parsed, perr := s.parseGroup(def, id); perr == nil {
				opts.Groups = groupSettings(parsed)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	opts.GroupID = id.Parent()
	if dryRun {
		// Marathon answers 200 with the plan's steps and changes nothing.
		return s.dryRun(r, change, opts)
	}
	res, err := s.deploy(r, change, opts)
	if err != nil {
		return nil, err
	}
	return deployed(w, res), nil
}

// rollbackGroup restores the app versions that group id held at version.
func (s *server) rollbackGroup(r *http.Request, id marathon.PathID, version marathon.Timestamp) (scheduler.Change, error) {
	g, ok, err := s.backend.GroupVersion(r.Context(), id, version)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Marathon's GroupApiService throws IllegalArgumentException: 422.
		return nil, marathon.Unprocessable(fmt.Sprintf("Group %s not available in version %s", id, version))
	}
	ids := make([]marathon.PathID, 0, len(g.Apps))
	for aid := range g.Apps {
		ids = append(ids, aid)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	apps := make([]marathon.App, 0, len(ids))
	for _, aid := range ids {
		app, ok, err := s.backend.AppVersion(r.Context(), aid, g.Apps[aid])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &marathon.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("App '%s' does not exist in version %s", aid, g.Apps[aid])}
		}
		if err := marathon.CheckLimits(app, s.cfg.NormalizeOptions); err != nil {
			return nil, restoredBeyondLimits(aid, err)
		}
		apps = append(apps, app)
	}
	keep := map[marathon.PathID]bool{}
	for _, aid := range ids {
		keep[aid] = true
	}
	return func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		var remove []marathon.PathID
		for _, cid := range below(current, id) {
			if !keep[cid] {
				remove = append(remove, cid)
			}
		}
		return apps, remove, nil
	}, nil
}

// restoredBeyondLimits reports under "/version" the limits that a stored
// app version, restored by a group rollback, is beyond (it was stored
// before the limits were set or lowered): "/web/instances: is greater...".
func restoredBeyondLimits(id marathon.PathID, err error) error {
	var me *marathon.Error
	if !errors.As(err, &me) {
		return err
	}
	var msgs []string
	for _, d := range me.Details {
		for _, m := range d.Errors {
			msgs = append(msgs, fmt.Sprintf("%s%s: %s", id, d.Path, m))
		}
	}
	return marathon.NotValid(marathon.Detail{Path: "/version", Errors: msgs})
}

// scaleGroup multiplies the instances of every app below id by f,
// rounding up; no app may grow beyond the instance limit of opts.
func scaleGroup(id marathon.PathID, f float64, opts marathon.NormalizeOptions) (scheduler.Change, error) {
	if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, marathon.NotValid(marathon.Detail{Path: "/scaleBy", Errors: []string{"must be a positive number"}})
	}
	return func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		ids := below(current, id)
		if len(ids) == 0 {
			return nil, nil, marathon.GroupNotFound(id)
		}
		apps := make([]marathon.App, 0, len(ids))
		for _, aid := range ids {
			a := current[aid]
			n, err := marathon.ScaledInstances(a, f, opts)
			if err != nil {
				return nil, nil, err
			}
			a.Instances = n
			apps = append(apps, a)
		}
		return apps, nil, nil
	}, nil
}

// applyGroup replaces group id with the update's definition.
func (s *server) applyGroup(u marathon.GroupUpdate, id marathon.PathID) (scheduler.Change, error) {
	def := u.Group(id)
	def.ID = id
	target, err := s.parseGroup(def, id)
	if err != nil {
		return nil, err
	}
	apps := target.AllApps()
	return func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		for _, a := range apps {
			if _, ok := current[a.ID]; ok {
				continue
			}
			if err := checkClashExcept(current, a.ID, target); err != nil {
				return nil, nil, err
			}
		}
		var remove []marathon.PathID
		for _, cid := range below(current, id) {
			if !kept(target, cid) {
				remove = append(remove, cid)
			}
		}
		return apps, remove, nil
	}, nil
}

// checkClashExcept is checkClash ignoring apps the update removes.
func checkClashExcept(current map[marathon.PathID]marathon.App, id marathon.PathID, target marathon.Group) error {
	for cid := range current {
		if (cid.IsChildOf(id) || id.IsChildOf(cid)) && (!cid.IsChildOf(target.ID) || kept(target, cid)) {
			return errGroupClash(id)
		}
	}
	return nil
}

// kept reports whether app id (below g) survives applying g: it is listed,
// or it lies in a part of the tree the definition leaves out (an absent
// "apps" or "groups" keeps what is there).
func kept(g marathon.Group, id marathon.PathID) bool {
	if id.Parent() == g.ID {
		if g.Apps == nil {
			return true
		}
		for _, a := range g.Apps {
			if a.ID == id {
				return true
			}
		}
		return false
	}
	if g.Groups == nil {
		return true
	}
	for _, c := range g.Groups {
		if id.IsChildOf(c.ID) {
			return kept(c, id)
		}
	}
	return false
}

// deleteGroup is DELETE /v2/groups[/{id}]: removes every app and pod
// below it.
func (s *server) deleteGroup(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	id := groupID(r)
	if err := s.authzOf(r).check(acl.Delete, id); err != nil {
		return nil, err
	}
	opts.GroupID = id.Parent()
	stored := false
	for _, g := range s.backend.View().Groups {
		if g.ID.Canonical() == id {
			stored = true
		}
	}
	hasPods := len(s.podsBelow(id)) > 0
	if err := s.deletePodsBelow(r, id, opts.Force); err != nil {
		return nil, err
	}
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		ids := below(current, id)
		if len(ids) == 0 && !stored && !id.IsRoot() && !hasPods {
			return nil, nil, marathon.GroupNotFound(id)
		}
		return nil, ids, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	return deployed(w, res), nil
}

// podsBelow lists the ids of the pods in group id (the root: every pod).
func (s *server) podsBelow(id marathon.PathID) []marathon.PathID {
	var out []marathon.PathID
	for _, pv := range s.backend.View().Pods {
		if id.IsRoot() || pv.Pod.ID.IsChildOf(id) {
			out = append(out, pv.Pod.ID)
		}
	}
	return out
}

// deletePodsBelow deletes the pods of group id, each as DELETE
// /v2/pods/{id} does (its own deployment), before the group's apps are
// removed; the first failure (a running pod deployment without force)
// stops the group's deletion.
func (s *server) deletePodsBelow(r *http.Request, id marathon.PathID, force bool) error {
	pb, ok := s.backend.(PodBackend)
	if !ok {
		return nil
	}
	for _, pid := range s.podsBelow(id) {
		if _, err := pb.DeletePod(r.Context(), pid, force); err != nil {
			var me *marathon.Error
			if errors.As(err, &me) && me.Status == http.StatusNotFound {
				continue // deleted meanwhile
			}
			return err
		}
	}
	return nil
}

// groupSettings lists the settings of g and of every group below it.
func groupSettings(g marathon.Group) []scheduler.GroupSettings {
	out := []scheduler.GroupSettings{{ID: g.ID, Dependencies: g.Dependencies, EnforceRole: g.EnforceRole != nil && *g.EnforceRole}}
	for _, sub := range g.Groups {
		out = append(out, groupSettings(sub)...)
	}
	return out
}
