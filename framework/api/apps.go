package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
)

// appsDispatch routes /v2/apps/{rest...}. App ids contain slashes, so the
// sub-resources are split off the end: ids cannot end with restart, tasks
// or versions (Marathon 1.8.180), which keeps this unambiguous. The id,
// taskId and version path values are set for the handlers.
func (s *server) appsDispatch(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(r.PathValue("rest"), "/")
	if rest == "" {
		s.appsCollection(w, r)
		return
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	id := func(k int) string { return "/" + strings.Join(segs[:k], "/") }
	var h http.Handler
	switch {
	case segs[n-1] == "restart" && n > 1:
		r.SetPathValue("id", id(n-1))
		h = byMethod(r, map[string]http.Handler{http.MethodPost: s.appRestart})
	case segs[n-1] == "tasks" && n > 1:
		r.SetPathValue("id", id(n-1))
		h = byMethod(r, map[string]http.Handler{http.MethodGet: s.appTasksGet, http.MethodDelete: s.appTasksDelete})
	case n > 2 && segs[n-2] == "tasks" && r.Method == http.MethodDelete:
		r.SetPathValue("id", id(n-2))
		r.SetPathValue("taskId", segs[n-1])
		h = s.appTaskDelete
	case segs[n-1] == "versions" && n > 1:
		r.SetPathValue("id", id(n-1))
		h = byMethod(r, map[string]http.Handler{http.MethodGet: s.appVersionsGet})
	case n > 2 && segs[n-2] == "versions" && r.Method == http.MethodGet:
		r.SetPathValue("id", id(n-2))
		r.SetPathValue("version", segs[n-1])
		h = s.appVersionGet
	case segs[n-1] == "*":
		r.SetPathValue("id", id(n-1))
		h = byMethod(r, map[string]http.Handler{http.MethodGet: s.appGroupGet})
	default:
		r.SetPathValue("id", id(n))
		h = byMethod(r, map[string]http.Handler{
			http.MethodGet: s.appGet, http.MethodPut: s.appPut, http.MethodPatch: s.appPatch, http.MethodDelete: s.appDelete,
		})
	}
	if h == nil {
		h = s.appNotFound
	}
	h.ServeHTTP(w, r)
}

// appsCollection serves /v2/apps/ like /v2/apps.
func (s *server) appsCollection(w http.ResponseWriter, r *http.Request) {
	h := byMethod(r, map[string]http.Handler{
		http.MethodGet: s.appsList, http.MethodPost: s.appsCreate, http.MethodPut: s.appsPut, http.MethodPatch: s.appsPatch,
	})
	if h == nil {
		h = s.appNotFound
	}
	h.ServeHTTP(w, r)
}

func byMethod(r *http.Request, hs map[string]http.Handler) http.Handler {
	if r.Method == http.MethodHead {
		return hs[http.MethodGet]
	}
	return hs[r.Method]
}

// appID is the canonical id of the {id} path value.
func appID(r *http.Request) marathon.PathID {
	return marathon.PathID(r.PathValue("id")).Canonical()
}

// deployOptions reads force and Stadion's queue (absent: the server's
// --queue_conflicting_deployments).
func deployOptions(r *http.Request) (scheduler.DeployOptions, error) {
	return deployOptionsForce(r, false)
}

// deployOptionsForce is deployOptions with the default of force given:
// Marathon's DELETE /v2/apps/{id} forces unless told otherwise.
func deployOptionsForce(r *http.Request, forceDefault bool) (scheduler.DeployOptions, error) {
	force, err := boolParam(r, "force", forceDefault)
	if err != nil {
		return scheduler.DeployOptions{}, err
	}
	opts := scheduler.DeployOptions{Force: force}
	if r.URL.Query().Get("queue") != "" {
		queue, err := boolParam(r, "queue", false)
		if err != nil {
			return scheduler.DeployOptions{}, err
		}
		opts.Queue = &queue
	}
	return opts, nil
}

// listApps is GET /v2/apps.
func (s *server) listApps(w http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	var sels []labelSelector
	for _, l := range q["label"] {
		if l == "" {
			continue
		}
		sel, err := parseLabelSelector(l)
		if err != nil {
			return nil, err
		}
		sels = append(sels, sel)
	}
	idFilter, cmdFilter := strings.ToLower(q.Get("id")), strings.ToLower(q.Get("cmd"))
	e := appEmbedOf(r)
	v := s.backend.View()
	z := s.authzOf(r)
	out := appsBody{s: s, v: v, e: e, z: z, key: "apps", apps: make([]*scheduler.AppView, 0, len(v.Apps))}
	for _, av := range v.Apps {
		if !z.may(acl.View, av.App.ID) {
			continue
		}
		if idFilter != "" && !strings.Contains(strings.ToLower(string(av.App.ID)), idFilter) {
			continue
		}
		if cmdFilter != "" && !strings.Contains(strings.ToLower(av.App.Cmd), cmdFilter) {
			continue
		}
		if !matchesAll(sels, av.App.Labels) {
			continue
		}
		out.apps = append(out.apps, av)
	}
	return out, nil
}

func matchesAll(sels []labelSelector, labels map[string]string) bool {
	for _, sel := range sels {
		if !sel.matches(labels) {
			return false
		}
	}
	return true
}

// getApp is GET /v2/apps/{id}: Marathon always embeds counts, tasks,
// deployments and lastTaskFailure here.
func (s *server) getApp(w http.ResponseWriter, r *http.Request) (any, error) {
	id := appID(r)
	v := s.backend.View()
	av := v.App(id)
	z := s.authzOf(r)
	// An app the principal may not view does not exist for it, as in
	// Marathon's AppsResource.show.
	if av == nil || !z.may(acl.View, id) {
		return nil, marathon.AppNotFound(id)
	}
	e := appEmbedOf(r)
	e.tasks, e.lastTaskFailure = true, true
	return appsBody{s: s, v: v, e: e, z: z, key: "app", single: true, apps: []*scheduler.AppView{av}}, nil
}

// getGroupApps is GET /v2/apps/{group}/*: the apps below a group, as
// {"*": [AppInfo]}.
func (s *server) getGroupApps(w http.ResponseWriter, r *http.Request) (any, error) {
	gid := appID(r)
	v := s.backend.View()
	e := appEmbedOf(r)
	e.tasks, e.lastTaskFailure = true, true
	z := s.authzOf(r)
	out := appsBody{s: s, v: v, e: e, z: z, key: "*"}
	for _, av := range v.Apps {
		if av.App.ID.IsChildOf(gid) && z.may(acl.View, av.App.ID) {
			out.apps = append(out.apps, av)
		}
	}
	return out, nil
}

// errGroupClash is Marathon's root-group rule that an id names either an
// app or a group.
func errGroupClash(id marathon.PathID) error {
	return marathon.NotValid(marathon.Detail{Path: "/id", Errors: []string{
		fmt.Sprintf("Groups and Applications may not have the same identifier: %s", id)}})
}

// checkClash rejects a new app whose id is a group of existing apps or
// lies below an existing app.
func checkClash(current map[marathon.PathID]marathon.App, id marathon.PathID) error {
	for cid := range current {
		if cid.IsChildOf(id) || id.IsChildOf(cid) {
			return errGroupClash(id)
		}
	}
	return nil
}

// createApp is POST /v2/apps: 201 with the app as AppInfo, Location and
// Marathon-Deployment-Id; 409 when the id exists.
func (s *server) createApp(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	app, err := marathon.ParseApp(body, s.admitOptions(nil, ""))
	if err != nil {
		return nil, err
	}
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		if _, ok := current[app.ID]; ok {
			return nil, nil, marathon.AppExists(app.ID)
		}
		if err := checkClash(current, app.ID); err != nil {
			return nil, nil, err
		}
		return []marathon.App{app}, nil, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	// Answer with the app as deployed: the scheduler assigns the service
	// ports, which Marathon's response shows. Deploy publishes its view
	// before it returns.
	if av := s.backend.View().App(app.ID); av != nil && av.App.Version.Equal(res.Version.Time) {
		app = av.App
	} else {
		app = versioned(app, res, true)
	}
	s.postEvent(r, app)
	deployed(w, res)
	w.Header().Set("Location", "/v2/apps"+string(app.ID))
	return reply{status: http.StatusCreated, body: marathon.AppInfo{
		App:         s.authzOf(r).app(app),
		Deployments: []marathon.DeploymentRef{{ID: res.DeploymentID}},
		Tasks:       []marathon.Task{},
	}}, nil
}

// versioned sets the version the deployment gave the app, as the stored
// app has it.
func versioned(app marathon.App, res marathon.DeploymentResult, configChange bool) marathon.App {
	app.Version = res.Version
	vi := marathon.VersionInfo{LastScalingAt: res.Version, LastConfigChangeAt: res.Version}
	if !configChange && app.VersionInfo != nil {
		vi.LastConfigChangeAt = app.VersionInfo.LastConfigChangeAt
	}
	app.VersionInfo = &vi
	return app
}

// postEvent publishes api_post_event for an app written through the API.
func (s *server) postEvent(r *http.Request, app marathon.App) {
	s.bus.Publish(marathon.APIPostEvent{
		ClientIP: clientIP(r), URI: r.URL.RequestURI(), AppDefinition: app,
		EventMeta: marathon.Meta(marathon.EventAPIPost, s.now()),
	})
}

// updatedApp computes the new definition of app id from a PUT or PATCH
// body: merged onto the current app when partial and the app exists,
// otherwise read as a whole definition. The id comes from the URL.
// opts come from admitOptions, taken before the deployment: the View must
// not be read from within a change.
func (s *server) updatedApp(id marathon.PathID, cur marathon.App, exists bool, body []byte, partial bool, opts marathon.NormalizeOptions) (marathon.App, error) {
	var app marathon.App
	var err error
	if exists && partial {
		app, err = marathon.MergePatch(cur, body)
	} else {
		app, err = marathon.DecodeAppUpdate(body)
		app.ID = id
	}
	if err != nil {
		return marathon.App{}, err
	}
	app.ID = id
	return marathon.Admit(app, opts)
}

// putApp is PUT /v2/apps/{id}: create or update (partialUpdate=true by
// default); 201 when created, else 200, with the deployment result.
func (s *server) putApp(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.updateApp(w, r, true)
}

// patchApp is PATCH /v2/apps/{id}: merge onto an existing app.
func (s *server) patchApp(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.updateApp(w, r, false)
}

func (s *server) updateApp(w http.ResponseWriter, r *http.Request, put bool) (any, error) {
	id := appID(r)
	if err := marathon.ValidateAppID(id); err != nil {
		return nil, err
	}
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	partial := true
	if put {
		if partial, err = boolParam(r, "partialUpdate", true); err != nil {
			return nil, err
		}
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	// Reject malformed bodies before involving the loop.
	if _, err := marathon.DecodeAppUpdate(body); err != nil {
		return nil, err
	}
	// {"version": v} rolls the app back to its stored version v, as in
	// Marathon: the rest of the body is ignored.
	revert, err := s.revertTo(r, id, body)
	if err != nil {
		return nil, err
	}
	if revert != nil {
		// The stored version may predate the limits.
		if err := marathon.CheckLimits(*revert, s.cfg.NormalizeOptions); err != nil {
			return nil, err
		}
	}
	var app marathon.App
	var created, upgrade bool
	admit := s.admitOptions(nil, "")
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		cur, ok := current[id]
		if !ok && !put {
			return nil, nil, marathon.AppNotFound(id)
		}
		if !ok {
			if err := checkClash(current, id); err != nil {
				return nil, nil, err
			}
		}
		a, err := s.updatedApp(id, cur, ok, body, partial, admit)
		if revert != nil {
			a, err = *revert, nil
		}
		if err != nil {
			return nil, nil, err
		}
		app, created, upgrade = a, !ok, !ok || marathon.IsUpgrade(cur, a)
		return []marathon.App{a}, nil, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	s.postEvent(r, versioned(app, res, upgrade))
	deployed(w, res)
	if created {
		w.Header().Set("Location", "/v2/apps"+string(id))
		return reply{status: http.StatusCreated, body: res}, nil
	}
	return res, nil
}

// revertTo returns the stored version of app id that an update body names
// in "version", or nil when it names none.
func (s *server) revertTo(r *http.Request, id marathon.PathID, body []byte) (*marathon.App, error) {
	var probe struct {
		Version *marathon.Timestamp `json:"version"`
	}
	if err := json.Unmarshal(body, &probe); err != nil || probe.Version == nil || probe.Version.IsZero() {
		return nil, nil
	}
	old, ok, err := s.backend.AppVersion(r.Context(), id, *probe.Version)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("App '%s' does not exist in version %s", id, *probe.Version)}
	}
	old.Version, old.VersionInfo = marathon.Timestamp{}, nil
	return &old, nil
}

