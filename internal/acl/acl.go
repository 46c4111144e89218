package acl

import (
	"strings"
	"sync/atomic"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Action is what a permission allows.
type Action string

// The actions of a permission; the names are those of the file.
const (
	// View lists and reads apps, groups, tasks, deployments, the queue and
	// their events, with env values redacted.
	View Action = "view"
	// ViewSecrets shows the env values of the apps that View shows.
	ViewSecrets Action = "view_secrets"
	// Create creates apps and groups.
	Create Action = "create"
	// Update changes, scales, restarts and rolls back apps and groups,
	// cancels their deployments and resets their launch delay.
	Update Action = "update"
	// Delete removes apps and groups.
	Delete Action = "delete"
	// Kill kills tasks.
	Kill Action = "kill"
)

// Actions lists every action, in the order the documentation gives them.
var Actions = []Action{View, ViewSecrets, Create, Update, Delete, Kill}

// AnyPrincipal names, in a principal entry, every authenticated principal.
const AnyPrincipal = "*"

// AnyAction allows, in a permission, every action.
const AnyAction = "*"

// permission allows actions on the ids at or below on.
type permission struct {
	actions map[Action]bool
	on      marathon.PathID
}

// ACL is a parsed authorization file. It is immutable; the zero value and
// nil deny everything.
type ACL struct {
	// perms holds each principal's permissions; AnyPrincipal's apply to
	// every principal.
	perms map[string][]permission
}

// Allows reports whether principal may take action on the app or group
// id: a permission of the principal, or of AnyPrincipal, names the action
// and a prefix of id. Prefixes match whole path segments: "/team-a"
// covers "/team-a" and "/team-a/web", not "/team-ab". Everything else is
// denied.
func (a *ACL) Allows(principal string, action Action, id marathon.PathID) bool {
	if a == nil {
		return false
	}
	id = id.Canonical()
	return allows(a.perms[principal], action, id) || allows(a.perms[AnyPrincipal], action, id)
}

func allows(perms []permission, action Action, id marathon.PathID) bool {
	for _, p := range perms {
		if p.actions[action] && covers(p.on, id) {
			return true
		}
	}
	return false
}

// covers reports whether the canonical prefix on is id or one of its
// groups.
func covers(on, id marathon.PathID) bool {
	if on == marathon.RootID || on == id {
		return true
	}
	return strings.HasPrefix(string(id), string(on)+"/")
}

// Principals returns the number of principal entries (for logs).
func (a *ACL) Principals() int {
	if a == nil {
		return 0
	}
	return len(a.perms)
}

// Holder holds the current ACL of a server, replaced on reload; safe for
// concurrent use.
type Holder struct {
	cur atomic.Pointer[ACL]
}

// NewHolder returns a Holder of a.
func NewHolder(a *ACL) *Holder {
	h := &Holder{}
	h.cur.Store(a)
	return h
}

// Load returns the current ACL.
func (h *Holder) Load() *ACL { return h.cur.Load() }

// Reload reads path and, when it parses, makes it the current ACL; on an
// error the current ACL stays.
func (h *Holder) Reload(path string) (*ACL, error) {
	a, err := Load(path)
	if err != nil {
		return nil, err
	}
	h.cur.Store(a)
	return a, nil
}
