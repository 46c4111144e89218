//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/internal/loadgen"
)

const (
	production = "/app/production/test-server"
	staging    = "/app/staging/test-server"
	extHost    = "test-server.stadion.test"
)

// TestPipeline runs the article's pipeline: a build's definitions from
// stadion deploy gen, deployed to staging and production, routed by
// HAProxy from Consul, scaled, upgraded and reloaded under load, and
// restarted once by a KV change.
func TestPipeline(t *testing.T) {
	r := startRig(t)
	var rep Report
	rep.Date = time.Now().UTC().Format(time.RFC3339)
	defer func() {
		if path := os.Getenv("STADION_E2E_REPORT"); path != "" && !t.Failed() {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Error(err)
			}
		}
	}()

	version := r.gen("1")
	t.Run("gen writes the branch and the version definitions", func(t *testing.T) {
		r := r.in(t)
		for _, name := range []string{"service-master.json", "service-" + version + ".json"} {
			b, err := os.ReadFile(filepath.Join(r.defs, name))
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			if !strings.Contains(s, `"image": "test-server:`+version+`"`) || strings.Contains(s, "$tag") {
				t.Errorf("%s: $tag not rendered as %s:\n%s", name, version, s)
			}
			if !strings.Contains(s, "$environment") || !strings.Contains(s, "$instances") {
				t.Errorf("%s: $environment and $instances must stay for deploy time:\n%s", name, s)
			}
		}
	})

	if !t.Run("deploy to staging and production", func(t *testing.T) {
		r := r.in(t)
		out := r.deploy("service-master.json", "staging", 0)
		t.Logf("stadion deploy staging:\n%s", out)
		out = r.deploy("service-"+version+".json", "production", 2)
		t.Logf("stadion deploy production:\n%s", out)
		r.waitApp(staging, "1 healthy", time.Minute, func(a app) bool { return a.TasksHealthy == 1 })
		r.waitApp(production, "2 healthy", time.Minute, func(a app) bool { return a.TasksHealthy == 2 })
	}) {
		t.FailNow()
	}

	t.Run("each frontend reaches its environment", func(t *testing.T) {
		r := r.in(t)
		cases := []struct {
			name   string
			port   int
			host   string
			appID  string
			status int
		}{
			{"internal production :3000", 3000, "", production, http.StatusOK},
			{"internal staging :13000", 13000, "", staging, http.StatusOK},
			{"external production host", 80, extHost, production, http.StatusOK},
			{"external staging host", 80, "staging-" + extHost, staging, http.StatusOK},
			{"external host in capitals with a port", 80, "Test-Server.Stadion.Test:80", production, http.StatusOK},
			{"unknown host", 80, "other.stadion.test", "", http.StatusNotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var status int
				var hdr http.Header
				var env map[string]string
				var err error
				ok := poll(30*time.Second, func() bool {
					status, hdr, env, err = r.through(c.port, c.host, "/")
					return err == nil && status == c.status && env["MARATHON_APP_ID"] == c.appID
				})
				if !ok {
					t.Fatalf("status %d app %q (%v), want %d %q", status, env["MARATHON_APP_ID"], err, c.status, c.appID)
				}
				t.Logf("GET http://%s:%d/ Host %q: %d, %s=%s, %s=%s, %s=%s", r.gateway, c.port, c.host, status,
					"MARATHON_APP_ID", env["MARATHON_APP_ID"], "MESOS_TASK_ID", env["MESOS_TASK_ID"], "PORT0", env["PORT0"])
				if c.port == 80 {
					t.Logf("  Strict-Transport-Security: %s, X-Frame-Options: %s, X-Content-Type-Options: %s",
						hdr.Get("Strict-Transport-Security"), hdr.Get("X-Frame-Options"), hdr.Get("X-Content-Type-Options"))
					for h, want := range map[string]string{
						"Strict-Transport-Security": "max-age=31536000", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
					} {
						if got := hdr.Get(h); got != want {
							t.Errorf("%s through :80: %q, want %q", h, got, want)
						}
					}
				}
			})
		}
	})

	t.Run("scaling 2 to 5 to 2 shows in HAProxy within 2s of healthy", func(t *testing.T) {
		r := r.in(t)
		old := r.taskIDs(production)
		w := watchRoutes(r, 3000)
		defer w.stop()
		r.send(http.MethodPut, "/v2/apps"+production, map[string]any{"instances": 5})
		a := r.waitApp(production, "5 healthy", 2*time.Minute, func(a app) bool { return a.TasksHealthy == 5 })
		rep.HealthyToRoutable = append(rep.HealthyToRoutable, routable(t, w, a.Tasks, old)...)

		r.send(http.MethodPut, "/v2/apps"+production, map[string]any{"instances": 2})
		a = r.waitApp(production, "2 running", time.Minute, func(a app) bool { return len(a.Tasks) == 2 })
		keep := map[string]bool{}
		for _, k := range a.Tasks {
			keep[k.ID] = true
		}
		if !poll(10*time.Second, func() bool { return w.onlySince(time.Now().Add(-time.Second), keep) }) {
			t.Errorf("HAProxy still routes to killed tasks: %v", w.recent(time.Second))
		}
		if f := w.failures(); len(f) > 0 {
			t.Errorf("requests through :3000 failed while scaling: %v", f)
		}
	})

	t.Run("rolling upgrade of 4 instances under 200 req/s drops nothing", func(t *testing.T) {
		r := r.in(t)
		r.send(http.MethodPut, "/v2/apps"+production, map[string]any{"instances": 4})
		r.waitApp(production, "4 healthy", 2*time.Minute, func(a app) bool { return a.TasksHealthy == 4 })
		next := r.gen("2")
		old := r.taskIDs(production)
		w := watchRoutes(r, 3000)
		defer w.stop()
		load := startLoad(t, r, 3000, "")
		defer load.Stop()
		start := time.Now()
		out := r.deploy("service-"+next+".json", "production", 4)
		t.Logf("stadion deploy production 4 (%v):\n%s", time.Since(start).Round(time.Millisecond), out)
		a := r.waitApp(production, "4 healthy of "+next, time.Minute, func(a app) bool {
			return a.Labels["version"] == next && allAt(a, 4)
		})
		rep.HealthyToRoutable = append(rep.HealthyToRoutable, routable(t, w, a.Tasks, old)...)
		rep.RollingUpgrade = noneFailed(t, load, "the rolling upgrade")
	})

	t.Run("10 HAProxy reloads under 200 req/s drop nothing", func(t *testing.T) {
		r := r.in(t)
		load := startLoad(t, r, 80, extHost)
		defer load.Stop()
		// Requests finish before, between and after the reloads: a
		// second's worth first and last, 40 (200ms) after each reload.
		awaitRequests(t, load, 200)
		for range 10 {
			r.haproxy.Reload(t)
			awaitRequests(t, load, 40)
		}
		awaitRequests(t, load, 200)
		rep.Reloads = noneFailed(t, load, "10 reloads")
	})

	t.Run("a KV change restarts the app once and shows through HAProxy", func(t *testing.T) {
		r := r.in(t)
		before := r.versions(production)
		value := "hello-" + runID
		old := r.taskIDs(production)
		w := watchRoutes(r, 3000)
		defer w.stop()
		load := startLoad(t, r, 3000, "")
		defer load.Stop()
		if _, err := r.cc.KV().Put(&api.KVPair{Key: "app/production/test-server/GREETING", Value: []byte(value)}, nil); err != nil {
			t.Fatal(err)
		}
		// The restart is a new version of the app; all four new tasks see
		// the value, and they are what HAProxy routes to. The app, its
		// tasks and its deployments are read together (the versions list
		// may show the new version before the app does).
		was := r.app(production).Version
		a := r.waitApp(production, "restarted", 2*time.Minute, func(a app) bool {
			return a.Version != was && allAt(a, 4)
		})
		rep.HealthyToRoutable = append(rep.HealthyToRoutable, routable(t, w, a.Tasks, old)...)
		rep.KVRestart = noneFailed(t, load, "the KV restart")
		for range 12 {
			status, _, env, err := r.through(3000, "", "/")
			if err != nil || status != http.StatusOK || env["GREETING"] != value {
				t.Fatalf("through :3000: %d %v GREETING=%q, want %q", status, err, env["GREETING"], value)
			}
		}
		// Every new instance started its wrapper with the changed KV; none
		// of them, nor the old ones, may ask for another restart: watch the
		// versions past the wrappers' longest quiescence (--wait 2s:10s).
		if poll(12*time.Second, func() bool { return len(r.versions(production)) > len(before)+1 }) {
			t.Errorf("versions %d before one KV change, then %d: want exactly one restart", len(before), len(r.versions(production)))
		}
		if a := r.app(production); len(a.Deployments) != 0 {
			t.Errorf("deployments still running after the restart: %+v", a.Deployments)
		}
	})
}

