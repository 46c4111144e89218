package server_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/server"
)

// TestMesosRole: with --mesos_role stadion, as Marathon 1.9+: the
// framework subscribes MULTI_ROLE (and REGION_AWARE) with that role, an
// app without a role gets it, a foreign role is a 422, an app with its
// group's role makes the framework add that role (UPDATE_FRAMEWORK), and
// every task shows the role Mesos applied to it.
func TestMesosRole(t *testing.T) {
	t.Parallel()
	e := startWith(t, func(c *server.Config) { c.Role = "stadion" })

	e.want(e.do(http.MethodPost, "/v2/apps", `{"id":"/web","cmd":"sleep 600","cpus":0.1,"mem":16}`), http.StatusCreated)
	var web struct{ App struct{ Role string } }
	e.wantJSON(e.do(http.MethodGet, "/v2/apps/web", ""), http.StatusOK, &web)
	if web.App.Role != "stadion" {
		t.Errorf("app role %q, want stadion (--mesos_role)", web.App.Role)
	}

	var refused struct {
		Message string
		Details []struct {
			Path   string
			Errors []string
		}
	}
	e.wantJSON(e.do(http.MethodPost, "/v2/apps", `{"id":"/foo","cmd":"sleep 600","cpus":0.1,"mem":16,"role":"foo"}`), http.StatusUnprocessableEntity, &refused)
	if len(refused.Details) != 1 || refused.Details[0].Path != "/role" || !slices.Equal(refused.Details[0].Errors, []string{"got foo, expected one of: [stadion]"}) {
		t.Errorf("foreign role refused with %+v", refused)
	}

	e.want(e.do(http.MethodPost, "/v2/apps", `{"id":"/dev/api","cmd":"sleep 600","cpus":0.1,"mem":16,"role":"dev"}`), http.StatusCreated)
	e.running("/web", 1)
	e.running("/dev/api", 1)

	e.eventually("tasks show the applied roles", func() error {
		var body struct {
			Tasks []struct {
				AppID string
				Role  string
			}
		}
		e.wantJSON(e.do(http.MethodGet, "/v2/tasks", ""), http.StatusOK, &body)
		want := map[string]string{"/web": "stadion", "/dev/api": "dev"}
		if len(body.Tasks) != 2 {
			return fmt.Errorf("%d tasks", len(body.Tasks))
		}
		for _, tk := range body.Tasks {
			if tk.Role != want[tk.AppID] {
				return fmt.Errorf("task of %s shows role %q, want %q", tk.AppID, tk.Role, want[tk.AppID])
			}
		}
		return nil
	})

	// What Mesos holds: the framework's roles and capabilities, and the
	// role of each task's resources.
	var st struct {
		Frameworks []struct {
			Roles        []string
			Capabilities []string
			Tasks        []struct {
				Name string
				Role string
			}
		}
	}
	res, err := http.Get(e.srv.Cluster().Master.URL() + "/master/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || len(st.Frameworks) != 1 {
		t.Fatalf("master state %d: %v, %d frameworks", res.StatusCode, err, len(st.Frameworks))
	}
	fw := st.Frameworks[0]
	if !slices.Equal(fw.Roles, []string{"dev", "stadion"}) {
		t.Errorf("framework roles %v, want [dev stadion]", fw.Roles)
	}
	for _, c := range []string{"MULTI_ROLE", "REGION_AWARE"} {
		if !slices.Contains(fw.Capabilities, c) {
			t.Errorf("framework capabilities %v lack %s", fw.Capabilities, c)
		}
	}
	for _, tk := range fw.Tasks {
		if want := map[string]string{"web": "stadion", "api.dev": "dev"}[tk.Name]; tk.Role != want {
			t.Errorf("mesos task %s runs under role %q, want %q", tk.Name, tk.Role, want)
		}
	}
}

// TestPodRoles: a pod's role follows the rules of apps: without a role it
// gets --mesos_role, a foreign role is a 422 at /role, and a pod with its
// group's role makes the framework add that role, under which Mesos runs
// its tasks.
func TestPodRoles(t *testing.T) {
	t.Parallel()
	e := startWith(t, func(c *server.Config) { c.Role = "stadion" })
	pod := func(id, extra string) string {
		return `{"id":"` + id + `","containers":[{"name":"c","resources":{"cpus":0.05,"mem":16},"exec":{"command":{"shell":"sleep 600"}}}]` + extra + `}`
	}

	e.want(e.do(http.MethodPost, "/v2/pods", pod("/web", "")), http.StatusCreated)
	var web struct{ Role string }
	e.wantJSON(e.do(http.MethodGet, "/v2/pods/web", ""), http.StatusOK, &web)
	if web.Role != "stadion" {
		t.Errorf("pod role %q, want stadion (--mesos_role)", web.Role)
	}

	var refused struct {
		Details []struct {
			Path   string
			Errors []string
		}
	}
	e.wantJSON(e.do(http.MethodPost, "/v2/pods", pod("/foo", `,"role":"foo"`)), http.StatusUnprocessableEntity, &refused)
	if len(refused.Details) != 1 || refused.Details[0].Path != "/role" || !slices.Equal(refused.Details[0].Errors, []string{"got foo, expected one of: [stadion]"}) {
		t.Errorf("foreign role refused with %+v", refused)
	}

	e.want(e.do(http.MethodPost, "/v2/pods", pod("/dev/api", `,"role":"dev"`)), http.StatusCreated)
	e.eventually("mesos runs the pods' tasks under their roles", func() error {
		var st struct {
			Frameworks []struct {
				Roles []string
				Tasks []struct {
					ID    string
					Role  string
					State string
				}
			}
		}
		res, err := http.Get(e.srv.Cluster().Master.URL() + "/master/state")
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(&st); err != nil || len(st.Frameworks) != 1 {
			return fmt.Errorf("master state %d: %v, %d frameworks", res.StatusCode, err, len(st.Frameworks))
		}
		fw := st.Frameworks[0]
		if !slices.Equal(fw.Roles, []string{"dev", "stadion"}) {
			return fmt.Errorf("framework roles %v, want [dev stadion]", fw.Roles)
		}
		roles := map[string]string{}
		for _, tk := range fw.Tasks {
			if tk.State == "TASK_RUNNING" {
				roles[strings.SplitN(tk.ID, ".", 2)[0]] = tk.Role
			}
		}
		if want := map[string]string{"web": "stadion", "dev_api": "dev"}; !maps.Equal(roles, want) {
			return fmt.Errorf("running tasks' roles by pod %v, want %v", roles, want)
		}
		return nil
	})
}
