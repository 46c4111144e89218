package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// puttingStore counts the writes of each instance.
type puttingStore struct {
	state.Store
	mu   sync.Mutex
	puts map[string]int
}

func (p *puttingStore) Apply(ctx context.Context, c state.Change) error {
	p.mu.Lock()
	for _, inst := range c.PutInstances {
		p.puts[inst.ID]++
	}
	p.mu.Unlock()
	return p.Store.Apply(ctx, c)
}

func (p *puttingStore) putsOf(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.puts[id]
}

// TestRepeatedHealthResultsNotStored checks that a health check whose
// result repeats is shown but not written again: the instance is stored
// when it turns healthy, and the later successes (one a second) move its
// lastSuccess in the View without a write (issue 17).
func TestRepeatedHealthResultsNotStored(t *testing.T) {
	h := start(t)
	h.stop()
	store := &puttingStore{Store: h.store, puts: map[string]int{}}
	h.store = store
	det, err := mesos.StaticDetector(h.cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.runWith(log, det, func(c *scheduler.Config) {
		c.HealthProbe = func(context.Context, marathon.HealthCheck, string, int) (bool, string) { return true, "" }
	})

	app := marathon.NewApp("/checked")
	app.Cmd, app.Instances, app.Cpus, app.Mem = "sleep 120", 1, 0.1, 16
	app.PortDefinitions = []marathon.PortDefinition{{Port: 0, Name: "http"}}
	hc := marathon.NewHealthCheck(marathon.ProtocolHTTP)
	hc.IntervalSeconds, hc.GracePeriodSeconds = 1, 10
	app.HealthChecks = []marathon.HealthCheck{hc}
	admitted, err := marathon.Admit(app, marathon.NormalizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.deploy(admitted)

	var healthy state.Instance
	h.wait("the task healthy", func(v *scheduler.View) error {
		inst, err := only(v, "/checked")
		if err != nil {
			return err
		}
		if inst.Healthy == nil || !*inst.Healthy || len(v.Deployments) != 0 {
			return fmt.Errorf("healthy %v, %d deployments", inst.Healthy, len(v.Deployments))
		}
		healthy = inst
		return nil
	})
	puts := store.putsOf(healthy.ID)
	h.wait("two more successes shown", func(v *scheduler.View) error {
		inst, err := only(v, "/checked")
		if err != nil {
			return err
		}
		if inst.Health[0].LastSuccess.Sub(healthy.Health[0].LastSuccess) < 1500*time.Millisecond {
			return errors.New("lastSuccess has not moved twice")
		}
		return nil
	})
	if got := store.putsOf(healthy.ID); got != puts {
		t.Errorf("instance written %d times after it turned healthy; want no write for repeated results", got-puts)
	}
	snap, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Instances) != 1 || snap.Instances[0].Healthy == nil || !*snap.Instances[0].Healthy {
		t.Errorf("stored instances %+v; want the one, healthy", snap.Instances)
	}
}
