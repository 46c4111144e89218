package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
)

// BenchmarkApply writes one Change of 100 instance updates per op: a
// scheduler pass during a launch burst. Each op is one fsynced transaction.
func BenchmarkApply(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "stadion.db"))
	n := 0
	for b.Loop() {
		n++
		if err := s.Apply(b.Context(), state.Change{PutInstances: statetest.RunningInstances(100, n)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad loads a store of 10,000 instances: a new leader's start.
func BenchmarkLoad(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "stadion.db"))
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
