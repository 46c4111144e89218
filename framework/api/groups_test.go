package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

func TestGetGroups(t *testing.T) {
	h := newHarness(t)
	seedWeb(h)
	r := h.do("GET", "/v2/groups", "")
	h.expect(r, 200, "")
	var root struct {
		ID     string
		Apps   []map[string]any
		Groups []struct {
			ID     string
			Apps   []map[string]any
			Groups []any
		}
		Pods         []any
		Dependencies []any
		Version      string
	}
	mustUnmarshal(t, r.body, &root)
	if root.ID != "/" || len(root.Apps) != 0 || len(root.Groups) != 2 || root.Groups[0].ID != "/prod" || len(root.Groups[0].Apps) != 2 ||
		root.Pods == nil || root.Dependencies == nil || root.Version == "" {
		t.Errorf("root %s", r.body)
	}
	if _, ok := root.Groups[0].Apps[0]["tasksRunning"]; ok {
		t.Error("plain group apps carry counts")
	}

	r = h.do("GET", "/v2/groups/prod?embed=group.apps&embed=group.apps.counts&embed=group.apps.tasks", "")
	h.expect(r, 200, "")
	var prod map[string]json.RawMessage
	mustUnmarshal(t, r.body, &prod)
	if _, ok := prod["groups"]; ok {
		t.Errorf("groups not embedded but present: %s", r.body)
	}
	var apps []map[string]any
	mustUnmarshal(t, prod["apps"], &apps)
	if len(apps) != 2 || apps[1]["tasks"] == nil || apps[1]["tasksRunning"] == nil {
		t.Errorf("apps %s", prod["apps"])
	}
	h.expect(h.do("GET", "/v2/groups/nope", ""), 404, `{"message":"Group '/nope' does not exist"}`)
}

func TestWriteGroups(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v2/groups", `{"id":"/shop","apps":[{"id":"web","cmd":"x","instances":2}],"groups":[{"id":"back","apps":[{"id":"db","cmd":"y"}]}]}`)
	h.expect(r, 201, "")
	if r.header.Get(marathon.DeploymentHeader) == "" || r.header.Get("Location") != "/v2/groups/shop" {
		t.Errorf("headers %v", r.header)
	}
	if _, ok := h.be.apps["/shop/back/db"]; !ok || len(h.be.apps) != 2 {
		t.Fatalf("apps %v", h.be.apps)
	}
	h.expect(h.do("POST", "/v2/groups", `{"id":"/shop"}`), 409, `{"message":"A group with id [/shop] already exists."}`)
	h.expect(h.do("POST", "/v2/groups", `{"id":"/x","apps":[{"id":"/elsewhere/a","cmd":"x"}]}`), 422, "")

	// scaleBy rounds up.
	r = h.do("PUT", "/v2/groups/shop", `{"scaleBy":1.5}`)
	h.expect(r, 200, "")
	if h.be.apps["/shop/web"].Instances != 3 || h.be.apps["/shop/back/db"].Instances != 2 || r.header.Get(marathon.DeploymentHeader) == "" {
		t.Errorf("scaled %d %d", h.be.apps["/shop/web"].Instances, h.be.apps["/shop/back/db"].Instances)
	}
	h.expect(h.do("PUT", "/v2/groups/nope", `{"scaleBy":2}`), 404, `{"message":"Group '/nope' does not exist"}`)

	// Applying a definition: web changes, new starts, the absent subgroup
	// goes (groups given), apps directly in it are listed.
	h.expect(h.do("PUT", "/v2/groups/shop", `{"apps":[{"id":"web","cmd":"z"},{"id":"new","cmd":"n"}],"groups":[]}`), 200, "")
	d := h.be.lastDeploy()
	if len(d.put) != 2 || len(d.remove) != 1 || d.remove[0] != "/shop/back/db" || h.be.apps["/shop/web"].Cmd != "z" {
		t.Errorf("apply %+v", d)
	}
	// Absent "groups" keeps subgroups; absent "apps" keeps apps.
	h.be.seed(mustApp(t, `{"id":"/shop/back/db","cmd":"y"}`))
	h.expect(h.do("PUT", "/v2/groups/shop", `{"apps":[{"id":"web","cmd":"z"}]}`), 200, "")
	if d := h.be.lastDeploy(); len(d.remove) != 1 || d.remove[0] != "/shop/new" {
		t.Errorf("apps given, groups absent: removed %v", d.remove)
	}

	// Version rollback.
	old := h.be.versions["/shop/web"][0]
	h.be.groups = []state.Group{{ID: "/shop", Version: old.Version, Apps: map[marathon.PathID]marathon.Timestamp{"/shop/web": old.Version}}}
	h.expect(h.do("PUT", "/v2/groups/shop", `{"version":"`+old.Version.String()+`","scaleBy":3}`), 200, "")
	d = h.be.lastDeploy()
	if len(d.put) != 1 || d.put[0].Cmd != "x" || len(d.remove) != 1 || d.remove[0] != "/shop/back/db" {
		t.Errorf("rollback %+v", d)
	}
	h.expect(h.do("PUT", "/v2/groups/shop", `{"version":"2001-01-01T00:00:00.000Z"}`), 422,
		`{"message":"Group /shop not available in version 2001-01-01T00:00:00.000Z"}`)

	r = h.do("DELETE", "/v2/groups/shop", "")
	h.expect(r, 200, "")
	if len(h.be.apps) != 0 || r.header.Get(marathon.DeploymentHeader) == "" {
		t.Errorf("after delete %v", h.be.apps)
	}
	h.be.groups = nil
	h.expect(h.do("DELETE", "/v2/groups/shop", ""), 404, `{"message":"Group '/shop' does not exist"}`)
}

