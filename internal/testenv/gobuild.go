package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GoBuild builds the Go main package pkg (a directory relative to the
// repository root, such as "wrapper/testdata/testchild", or absolute) as a
// static binary in t.TempDir() and returns its path: for the helper programs
// a test runs as processes or as tasks.
func GoBuild(t testing.TB, pkg string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := pkg
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(dir))
	build := exec.Command("go", "build", "-o", out, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
