package marathon

import (
	"fmt"
	"slices"
	"strings"
)

// RoleSettings are the Mesos roles an app may use and the role it gets
// when it names none, as Marathon 1.9+ computes them per service
// (util/RoleSettings.scala forService).
type RoleSettings struct {
	// Default is the role of an app that names none.
	Default string
	// Valid lists the roles the app may name, in Marathon's order (the
	// order its 422 message lists them in).
	Valid []string
}

// GroupRoles tells RolesFor about the top-level group an app is in.
type GroupRoles struct {
	// Known is set when the top-level group exists (or is defined by the
	// same request); otherwise EnforceRole is the default for new groups
	// (Marathon's --new_group_enforce_role, "off" in Stadion).
	Known bool
	// EnforceRole is the group's enforceRole.
	EnforceRole bool
}

// RolesFor returns the role settings of app id:
//
//   - an app in the root group may only use mesosRole (--mesos_role), its
//     default;
//   - an app below a top-level group /g may use the group role "g"; when
//     the group enforces its role that is also the default and the only
//     role allowed, otherwise the default is mesosRole and both are
//     allowed;
//   - below a top-level group, the role the app has now (existing, "" for
//     a new app) stays allowed, so that apps can move to the group role
//     one at a time.
func RolesFor(id PathID, mesosRole string, group GroupRoles, existing string) RoleSettings {
	if mesosRole == "" {
		mesosRole = DefaultRole
	}
	segs := id.Segments()
	if len(segs) <= 1 {
		return RoleSettings{Default: mesosRole, Valid: []string{mesosRole}}
	}
	groupRole := segs[0]
	rs := RoleSettings{Default: mesosRole, Valid: []string{mesosRole, groupRole}}
	if group.Known && group.EnforceRole {
		rs = RoleSettings{Default: groupRole, Valid: []string{groupRole}}
	}
	if existing != "" && !slices.Contains(rs.Valid, existing) {
		rs.Valid = append(rs.Valid, existing)
	}
	return rs
}

// validateRoles checks the app's role against opts.Roles (when set) and
// its acceptedResourceRoles against its role: they may only hold "*"
// (unreserved resources) and the app's role (resources reserved to it),
// as Marathon 1.10 requires (ResourceRole.validForRole).
func validateRoles(a App, p string, opts NormalizeOptions, r *reporter) {
	validRole(a.ID, a.Role, p+"/role", opts, r)
	acceptedForRole(a.AcceptedResourceRoles, a.Role, p+"/acceptedResourceRoles", r)
}

// validRole refuses a role of the app or pod id that is not one of
// opts.Roles(id).Valid (when opts.Roles is set), with Marathon's message
// (RoleSettings.forService's validator, shared by apps and pods).
func validRole(id PathID, role, path string, opts NormalizeOptions, r *reporter) {
	if opts.Roles == nil {
		return
	}
	rs := opts.Roles(id)
	if !slices.Contains(rs.Valid, role) {
		r.add(path, fmt.Sprintf("got %s, expected one of: [%s]", role, strings.Join(rs.Valid, ", ")))
	}
}

// acceptedForRole is Marathon's ResourceRole.validForRole: accepted
// resource roles of an app or pod of role may only be "*" and role.
func acceptedForRole(accepted []string, role, path string, r *reporter) {
	if len(accepted) == 0 {
		return
	}
	allowed := []string{DefaultRole}
	if role != "" && role != DefaultRole {
		allowed = append(allowed, role)
	}
	slices.Sort(allowed) // Marathon lists them as a sorted set
	// Marathon reads the list as a set: duplicates count once.
	set := slices.Clone(accepted)
	slices.Sort(set)
	set = slices.Compact(set)
	ok := len(set) <= 2
	for _, a := range set {
		ok = ok && slices.Contains(allowed, a)
	}
	if !ok {
		r.add(path, "acceptedResourceRoles can only contain "+strings.Join(allowed, " and "))
	}
}

// groupRoles runs validateRoles on every app of g.
func groupRoles(g Group, p string, opts NormalizeOptions, r *reporter) {
	for i, a := range g.Apps {
		validateRoles(a, fmt.Sprintf("%s/apps(%d)", p, i), opts, r)
	}
	for i, c := range g.Groups {
		groupRoles(c, fmt.Sprintf("%s/groups(%d)", p, i), opts, r)
	}
}