// putApps is PUT /v2/apps: create or update many apps in one deployment.
func (s *server) putApps(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.updateApps(w, r, true)
}

// patchApps is PATCH /v2/apps: patch many existing apps in one deployment.
func (s *server) patchApps(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.updateApps(w, r, false)
}

func (s *server) updateApps(w http.ResponseWriter, r *http.Request, put bool) (any, error) {
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	partial := true
	if put {
		if partial, err = boolParam(r, "partialUpdate", true); err != nil {
			return nil, err
		}
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	decoded, err := marathon.DecodeApps(body)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, marathon.MalformedJSON(err.Error())
	}
	ids := make([]marathon.PathID, len(decoded))
	for i, a := range decoded {
		base := s.cfg.NormalizeOptions.Base
		if base == "" {
			base = marathon.RootID
		}
		ids[i] = a.ID.Resolve(base)
		if err := marathon.ValidateAppID(ids[i]); err != nil {
			return nil, prefixError(err, fmt.Sprintf("(%d)", i))
		}
	}
	var apps []marathon.App
	var upgrades []bool
	opts.GroupID = marathon.RootID // Marathon changes the root group for PUT /v2/apps
	admit := s.admitOptions(nil, "")
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		apps, upgrades = make([]marathon.App, len(ids)), make([]bool, len(ids))
		for i, id := range ids {
			cur, ok := current[id]
			if !ok && !put {
				return nil, nil, marathon.AppNotFound(id)
			}
			a, err := s.updatedApp(id, cur, ok, raws[i], partial, admit)
			if err != nil {
				return nil, nil, prefixError(err, fmt.Sprintf("(%d)", i))
			}
			apps[i], upgrades[i] = a, !ok || marathon.IsUpgrade(cur, a)
		}
		return slices.Clone(apps), nil, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	for i, a := range apps {
		s.postEvent(r, versioned(a, res, upgrades[i]))
	}
	return deployed(w, res), nil
}

