package marathon

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora from the examples of marathontest")

// checkAPIError fails unless err is an *Error with a 400 or 422 status.
func checkAPIError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	if e.Status != 400 && e.Status != 422 {
		t.Fatalf("status %d for %v", e.Status, err)
	}
	if _, jerr := json.Marshal(e); jerr != nil {
		t.Fatal(jerr)
	}
}

// checkStable asserts that a valid normalised app survives
// encode → decode → normalise → validate → encode unchanged.
func checkStable(t *testing.T, app App) {
	t.Helper()
	out, err := json.Marshal(app)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, err := ParseApp(out, NormalizeOptions{})
	if err != nil {
		t.Fatalf("our own output is rejected: %v\n%s", err, out)
	}
	out2, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, out2) {
		t.Fatalf("encoding not stable:\n%s\n%s", out, out2)
	}
	if IsUpgrade(app, back) {
		t.Fatalf("round trip changed the app:\n%s\n%s", out, out2)
	}
}

// FuzzDecodeApp feeds arbitrary bodies to the POST /v2/apps pipeline:
// decode, normalise, validate and encode never panic, errors are API
// errors, and valid apps encode stably.
func FuzzDecodeApp(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := DecodeApp(data)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		n, nerr := Normalize(app, NormalizeOptions{})
		if _, err := json.Marshal(n); err != nil {
			t.Fatalf("encode: %v", err)
		}
		if nerr != nil {
			checkAPIError(t, nerr)
			return
		}
		if err := Validate(n); err != nil {
			checkAPIError(t, err)
			return
		}
		checkStable(t, n)
	})
}

// fuzzBase is the app the patches of FuzzValidateApp apply to.
const fuzzBase = `{"id":"/fuzz/base","cmd":"sleep 100","instances":2,"portDefinitions":[{"port":0,"name":"http"}],
	"healthChecks":[{"protocol":"HTTP","path":"/"}],"labels":{"a":"b"},"env":{"A":"1"}}`

