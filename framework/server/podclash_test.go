package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestPodAppClash: apps and pods share one tree, as in Marathon
// (Group.validGroup): an app with a pod's id, a pod with an app's id, and
// either one below the other answer 422 on "/" with Marathon's message,
// through /v2/apps, /v2/groups and /v2/pods alike, and change nothing.
func TestPodAppClash(t *testing.T) {
	t.Parallel()
	e := start(t)
	pod := func(id string) string {
		return `{"id":"` + id + `","containers":[{"name":"c","resources":{"cpus":0.01,"mem":8},"exec":{"command":{"shell":"sleep 600"}}}]}`
	}
	app := func(id string) string { return `{"id":"` + id + `","cmd":"sleep 600","cpus":0.01,"mem":8}` }
	e.want(e.do(http.MethodPost, "/v2/pods", pod("/p")), http.StatusCreated)
	e.want(e.do(http.MethodPost, "/v2/pods", pod("/h/x")), http.StatusCreated)
	e.want(e.do(http.MethodPost, "/v2/apps", app("/a")), http.StatusCreated)

	const (
		appsAndPods   = "Applications and Pods may not share the same id"
		groupsAndPods = "Groups and Pods may not have the same identifier."
		groupsAndApps = "Groups and Applications may not have the same identifier."
	)
	tests := []struct {
		name, method, path, body, want string
	}{
		{"app with a pod's id", http.MethodPost, "/v2/apps", app("/p"), appsAndPods},
		{"app put with a pod's id", http.MethodPut, "/v2/apps/p", app("/p"), appsAndPods},
		{"app below a pod", http.MethodPost, "/v2/apps", app("/p/x"), groupsAndPods},
		{"group with an app of a pod's id", http.MethodPost, "/v2/groups", `{"id":"/h","apps":[` + app("/h/x") + `]}`, appsAndPods},
		{"pod with an app's id", http.MethodPost, "/v2/pods", pod("/a"), appsAndPods},
		{"pod put with an app's id", http.MethodPut, "/v2/pods/a", pod("/a"), appsAndPods},
		{"pod below an app", http.MethodPost, "/v2/pods", pod("/a/x"), groupsAndApps},
		{"pod below a pod", http.MethodPost, "/v2/pods", pod("/p/x"), groupsAndPods},
	}
	for _, tc := range tests {
		var body struct {
			Details []struct {
				Path   string
				Errors []string
			}
		}
		e.wantJSON(e.do(tc.method, tc.path, tc.body), http.StatusUnprocessableEntity, &body)
		if len(body.Details) != 1 || body.Details[0].Path != "/" || !slices.Equal(body.Details[0].Errors, []string{tc.want}) {
			t.Errorf("%s: details %+v, want / %q", tc.name, body.Details, tc.want)
		}
	}
	// An app whose id is the group of a pod.
	e.want(e.do(http.MethodPost, "/v2/pods", pod("/q/inner")), http.StatusCreated)
	var body struct {
		Details []struct {
			Path   string
			Errors []string
		}
	}
	e.wantJSON(e.do(http.MethodPost, "/v2/apps", app("/q")), http.StatusUnprocessableEntity, &body)
	if len(body.Details) != 1 || !slices.Equal(body.Details[0].Errors, []string{groupsAndApps}) {
		t.Errorf("app of a pod's group: details %+v", body.Details)
	}
	e.want(e.do(http.MethodGet, "/v2/apps/p", ""), http.StatusNotFound)
	e.want(e.do(http.MethodGet, "/v2/pods/a", ""), http.StatusNotFound)
	e.want(e.do(http.MethodGet, "/v2/apps/q", ""), http.StatusNotFound)
	e.want(e.do(http.MethodGet, "/v2/apps/h/x", ""), http.StatusNotFound)
}

// TestGroupDeleteRemovesPods: GET /v2/groups lists a group's pods as pod
// statuses, DELETE /v2/groups/{id} removes the group's pods with its apps,
// and a group that holds only pods exists for it.
func TestGroupDeleteRemovesPods(t *testing.T) {
	t.Parallel()
	e := start(t)
	pod := func(id string) string {
		return `{"id":"` + id + `","containers":[{"name":"c","resources":{"cpus":0.01,"mem":8},"exec":{"command":{"shell":"sleep 600"}}}]}`
	}
	e.want(e.do(http.MethodPost, "/v2/pods", pod("/grp/sub/p")), http.StatusCreated)
	e.want(e.do(http.MethodPost, "/v2/pods", pod("/only/p")), http.StatusCreated)
	e.want(e.do(http.MethodPost, "/v2/pods", pod("/other/p")), http.StatusCreated)
	e.want(e.do(http.MethodPost, "/v2/apps", `{"id":"/grp/a","cmd":"sleep 600","cpus":0.01,"mem":8}`), http.StatusCreated)

	// Marathon's GroupInfo lists pod statuses (types/group.raml).
	var group struct {
		Pods []struct {
			ID        string
			Spec      struct{ ID string }
			Status    string
			Instances []struct{ ID string }
		}
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/groups/grp/sub", ""), http.StatusOK, &group)
	if len(group.Pods) != 1 || group.Pods[0].ID != "/grp/sub/p" || group.Pods[0].Spec.ID != "/grp/sub/p" || group.Pods[0].Status == "" || group.Pods[0].Instances == nil {
		t.Errorf("the group's pods %+v, want the status of /grp/sub/p", group.Pods)
	}

	e.want(e.do(http.MethodDelete, "/v2/groups/grp?force=true", ""), http.StatusOK)
	e.want(e.do(http.MethodDelete, "/v2/groups/only?force=true", ""), http.StatusOK)
	e.want(e.do(http.MethodGet, "/v2/pods/grp/sub/p", ""), http.StatusNotFound)
	e.want(e.do(http.MethodGet, "/v2/pods/only/p", ""), http.StatusNotFound)
	e.want(e.do(http.MethodGet, "/v2/pods/other/p", ""), http.StatusOK)
	e.want(e.do(http.MethodDelete, "/v2/groups/none", ""), http.StatusNotFound)
	e.eventually("the deleted pods' instances are gone", func() error {
		var pods []struct{ ID string }
		e.wantJSON(e.do(http.MethodGet, "/v2/pods/::status", ""), http.StatusOK, &pods)
		if len(pods) != 1 || pods[0].ID != "/other/p" {
			return fmt.Errorf("pods %+v, want /other/p alone", pods)
		}
		return nil
	})
}
