package wrapper

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "cache.json")
	if _, err := loadCache(path, "app"); !errors.Is(err, ErrNoCache) {
		t.Fatalf("load before save: %v, want ErrNoCache", err)
	}
	snap := snapshot(42, pair("DB_PASSWORD", "s3cret", 40), pair("bin", "\x01\xff", 41))
	if err := saveCache(path, "app", snap); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600: it holds the values", fi.Mode().Perm())
	}
	got, err := loadCache(path, "app")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snap, got); diff != "" {
		t.Errorf("cached snapshot (-want +got):\n%s", diff)
	}
	if _, err := loadCache(path, "other"); !errors.Is(err, ErrNoCache) {
		t.Errorf("load for another prefix: %v, want ErrNoCache", err)
	}

	// A second save replaces the first atomically and leaves no
	// temporary file behind.
	if err := saveCache(path, "app", snapshot(43)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("cache directory holds %d entries, want 1", len(entries))
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCache(path, "app"); err == nil || errors.Is(err, ErrNoCache) {
		t.Errorf("load of a corrupt cache: %v, want a decode error", err)
	}
}

func TestDefaultCacheFile(t *testing.T) {
	got := DefaultCacheFile("/team/my-app/")
	if !strings.HasPrefix(got, os.TempDir()) || filepath.Base(got) != "team_my_app.json" {
		t.Errorf("DefaultCacheFile = %q", got)
	}
}
