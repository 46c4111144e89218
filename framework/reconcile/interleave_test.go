package reconcile

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

// TestInterleave checks that interleave takes one instance of each app in
// turn, apps in id order, with lists of different lengths.
func TestInterleave(t *testing.T) {
	tests := []struct {
		name  string
		byApp map[marathon.PathID][]string
		want  []string
	}{
		{name: "none", byApp: nil, want: []string{}},
		{name: "one app", byApp: map[marathon.PathID][]string{"/a": {"a1", "a2"}}, want: []string{"a1", "a2"}},
		{
			name:  "uneven lengths, empty list",
			byApp: map[marathon.PathID][]string{"/c": {"c1", "c2", "c3"}, "/a": {"a1"}, "/b": {"b1", "b2"}, "/d": nil},
			want:  []string{"a1", "b1", "c1", "b2", "c2", "c3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := interleave(tc.byApp); !slices.Equal(got, tc.want) {
				t.Errorf("interleave = %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkInterleave interleaves 1,000 apps of 100 waiting instances, the
// plan of a pass at the start of the 100,000-task launch (bench/README.md).
func BenchmarkInterleave(b *testing.B) {
	byApp := map[marathon.PathID][]string{}
	for a := range 1000 {
		id := marathon.PathID(fmt.Sprintf("/bench/app-%03d", a))
		for i := range 100 {
			byApp[id] = append(byApp[id], fmt.Sprintf("%s.instance-%d", id, i))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		interleave(byApp)
	}
}