// prefixError prefixes the detail paths of a *marathon.Error (bulk bodies:
// "(0)/cmd").
func prefixError(err error, prefix string) error {
	me, ok := err.(*marathon.Error)
	if !ok || len(me.Details) == 0 {
		return err
	}
	c := *me
	c.Details = make([]marathon.Detail, len(me.Details))
	for i, d := range me.Details {
		p := d.Path
		if p == "/" {
			p = ""
		}
		c.Details[i] = marathon.Detail{Path: prefix + p, Errors: d.Errors}
	}
	return &c
}

// deleteApp is DELETE /v2/apps/{id}.
func (s *server) deleteApp(w http.ResponseWriter, r *http.Request) (any, error) {
	id := appID(r)
	// Marathon's AppsResource.delete defaults force to true: deleting an
	// app cancels the deployments that hold it rather than answering 409.
	opts, err := deployOptionsForce(r, true)
	if err != nil {
		return nil, err
	}
	opts.GroupID = id.Parent()
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		if _, ok := current[id]; !ok {
			return nil, nil, marathon.AppNotFound(id)
		}
		return nil, []marathon.PathID{id}, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	return deployed(w, res), nil
}

// restartApp is POST /v2/apps/{id}/restart: a new version of the same
// definition, replaced by the upgrade strategy.
func (s *server) restartApp(w http.ResponseWriter, r *http.Request) (any, error) {
	id := appID(r)
	opts, err := deployOptions(r)
	if err != nil {
		return nil, err
	}
	opts.GroupID = id.Parent()
	opts.Restart = true
	res, err := s.deploy(r, func(current map[marathon.PathID]marathon.App) ([]marathon.App, []marathon.PathID, error) {
		cur, ok := current[id]
		if !ok {
			return nil, nil, marathon.AppNotFound(id)
		}
		return []marathon.App{cur}, nil, nil
	}, opts)
	if err != nil {
		return nil, err
	}
	return deployed(w, res), nil
}

