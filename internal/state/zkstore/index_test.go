package zkstore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestIndexMatchesRebuild checks that the index a store keeps up to date
// as it writes (small and large Changes, chunks, version trimming,
// deletes) is the one a rebuild from ZooKeeper makes.
func TestIndexMatchesRebuild(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	cfg := testConfig(t, z, newRoot())
	cfg.MaxRequestBytes = 2 << 10
	s := openConfig(t, cfg)
	big := testApp("/big", ts(1))
	big.Cmd = string(make([]byte, 3000))
	changes := []state.Change{
		{FrameworkID: "fw-1", PutApps: []marathon.App{testApp("/web", ts(1)), big}},
		{PutInstances: testInstances("/web", ts(1), "a", 20), PutDeployments: []state.Deployment{{ID: "d1", Version: ts(1)}}},
		{PutApps: []marathon.App{testApp("/web", ts(2)), testApp("/web", ts(3)), testApp("/web", ts(4)), testApp("/web", ts(5))}},
		{PutGroups: []state.Group{{ID: "/", Version: ts(1), Apps: map[marathon.PathID]marathon.Timestamp{"/web": ts(5)}}}},
		{DeleteApps: []marathon.PathID{"/big"}, DeleteInstances: []string{testInstances("/web", ts(1), "a", 1)[0].ID}, DeleteDeployments: []string{"d1"}},
		{DeleteApps: []marathon.PathID{"/web"}, PutApps: []marathon.App{testApp("/web", ts(9))}},
	}
	for i, c := range changes {
		if err := s.Apply(t.Context(), c); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
		s.mu.Lock()
		built, err := s.rebuild(t.Context())
		kept := s.idx
		s.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		opts := []cmp.Option{cmp.AllowUnexported(index{}, history{}, commitState{}), cmpopts.EquateEmpty()}
		if diff := cmp.Diff(built, kept, opts...); diff != "" {
			t.Errorf("after Apply %d, index (-rebuilt +kept):\n%s", i, diff)
		}
	}
}
