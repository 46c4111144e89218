package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestGroupDependencies: a group's dependencies are kept and order the
// deployment of every app below it. The database never starts (no agent
// meets its constraint), so the deployment stays in its first step and the
// web app waits.
func TestGroupDependencies(t *testing.T) {
	t.Parallel()
	e := start(t)
	r := e.do(http.MethodPost, "/v2/groups", `{"id":"/stack","groups":[
		{"id":"/stack/db","apps":[{"id":"/stack/db/pg","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1,
		  "constraints":[["hostname","LIKE","nowhere"]]}]},
		{"id":"/stack/web","dependencies":["/stack/db"],"apps":[{"id":"/stack/web/site","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}]}]}`)
	e.deployed(r, http.StatusCreated)

	var group struct {
		ID           string   `json:"id"`
		Dependencies []string `json:"dependencies"`
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/groups/stack/web", ""), http.StatusOK, &group)
	if !slices.Equal(group.Dependencies, []string{"/stack/db"}) {
		t.Fatalf("GET /v2/groups/stack/web: dependencies %v, want [/stack/db]", group.Dependencies)
	}

	var deps []struct {
		Steps []struct {
			Actions []struct {
				Action string `json:"action"`
				App    string `json:"app"`
			} `json:"actions"`
		} `json:"steps"`
		CurrentStep int `json:"currentStep"`
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/deployments", ""), http.StatusOK, &deps)
	if len(deps) != 1 || len(deps[0].Steps) != 2 || deps[0].CurrentStep != 1 ||
		deps[0].Steps[0].Actions[0].App != "/stack/db/pg" || deps[0].Steps[1].Actions[0].App != "/stack/web/site" {
		t.Fatalf("GET /v2/deployments: %+v, want the database in step 1 and the site in step 2", deps)
	}
	// Once offers were tried for the database, the site would have been
	// launched from them too, had it been in the same step.
	e.eventually("offers tried for the database", func() error {
		var q struct {
			Queue []struct {
				App struct {
					ID string `json:"id"`
				} `json:"app"`
				Summary struct {
					Processed int `json:"processedOffersCount"`
				} `json:"processedOffersSummary"`
			} `json:"queue"`
		}
		e.wantJSON(e.do(http.MethodGet, "/v2/queue", ""), http.StatusOK, &q)
		tried := false
		for _, item := range q.Queue {
			if item.App.ID == "/stack/web/site" {
				t.Fatalf("the site waits for offers before its dependency is up: %+v", q.Queue)
			}
			tried = tried || (item.App.ID == "/stack/db/pg" && item.Summary.Processed > 0)
		}
		if !tried {
			return fmt.Errorf("queue %+v", q.Queue)
		}
		return nil
	})
	if site := e.getApp("/stack/web/site"); site.TasksRunning != 0 || len(site.Tasks) != 0 {
		t.Fatalf("the site started before its dependency: %+v", site.Tasks)
	}
}
