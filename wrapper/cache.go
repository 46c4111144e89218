package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoCache reports that no cached environment exists for the prefix.
var ErrNoCache = errors.New("no cached environment")

// cacheFile is what the cache holds: the last KV snapshot read from Consul
// for a prefix. It holds the values, so it is written with mode 0600.
type cacheFile struct {
	Prefix   string   `json:"prefix"`
	Snapshot Snapshot `json:"snapshot"`
}

// DefaultCacheFile is the cache path used when none is configured: under
// the system's temporary directory, one file per prefix, so instances on
// one host share it and a relaunched task finds it.
func DefaultCacheFile(prefix string) string {
	name := invalidEnvChars.ReplaceAllString(strings.Trim(prefix, "/"), "_")
	return filepath.Join(os.TempDir(), "stadion-wrap", name+".json")
}

// saveCache writes the snapshot atomically (temporary file, then rename).
func saveCache(path, prefix string, s Snapshot) error {
	b, err := json.Marshal(cacheFile{Prefix: prefix, Snapshot: s})
	if err != nil {
		return fmt.Errorf("encode cache: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create cache directory: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create cache file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write cache file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync cache file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close cache file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("rename cache file: %w", err)
	}
	return nil
}

// loadCache reads the snapshot cached for prefix. A missing file, or one
// written for another prefix, gives ErrNoCache.
func loadCache(path, prefix string) (Snapshot, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Snapshot{}, ErrNoCache
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("read cache: %w", err)
	}
	var c cacheFile
	if err := json.Unmarshal(b, &c); err != nil {
		return Snapshot{}, fmt.Errorf("decode cache %s: %w", path, err)
	}
	if c.Prefix != prefix {
		return Snapshot{}, fmt.Errorf("%w: %s holds prefix %q", ErrNoCache, path, c.Prefix)
	}
	return c.Snapshot, nil
}
