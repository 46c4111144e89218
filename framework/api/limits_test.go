package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// Limit messages as clients see them.
const (
	msgInstances5 = "is greater than 5, the most instances of one app (--max_instances_per_app)"
	msgIDLength   = "must not be longer than 194 characters: longer ids give task ids over Mesos's limit of 255"
	msgIDDepth    = "must not have more than 32 path elements"
)

// limitedHarness serves the API with --max_instances_per_app 5.
func limitedHarness(t *testing.T) *harness {
	return newHarness(t, func(c *Config) { c.NormalizeOptions.MaxInstances = 5 })
}

// notValidBody is Marathon's 422 body with one detail.
func notValidBody(t *testing.T, path string, errs ...string) string {
	t.Helper()
	b, err := json.Marshal(marathon.NotValid(marathon.Detail{Path: path, Errors: errs}))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonOf marshals v for a request body.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func manyLabels(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("l%d", i)] = "v"
	}
	return m
}

// TestLimits sends every write that can set instances, ids, labels, env
// or groups beyond the limits and expects Marathon's 422 with the path of
// the offending field, and nothing deployed.
func TestLimits(t *testing.T) {
	longID := "/" + strings.Repeat("x", 9999)
	deepID := strings.Repeat("/a", 5000)
	nested := func(levels int) string {
		return `{"id":"top"` + strings.Repeat(`,"groups":[{"id":"a"`, levels) + strings.Repeat("}]", levels) + "}"
	}
	groups := make([]map[string]string, 1001)
	for i := range groups {
		groups[i] = map[string]string{"id": fmt.Sprintf("g%d", i)}
	}
	tests := []struct {
		name         string
		seed         func(t *testing.T, h *harness)
		method, path string
		body         string
		// wantPath and wantErrs are the one detail of the 422 body.
		wantPath string
		wantErrs []string
	}{
		{name: "create with a billion instances", method: "POST", path: "/v2/apps",
			body: `{"id":"/web","cmd":"x","instances":1000000000}`, wantPath: "/instances", wantErrs: []string{msgInstances5}},
		{name: "create with one instance too many", method: "POST", path: "/v2/apps",
			body: `{"id":"/web","cmd":"x","instances":6}`, wantPath: "/instances", wantErrs: []string{msgInstances5}},
		{name: "create with an id of 10,000 characters", method: "POST", path: "/v2/apps",
			body: `{"id":"` + longID + `","cmd":"x"}`, wantPath: "/id", wantErrs: []string{msgIDLength}},
		{name: "create 5,000 levels deep", method: "POST", path: "/v2/apps",
			body: `{"id":"` + deepID + `","cmd":"x"}`, wantPath: "/id", wantErrs: []string{msgIDLength, msgIDDepth}},
		{name: "create with too many labels", method: "POST", path: "/v2/apps",
			body: jsonOf(t, map[string]any{"id": "/web", "cmd": "x", "labels": manyLabels(257)}), wantPath: "/labels",
			wantErrs: []string{"must not have more than 256 entries"}},
		{name: "create with too large an env", method: "POST", path: "/v2/apps",
			body:     jsonOf(t, map[string]any{"id": "/web", "cmd": "x", "env": map[string]string{"BIG": strings.Repeat("e", 64<<10)}}),
			wantPath: "/env", wantErrs: []string{"must not hold more than 65536 bytes of names and values"}},
		{name: "put of a new app with an id too long in the URL", method: "PUT", path: "/v2/apps" + longID,
			body: `{"cmd":"x"}`, wantPath: "/id", wantErrs: []string{msgIDLength}},
		{name: "put scaling an app up", seed: seedWeb2, method: "PUT", path: "/v2/apps/web",
			body: `{"instances":6}`, wantPath: "/instances", wantErrs: []string{msgInstances5}},
		{name: "put without partial update", seed: seedWeb2, method: "PUT", path: "/v2/apps/web?partialUpdate=false",
			body: `{"cmd":"x","instances":6}`, wantPath: "/instances", wantErrs: []string{msgInstances5}},
		{name: "patch scaling an app up", seed: seedWeb2, method: "PATCH", path: "/v2/apps/web",
			body: `{"instances":6}`, wantPath: "/instances", wantErrs: []string{msgInstances5}},
		{name: "bulk put", seed: seedWeb2, method: "PUT", path: "/v2/apps",
			body: `[{"id":"web","instances":2},{"id":"api","cmd":"x","instances":6}]`, wantPath: "(1)/instances", wantErrs: []string{msgInstances5}},
		{name: "bulk patch", seed: seedWeb2, method: "PATCH", path: "/v2/apps",
			body: `[{"id":"web","instances":6}]`, wantPath: "(0)/instances", wantErrs: []string{msgInstances5}},
		{name: "bulk put with an id too long", method: "PUT", path: "/v2/apps",
			body: `[{"id":"` + longID + `","cmd":"x"}]`, wantPath: "(0)/id", wantErrs: []string{msgIDLength}},
		{name: "revert to a version beyond the limits", seed: seedOldVersion, method: "PUT", path: "/v2/apps/web",
			body: `{"version":"2024-05-01T12:00:01.000Z"}`, wantPath: "/instances", wantErrs: []string{msgInstances5}},
		{name: "group with an app beyond the limit", method: "POST", path: "/v2/groups",
			body: `{"id":"shop","apps":[{"id":"web","cmd":"x","instances":6}]}`, wantPath: "/apps(0)/instances", wantErrs: []string{msgInstances5}},
		{name: "group update with an app beyond the limit", seed: seedShop, method: "PUT", path: "/v2/groups/shop",
			body: `{"apps":[{"id":"web","cmd":"x","instances":6}]}`, wantPath: "/apps(0)/instances", wantErrs: []string{msgInstances5}},
		{name: "group id too long", method: "POST", path: "/v2/groups",
			body: `{"id":"` + longID + `"}`, wantPath: "/id", wantErrs: []string{msgIDLength}},
		{name: "group path in the URL too long", method: "POST", path: "/v2/groups" + longID,
			body: `{"dependencies":[]}`, wantPath: "/id", wantErrs: []string{msgIDLength}},
		{name: "groups nested too deep", method: "POST", path: "/v2/groups", body: nested(33),
			wantPath: strings.Repeat("/groups(0)", 32) + "/groups", wantErrs: []string{"must not nest more than 32 levels deep"}},
		{name: "too many groups", method: "POST", path: "/v2/groups", body: jsonOf(t, map[string]any{"id": "top", "groups": groups}),
			wantPath: "/groups", wantErrs: []string{"must not hold more than 1000 groups in one request"}},
		{name: "too many groups in an update", seed: seedShop, method: "PUT", path: "/v2/groups/shop", body: jsonOf(t, map[string]any{"groups": groups}),
			wantPath: "/groups", wantErrs: []string{"must not hold more than 1000 groups in one request"}},
		{name: "group scaleBy beyond the limit", seed: seedShop, method: "PUT", path: "/v2/groups/shop", body: `{"scaleBy":3}`,
			wantPath: "/scaleBy", wantErrs: []string{"would scale /shop/web to more than 5 instances, the most instances of one app (--max_instances_per_app)"}},
		{name: "group scaleBy beyond int", seed: seedShop, method: "PUT", path: "/v2/groups/shop", body: `{"scaleBy":1e300}`,
			wantPath: "/scaleBy", wantErrs: []string{"would scale /shop/web to more than 5 instances, the most instances of one app (--max_instances_per_app)"}},
		{name: "group rollback to a version beyond the limits", seed: seedShopVersion, method: "PUT", path: "/v2/groups/shop",
			body: `{"version":"2024-05-01T12:00:01.000Z"}`, wantPath: "/version", wantErrs: []string{"/shop/web/instances: " + msgInstances5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := limitedHarness(t)
			if tc.seed != nil {
				tc.seed(t, h)
			}
			before := len(h.be.deploys)
			h.expect(h.do(tc.method, tc.path, tc.body), 422, notValidBody(t, tc.wantPath, tc.wantErrs...))
			if len(h.be.deploys) != before {
				t.Errorf("a refused request deployed %+v", h.be.lastDeploy())
			}
		})
	}
}

