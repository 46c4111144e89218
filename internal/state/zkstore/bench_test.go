package zkstore

import (
	"fmt"
	"testing"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
	"github.com/stadionhq/stadion/internal/testenv"
)

// benchConfig is a store with the default limits, logging nothing.
func benchConfig(z *testenv.ZooKeeper) Config {
	return Config{Servers: z.Servers(), Root: newRoot()}
}

// BenchmarkApply writes one Change of N instance updates per op: a
// scheduler pass during a launch burst. 100 and 1,000 updates fit in one
// multi; 10,000 (an app scaled to 10,000 instances) go through the
// write-ahead record. It reports instances written per second.
func BenchmarkApply(b *testing.B) {
	z := testenv.StartZooKeeper(b)
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			s := openConfig(b, benchConfig(z))
			if err := s.Apply(b.Context(), state.Change{PutInstances: statetest.RunningInstances(n, 0)}); err != nil {
				b.Fatal(err)
			}
			incarnation := 0
			for b.Loop() {
				incarnation++
				if err := s.Apply(b.Context(), state.Change{PutInstances: statetest.RunningInstances(n, incarnation)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*incarnation)/b.Elapsed().Seconds(), "instances/s")
		})
	}
}

// BenchmarkLoad loads a store of 10,000 instances: a new leader's start.
func BenchmarkLoad(b *testing.B) {
	z := testenv.StartZooKeeper(b)
	s := openConfig(b, benchConfig(z))
	if err := s.Apply(b.Context(), state.Change{PutInstances: statetest.RunningInstances(10000, 1)}); err != nil {
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

// BenchmarkOpen opens a store of 10,000 instances and loads it: what a new
// leader does before it schedules.
func BenchmarkOpen(b *testing.B) {
	z := testenv.StartZooKeeper(b)
	cfg := benchConfig(z)
	s := openConfig(b, cfg)
	if err := s.Apply(b.Context(), state.Change{PutInstances: statetest.RunningInstances(10000, 1)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Load(b.Context()); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
