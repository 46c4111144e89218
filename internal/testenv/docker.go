package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// DockerHost is the Docker Engine address tests use: $DOCKER_HOST, or the
// default unix socket.
func DockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// RequireDocker skips the test when no Docker engine answers (fails it under
// CI=true).
func RequireDocker(t testing.TB) {
	t.Helper()
	docker := Binary(t, "docker")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		unavailable(t, "docker engine not reachable: %v: %s", err, out)
	}
}

// WebServerImage builds the tiny HTTP server of testdata/webserver (it
// answers "ok <hostname>" on $LISTEN_PORT, else $PORT, else 8080) as an
// image FROM scratch.
func WebServerImage(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return ScratchImage(t, filepath.Join(root, "internal", "testenv", "testdata", "webserver"))
}

// ScratchImage builds the Go main package in pkgDir (absolute, or relative to
// the test's package directory, such as "testdata/webserver") as a static binary
// and packs it into an image FROM scratch with the binary as its ENTRYPOINT.
// There is no registry here, so images are always built locally. The image is
// removed when the test ends. It returns the image's tag.
func ScratchImage(t testing.TB, pkgDir string) string {
	t.Helper()
	RequireDocker(t)
	dir := t.TempDir()
	pkg := filepath.Clean(pkgDir)
	if !filepath.IsAbs(pkg) {
		pkg = "./" + pkg
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "app"), pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkgDir, err, out)
	}
	dockerfile := "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	var suffix [4]byte
	rand.Read(suffix[:])
	tag := "stadion-test/" + filepath.Base(pkgDir) + ":" + hex.EncodeToString(suffix[:])
	docker := Binary(t, "docker")
	if out, err := exec.Command(docker, "build", "-q", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(docker, "rmi", "-f", tag).CombinedOutput(); err != nil {
			t.Logf("remove image %s: %v: %s", tag, err, out)
		}
	})
	return tag
}
