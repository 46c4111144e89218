package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestPutApp(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"sleep 1","instances":1,"labels":{"a":"b"}}`))

	// partialUpdate=true (default): merge.
	r := h.do("PUT", "/v2/apps/web", `{"instances":3}`)
	h.expect(r, 200, "")
	dep := h.be.lastDeploy()
	if r.header.Get(marathon.DeploymentHeader) != dep.result.DeploymentID {
		t.Errorf("header %q", r.header.Get(marathon.DeploymentHeader))
	}
	h.expect(r, 200, `{"deploymentId":"`+dep.result.DeploymentID+`","version":"`+dep.result.Version.String()+`"}`)
	if got := h.be.apps["/web"]; got.Cmd != "sleep 1" || got.Instances != 3 || got.Labels["a"] != "b" {
		t.Errorf("merged app %+v", got)
	}
	if m := missingPaths(t, readExample(t, "deployments_result.json"), r.body); len(m) > 0 {
		t.Errorf("missing %v", m)
	}

	// partialUpdate=false: replace.
	h.expect(h.do("PUT", "/v2/apps/web?partialUpdate=false", `{"cmd":"sleep 2"}`), 200, "")
	if got := h.be.apps["/web"]; got.Cmd != "sleep 2" || got.Instances != 1 || len(got.Labels) != 0 {
		t.Errorf("replaced app %+v", got)
	}

	// Create through PUT.
	r = h.do("PUT", "/v2/apps/new", `{"cmd":"sleep 3"}`)
	h.expect(r, 201, "")
	if r.header.Get("Location") != "/v2/apps/new" || r.header.Get(marathon.DeploymentHeader) == "" {
		t.Errorf("headers %v", r.header)
	}

	// Locked without force, passes with force.
	h.be.locked["/web"] = "97c136bf"
	h.expect(h.do("PUT", "/v2/apps/web", `{"instances":4}`), 409,
		`{"message":"App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/97c136bf'.","deployments":[{"id":"97c136bf"}]}`)
	h.expect(h.do("PUT", "/v2/apps/web?force=true", `{"instances":4}`), 200, "")
	if !h.be.lastDeploy().opts.Force {
		t.Error("force not passed")
	}
	h.expect(h.do("PUT", "/v2/apps/web?force=maybe", `{"instances":4}`), 400, "")

	// Invalid merged result, bad JSON, reserved id.
	h.expect(h.do("PUT", "/v2/apps/web?force=true", `{"mem":-5}`), 422, "")
	h.expect(h.do("PUT", "/v2/apps/web", `{"mem":`), 400, "")
	h.expect(h.do("PUT", "/v2/apps/web/restart", `{}`), 405, "")
}

func TestPatchApp(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"sleep 1","env":{"A":"1"}}`))
	r := h.do("PATCH", "/v2/apps/web", `{"id":"/ignored","env":{"B":"2"}}`)
	h.expect(r, 200, "")
	if r.header.Get(marathon.DeploymentHeader) == "" {
		t.Error("no deployment header")
	}
	got := h.be.apps["/web"]
	if _, ok := got.Env["A"]; ok || got.Env["B"].Value != "2" || got.Cmd != "sleep 1" {
		t.Errorf("patched app %+v", got)
	}
	h.expect(h.do("PATCH", "/v2/apps/nope", `{"cmd":"x"}`), 404, `{"message":"App '/nope' does not exist"}`)
}

func TestBulkApps(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/a","cmd":"sleep 1"}`))
	r := h.do("PUT", "/v2/apps", `[{"id":"/a","instances":2},{"id":"/b","cmd":"sleep 2"}]`)
	h.expect(r, 200, "")
	d := h.be.lastDeploy()
	if len(d.put) != 2 || r.header.Get(marathon.DeploymentHeader) != d.result.DeploymentID {
		t.Errorf("one deployment with both apps, got %+v", d)
	}
	if h.be.apps["/a"].Cmd != "sleep 1" || h.be.apps["/a"].Instances != 2 {
		t.Errorf("a %+v", h.be.apps["/a"])
	}
	h.expect(h.do("PATCH", "/v2/apps", `[{"id":"/a","instances":1},{"id":"/zzz","instances":1}]`), 404,
		`{"message":"App '/zzz' does not exist"}`)
	h.expect(h.do("PUT", "/v2/apps", `[{"cmd":"x"}]`), 422,
		`{"message":"Invalid JSON","details":[{"path":"(0)/id","errors":["error.path.missing"]}]}`)
	r = h.do("PUT", "/v2/apps", `[{"id":"/a"},{"id":"/c","cmd":"x","cpus":-1}]`)
	h.expect(r, 422, "")
	if !strings.Contains(string(r.body), `"path":"(1)/cpus"`) {
		t.Errorf("bulk details %s", r.body)
	}
}