// FuzzValidateApp applies arbitrary partial updates (PATCH bodies) to a
// valid app and admits the result: merge, normalise, validate and encode
// never panic, and valid results encode stably.
func FuzzValidateApp(f *testing.F) {
	f.Fuzz(func(t *testing.T, patch []byte) {
		base, err := ParseApp([]byte(fuzzBase), NormalizeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		merged, err := MergePatch(base, patch)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		n, err := Admit(merged, NormalizeOptions{Base: "/fuzz"})
		if _, jerr := json.Marshal(n); jerr != nil {
			t.Fatalf("encode: %v", jerr)
		}
		if err != nil {
			checkAPIError(t, err)
			return
		}
		IsUpgrade(base, n)
		checkStable(t, n)
	})
}

// FuzzDecodeGroup feeds arbitrary bodies to the POST /v2/groups pipeline:
// decode (with its bounds on nesting and group count) and admission never
// panic, errors are API errors, and admitted trees keep within the limits.
func FuzzDecodeGroup(f *testing.F) {
	f.Add([]byte(`{"id":"/shop","apps":[{"id":"web","cmd":"x","instances":2}],"groups":[{"id":"back","apps":[{"id":"db","cmd":"y"}]}]}`))
	f.Add([]byte(`{"id":"a","groups":[{"id":"b","groups":[{"id":"c","groups":[{"id":"d"}]}]}]}`))
	f.Add([]byte(`{"id":"/x","groups":[{"id":"/y"}],"dependencies":["../z"]}`))
	f.Add([]byte(`{"groups":[{},{}],"scaleBy":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := DecodeGroup(data)
		if err != nil {
			checkAPIError(t, err)
			return
		}
		n, err := AdmitGroup(g, NormalizeOptions{Base: "/fuzz", MaxInstances: 10})
		if _, jerr := json.Marshal(n); jerr != nil {
			t.Fatalf("encode: %v", jerr)
		}
		if err != nil {
			checkAPIError(t, err)
			return
		}
		if countGroups(n, MaxGroupsPerRequest) {
			t.Fatalf("admitted more than %d groups", MaxGroupsPerRequest)
		}
		for _, a := range n.AllApps() {
			if a.Instances > 10 || len(a.ID) > MaxIDLength || depthOver(a.ID, MaxIDDepth) {
				t.Fatalf("admitted app %s with %d instances", a.ID, a.Instances)
			}
		}
	})
}

// seedBodies returns the app bodies of the examples plus hand-written
// legacy and invalid ones.
func seedBodies(t *testing.T) [][]byte {
	var seeds [][]byte
	add := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, f := range []string{"app.json", "app-check-http-example.json", "app_patch.json"} {
		seeds = append(seeds, readExample(t, f))
	}
	for _, f := range []string{"apps_create.json", "apps_patch.json"} {
		var apps []json.RawMessage
		if err := json.Unmarshal(readExample(t, f), &apps); err != nil {
			t.Fatal(err)
		}
		for _, a := range apps {
			seeds = append(seeds, a)
		}
	}
	var list struct{ Apps []json.RawMessage }
	if err := json.Unmarshal(readExample(t, "app_list.json"), &list); err != nil {
		t.Fatal(err)
	}
	for _, a := range list.Apps {
		add(a)
	}
	var queue struct {
		Queue []struct{ App json.RawMessage }
	}
	if err := json.Unmarshal(readExample(t, "queue.json"), &queue); err != nil {
		t.Fatal(err)
	}
	for _, q := range queue.Queue {
		add(q.App)
	}
	var group struct {
		Groups []struct {
			Apps   []json.RawMessage
			Groups []struct{ Apps []json.RawMessage }
		}
	}
	if err := json.Unmarshal(readExample(t, "group.json"), &group); err != nil {
		t.Fatal(err)
	}
	for _, g := range group.Groups {
		for _, a := range g.Apps {
			add(a)
		}
		for _, s := range g.Groups {
			for _, a := range s.Apps {
				add(a)
			}
		}
	}
	for _, s := range []string{
		`{"id":"/legacy","cmd":"x","ports":[0,10001],"uris":["http://h/a.tgz"]}`,
		`{"id":"/bridge","container":{"type":"DOCKER","docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80}]}}}`,
		`{"id":"/user","container":{"docker":{"image":"nginx","network":"USER"}},"ipAddress":{"networkName":"dev"}}`,
		`{"id":"/mesos","cmd":"x","ipAddress":{"discovery":{"ports":[{"number":80,"name":"http","protocol":"tcp"}]}}}`,
		`{"id":"/c","cmd":"x","constraints":[["hostname","MAX_PER","2"],["rack","LIKE","r[0-9"]],"unreachableStrategy":"disabled"}`,
		`{"id":"/h","cmd":"x","healthChecks":[{"protocol":"COMMAND"},{"protocol":"MESOS_HTTP","port":8080}],"readinessChecks":[{}]}`,
		`{"id":"/a/versions","cmd":"x","cpus":0,"upgradeStrategy":{"minimumHealthCapacity":2}}`,
		`{"id":123,"env":{"A":{"secret":1}},"instances":1.5}`,
		`{"id":"../rel","args":["a"],"env":{"S":{"secret":"s"}},"secrets":{"s":{"source":"/x"}}}`,
		`[1,2]`,
		`{"id":"/x"`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// TestWriteFuzzSeeds rewrites the seed corpora with -update-seeds and
// otherwise checks that every seed is present.
func TestWriteFuzzSeeds(t *testing.T) {
	for _, target := range []string{"FuzzDecodeApp", "FuzzValidateApp"} {
		dir := filepath.Join("testdata", "fuzz", target)
		for _, s := range seedBodies(t) {
			sum := sha256.Sum256(s)
			name := filepath.Join(dir, fmt.Sprintf("seed-%x", sum[:8]))
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
			if *updateSeeds {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(name)
			if err != nil || string(got) != content {
				t.Errorf("seed %s missing or stale; run go test -run TestWriteFuzzSeeds -update-seeds", name)
			}
		}
	}
}
