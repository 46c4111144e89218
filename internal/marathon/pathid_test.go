package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPathIDResolve(t *testing.T) {
	tests := []struct {
		name string
		id   PathID
		base PathID
		want PathID
	}{
		{name: "absolute", id: "/a/b", base: "/x", want: "/a/b"},
		{name: "relative", id: "b", base: "/a", want: "/a/b"},
		{name: "dot", id: "./b", base: "/a", want: "/a/b"},
		{name: "dotdot", id: "../c", base: "/a/b", want: "/a/c"},
		{name: "dotdot above root stays at root", id: "../../../c", base: "/a", want: "/c"},
		{name: "trailing slash", id: "/a/b/", base: "/", want: "/a/b"},
		{name: "double slash", id: "/a//b", base: "/", want: "/a/b"},
		{name: "relative to root", id: "web", base: "", want: "/web"},
		{name: "root", id: "/", base: "/a", want: "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.Resolve(tc.base); got != tc.want {
				t.Errorf("%q.Resolve(%q) = %q, want %q", tc.id, tc.base, got, tc.want)
			}
		})
	}
}

func TestPathIDParts(t *testing.T) {
	tests := []struct {
		name       string
		id         PathID
		parent     PathID
		prefix     string
		childOfFoo bool
	}{
		{name: "nested", id: "/foo/bar", parent: "/foo", prefix: "foo_bar", childOfFoo: true},
		{name: "top", id: "/foo", parent: "/", prefix: "foo"},
		{name: "deep", id: "/foo/a/b", parent: "/foo/a", prefix: "foo_a_b", childOfFoo: true},
		{name: "sibling prefix", id: "/foobar/x", parent: "/foobar", prefix: "foobar_x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.Parent(); got != tc.parent {
				t.Errorf("Parent = %q, want %q", got, tc.parent)
			}
			if got := tc.id.TaskPrefix(); got != tc.prefix {
				t.Errorf("TaskPrefix = %q, want %q", got, tc.prefix)
			}
			if got := PathIDFromTaskPrefix(tc.prefix); got != tc.id {
				t.Errorf("PathIDFromTaskPrefix = %q, want %q", got, tc.id)
			}
			if got := tc.id.IsChildOf("/foo"); got != tc.childOfFoo {
				t.Errorf("IsChildOf(/foo) = %v, want %v", got, tc.childOfFoo)
			}
		})
	}
}

func TestValidateAppID(t *testing.T) {
	const badSyntax = "must fully match regular expression '" + segmentPattern + "'"
	const reserved = "must not end with any of the following reserved keywords: restart, tasks, versions, ., .."
	tests := []struct {
		name string
		id   PathID
		want map[string][]string
	}{
		{name: "valid", id: "/prod/web-1"},
		{name: "dots inside segment", id: "/prod/my.app"},
		{name: "relative with dotdot", id: "../web"},
		{name: "uppercase", id: "/Web", want: map[string][]string{"/id": {badSyntax}}},
		{name: "underscore", id: "/a_b", want: map[string][]string{"/id": {badSyntax}}},
		{name: "leading hyphen", id: "/-a", want: map[string][]string{"/id": {badSyntax}}},
		{name: "trailing dot", id: "/a.", want: map[string][]string{"/id": {badSyntax}}},
		{name: "reserved restart", id: "/a/restart", want: map[string][]string{"/id": {reserved}}},
		{name: "reserved tasks", id: "/tasks", want: map[string][]string{"/id": {reserved}}},
		{name: "reserved versions", id: "/a/versions", want: map[string][]string{"/id": {reserved}}},
		{name: "reserved only at the end", id: "/tasks/a"},
		{name: "empty", id: "", want: map[string][]string{"/id": {"Path must contain at least one path element"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, details(t, ValidateAppID(tc.id))); diff != "" {
				t.Errorf("ValidateAppID(%q) details (-want +got):\n%s", tc.id, diff)
			}
		})
	}
}
