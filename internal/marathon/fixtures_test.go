package marathon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fieldPaths lists the paths of every non-null value in a JSON document;
// array elements are written "[]", so the set describes the shape.
func fieldPaths(t testing.TB, data []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	out := map[string]bool{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case nil:
			return
		case map[string]any:
			for k, e := range x {
				if e == nil {
					continue
				}
				out[p+"/"+k] = true
				walk(p+"/"+k, e)
			}
		case []any:
			for _, e := range x {
				walk(p+"[]", e)
			}
		}
	}
	walk("", v)
	return out
}

// missingPaths returns the paths of want absent from got, except those
// under one of the allowed prefixes.
func missingPaths(t testing.TB, want, got []byte, allowed []string) []string {
	t.Helper()
	w, g := fieldPaths(t, want), fieldPaths(t, got)
	var missing []string
next:
	for p := range w {
		if g[p] {
			continue
		}
		for _, a := range allowed {
			if p == a || strings.HasPrefix(p, a+"/") || strings.HasPrefix(p, a+"[]") {
				continue next
			}
		}
		missing = append(missing, p)
	}
	sort.Strings(missing)
	return missing
}

func normalizeApps(t *testing.T, apps []App) {
	t.Helper()
	for i := range apps {
		n, _ := Normalize(apps[i], NormalizeOptions{}) // conflicts are checked elsewhere
		apps[i] = n
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExamplesRoundTrip decodes every example payload of Marathon into our
// types, normalises the apps as the server does and re-encodes them: every
// field of the example must be in our output, except the deliberate
// differences listed per file. Null values in the examples count as absent.
func TestExamplesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		file string
		// roundTrip decodes data and returns our encoding of it.
		roundTrip func(t *testing.T, data []byte) []byte
		// differences are paths Stadion deliberately does not emit.
		differences []string
	}{
		{
			name: "app", file: "app.json",
			roundTrip: func(t *testing.T, data []byte) []byte {
				a, err := DecodeApp(data)
				if err != nil {
					t.Fatal(err)
				}
				normalizeApps(t, []App{a})
				n, _ := Normalize(a, NormalizeOptions{})
				return encode(t, n)
			},
			// ipAddress is deprecated input: migrated into networks and
			// container.portMappings, never emitted (Marathon 1.5+ too).
			// The example is a BRIDGE app that also gives portDefinitions:
			// Marathon's normalisation drops them for container networking
			// and so do we (its ports are in container.portMappings).
			differences: []string{"/ipAddress", "/portDefinitions[]"},
		},
		{name: "app with check", file: "app-check-http-example.json", roundTrip: roundTripApp},
		{name: "app patch", file: "app_patch.json", roundTrip: roundTripApp},
		{name: "apps create", file: "apps_create.json", roundTrip: roundTripApps},
		{name: "apps patch", file: "apps_patch.json", roundTrip: roundTripApps},
		{
			name: "app list", file: "app_list.json",
			roundTrip: func(t *testing.T, data []byte) []byte {
				l, err := Decode[AppList](data)
				if err != nil {
					t.Fatal(err)
				}
				for i := range l.Apps {
					l.Apps[i].App, _ = Normalize(l.Apps[i].App, NormalizeOptions{})
				}
				return encode(t, l)
			},
			// uris is deprecated input, emitted as fetch.
			differences: []string{"/apps[]/uris"},
		},
		{name: "task", file: "app_task.json", roundTrip: roundTripOf[TaskBody]},
		{name: "app tasks", file: "app_tasks.json", roundTrip: roundTripOf[TaskList]},
		{name: "tasks", file: "tasks.json", roundTrip: roundTripOf[TaskList]},
		{name: "deployments", file: "deployments.json", roundTrip: roundTripOf[[]Deployment]},
		{name: "deployment steps", file: "deployment_steps.json", roundTrip: roundTripOf[struct {
			Steps []Step `json:"steps"`
		}]},
		{name: "deployment result", file: "deployments_result.json", roundTrip: roundTripOf[DeploymentResult]},
		{name: "info", file: "info.json", roundTrip: roundTripOf[Info]},
		{
			name: "group", file: "group.json",
			roundTrip: func(t *testing.T, data []byte) []byte {
				g, err := DecodeGroup(data)
				if err != nil {
					t.Fatal(err)
				}
				n, err := NormalizeGroup(g, NormalizeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return encode(t, n)
			},
			differences: []string{"/groups[]/apps[]/uris", "/groups[]/groups[]/apps[]/uris"},
		},
		{
			name: "queue", file: "queue.json",
			roundTrip: func(t *testing.T, data []byte) []byte {
				q, err := Decode[Queue](data)
				if err != nil {
					t.Fatal(err)
				}
				for i := range q.Queue {
					if q.Queue[i].App != nil {
						app, _ := Normalize(*q.Queue[i].App, NormalizeOptions{})
						q.Queue[i].App = &app
					}
				}
				return encode(t, q)
			},
			differences: []string{"/queue[]/app/uris"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := readExample(t, tc.file)
			got := tc.roundTrip(t, data)
			if missing := missingPaths(t, data, got, tc.differences); len(missing) > 0 {
				t.Errorf("fields of %s missing from our encoding:\n%s\nour encoding: %s", tc.file, strings.Join(missing, "\n"), got)
			}
		})
	}
}

func roundTripApp(t *testing.T, data []byte) []byte {
	a, err := DecodeApp(data)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Normalize(a, NormalizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return encode(t, n)
}

func roundTripApps(t *testing.T, data []byte) []byte {
	apps, err := DecodeApps(data)
	if err != nil {
		t.Fatal(err)
	}
	normalizeApps(t, apps)
	return encode(t, apps)
}

func roundTripOf[T any](t *testing.T, data []byte) []byte {
	v, err := Decode[T](data)
	if err != nil {
		t.Fatal(err)
	}
	return encode(t, v)
}

// TestExampleEvents decodes the events of events.txt and re-encodes them as
// server-sent events with the same fields.
func TestExampleEvents(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(readExample(t, "events.txt")))
	var name string
	n := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := []byte(strings.TrimPrefix(line, "data: "))
			e, err := DecodeEvent(data)
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Type()) != name {
				t.Errorf("type = %q, want %q", e.Type(), name)
			}
			sse, err := EncodeSSE(e)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(sse), "\n")
			if lines[0] != "event: "+name || !strings.HasPrefix(lines[1], "data: ") || !strings.HasSuffix(string(sse), "\n\n") {
				t.Errorf("bad SSE framing: %q", sse)
			}
			if missing := missingPaths(t, data, []byte(strings.TrimPrefix(lines[1], "data: ")), nil); len(missing) > 0 {
				t.Errorf("%s: fields missing: %v", name, missing)
			}
			n++
		}
	}
	if n != 3 {
		t.Errorf("decoded %d events, want 3", n)
	}
}