// allAt reports whether the app runs n tasks, all healthy and of its
// current version.
func allAt(a app, n int) bool {
	if a.TasksHealthy != n || len(a.Tasks) != n {
		return false
	}
	for _, k := range a.Tasks {
		if k.Version != a.Version {
			return false
		}
	}
	return true
}

// versions lists the app's versions.
func (r *rig) versions(id string) []string {
	var v struct {
		Versions []string `json:"versions"`
	}
	r.getJSON("/v2/apps"+id+"/versions", &v)
	return v.Versions
}

// startLoad runs 200 GET / a second through HAProxy; an answer counts as a
// success only when it comes from a test-server (200 and its environment).
func startLoad(t *testing.T, r *rig, port int, host string) *loadgen.Run {
	run, err := loadgen.Start(loadgen.Config{
		URL:  fmt.Sprintf("http://%s:%d/", r.gateway, port),
		Host: host,
		Rate: 200,
		Check: func(status int, body []byte) error {
			if status != http.StatusOK {
				return fmt.Errorf("status %d: %.80s", status, body)
			}
			if parseEnv(body)["MESOS_TASK_ID"] == "" {
				return fmt.Errorf("not a test-server answer: %.80s", body)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// noneFailed stops the load and requires that it sent requests and none
// failed; what names the step in the log.
func noneFailed(t *testing.T, load *loadgen.Run, what string) loadgen.Result {
	t.Helper()
	res := load.Stop()
	t.Logf("load during %s: %s", what, res)
	if res.Failures > 0 || res.Requests == 0 {
		t.Errorf("load during %s: %s: %v", what, res, res.Errors)
	}
	return res
}

// awaitRequests waits until the load has finished n more requests.
func awaitRequests(t *testing.T, load *loadgen.Run, n int) {
	t.Helper()
	from := load.Snapshot().Requests
	if !poll(20*time.Second, func() bool { return load.Snapshot().Requests >= from+n }) {
		t.Fatalf("load finished %d requests in 20s, want %d more than %d", load.Snapshot().Requests, n, from)
	}
}

// taskIDs is the set of the app's current tasks.
func (r *rig) taskIDs(id string) map[string]bool {
	ids := map[string]bool{}
	for _, k := range r.app(id).Tasks {
		ids[k.ID] = true
	}
	return ids
}

// routable waits until each task not in old has answered through the
// watch and returns, per task, the seconds from the scheduler's first
// successful health check to that first answer; it fails the test when
// one takes 2 s or more. A negative figure is a task HAProxy routed to
// before the scheduler's own check passed (Consul's ran first).
func routable(t *testing.T, w *routeWatch, tasks []task, old map[string]bool) []float64 {
	t.Helper()
	var lags []float64
	for _, k := range tasks {
		if old[k.ID] {
			continue
		}
		healthy := k.healthySince()
		if healthy.IsZero() {
			t.Fatalf("task %s: no first success in its healthCheckResults", k.ID)
		}
		seen, ok := w.await(k.ID, healthy.Add(10*time.Second))
		if !ok {
			t.Fatalf("task %s (healthy at %v) never answered through HAProxy", k.ID, healthy)
		}
		lag := seen.Sub(healthy).Seconds()
		lags = append(lags, lag)
		t.Logf("task %s healthy %s, routable %s: %.3fs", k.ID, healthy.Format(time.StampMilli), seen.Format(time.StampMilli), lag)
		if lag >= 2 {
			t.Errorf("task %s routable %.3fs after it turned healthy, want < 2s", k.ID, lag)
		}
	}
	return lags
}

// routeWatch sends GET / through HAProxy every 10ms and notes when each
// task first answered and which tasks answered lately.
type routeWatch struct {
	mu     sync.Mutex
	first  map[string]time.Time
	last   map[string]time.Time
	failed []string
	quit   chan struct{}
	done   chan struct{}
}

func watchRoutes(r *rig, port int) *routeWatch {
	w := &routeWatch{first: map[string]time.Time{}, last: map[string]time.Time{}, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
			status, _, env, err := r.through(port, "", "/")
			now := time.Now()
			w.mu.Lock()
			if id := env["MESOS_TASK_ID"]; err == nil && status == http.StatusOK && id != "" {
				if _, ok := w.first[id]; !ok {
					w.first[id] = now
				}
				w.last[id] = now
			} else if len(w.failed) < 10 {
				w.failed = append(w.failed, fmt.Sprintf("%s: %d %v", now.Format(time.StampMilli), status, err))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *routeWatch) stop() { close(w.quit); <-w.done }

// await returns when task first answered, waiting until deadline.
func (w *routeWatch) await(task string, deadline time.Time) (time.Time, bool) {
	var at time.Time
	ok := poll(time.Until(deadline), func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		var seen bool
		at, seen = w.first[task]
		return seen
	})
	return at, ok
}

// onlySince reports whether every task that answered since t is in keep,
// and some did.
func (w *routeWatch) onlySince(t time.Time, keep map[string]bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for id, at := range w.last {
		if at.After(t) {
			if !keep[id] {
				return false
			}
			n++
		}
	}
	return n > 0
}

func (w *routeWatch) recent(d time.Duration) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	since := time.Now().Add(-d)
	var ids []string
	for id, at := range w.last {
		if at.After(since) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (w *routeWatch) failures() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.failed)
}
