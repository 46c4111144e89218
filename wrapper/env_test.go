package wrapper

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnvName(t *testing.T) {
	tests := []struct {
		name string
		opts EnvOptions
		key  string
		want string
		ok   bool
	}{
		{name: "as is", key: "db/host-name", want: "db/host-name", ok: true},
		{name: "sanitize", opts: EnvOptions{Sanitize: true}, key: "db/host-name.v2", want: "db_host_name_v2", ok: true},
		{name: "upcase", opts: EnvOptions{Upcase: true}, key: "db/host", want: "DB/HOST", ok: true},
		{name: "sanitize then upcase", opts: EnvOptions{Sanitize: true, Upcase: true}, key: "db/host-name", want: "DB_HOST_NAME", ok: true},
		{name: "sanitize keeps underscores and digits", opts: EnvOptions{Sanitize: true}, key: "a_1", want: "a_1", ok: true},
		{name: "sanitize turns non-ASCII into underscores", opts: EnvOptions{Sanitize: true}, key: "größe", want: "gr__e", ok: true},
		{name: "equals sign unusable", key: "a=b", ok: false},
		{name: "equals sign sanitized", opts: EnvOptions{Sanitize: true}, key: "a=b", want: "a_b", ok: true},
		{name: "blank unusable", key: "  ", ok: false},
		{name: "NUL unusable", key: "a\x00b", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.opts.EnvName(tc.key)
			if ok != tc.ok || got != tc.want {
				t.Errorf("EnvName(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		opts    EnvOptions
		snap    Snapshot
		want    map[string]string
		skipped []string
	}{
		{
			name: "values become variables",
			snap: snapshot(5, pair("DB_HOST", "db.local", 3), pair("EMPTY", "", 4)),
			want: map[string]string{"DB_HOST": "db.local", "EMPTY": ""},
		},
		{
			name:    "unusable keys and NUL values are skipped",
			snap:    snapshot(5, pair("a=b", "x", 1), pair("bin", "a\x00b", 2), pair("ok", "y", 3)),
			want:    map[string]string{"ok": "y"},
			skipped: []string{"a=b", "bin"},
		},
		{
			name: "the later key wins a shared name",
			opts: EnvOptions{Sanitize: true, Upcase: true},
			snap: snapshot(5, pair("db-host", "first", 1), pair("db/host", "second", 2)),
			want: map[string]string{"DB_HOST": "second"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped := tc.opts.Environment(tc.snap)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.skipped, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRelativePairs(t *testing.T) {
	full := []Pair{
		pair("app/", "", 1),          // the folder itself
		pair("app/z", "1", 2),        // sorted last
		pair("app/db/", "", 3),       // a sub-folder
		pair("app/db/host", "h", 4),  // nested key
		pair("app2/x", "other", 5),   // a sibling prefix
		pair("app/a", "first", 6),    // sorted first
		pair("apple/core", "no", 7),  // another sibling
		pair("unrelated", "none", 8), // outside
	}
	want := []Pair{pair("a", "first", 6), pair("db/host", "h", 4), pair("z", "1", 2)}
	if diff := cmp.Diff(want, relativePairs("app", full)); diff != "" {
		t.Errorf("relative pairs (-want +got):\n%s", diff)
	}
}

func TestMergeEnv(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/", "PORT0=31000", "DB_HOST=from-task"}
	got := mergeEnv(base, map[string]string{"DB_HOST": "from-kv", "B": "2", "A": "1"})
	want := []string{"PATH=/bin", "HOME=/", "PORT0=31000", "A=1", "B=2", "DB_HOST=from-kv"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged environment (-want +got):\n%s", diff)
	}
}

func TestSnapshotIdentity(t *testing.T) {
	base := snapshot(10, pair("a", "1", 7), pair("b", "2", 9))
	tests := []struct {
		name        string
		other       Snapshot
		sameDigest  bool
		sameStateID bool
	}{
		{name: "identical", other: snapshot(10, pair("a", "1", 7), pair("b", "2", 9)), sameDigest: true, sameStateID: true},
		{name: "another index only", other: snapshot(12, pair("a", "1", 7), pair("b", "2", 9)), sameDigest: true, sameStateID: true},
		{name: "same value written again", other: snapshot(11, pair("a", "1", 11), pair("b", "2", 9)), sameDigest: true, sameStateID: false},
		{name: "value changed", other: snapshot(11, pair("a", "3", 11), pair("b", "2", 9)), sameDigest: false, sameStateID: false},
		{name: "key deleted", other: snapshot(11, pair("a", "1", 7)), sameDigest: false, sameStateID: false},
		{name: "fields do not run together", other: snapshot(10, pair("a1", "", 7), pair("b", "2", 9)), sameDigest: false, sameStateID: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := base.Digest() == tc.other.Digest(); got != tc.sameDigest {
				t.Errorf("same digest = %v, want %v", got, tc.sameDigest)
			}
			if got := base.StateID() == tc.other.StateID(); got != tc.sameStateID {
				t.Errorf("same state id = %v, want %v", got, tc.sameStateID)
			}
		})
	}
}
