package deployer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

// numbered returns lines "l1".."ln", one per line.
func numbered(n int, change map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if c, ok := change[i]; ok {
			if c != "" {
				b.WriteString(c + "\n")
			}
			continue
		}
		fmt.Fprintf(&b, "l%d\n", i)
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "equal", a: "x\ny\n", b: "x\ny\n", want: ""},
		{name: "all new", a: "", b: "x\ny\n", want: "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{name: "all gone", a: "x\n", b: "", want: "--- a\n+++ b\n@@ -1,1 +0,0 @@\n-x\n"},
		{name: "one change with context", a: numbered(10, nil), b: numbered(10, map[int]string{5: "five"}),
			want: "--- a\n+++ b\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+five\n l6\n l7\n l8\n"},
		{name: "insert at the start", a: numbered(5, nil), b: "l0\n" + numbered(5, nil),
			want: "--- a\n+++ b\n@@ -1,3 +1,4 @@\n+l0\n l1\n l2\n l3\n"},
		{name: "close changes share a hunk", a: numbered(12, nil), b: numbered(12, map[int]string{3: "three", 8: ""}),
			want: "--- a\n+++ b\n@@ -1,11 +1,10 @@\n l1\n l2\n-l3\n+three\n l4\n l5\n l6\n l7\n-l8\n l9\n l10\n l11\n"},
		{name: "far changes get two hunks", a: numbered(20, nil), b: numbered(20, map[int]string{2: "two", 18: "eighteen"}),
			want: "--- a\n+++ b\n@@ -1,5 +1,5 @@\n l1\n-l2\n+two\n l3\n l4\n l5\n@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+eighteen\n l19\n l20\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lineDiff("a", "b", tc.a, tc.b); got != tc.want {
				t.Errorf("diff\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestPlanCompare(t *testing.T) {
	// The app as the scheduler runs it: normalised with its role, a
	// service port assigned and the legacy "ports" mirror of the API.
	running := marathon.NewApp("/app/staging/web")
	running.Cmd, running.Instances = "sleep 600", 2
	running, _ = marathon.Normalize(running, marathon.NormalizeOptions{DefaultRole: "web"})
	running.PortDefinitions[0].Port = 10004
	running.Ports = []int{10004}
	running.Version = ver(1)
	tests := []struct {
		name    string
		tmpl    string
		running *marathon.App
		change  Change
		diff    []string // lines the diff has
	}{
		{name: "create", tmpl: `{"id": "/app/staging/web", "cmd": "sleep 600", "instances": 2}`, change: ChangeCreate,
			diff: []string{"--- (none)", "+++ service.json (rendered)", `+  "id": "/app/staging/web",`, `+  "instances": 2,`}},
		{name: "same: service port and role kept by the scheduler", running: &running,
			tmpl: `{"id": "/app/staging/web", "cmd": "sleep 600", "instances": 2}`, change: ChangeNone},
		{name: "scale", running: &running, tmpl: `{"id": "/app/staging/web", "cmd": "sleep 600", "instances": 3}`, change: ChangeScale,
			diff: []string{"--- /app/staging/web version " + ver(1).String() + " (running)", `-  "instances": 2,`, `+  "instances": 3,`}},
		{name: "restart", running: &running, tmpl: `{"id": "/app/staging/web", "cmd": "sleep 601", "instances": 2, "role": "*"}`, change: ChangeRestart,
			diff: []string{`-  "cmd": "sleep 600",`, `+  "cmd": "sleep 601",`, `-  "role": "web"`, `+  "role": "*"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def, err := PrepareText("service.json", []byte(tc.tmpl), staging)
			if err != nil {
				t.Fatal(err)
			}
			p := Plan{}
			if tc.running != nil {
				p.Running = tc.running.Version
			}
			p, err = p.compare(def, tc.running)
			if err != nil {
				t.Fatal(err)
			}
			if p.Change != tc.change {
				t.Errorf("change %s, want %s", p.Change, tc.change)
			}
			if len(tc.diff) == 0 && p.Diff != "" {
				t.Errorf("diff:\n%s\nwant none", p.Diff)
			}
			got := strings.Split(p.Diff, "\n")
			for _, l := range tc.diff {
				if !contains(got, l) {
					t.Errorf("diff lacks the line %q:\n%s", l, p.Diff)
				}
			}
		})
	}
}

func contains(lines []string, l string) bool {
	for _, x := range lines {
		if x == l {
			return true
		}
	}
	return false
}
