package boltstore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// benchInstances returns count running instances spread over 100 apps.
func benchInstances(count, incarnation int) []state.Instance {
	v := marathon.NewTimestamp(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	healthy := true
	out := make([]state.Instance, 0, count)
	for i := range count {
		app := marathon.PathID(fmt.Sprintf("/bench/app-%03d", i%100))
		id := fmt.Sprintf("%s.instance-%08d", app.TaskPrefix(), i)
		out = append(out, state.Instance{
			ID:          id,
			AppID:       app,
			AppVersion:  v,
			Goal:        state.GoalRunning,
			Incarnation: incarnation,
			TaskID:      fmt.Sprintf("%s._app.%d", id, incarnation),
			State:       mesos.TaskRunning,
			AgentID:     fmt.Sprintf("agent-%02d", i%50),
			Hostname:    fmt.Sprintf("host-%02d", i%50),
			HostPorts:   []uint32{uint32(31000 + i%1000)},
			IPAddresses: []string{"10.0.0.1"},
			Healthy:     &healthy,
			Attributes:  map[string]string{"rack": "r1"},
			StagedAt:    v.Time,
			StartedAt:   v.Time,
		})
	}
	return out
}

// BenchmarkApply writes one Change of 100 instance updates per op: a
// scheduler pass during a launch burst. Each op is one fsynced transaction.
func BenchmarkApply(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "stadion.db"))
	n := 0
	for b.Loop() {
		n++
		if err := s.Apply(b.Context(), state.Change{PutInstances: benchInstances(100, n)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad loads a store of 10,000 instances: a new leader's start.
func BenchmarkLoad(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "stadion.db"))
	if err := s.Apply(b.Context(), state.Change{PutInstances: benchInstances(10000, 1)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		snap, err := s.Load(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Instances) != 10000 {
			b.Fatalf("loaded %d instances", len(snap.Instances))
		}
	}
}
