package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/stadionhq/stadion/internal/mesos"
)

// frameworkIDFile is the copy of the framework id beside stadion.db.
const frameworkIDFile = "framework-id"

// frameworkIDCopy keeps a copy of the framework id in a file beside the
// bbolt state, written after the store saved it. The store stays the
// only source the scheduler reads; the copy makes a data dir whose
// stadion.db was lost tell so (boltstore refuses a missing file beside
// other files, even against a remote Mesos, where the data dir holds
// nothing else), and it tells the operator the id the old tasks run
// under.
type frameworkIDCopy struct {
	mesos.FrameworkIDStore
	path string
	log  *slog.Logger
}

// SaveFrameworkID saves id in the store, then in the copy when it differs.
// A copy that cannot be written is logged, not an error: the store has it.
func (f frameworkIDCopy) SaveFrameworkID(ctx context.Context, id string) error {
	if err := f.FrameworkIDStore.SaveFrameworkID(ctx, id); err != nil {
		return err
	}
	if b, err := os.ReadFile(f.path); err == nil && string(b) == id+"\n" {
		return nil
	}
	if err := writeFileAtomic(f.path, []byte(id+"\n")); err != nil {
		f.log.Warn("cannot write the framework id copy", "path", f.path, "error", err)
	}
	return nil
}

// writeFileAtomic replaces path with data: a temporary file, fsynced,
// renamed over it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