// TestRenderLegacyMirrors checks the legacy fields MarshalJSON adds for old
// clients, and that our output decodes back to the same app.
func TestRenderLegacyMirrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]any
	}{
		{
			name: "host command app",
			body: `{"id":"/a","cmd":"x","portDefinitions":[{"port":10001},{"port":10002}]}`,
			want: map[string]any{"ports": []any{10001.0, 10002.0}},
		},
		{
			name: "bridge docker app",
			body: `{"id":"/a","container":{"docker":{"image":"i"},"portMappings":[{"containerPort":80,"servicePort":10005}]},"networks":[{"mode":"container/bridge"}]}`,
			want: map[string]any{
				"ports":                         []any{10005.0},
				"container.docker.network":      "BRIDGE",
				"container.docker.portMappings": []any{map[string]any{"containerPort": 80.0, "hostPort": 0.0, "servicePort": 10005.0, "protocol": "tcp"}},
			},
		},
		{
			name: "host docker app",
			body: `{"id":"/a","container":{"docker":{"image":"i"}}}`,
			want: map[string]any{"ports": []any{0.0}, "container.docker.network": "HOST", "container.docker.portMappings": nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := mustApp(t, tc.body)
			out := encode(t, app)
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				var got any = m
				for _, k := range strings.Split(path, ".") {
					got, _ = got.(map[string]any)[k]
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			}
			back := mustApp(t, string(out))
			if diff := cmp.Diff(app, back, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decode(encode(app)) differs (-want +got):\n%s", diff)
			}
		})
	}
}
