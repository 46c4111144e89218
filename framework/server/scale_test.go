package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// scaledApp is the part of an app these tests compare across a scale.
type scaledApp struct {
	app
	PortDefinitions []struct {
		Port   int               `json:"port"`
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"portDefinitions"`
	VersionInfo struct {
		LastConfigChangeAt string `json:"lastConfigChangeAt"`
	} `json:"versionInfo"`
}

func (e *env) scaledApp(id string) scaledApp {
	e.t.Helper()
	var body struct{ App json.RawMessage }
	e.wantJSON(e.do(http.MethodGet, "/v2/apps"+id, ""), http.StatusOK, &body)
	var a scaledApp
	if err := json.Unmarshal(body.App, &a); err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(body.App, &a.app); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// TestScaleWithNulls is go-marathon's ScaleApplicationInstances: a PUT
// with explicit nulls. Marathon reads the nulls as absent fields, so it is
// a scale: the tasks stay, the named ports and their labels stay, and
// lastConfigChangeAt does not move.
func TestScaleWithNulls(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.want(e.do(http.MethodPost, "/v2/apps", `{"id":"/vip","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1,
		"portDefinitions":[{"port":0,"name":"http","labels":{"VIP_0":"/vip:80"}}]}`), http.StatusCreated)
	e.running("/vip", 1)
	before := e.scaledApp("/vip")

	e.deployed(e.do(http.MethodPut, "/v2/apps/vip", `{"id":"/vip","instances":2,"ports":null,"dependencies":null}`), http.StatusOK)
	e.running("/vip", 2)
	after := e.scaledApp("/vip")
	for _, id := range taskIDs(before.Tasks) {
		if !slices.Contains(taskIDs(after.Tasks), id) {
			t.Errorf("task %s was replaced: before %v, after %v", id, taskIDs(before.Tasks), taskIDs(after.Tasks))
		}
	}
	if len(after.PortDefinitions) != 1 || after.PortDefinitions[0].Name != "http" ||
		after.PortDefinitions[0].Labels["VIP_0"] != "/vip:80" || after.PortDefinitions[0].Port != before.PortDefinitions[0].Port {
		t.Errorf("portDefinitions before %+v, after %+v", before.PortDefinitions, after.PortDefinitions)
	}
	if after.VersionInfo.LastConfigChangeAt != before.VersionInfo.LastConfigChangeAt {
		t.Errorf("lastConfigChangeAt moved from %s to %s", before.VersionInfo.LastConfigChangeAt, after.VersionInfo.LastConfigChangeAt)
	}
}

// TestGroupServicePorts: apps posted together with port 0 get distinct
// service ports, and a group PUT that changes only instances scales them
// with their ports and tasks kept, as Marathon does.
func TestGroupServicePorts(t *testing.T) {
	t.Parallel()
	e := start(t)
	group := func(n int) string {
		return fmt.Sprintf(`{"id":"/lb","apps":[
			{"id":"/lb/a","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":%d,"portDefinitions":[{"port":0}]},
			{"id":"/lb/b","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":%d,"portDefinitions":[{"port":0}]}]}`, n, n)
	}
	e.deployed(e.do(http.MethodPost, "/v2/groups", group(1)), http.StatusCreated)
	e.running("/lb/a", 1)
	e.running("/lb/b", 1)
	a, b := e.scaledApp("/lb/a"), e.scaledApp("/lb/b")
	pa, pb := a.PortDefinitions[0].Port, b.PortDefinitions[0].Port
	if pa == 0 || pb == 0 || pa == pb {
		t.Fatalf("service ports %d and %d, want two distinct ones", pa, pb)
	}

	// A dry run plans the scale and changes nothing.
	r := e.do(http.MethodPut, "/v2/groups/lb?dryRun=true", group(2))
	var plan struct {
		Steps []struct {
			Actions []struct{ Action, App string }
		}
	}
	e.wantJSON(r, http.StatusOK, &plan)
	if len(plan.Steps) != 1 || len(plan.Steps[0].Actions) != 2 || plan.Steps[0].Actions[0].Action != "ScaleApplication" {
		t.Errorf("dry run steps %s", r.body)
	}
	if got := e.scaledApp("/lb/a"); got.Instances != 1 || got.Version != a.Version {
		t.Errorf("dry run changed /lb/a: %d instances, version %s", got.Instances, got.Version)
	}

	e.deployed(e.do(http.MethodPut, "/v2/groups/lb", group(2)), http.StatusOK)
	e.running("/lb/a", 2)
	e.running("/lb/b", 2)
	for _, before := range []scaledApp{a, b} {
		after := e.scaledApp(before.ID)
		if after.PortDefinitions[0].Port != before.PortDefinitions[0].Port {
			t.Errorf("%s: service port moved from %d to %d", before.ID, before.PortDefinitions[0].Port, after.PortDefinitions[0].Port)
		}
		if !slices.Contains(taskIDs(after.Tasks), before.Tasks[0].ID) {
			t.Errorf("%s: task %s was replaced by %v", before.ID, before.Tasks[0].ID, taskIDs(after.Tasks))
		}
		if after.VersionInfo.LastConfigChangeAt != before.VersionInfo.LastConfigChangeAt {
			t.Errorf("%s: lastConfigChangeAt moved from %s to %s", before.ID, before.VersionInfo.LastConfigChangeAt, after.VersionInfo.LastConfigChangeAt)
		}
	}
}
