package server_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// podStatus is what the pod tests read of GET /v2/pods/{id}::status.
type podStatus struct {
	Status    string
	Instances []struct {
		ID            string
		Status        string
		SpecReference string
		Containers    []struct {
			Name        string
			Status      string
			ContainerID string
			Endpoints   []struct {
				Name              string
				AllocatedHostPort int
				Healthy           *bool
			}
		}
	}
}

// webPod is a two-container pod on host networking: an HTTP server with a
// Mesos HTTP health check, and a sidecar that calls the server on
// localhost through $ENDPOINT_HTTP and, once answered, serves its own
// health page (so that its health says it reached the server). The
// sidecar fails (exit 1) once when the file trigger appears.
func webPod(server, trigger string, instances int) string {
	sidecar := `until exec 3<>/dev/tcp/127.0.0.1/$ENDPOINT_HTTP; do sleep 0.1; done; ` +
		`printf 'GET / HTTP/1.0\r\n\r\n' >&3; grep -q '200 OK' <&3 || exit 2; ` +
		`LISTEN_PORT=$ENDPOINT_SIDE ` + server + ` & ` +
		`while sleep 0.1; do if [ -e ` + trigger + ` ]; then rm -f ` + trigger + `; kill $!; exit 1; fi; done`
	argv, _ := json.Marshal([]string{"bash", "-c", sidecar})
	check := `"healthCheck":{"http":{"endpoint":%q,"path":"/healthcheck"},"intervalSeconds":1,"timeoutSeconds":0,"gracePeriodSeconds":30,"delaySeconds":0}`
	return fmt.Sprintf(`{"id":"/e2e/web","networks":[{"mode":"host"}],"scaling":{"kind":"fixed","instances":%d},
		"scheduling":{"backoff":{"backoff":0.5}},
		"containers":[
		{"name":"server","resources":{"cpus":0.05,"mem":16},
		 "exec":{"command":{"shell":"LISTEN_PORT=$ENDPOINT_HTTP exec %s"}},
		 "endpoints":[{"name":"http","protocol":["tcp"]}],`+check+`},
		{"name":"sidecar","resources":{"cpus":0.05,"mem":16},
		 "exec":{"command":{"argv":%s},"overrideEntrypoint":true},
		 "endpoints":[{"name":"side","protocol":["tcp"]}],`+check+`}]}`,
		instances, server, "http", argv, "side")
}

// podStatusOf reads ::status.
func (e *env) podStatusOf(id string) (podStatus, int) {
	e.t.Helper()
	r := e.do("GET", "/v2/pods"+id+"::status", "")
	var st podStatus
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &st); err != nil {
			e.t.Fatalf("::status: %v; body %s", err, r.body)
		}
	}
	return st, r.status
}

// stablePod waits until the pod has n instances, all STABLE with every
// endpoint healthy, and returns its status.
func (e *env) stablePod(id string, n int) podStatus {
	e.t.Helper()
	var st podStatus
	e.eventuallyWithin(2*waitFor, fmt.Sprintf("%s: %d stable healthy instances", id, n), func() error {
		var code int
		st, code = e.podStatusOf(id)
		if code != 200 || st.Status != "STABLE" || len(st.Instances) != n {
			return fmt.Errorf("status %d %s, %d instances", code, st.Status, len(st.Instances))
		}
		for _, in := range st.Instances {
			if in.Status != "STABLE" || len(in.Containers) != 2 {
				return fmt.Errorf("instance %s %s, %d containers", in.ID, in.Status, len(in.Containers))
			}
			for _, c := range in.Containers {
				for _, ep := range c.Endpoints {
					if ep.Healthy == nil || !*ep.Healthy || ep.AllocatedHostPort == 0 {
						return fmt.Errorf("%s/%s endpoint %s: healthy %v port %d", in.ID, c.Name, ep.Name, ep.Healthy, ep.AllocatedHostPort)
					}
				}
			}
		}
		return nil
	})
	return st
}

// serverPorts are the host ports of the pod's HTTP servers.
func serverPorts(st podStatus) []int {
	var out []int
	for _, in := range st.Instances {
		for _, c := range in.Containers {
			for _, ep := range c.Endpoints {
				out = append(out, ep.AllocatedHostPort)
			}
		}
	}
	return out
}

// closed waits until nothing listens on the ports any more.
func (e *env) closed(what string, ports []int) {
	e.t.Helper()
	e.eventually(what, func() error {
		for _, p := range ports {
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), time.Second)
			if err == nil {
				c.Close()
				return fmt.Errorf("port %d still answers", p)
			}
		}
		return nil
	})
}

