package state

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTrimVersions(t *testing.T) {
	tests := []struct {
		name     string
		versions []string
		current  string
		limit    int
		want     []string
	}{
		{name: "under limit", versions: []string{"a", "b"}, current: "b", limit: 3},
		{name: "at limit", versions: []string{"a", "b", "c"}, current: "c", limit: 3},
		{name: "oldest dropped", versions: []string{"a", "b", "c", "d"}, current: "d", limit: 2, want: []string{"a", "b"}},
		{name: "current kept when oldest", versions: []string{"a", "b", "c", "d"}, current: "a", limit: 2, want: []string{"b", "c"}},
		{name: "limit below one keeps current", versions: []string{"a", "b"}, current: "a", limit: 0, want: []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := TrimVersions(tc.versions, tc.current, tc.limit)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TrimVersions (-want +got):\n%s", diff)
			}
		})
	}
}
