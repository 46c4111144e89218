package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEmptyCmdInGroupsAndBulk: the cmd check covers every decoder of apps,
// with the paths of the body.
func TestEmptyCmdInGroupsAndBulk(t *testing.T) {
	tests := []struct {
		name   string
		decode func([]byte) error
		body   string
		path   string
	}{
		{name: "update", decode: func(b []byte) error { _, err := DecodeAppUpdate(b); return err }, body: `{"cmd":""}`, path: "/cmd"},
		{name: "bulk", decode: func(b []byte) error { _, err := DecodeApps(b); return err }, body: `[{"id":"/a","cmd":"x"},{"id":"/b","cmd":""}]`, path: "(1)/cmd"},
		{name: "group", decode: func(b []byte) error { _, err := DecodeGroup(b); return err },
			body: `{"id":"/g","groups":[{"id":"s","apps":[{"id":"a","cmd":""}]}]}`, path: "/groups(0)/apps(0)/cmd"},
		{name: "group update", decode: func(b []byte) error { _, err := DecodeGroupUpdate(b); return err },
			body: `{"apps":[{"id":"a","cmd":""}]}`, path: "/apps(0)/cmd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string][]string{tc.path: {codeMinLength}}
			if diff := cmp.Diff(want, details(t, tc.decode([]byte(tc.body)))); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}
