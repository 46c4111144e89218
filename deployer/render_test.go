package deployer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	vars := map[string]string{"tag": "master-abc-56", "environment": "staging", "instances": "4"}
	tests := []struct {
		name string
		tmpl string
		vars map[string]string
		want string
	}{
		{name: "every placeholder", tmpl: `{"id":"/app/$environment/x","instances":$instances,"labels":{"version":"$tag"}}`, vars: vars,
			want: `{"id":"/app/staging/x","instances":4,"labels":{"version":"master-abc-56"}}`},
		{name: "braces", tmpl: `"${environment}-${tag}"`, vars: vars, want: `"staging-master-abc-56"`},
		{name: "repeated", tmpl: `$environment,$environment`, vars: vars, want: `staging,staging`},
		{name: "whole words only", tmpl: `$tagline $environments $instances_x`, vars: vars, want: `$tagline $environments $instances_x`},
		{name: "followed by punctuation", tmpl: `$tag-$environment.$instances/`, vars: vars, want: `master-abc-56-staging.4/`},
		{name: "task variables stay", tmpl: `"cmd":"serve --port $PORT0 --host $HOST"`, vars: vars, want: `"cmd":"serve --port $PORT0 --host $HOST"`},
		{name: "unknown placeholder stays", tmpl: `$tag $environment`, vars: map[string]string{"tag": "v1"}, want: `v1 $environment`},
		{name: "lone and trailing dollars", tmpl: `$ $$ ${ ${} ${tag $`, vars: vars, want: `$ $$ ${ ${} ${tag $`},
		{name: "value with a dollar is not rendered again", tmpl: `$tag $environment`, vars: map[string]string{"tag": "$environment", "environment": "e"}, want: `$environment e`},
		{name: "empty value", tmpl: `"x$tag"`, vars: map[string]string{"tag": ""}, want: `"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Render([]byte(tc.tmpl), tc.vars)); got != tc.want {
				t.Errorf("Render(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

func TestUnrendered(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		names []string
		want  []Problem
	}{
		{name: "none", text: `{"a": "$PORT0"}`, names: Placeholders, want: nil},
		{name: "positions", text: "{\n  \"image\": \"x:$tag\",\n  \"n\": ${instances}\n}", names: []string{"tag", "instances"},
			want: []Problem{{Line: 2, Column: 15, Message: "placeholder $tag has no value"}, {Line: 3, Column: 8, Message: "placeholder $instances has no value"}}},
		{name: "only the names asked", text: `$tag $environment`, names: []string{"environment"},
			want: []Problem{{Line: 1, Column: 6, Message: "placeholder $environment has no value"}}},
		{name: "columns count characters", text: `"é€": "$tag"`, names: []string{"tag"},
			want: []Problem{{Line: 1, Column: 8, Message: "placeholder $tag has no value"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Unrendered([]byte(tc.text), tc.names)); diff != "" {
				t.Errorf("Unrendered (-want +got):\n%s", diff)
			}
		})
	}
}
