package api

import (
	"net/http"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
)

// authz is the authorization of one request (docs/acl.md): who made it
// and the ACL in force. Without Config.ACL every request may do anything.
type authz struct {
	// on is false without Config.ACL.
	on  bool
	acl *acl.ACL
	// name is the principal; anon when the request has none, which an
	// ACL denies everything.
	name string
	anon bool
}

// authzOf returns the authorization of r under the current ACL.
func (s *server) authzOf(r *http.Request) authz {
	p, ok := auth.FromContext(r.Context())
	return s.authzFor(p, ok)
}

func (s *server) authzFor(p auth.Principal, ok bool) authz {
	if s.cfg.ACL == nil {
		return authz{}
	}
	return authz{on: true, acl: s.cfg.ACL(), name: p.Name, anon: !ok}
}

// may reports whether the request may take action on the app or group id.
func (z authz) may(action acl.Action, id marathon.PathID) bool {
	if !z.on {
		return true
	}
	return !z.anon && z.acl.Allows(z.name, action, id)
}

// check is may as an error: Marathon's 403.
func (z authz) check(action acl.Action, ids ...marathon.PathID) error {
	for _, id := range ids {
		if !z.may(action, id) {
			return marathon.AccessDenied()
		}
	}
	return nil
}

// mayViewAll reports whether every id may be viewed.
func (z authz) mayViewAll(ids []marathon.PathID) bool {
	for _, id := range ids {
		if !z.may(acl.View, id) {
			return false
		}
	}
	return true
}

// redacts reports whether the env values of app id are hidden from the
// request.
func (z authz) redacts(id marathon.PathID) bool {
	return z.on && !z.may(acl.ViewSecrets, id)
}

// app returns the app as the request may see it: env values redacted
// without view_secrets.
func (z authz) app(a marathon.App) marathon.App {
	if z.redacts(a.ID) {
		return marathon.RedactEnv(a)
	}
	return a
}

// guard checks, on the scheduler loop, each app a change puts (create
// when new, update otherwise: scale, restart and rollback included) and
// removes (delete): the change fails with 403 unless every one is allowed.
// The change's own errors (404, 409, 422) come first.
func (z authz) guard(change scheduler.Change) scheduler.Change {
	if !z.on {
		return change
	}
	return func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		put, remove, err := change(current)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range put {
			action := acl.Update
			if _, ok := current[a.ID]; !ok {
				action = acl.Create
			}
			if err := z.check(action, a.ID); err != nil {
				return nil, nil, err
			}
		}
		if err := z.check(acl.Delete, remove...); err != nil {
			return nil, nil, err
		}
		return put, remove, nil
	}
}

// deploy is Backend.Deploy with the change guarded by the request's
// authorization.
func (s *server) deploy(r *http.Request, change scheduler.Change, opts scheduler.DeployOptions) (marathon.DeploymentResult, error) {
	return s.backend.Deploy(r.Context(), s.authzOf(r).guard(change), opts)
}

// dryRun is Backend.DryRun with the change guarded by the request's
// authorization.
func (s *server) dryRun(r *http.Request, change scheduler.Change, opts scheduler.DeployOptions) (marathon.DeploymentSteps, error) {
	steps, err := s.backend.DryRun(r.Context(), s.authzOf(r).guard(change), opts)
	if err != nil {
		return marathon.DeploymentSteps{}, err
	}
	return marathon.DeploymentSteps{Steps: steps}, nil
}

// killAllowed checks kill on the apps of a kill, and update as well when
// it scales them down.
func (z authz) killAllowed(opts scheduler.KillOptions, ids ...marathon.PathID) error {
	if err := z.check(acl.Kill, ids...); err != nil {
		return err
	}
	if opts.Scale {
		return z.check(acl.Update, ids...)
	}
	return nil
}

// viewable returns the apps the request may view, apps itself when it
// may view all.
func (z authz) viewable(apps []*scheduler.AppView) []*scheduler.AppView {
	if !z.on {
		return apps
	}
	out := make([]*scheduler.AppView, 0, len(apps))
	for _, av := range apps {
		if z.may(acl.View, av.App.ID) {
			out = append(out, av)
		}
	}
	return out
}
