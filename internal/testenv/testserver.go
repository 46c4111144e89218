package testenv

import (
	"path/filepath"
	"testing"
)

// TestServer builds examples/test-server, the pipeline's example service
// (its environment on /, a switchable /healthcheck), and returns its path.
func TestServer(t testing.TB) string {
	t.Helper()
	return GoBuild(t, filepath.Join("examples", "test-server"))
}
