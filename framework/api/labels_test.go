package api

import "testing"

func TestLabelSelector(t *testing.T) {
	labels := map[string]string{"env": "prod", "tier": "front", "odd,key": "a(b)", "empty": ""}
	tests := []struct {
		name     string
		selector string
		want     bool
		bad      bool
	}{
		{name: "exists", selector: "env", want: true},
		{name: "exists empty value", selector: "empty", want: true},
		{name: "missing", selector: "nope", want: false},
		{name: "equal", selector: "env==prod", want: true},
		{name: "equal other", selector: "env==dev", want: false},
		{name: "equal missing", selector: "nope==x", want: false},
		{name: "not equal", selector: "env!=dev", want: true},
		{name: "not equal missing", selector: "nope!=x", want: false},
		{name: "not equal same", selector: "env!=prod", want: false},
		{name: "in", selector: "tier in (back, front)", want: true},
		{name: "in without space", selector: "tier in(front)", want: true},
		{name: "in other", selector: "tier in (back)", want: false},
		{name: "in missing", selector: "nope in (x)", want: false},
		{name: "notin", selector: "tier notin (back)", want: true},
		{name: "notin hit", selector: "tier notin (back,front)", want: false},
		{name: "notin missing", selector: "nope notin (x)", want: false},
		{name: "conjunction", selector: "env==prod, tier in (front,back), empty!=1", want: true},
		{name: "conjunction fails", selector: "env==prod,tier==back", want: false},
		{name: "escapes", selector: `odd\,key==a\(b\)`, want: true},
		{name: "spaces around", selector: " env == prod ", want: true},
		{name: "unclosed set", selector: "tier in (a", bad: true},
		{name: "garbage", selector: "a b", bad: true},
		{name: "empty term", selector: "env,,tier", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := parseLabelSelector(tc.selector)
			if tc.bad {
				if err == nil {
					t.Fatalf("parse %q: no error, got %+v", tc.selector, sel)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse %q: %v", tc.selector, err)
			}
			if got := sel.matches(labels); got != tc.want {
				t.Errorf("matches = %v, want %v (%+v)", got, tc.want, sel)
			}
		})
	}
}