func seedWeb2(t *testing.T, h *harness) {
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"x","instances":2}`))
}

func seedShop(t *testing.T, h *harness) {
	h.be.seed(mustApp(t, `{"id":"/shop/web","cmd":"x","instances":2}`))
}

// seedOldVersion stores /web at version 12:00:01 with 8 instances, from
// before the limit, and a current version with 2.
func seedOldVersion(t *testing.T, h *harness) {
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"x","instances":8}`))
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"x","instances":2}`))
}

// seedShopVersion stores group /shop at version 12:00:01 holding /shop/web
// with 8 instances, and a current /shop/web with 2.
func seedShopVersion(t *testing.T, h *harness) {
	h.be.seed(mustApp(t, `{"id":"/shop/web","cmd":"x","instances":8}`))
	old := h.be.versions["/shop/web"][0].Version
	h.be.groups = []state.Group{{ID: "/shop", Version: old, Apps: map[marathon.PathID]marathon.Timestamp{"/shop/web": old}}}
	h.be.seed(mustApp(t, `{"id":"/shop/web","cmd":"x","instances":2}`))
}

// TestStoredAppBeyondLimits: an app stored before the limits (or before
// --max_instances_per_app was lowered) is served, restarted, scaled down and
// deleted; an update must bring it within the limits.
func TestStoredAppBeyondLimits(t *testing.T) {
	h := limitedHarness(t)
	legacy := marathon.NewApp("/shop/legacy")
	legacy.Cmd, legacy.Instances, legacy.Labels = "x", 8, manyLabels(300)
	h.be.seed(legacy)

	r := h.do("GET", "/v2/apps/shop/legacy", "")
	h.expect(r, 200, "")
	var got struct {
		App marathon.App `json:"app"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || got.App.Instances != 8 || len(got.App.Labels) != 300 {
		t.Fatalf("GET: %v, instances %d, %d labels", err, got.App.Instances, len(got.App.Labels))
	}
	h.expect(h.do("POST", "/v2/apps/shop/legacy/restart", ""), 200, "")
	h.expect(h.do("PUT", "/v2/groups/shop", `{"scaleBy":0.5}`), 200, "")
	if n := h.be.apps["/shop/legacy"].Instances; n != 4 {
		t.Errorf("after scaleBy 0.5: %d instances, want 4", n)
	}
	// An update is checked as a whole: the stored labels are named.
	h.expect(h.do("PATCH", "/v2/apps/shop/legacy", `{"instances":3}`), 422,
		notValidBody(t, "/labels", "must not have more than 256 entries"))
	h.expect(h.do("PATCH", "/v2/apps/shop/legacy", `{"instances":3,"labels":{}}`), 200, "")
	if a := h.be.apps["/shop/legacy"]; a.Instances != 3 || len(a.Labels) != 0 {
		t.Errorf("after the patch: %d instances, %d labels", a.Instances, len(a.Labels))
	}
	h.expect(h.do("DELETE", "/v2/apps/shop/legacy", ""), 200, "")
}

