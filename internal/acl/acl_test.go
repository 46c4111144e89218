package acl

import (
	"os"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

const teams = `
principals:
  - principal: alice
    permissions:
      - allowed: [view, create, update, delete, kill]
        on: /team-a
  - principal: viewer
    permissions:
      - allowed: view
        on: /
  - principal: admin
    permissions:
      - allowed: "*"
        on: /
  - principal: "*"
    permissions:
      - allowed: [view, view_secrets]
        on: /public/
`

func TestAllows(t *testing.T) {
	a, err := Parse([]byte(teams))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		acl       *ACL
		principal string
		action    Action
		id        marathon.PathID
		want      bool
	}{
		{name: "own prefix", acl: a, principal: "alice", action: Update, id: "/team-a", want: true},
		{name: "below own prefix", acl: a, principal: "alice", action: Delete, id: "/team-a/db/primary", want: true},
		{name: "prefix matches whole segments", acl: a, principal: "alice", action: View, id: "/team-ab", want: false},
		{name: "other team", acl: a, principal: "alice", action: View, id: "/team-b/web", want: false},
		{name: "action not granted", acl: a, principal: "alice", action: ViewSecrets, id: "/team-a/web", want: false},
		{name: "group above the prefix", acl: a, principal: "alice", action: View, id: "/", want: false},
		{name: "non-canonical id", acl: a, principal: "alice", action: Kill, id: "/team-a//web/", want: true},
		{name: "root prefix covers all", acl: a, principal: "viewer", action: View, id: "/x/y", want: true},
		{name: "view does not show secrets", acl: a, principal: "viewer", action: ViewSecrets, id: "/x", want: false},
		{name: "view does not write", acl: a, principal: "viewer", action: Create, id: "/x", want: false},
		{name: "star action", acl: a, principal: "admin", action: ViewSecrets, id: "/team-b", want: true},
		{name: "star principal applies to named ones", acl: a, principal: "alice", action: ViewSecrets, id: "/public/docs", want: true},
		{name: "star principal applies to unnamed ones", acl: a, principal: "mallory", action: View, id: "/public", want: true},
		{name: "unnamed principal elsewhere", acl: a, principal: "mallory", action: View, id: "/team-a", want: false},
		{name: "trailing slash prefix is the group", acl: a, principal: "mallory", action: View, id: "/publicity", want: false},
		{name: "nil acl denies", acl: nil, principal: "admin", action: View, id: "/", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.acl.Allows(tc.principal, tc.action, tc.id); got != tc.want {
				t.Errorf("Allows(%q, %s, %s) = %v, want %v", tc.principal, tc.action, tc.id, got, tc.want)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	a, err := Parse([]byte(`{
  "principals": [
    {"principal": "alice", "permissions": [{"allowed": ["view", "kill"], "on": "/team-a"}]}
  ]
}`))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Allows("alice", Kill, "/team-a/web") || a.Allows("alice", Update, "/team-a/web") {
		t.Errorf("JSON file: alice's permissions not as written")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string
	}{
		{name: "not yaml", file: "principals: [", want: "acl file: "},
		{name: "empty", file: "", want: `acl file: empty file: want a mapping with "principals"`},
		{name: "top level list", file: "- a", want: `acl file line 1 column 1: want a mapping with "principals"`},
		{name: "unknown top field", file: "principals: []\nusers: []", want: `acl file line 2 column 1 users: unknown field (want "principals")`},
		{name: "principals not a list", file: "principals: {}", want: "acl file line 1 column 13 principals: want a list of principals"},
		{name: "missing principal", file: "principals:\n  - permissions: []", want: `acl file line 2 column 5 principals[0]: missing "principal"`},
		{name: "empty principal", file: "principals:\n  - principal: ''\n    permissions: []", want: "acl file line 2 column 16 principals[0].principal: empty principal"},
		{name: "missing permissions", file: "principals:\n  - principal: a", want: `acl file line 2 column 5 principals[0]: missing "permissions"`},
		{name: "unknown action", file: "principals:\n  - principal: a\n    permissions:\n      - {allowed: [view, veiw], on: /a}",
			want: `acl file line 4 column 26 principals[0].permissions[0].allowed: unknown action "veiw" (want view, view_secrets, create, update, delete, kill or *)`},
		{name: "no action", file: "principals:\n  - principal: a\n    permissions:\n      - {allowed: [], on: /a}",
			want: "acl file line 4 column 19 principals[0].permissions[0].allowed: no action"},
		{name: "missing on", file: "principals:\n  - principal: a\n    permissions:\n      - allowed: view",
			want: `acl file line 4 column 9 principals[0].permissions[0]: missing "on"`},
		{name: "relative on", file: "principals:\n  - principal: a\n    permissions:\n      - {allowed: view, on: team-a}",
			want: `acl file line 4 column 29 principals[0].permissions[0].on: "team-a" is not an absolute app or group id (want e.g. /team-a, or / for everything)`},
		{name: "dots in on", file: "principals:\n  - principal: a\n    permissions:\n      - {allowed: view, on: /a/../b}",
			want: `acl file line 4 column 29 principals[0].permissions[0].on: "/a/../b" has a . or .. segment`},
		{name: "on is a list", file: "principals:\n  - principal: a\n    permissions:\n      - {allowed: view, on: [/a]}",
			want: "acl file line 4 column 29 principals[0].permissions[0].on: want a string"},
		{name: "unknown permission field", file: "principals:\n  - principal: a\n    permissions:\n      - {allowed: view, on: /a, deny: true}",
			want: `acl file line 4 column 33 principals[0].permissions[0].deny: unknown field (want "allowed", "on")`},
		{name: "principal twice", file: "principals:\n  - principal: a\n    permissions: []\n  - principal: a\n    permissions: []",
			want: `acl file line 4 column 5 principals[1].principal: principal "a" is also named at line 2: give each principal one entry`},
		{name: "field twice", file: "principals:\n  - principal: a\n    principal: b\n    permissions: []",
			want: "acl file line 3 column 5 principals[0].principal: field given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want && !(tc.name == "not yaml" && len(got) > len(tc.want) && got[:len(tc.want)] == tc.want) {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestHolderReload(t *testing.T) {
	path := t.TempDir() + "/acl.yaml"
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("principals:\n  - principal: alice\n    permissions: [{allowed: view, on: /a}]\n")
	first, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(first)

	write("principals:\n  - principal: alice\n    permissions: [{allowed: view, on: /b}]\n")
	if _, err := h.Reload(path); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if !h.Load().Allows("alice", View, "/b") || h.Load().Allows("alice", View, "/a") {
		t.Fatalf("after reload alice should view /b only")
	}

	write("principals:\n  - principal: alice\n    permissions: [{allowed: veiw, on: /c}]\n")
	_, err = h.Reload(path)
	want := path + " line 3 column 29 principals[0].permissions[0].allowed: unknown action"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Reload of a bad file: err = %v, want one containing %q", err, want)
	}
	if !h.Load().Allows("alice", View, "/b") {
		t.Errorf("a bad file replaced the ACL; the last good one should stay")
	}
	if _, err := h.Reload(path + ".missing"); err == nil || !h.Load().Allows("alice", View, "/b") {
		t.Errorf("a missing file: err = %v and the last good ACL should stay", err)
	}
}
