package placement

import (
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// roles is the set of resource roles an app may use: unreserved ("*") and
// the app's own role (App.Role, which Normalize defaults to --mesos_role
// or "*"), narrowed to App.AcceptedResourceRoles when that is given. This
// is Marathon 1.9+'s rule for apps without resident volumes; Fit needs no
// separate accepted-role argument. Within an offer the app's own role is
// used before "*".
type roles struct {
	own      string
	accepted []string
	// passes lists the roles in the order resources are taken.
	passes []string
}

func rolesOf(app *marathon.App) roles {
	own := app.Role
	if own == "" {
		own = mesos.RoleUnreserved
	}
	r := roles{own: own, accepted: app.AcceptedResourceRoles}
	for _, role := range []string{own, mesos.RoleUnreserved} {
		if r.accepts(role) && !slices.Contains(r.passes, role) {
			r.passes = append(r.passes, role)
		}
	}
	return r
}

func (r roles) accepts(role string) bool {
	if role != mesos.RoleUnreserved && role != r.own {
		return false
	}
	return len(r.accepted) == 0 || slices.Contains(r.accepted, role)
}
