package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// viewBackend serves one fixed View, as the scheduler does between two
// publishes.
type viewBackend struct {
	*fakeBackend
	view *scheduler.View
}

func (b viewBackend) View() *scheduler.View { return b.view }

// benchView builds the View of bench/cmd/launchbench: apps × instances
// running tasks of `sleep 3600` without host ports.
func benchView(b testing.TB, apps, instances int) *scheduler.View {
	v := &scheduler.View{Seq: 1, At: t0, FrameworkID: "fw-1"}
	for i := range apps {
		id := marathon.PathID(fmt.Sprintf("/bench/app-%03d", i))
		app, err := marathon.ParseApp([]byte(fmt.Sprintf(
			`{"id":%q,"cmd":"sleep 3600","instances":%d,"cpus":0.01,"mem":8,"portDefinitions":[]}`, id, instances)),
			marathon.NormalizeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		app.Version = marathon.NewTimestamp(t0)
		app.VersionInfo = &marathon.VersionInfo{LastScalingAt: app.Version, LastConfigChangeAt: app.Version}
		av := &scheduler.AppView{App: app}
		for j := range instances {
			iid := fmt.Sprintf("%s.instance-%08x-0000-4000-8000-%012x", id.TaskPrefix(), j, i)
			av.Instances = append(av.Instances, state.Instance{
				ID: iid, AppID: id, AppVersion: app.Version, Goal: state.GoalRunning, Incarnation: 1,
				TaskID: iid + "._app.1", State: mesos.TaskRunning,
				AgentID:  fmt.Sprintf("5e3c1c44-9f2a-4d7e-8f1e-2b7c0f4a%04d-S%d", j%50, j%50),
				Hostname: "127.0.0.1", IPAddresses: []string{"127.0.0.1"},
				LaunchedAt: t0.Add(time.Second), StagedAt: t0.Add(time.Second), StartedAt: t0.Add(2 * time.Second),
			})
		}
		v.Apps = append(v.Apps, av)
	}
	return v
}

// discardWriter is a ResponseWriter that counts the body and drops it.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkListAppsEmbedTasks renders GET /v2/apps?embed=apps.tasks of
// 100 apps × 100 running tasks through the real handler (the request of
// bench/cmd/launchbench and DESIGN.md's p99 target).
func BenchmarkListAppsEmbedTasks(b *testing.B) {
	h := New(Config{Backend: viewBackend{newFakeBackend(), benchView(b, 100, 100)}})
	req := httptest.NewRequest("GET", "/v2/apps?embed=apps.tasks", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.n, w.status = 0, 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.SetBytes(int64(w.n))
}
