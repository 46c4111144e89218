package scheduler

import (
	"maps"
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// The framework's roles follow Marathon 1.9+ (MULTI_ROLE): it subscribes
// with --mesos_role and adds the role of every app it holds with
// UPDATE_FRAMEWORK, so that Mesos offers resources allocated to each app's
// and pod's role. Roles are only added while the scheduler runs; a new leader starts
// from the roles of the stored apps, as Marathon does.

// loadState builds the loop's state from a snapshot, with the stored apps'
// roles migrated (migrateRoles) and the framework's roles collected.
func (s *Scheduler) loadState(snap state.Snapshot) *loopState {
	migrateRoles(snap.Apps, s.cfg.Role)
	st := newLoopState(snap, s.cfg.Now())
	st.roles = map[string]bool{s.cfg.Role: true}
	for _, a := range st.apps {
		st.addRole(a.Role)
	}
	for _, inst := range st.instances {
		if inst.Role != "" && inst.State != "" && !inst.State.Terminal() {
			st.addRole(inst.Role)
		}
	}
	for _, p := range st.pods.defs {
		st.addRole(p.Role)
	}
	return st
}

// migrateRoles gives the stored apps without a role, or with "*", the
// role --mesos_role: Stadion stored "*" for every app that named none
// while it subscribed with the single (legacy) role --mesos_role, so Mesos
// ran those tasks under --mesos_role, which is what they now show.
// Marathon's migration to 1.9 likewise gave every app without a role
// --mesos_role. The change is made in memory; an app is stored with it on
// its next change.
func migrateRoles(apps []marathon.App, role string) {
	if role == mesos.RoleUnreserved {
		return
	}
	for i := range apps {
		if apps[i].Role == "" || apps[i].Role == mesos.RoleUnreserved {
			apps[i].Role = role
		}
	}
}

// addRole adds role to the framework's roles.
func (st *loopState) addRole(role string) {
	if role != "" {
		st.roles[role] = true
	}
}

// steerRoles sends UPDATE_FRAMEWORK when the framework holds roles that
// its subscription does not carry yet; the roles sent before stay (a
// framework's roles only grow while it runs).
func (s *Scheduler) steerRoles() {
	st := s.st
	if !st.subscribed || st.carried() {
		return
	}
	maps.Copy(st.roles, st.rolesSent)
	roles := slices.Sorted(maps.Keys(st.roles))
	st.rolesSent = maps.Clone(st.roles)
	s.log.Info("updating framework roles", "roles", roles)
	s.calls.updateFramework(roles)
	// UPDATE_FRAMEWORK without suppressed_roles unsuppresses every role:
	// steerOffers suppresses again when nothing waits.
	st.suppressed = false
}

// carried reports whether the subscription carries every role.
func (st *loopState) carried() bool {
	for r := range st.roles {
		if !st.rolesSent[r] {
			return false
		}
	}
	return true
}

// subscribedRoles records what a new subscription carries: at least
// --mesos_role (the client may have sent more), and the master's region
// (REGION_AWARE placement).
func (s *Scheduler) subscribedRoles(sub *mesos.Subscribed) {
	s.st.rolesSent = map[string]bool{s.cfg.Role: true}
	s.st.localRegion = ""
	if sub.MasterInfo != nil {
		s.st.localRegion = mesos.DomainRegion(sub.MasterInfo.Domain)
	}
}

// taskRole is the role an instance's task shows: the role Mesos allocated
// its resources to, or, for a task launched before Stadion recorded it,
// its app's role.
func taskRole(app marathon.App, inst state.Instance) string {
	if inst.Role != "" {
		return inst.Role
	}
	return app.Role
}
