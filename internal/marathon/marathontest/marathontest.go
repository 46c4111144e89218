// Package marathontest holds Marathon's own example payloads and helpers to
// compare Stadion's JSON with their shapes, for the tests of every package
// that speaks the /v2 API.
package marathontest

import (
	"embed"
	"encoding/json"
	"path"
	"testing"
)

// examples are Marathon's example payloads (Apache License 2.0, see
// examples/README.md).
//
//go:embed examples/*.json examples/*.txt
var examples embed.FS

// Example returns one of Marathon's example payloads by file name, such as
// "app.json".
func Example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := examples.ReadFile(path.Join("examples", name))
	if err != nil {
		t.Fatalf("marathon example %s: %v", name, err)
	}
	return b
}

// Names lists the example files.
func Names() []string {
	entries, _ := examples.ReadDir("examples")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Paths lists the key paths of a JSON document, such as ".tasks[].id".
func Paths(t testing.TB, data []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	out := map[string]bool{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				out[p+"."+k] = true
				walk(p+"."+k, c)
			}
		case []any:
			for _, c := range x {
				walk(p+"[]", c)
			}
		}
	}
	walk("", v)
	return out
}