// TestLimitsDefault: without the flag, the limit is 100,000 per app.
func TestLimitsDefault(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("POST", "/v2/apps", `{"id":"/web","cmd":"x","instances":100000}`), 201, "")
	h.expect(h.do("PATCH", "/v2/apps/web", `{"instances":100001}`), 422,
		notValidBody(t, "/instances", "is greater than 100000, the most instances of one app (--max_instances_per_app)"))
}

// TestGroupsOfStoredDeepTree: groups stored before the depth limit, a path
// 2,000 levels deep with every level stored, render in time linear in the
// length of their ids (the tree used to be built in time cubic in the
// depth: 5,000 levels never finished).
func TestGroupsOfStoredDeepTree(t *testing.T) {
	h := newHarness(t)
	deep := marathon.PathID(strings.Repeat("/a", 2000))
	app := marathon.NewApp(deep + "/web")
	app.Cmd = "x"
	h.be.seed(app)
	for id := deep; id != marathon.RootID; id = id.Parent() {
		h.be.groups = append(h.be.groups, state.Group{ID: id, Version: marathon.NewTimestamp(t0)})
	}
	r := h.do("GET", "/v2/groups", "")
	h.expect(r, 200, "")
	if !strings.Contains(string(r.body), `"id":"`+string(deep)+`/web"`) {
		t.Errorf("the deepest app is not in the tree")
	}
	r = h.do("GET", "/v2/groups"+string(deep), "")
	h.expect(r, 200, "")
	if !strings.HasPrefix(string(r.body), `{"id":"`+string(deep)+`"`) {
		t.Errorf("GET of the deepest group: %.80s", r.body)
	}
}

// TestRenderStopsWithClient: rendering a tree stops with the context of a
// client that has gone.
func TestRenderStopsWithClient(t *testing.T) {
	be := newFakeBackend()
	for i := range 50 {
		app := marathon.NewApp(marathon.PathID(fmt.Sprintf("/g%d/sub/web", i)))
		app.Cmd = "x"
		be.seed(app)
	}
	s := &server{backend: be, now: time.Now}
	v := be.View()
	e := groupEmbed{apps: true, groups: true}

	out, _, _, err := s.render(context.Background(), v, groupTree(v), e, authz{})
	if err != nil || out.Groups == nil || len(*out.Groups) != 50 {
		t.Fatalf("render: %v, %v", err, out.Groups)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := s.render(ctx, v, groupTree(v), e, authz{}); !errors.Is(err, context.Canceled) {
		t.Errorf("render after the client left: %v, want context.Canceled", err)
	}
}
