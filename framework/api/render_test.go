package api

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

func TestDefCache(t *testing.T) {
	var c defCache
	av := &scheduler.AppView{App: marathon.NewApp("/a")}
	want, err := av.App.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	d1, err := c.get(av)
	if err != nil || !bytes.Equal(d1, want) {
		t.Fatalf("get = %s, %v; want %s", d1, err, want)
	}
	if d2, _ := c.get(av); &d2[0] != &d1[0] {
		t.Error("the second get encoded again")
	}
	// Another AppView of the same app (a new View) is encoded anew.
	av2 := &scheduler.AppView{App: marathon.NewApp("/a")}
	av2.App.Instances = 7
	want2, _ := av2.App.MarshalJSON()
	if d3, _ := c.get(av2); !bytes.Equal(d3, want2) {
		t.Errorf("get(av2) = %s, want %s", d3, want2)
	}
	// Entries of collected AppViews go away as the cache grows.
	for i := range 2000 {
		c.get(&scheduler.AppView{App: marathon.NewApp(marathon.PathID(fmt.Sprintf("/x%d", i)))})
		if i%100 == 0 {
			runtime.GC()
		}
	}
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	if n > 1000 {
		t.Errorf("%d cached definitions after 2000 AppViews were dropped", n)
	}
	if d4, _ := c.get(av); &d4[0] != &d1[0] {
		t.Error("a live AppView lost its definition")
	}
	runtime.KeepAlive(av)
	runtime.KeepAlive(av2)
}

// TestDefCacheCounts checks that an AppView's task counts are counted once
// and kept while the AppView lives: a View is immutable.
func TestDefCacheCounts(t *testing.T) {
	var c defCache
	running := state.Instance{ID: "a.instance-1", AppID: "/a", Goal: state.GoalRunning, TaskID: "a.instance-1._app.1", State: mesos.TaskRunning}
	staging := state.Instance{ID: "a.instance-2", AppID: "/a", Goal: state.GoalRunning, TaskID: "a.instance-2._app.1", State: mesos.TaskStaging}
	av := &scheduler.AppView{App: marathon.NewApp("/a"), Instances: []state.Instance{running, staging}}
	want := marathon.TaskCounts{Running: 1, Staged: 1}
	if got := c.counts(av); got != want {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
	c.mu.Lock()
	cached := c.entry(av).counts
	c.mu.Unlock()
	if cached == nil || *cached != want {
		t.Fatalf("cached counts %v, want %+v", cached, want)
	}
	// Another AppView (a new View with one more running task) is counted
	// anew.
	av2 := &scheduler.AppView{App: av.App, Instances: []state.Instance{running, running}}
	if got := c.counts(av2); got != (marathon.TaskCounts{Running: 2}) {
		t.Errorf("counts(av2) = %+v, want 2 running", got)
	}
	runtime.KeepAlive(av)
}

// TestRenderConcurrent renders the golden requests from many goroutines
// (with -race: the shared definition cache and buffer pools).
func TestRenderConcurrent(t *testing.T) {
	h := newHarness(t)
	seedRender(h)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 10 {
				gl := renderGoldens[(g+i)%len(renderGoldens)]
				want, err := os.ReadFile(filepath.Join("testdata", "golden", gl.name+".json"))
				if err != nil {
					t.Error(err)
					return
				}
				req, _ := http.NewRequest("GET", h.srv.URL+gl.path, nil)
				res, err := h.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var b bytes.Buffer
				b.ReadFrom(res.Body)
				res.Body.Close()
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("GET %s: body differs from the golden", gl.path)
				}
			}
		})
	}
	wg.Wait()
}