// PUT /v2/groups?dryRun=true answers the plan's steps and changes
// nothing, as Marathon's GroupsResource.update does; a dry run of an
// empty root group used to delete every app.
func TestPutGroupDryRun(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		want   string
	}{
		{name: "empty root stops every app", path: "/v2/groups?dryRun=true", body: `{"id":"/","apps":[],"groups":[]}`, status: 200,
			want: `{"steps":[{"actions":[{"action":"StopApplication","app":"/shop/web"},{"action":"StopApplication","app":"/top"}]}]}`},
		{name: "subgroup scale", path: "/v2/groups/shop?dryRun=true", body: `{"scaleBy":2}`, status: 200,
			want: `{"steps":[{"actions":[{"action":"ScaleApplication","app":"/shop/web"}]}]}`},
		{name: "new app starts", path: "/v2/groups/shop?dryRun=true", body: `{"apps":[{"id":"web","cmd":"x","instances":1},{"id":"new","cmd":"n"}]}`, status: 200,
			want: `{"steps":[{"actions":[{"action":"StartApplication","app":"/shop/new"}]}]}`},
		{name: "no change", path: "/v2/groups/shop?dryRun=true", body: `{"apps":[{"id":"web","cmd":"x","instances":1}]}`, status: 200,
			want: `{"steps":[]}`},
		{name: "bad flag", path: "/v2/groups?dryRun=maybe", body: `{"apps":[]}`, status: 400},
		{name: "unknown group scale", path: "/v2/groups/nope?dryRun=true", body: `{"scaleBy":2}`, status: 404,
			want: `{"message":"Group '/nope' does not exist"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.be.seed(mustApp(t, `{"id":"/shop/web","cmd":"x","instances":1}`), mustApp(t, `{"id":"/top","cmd":"t"}`))
			r := h.do("PUT", tc.path, tc.body)
			h.expect(r, tc.status, tc.want)
			if tc.status == 200 && tc.want != `{"steps":[]}` {
				if m := missingPaths(t, readExample(t, "deployment_steps.json"), r.body); len(m) > 0 {
					t.Errorf("missing %v", m)
				}
			}
			if got := r.header.Get(marathon.DeploymentHeader); got != "" {
				t.Errorf("deployment header %q on a dry run", got)
			}
			if len(h.be.deploys) != 0 || len(h.be.apps) != 2 {
				t.Errorf("dry run deployed %d times, %d apps left", len(h.be.deploys), len(h.be.apps))
			}
		})
	}
}

// TestGroupVersions: GET /v2/groups[/{id}]/versions is a bare array of the
// group's versions, newest first, as in Marathon's RAML.
func TestGroupVersions(t *testing.T) {
	h := newHarness(t)
	v1 := marathon.Timestamp{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	v2 := marathon.Timestamp{Time: time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)}
	h.be.seed(mustApp(t, `{"id":"/shop/web","cmd":"x"}`))
	h.be.groups = []state.Group{
		{ID: "/", Version: v1}, {ID: "/shop", Version: v1},
		{ID: "/", Version: v2}, {ID: "/shop", Version: v2},
	}
	h.expect(h.do("GET", "/v2/groups/versions", ""), 200, `["2024-05-02T12:00:00.000Z","2024-05-01T12:00:00.000Z"]`)
	h.expect(h.do("GET", "/v2/groups/shop/versions", ""), 200, `["2024-05-02T12:00:00.000Z","2024-05-01T12:00:00.000Z"]`)
	h.expect(h.do("GET", "/v2/groups/nope/versions", ""), 404, `{"message":"Group '/nope' does not exist"}`)
}

// TestPatchGroup: PATCH /v2/groups/{id} sets enforceRole of a top-level
// group without changing its apps; 200 with an empty body.
func TestPatchGroup(t *testing.T) {
	h := newHarness(t)
	v1 := marathon.Timestamp{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	h.be.seed(mustApp(t, `{"id":"/shop/web","cmd":"x"}`), mustApp(t, `{"id":"/shop/back/db","cmd":"x"}`))
	h.be.groups = []state.Group{{ID: "/shop", Version: v1, Dependencies: []marathon.PathID{"/infra"}}}
	r := h.do("PATCH", "/v2/groups/shop", `{"enforceRole":true}`)
	h.expect(r, 200, "")
	if len(r.body) != 0 {
		t.Errorf("body %q, want empty", r.body)
	}
	d := h.be.lastDeploy()
	want := []scheduler.GroupSettings{{ID: "/shop", Dependencies: []marathon.PathID{"/infra"}, EnforceRole: true}}
	if diff := cmp.Diff(want, d.opts.Groups); diff != "" || len(d.put) != 0 || len(d.remove) != 0 {
		t.Errorf("patch %+v (-want +got):\n%s", d, diff)
	}
	h.expect(h.do("PATCH", "/v2/groups/nope", `{"enforceRole":true}`), 404, `{"message":"Group '/nope' does not exist"}`)
	h.expect(h.do("PATCH", "/v2/groups/shop/back", `{"enforceRole":true}`), 422,
		`{"message":"Object is not valid","details":[{"path":"/","errors":["Path needs to be top-level"]}]}`)
	h.expect(h.do("PATCH", "/v2/groups/shop", `{"enforceRole":"yes"}`), 422, "")
}
