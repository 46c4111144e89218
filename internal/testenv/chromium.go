package testenv

import (
	"os/exec"
	"testing"
)

// chromiumNames are the names a headless-capable Chromium goes by;
// Debian's package installs /usr/bin/chromium.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Chromium returns the path of a Chromium binary for browser tests; the
// test skips without one, or fails under CI=true.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	unavailable(t, "chromium not found in PATH")
	return ""
}
