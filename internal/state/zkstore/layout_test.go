package zkstore

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/testenv"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{name: "app id", id: "/prod/web", want: "%2Fprod%2Fweb"},
		{name: "root group", id: "/", want: "%2F"},
		{name: "instance id", id: "prod_web.instance-0a1b", want: "prod_web.instance-0a1b"},
		{name: "task id", id: "web.instance-1._app.2", want: "web.instance-1._app.2"},
		{name: "percent", id: "a%2Fb", want: "a%252Fb"},
		{name: "tilde", id: "a~1", want: "a%7E1"},
		{name: "space and colon", id: "a b:c", want: "a%20b%3Ac"},
		{name: "utf-8", id: "é", want: "%C3%A9"},
		{name: "dot", id: ".", want: "%2E"},
		{name: "dot dot", id: "..", want: "%2E%2E"},
		{name: "three dots stay", id: "...", want: "..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := escape(tc.id)
			if got != tc.want {
				t.Fatalf("escape(%q) = %q, want %q", tc.id, got, tc.want)
			}
			if strings.ContainsAny(got, "/"+chunkSep) {
				t.Errorf("escape(%q) = %q holds a separator", tc.id, got)
			}
			back, err := url.PathUnescape(got)
			if err != nil || back != tc.id {
				t.Errorf("url.PathUnescape(%q) = %q, %v; want %q", got, back, err, tc.id)
			}
		})
	}
}

func TestBucket(t *testing.T) {
	// The bucket is part of the layout: it must not change between builds.
	tests := []struct {
		id   string
		want string
	}{
		{id: "", want: "c5"},  // FNV-1a offset basis 0x811c9dc5
		{id: "a", want: "2c"}, // 0xe40c292c
		{id: "/", want: "5e"},
		{id: "/prod/web", want: "02"},
		{id: "prod_web.instance-1", want: "28"},
	}
	for _, tc := range tests {
		if got := bucket(tc.id); got != tc.want || len(got) != 2 {
			t.Errorf("bucket(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
	seen := map[string]bool{}
	for i := range 10000 {
		seen[bucket(strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26))] = true
	}
	if len(seen) != bucketCount {
		t.Errorf("10,000 ids fell into %d buckets, want all %d", len(seen), bucketCount)
	}
}

func TestSplitChunkName(t *testing.T) {
	tests := []struct {
		name  string
		base  string
		k     int
		chunk bool
	}{
		{name: "web.instance-1", base: "web.instance-1"},
		{name: "web.instance-1~1", base: "web.instance-1", k: 1, chunk: true},
		{name: "2026-03-01T12:00:00.005Z~12", base: "2026-03-01T12:00:00.005Z", k: 12, chunk: true},
		{name: "x~0", base: "x~0"},
		{name: "x~y", base: "x~y"},
	}
	for _, tc := range tests {
		base, k, chunk := splitChunkName(tc.name)
		if base != tc.base || k != tc.k || chunk != tc.chunk {
			t.Errorf("splitChunkName(%q) = %q, %d, %v; want %q, %d, %v", tc.name, base, k, chunk, tc.base, tc.k, tc.chunk)
		}
	}
}

func TestShape(t *testing.T) {
	tests := []struct {
		path string
		want pathShape
	}{
		{path: "instances/3f/web.instance-1", want: shapeRecord},
		{path: "deployments/00/d1", want: shapeRecord},
		{path: "apps/3f/%2Fweb", want: shapeContainer},
		{path: "groups/5e/%2F", want: shapeContainer},
		{path: "apps/3f/%2Fweb/2026-03-01T12:00:00.005Z", want: shapeVersion},
		{path: "framework-id", want: shapeOther},
		{path: "instances/3f", want: shapeOther},
		{path: "txn/abc/0", want: shapeOther},
	}
	for _, tc := range tests {
		if got := shape(tc.path); got != tc.want {
			t.Errorf("shape(%q) = %d, want %d", tc.path, got, tc.want)
		}
	}
}

// TestLayout reads what a store wrote with a plain client: the documented
// nodes and their contents.
func TestLayout(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	s := openConfig(t, testConfig(t, z, "/prod/stadion"))
	v := ts(1)
	web := testApp("/prod/web", v)
	api := marathon.NewPod("/prod/api")
	api.Version = v
	api.Containers = []marathon.PodContainer{{Name: "c"}}
	in := testInstance("/prod/web", v, "1")
	err := s.Apply(t.Context(), state.Change{
		FrameworkID:    "fw-1",
		PutApps:        []marathon.App{web},
		PutPods:        []marathon.Pod{api},
		PutGroups:      []state.Group{{ID: "/", Version: v, Apps: map[marathon.PathID]marathon.Timestamp{"/prod/web": v}}},
		PutInstances:   []state.Instance{in},
		PutDeployments: []state.Deployment{{ID: "d1", Version: v}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := walk(t, rawConn(t, z.Servers()), "/prod/stadion")
	appJSON, err := marathon.CanonicalJSON(web)
	if err != nil {
		t.Fatal(err)
	}
	podJSON, err := json.Marshal(api)
	if err != nil {
		t.Fatal(err)
	}
	const st = "/prod/stadion/state"
	version := "2026-03-01T12:00:01.000Z"
	// Nodes and their exactly known contents; "json" marks a JSON record.
	want := map[string]string{
		"/prod/stadion":                          "",
		st:                                       "",
		st + "/schema":                           "1",
		st + "/commit":                           "json",
		st + "/framework-id":                     "fw-1",
		st + "/txn":                              "",
		st + "/apps":                             "",
		st + "/apps/02":                          "",
		st + "/apps/02/%2Fprod%2Fweb":            version,
		st + "/apps/02/%2Fprod%2Fweb/" + version: string(appJSON),
		st + "/pods":                             "",
		st + "/pods/" + bucket("/prod/api"):      "",
		st + "/pods/" + bucket("/prod/api") + "/%2Fprod%2Fapi":            version,
		st + "/pods/" + bucket("/prod/api") + "/%2Fprod%2Fapi/" + version: string(podJSON),
		st + "/groups":                                   "",
		st + "/groups/5e":                                "",
		st + "/groups/5e/%2F":                            version,
		st + "/groups/5e/%2F/" + version:                 `{"id":"/","version":"` + version + `","apps":{"/prod/web":"` + version + `"}}`,
		st + "/instances":                                "",
		st + "/instances/" + bucket(in.ID):               "",
		st + "/instances/" + bucket(in.ID) + "/" + in.ID: "json",
		st + "/deployments":                              "",
		st + "/deployments/" + bucket("d1"):              "",
		st + "/deployments/" + bucket("d1") + "/d1":      "json",
	}
	gotText := map[string]string{}
	for p, d := range got {
		gotText[p] = string(d)
		if want[p] == "json" {
			if !json.Valid(d) {
				t.Errorf("%s is not JSON: %s", p, d)
			}
			gotText[p] = "json"
		}
	}
	if diff := cmp.Diff(want, gotText); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
}