func TestDeleteAndRestartApp(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/g/web","cmd":"sleep 1"}`))
	r := h.do("POST", "/v2/apps/g/web/restart?force=true", "")
	h.expect(r, 200, "")
	d := h.be.lastDeploy()
	if !d.opts.Restart || !d.opts.Force || len(d.put) != 1 || r.header.Get(marathon.DeploymentHeader) != d.result.DeploymentID {
		t.Errorf("restart %+v", d)
	}
	h.expect(h.do("POST", "/v2/apps/nope/restart", ""), 404, `{"message":"App '/nope' does not exist"}`)
	h.expect(h.do("GET", "/v2/apps/g/web/restart", ""), 405, "")

	r = h.do("DELETE", "/v2/apps/g/web", "")
	h.expect(r, 200, "")
	if d := h.be.lastDeploy(); len(d.remove) != 1 || d.remove[0] != "/g/web" || r.header.Get(marathon.DeploymentHeader) == "" {
		t.Errorf("delete %+v", d)
	}
	h.expect(h.do("DELETE", "/v2/apps/g/web", ""), 404, `{"message":"App '/g/web' does not exist"}`)
}

// TestDeleteAppDuringDeployment: Marathon's DELETE /v2/apps/{id} defaults
// force to true, so an app held by a deployment is deleted, not 409;
// ?force=false keeps the lock.
func TestDeleteAppDuringDeployment(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"sleep 1"}`), mustApp(t, `{"id":"/db","cmd":"sleep 1"}`))
	h.be.locked["/web"] = "97c136bf"
	h.be.locked["/db"] = "97c136bf"

	h.expect(h.do("DELETE", "/v2/apps/db?force=false", ""), 409,
		`{"message":"App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/97c136bf'.","deployments":[{"id":"97c136bf"}]}`)
	r := h.do("DELETE", "/v2/apps/web", "")
	h.expect(r, 200, "")
	if d := h.be.lastDeploy(); !d.opts.Force || len(d.remove) != 1 || d.remove[0] != "/web" {
		t.Errorf("delete %+v", d)
	}
	h.expect(h.do("DELETE", "/v2/apps/db?force=maybe", ""), 400, "")
}

func TestAppVersions(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"v1"}`))
	h.expect(h.do("PUT", "/v2/apps/web", `{"cmd":"v2"}`), 200, "")
	r := h.do("GET", "/v2/apps/web/versions", "")
	h.expect(r, 200, "")
	var vl struct{ Versions []string }
	if err := json.Unmarshal(r.body, &vl); err != nil || len(vl.Versions) != 2 || vl.Versions[0] <= vl.Versions[1] {
		t.Fatalf("versions %s (newest first)", r.body)
	}
	r = h.do("GET", "/v2/apps/web/versions/"+vl.Versions[1], "")
	h.expect(r, 200, "")
	if !strings.Contains(string(r.body), `"cmd":"v1"`) {
		t.Errorf("old version %s", r.body)
	}
	h.expect(h.do("GET", "/v2/apps/web/versions/2001-01-01T00:00:00.000Z", ""), 404,
		`{"message":"App '/web' does not exist in version 2001-01-01T00:00:00.000Z"}`)
	h.expect(h.do("GET", "/v2/apps/web/versions/yesterday", ""), 400, "")
	h.expect(h.do("GET", "/v2/apps/nope/versions", ""), 404, `{"message":"App '/nope' does not exist"}`)
}

// go-marathon's ScaleApplicationInstances sends explicit nulls; Marathon
// reads them as absent (readNullable), so only the instances change.
func TestPutAppNullsAreAbsent(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/web","cmd":"sleep 1","instances":1,"labels":{"a":"b"},
		"portDefinitions":[{"port":10000,"name":"http","labels":{"VIP_0":"/web:80"}}],"dependencies":["/db"]}`))
	before := h.be.apps["/web"]
	h.expect(h.do("PUT", "/v2/apps/web", `{"id":"/web","instances":3,"ports":null,"dependencies":null,"labels":null,"cmd":null}`), 200, "")
	after := h.be.apps["/web"]
	if after.Instances != 3 {
		t.Errorf("instances %d", after.Instances)
	}
	if marathon.IsUpgrade(before, after) {
		t.Errorf("a scale with nulls changed the definition: before %+v, after %+v", before, after)
	}
}