// getAppVersions is GET /v2/apps/{id}/versions, newest first.
func (s *server) getAppVersions(w http.ResponseWriter, r *http.Request) (any, error) {
	id := appID(r)
	if err := s.authzOf(r).check(acl.View, id); err != nil {
		return nil, err
	}
	vs, err := s.backend.AppVersions(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 && s.backend.View().App(id) == nil {
		return nil, marathon.AppNotFound(id)
	}
	out := make([]marathon.Timestamp, 0, len(vs))
	for i := len(vs) - 1; i >= 0; i-- {
		out = append(out, vs[i])
	}
	return marathon.VersionList{Versions: out}, nil
}

// getAppVersion is GET /v2/apps/{id}/versions/{version}: the app as it
// was at that version.
func (s *server) getAppVersion(w http.ResponseWriter, r *http.Request) (any, error) {
	id := appID(r)
	z := s.authzOf(r)
	if err := z.check(acl.View, id); err != nil {
		return nil, err
	}
	raw := r.PathValue("version")
	v, err := marathon.ParseTimestamp(raw)
	if err != nil {
		return nil, marathon.BadRequest(fmt.Sprintf("Invalid timestamp provided '%s'. Expecting ISO-8601 datetime string.", raw))
	}
	app, ok, err := s.backend.AppVersion(r.Context(), id, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("App '%s' does not exist in version %s", id, v)}
	}
	return z.app(app), nil
}