// TestPodLifecycle runs a two-container pod over HTTP on the built-in
// cluster: it turns stable and healthy (the sidecar reached the server on
// localhost), scales 1→3→1 (the extra instances' processes end), a
// failing container restarts its instance (the same instance, its tasks
// in a new incarnation), and delete ends every process.
func TestPodLifecycle(t *testing.T) {
	t.Parallel()
	server := testenv.TestServer(t)
	trigger := filepath.Join(t.TempDir(), "fail")
	e := start(t)

	r := e.want(e.do("POST", "/v2/pods", webPod(server, trigger, 1)), 201)
	dep := r.header.Get("Marathon-Deployment-Id")
	if dep == "" || r.header.Get("Location") != "/e2e/web" {
		t.Errorf("headers %v", r.header)
	}
	// The start is a deployment until the instance is stable: listed,
	// and a change without force is refused.
	var deps []struct {
		ID           string
		AffectedPods []string
	}
	e.wantJSON(e.do("GET", "/v2/deployments", ""), 200, &deps)
	if len(deps) != 1 || deps[0].ID != dep || len(deps[0].AffectedPods) != 1 || deps[0].AffectedPods[0] != "/e2e/web" {
		t.Errorf("deployments %+v, want %s of /e2e/web", deps, dep)
	}
	e.want(e.do("PUT", "/v2/pods/e2e/web", webPod(server, trigger, 1)), 409)
	e.stablePod("/e2e/web", 1)
	e.eventually("the start deployment ends", func() error {
		e.wantJSON(e.do("GET", "/v2/deployments", ""), 200, &deps)
		if len(deps) != 0 {
			return fmt.Errorf("deployments %+v", deps)
		}
		return nil
	})
	var group struct{ Pods []struct{ ID string } }
	e.wantJSON(e.do("GET", "/v2/groups/e2e", ""), 200, &group)
	if len(group.Pods) != 1 || group.Pods[0].ID != "/e2e/web" {
		t.Errorf("the group's pods %+v, want /e2e/web", group.Pods)
	}
	// Bad input: Marathon's 422 and 400.
	e.want(e.do("POST", "/v2/pods", `{"id":"/e2e/bad","containers":[]}`), 422)
	e.want(e.do("PUT", "/v2/pods/e2e/other", webPod(server, trigger, 1)), 400)

	e.want(e.do("PUT", "/v2/pods/e2e/web", webPod(server, trigger, 3)), 200)
	three := e.stablePod("/e2e/web", 3)
	e.want(e.do("PUT", "/v2/pods/e2e/web", webPod(server, trigger, 1)), 200)
	one := e.stablePod("/e2e/web", 1)
	kept := map[int]bool{}
	for _, p := range serverPorts(one) {
		kept[p] = true
	}
	var gone []int
	for _, p := range serverPorts(three) {
		if !kept[p] {
			gone = append(gone, p)
		}
	}
	if len(gone) != 4 {
		t.Errorf("ports of the removed instances %v, want 4 (of %v, kept %v)", gone, serverPorts(three), serverPorts(one))
	}
	e.closed("the removed instances' processes end", gone)

	// A failing container fails its instance, which is launched again.
	inst := one.Instances[0]
	if err := os.WriteFile(trigger, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.eventuallyWithin(2*waitFor, "the instance relaunched", func() error {
		st, _ := e.podStatusOf("/e2e/web")
		if len(st.Instances) != 1 || st.Instances[0].ID != inst.ID {
			return fmt.Errorf("instances %+v, want %s", st.Instances, inst.ID)
		}
		for i, c := range st.Instances[0].Containers {
			if c.ContainerID == inst.Containers[i].ContainerID {
				return fmt.Errorf("container %s still %s", c.Name, c.ContainerID)
			}
		}
		return nil
	})
	again := e.stablePod("/e2e/web", 1)
	if _, err := os.Stat(trigger); !os.IsNotExist(err) {
		t.Errorf("the sidecar did not fail: trigger %v", err)
	}

	e.want(e.do("DELETE", "/v2/pods/e2e/web", ""), 202)
	e.closed("the deleted pod's processes end", serverPorts(again))
	e.want(e.do("GET", "/v2/pods/e2e/web::status", ""), 404)
}

// TestPodRollingUpgrade changes a running pod of two instances: its
// instances are replaced in a rolling way that keeps both capacity and
// health (the default upgrade strategy, minimumHealthCapacity 1): no
// ::status read during the upgrade shows fewer than two stable
// instances, and the old instances' processes end.
func TestPodRollingUpgrade(t *testing.T) {
	t.Parallel()
	server := testenv.TestServer(t)
	trigger := filepath.Join(t.TempDir(), "fail")
	e := start(t)
	def := webPod(server, trigger, 2)
	e.want(e.do("POST", "/v2/pods", def), 201)
	before := e.stablePod("/e2e/web", 2)

	changed := strings.Replace(def, `"networks"`, `"environment":{"RELEASE":"2"},"networks"`, 1)
	r := e.want(e.do("PUT", "/v2/pods/e2e/web", changed), 200)
	var pod struct{ Version string }
	if err := json.Unmarshal(r.body, &pod); err != nil || pod.Version == "" {
		t.Fatalf("PUT answer %s: %v", r.body, err)
	}
	e.eventuallyWithin(2*waitFor, "every instance on the new version", func() error {
		st, code := e.podStatusOf("/e2e/web")
		stable, fresh := 0, 0
		for _, in := range st.Instances {
			if in.Status == "STABLE" {
				stable++
				if strings.HasSuffix(in.SpecReference, "::versions/"+pod.Version) {
					fresh++
				}
			}
		}
		if stable < 2 {
			t.Fatalf("capacity lost during the upgrade: %d stable instances: %+v", stable, st.Instances)
		}
		if code != 200 || fresh != 2 || len(st.Instances) != 2 {
			return fmt.Errorf("%d instances, %d stable on the new version", len(st.Instances), fresh)
		}
		return nil
	})
	e.closed("the old instances' processes end", serverPorts(before))
}
