package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

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

// storedIDTTL is how long a standby shows the framework id it read
// before reading it again (Mesos gives a new one only when it removed the
// framework); storedIDTimeout bounds a read when --zk_timeout is 0.
const (
	storedIDTTL     = 10 * time.Second
	storedIDTimeout = 2 * time.Second
)

// storedFrameworkID is the framework id a standby shows in /v2/info, read
// from the store, as Marathon's standbys do. While ZooKeeper does not
// answer it keeps the last value read.
type storedFrameworkID struct {
	read    func() (string, error)
	close   func()
	timeout time.Duration
	log     *slog.Logger

	mu sync.Mutex
	id string
	at time.Time
}

func (s *storedFrameworkID) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != "" && time.Since(s.at) < storedIDTTL {
		return s.id
	}
	type result struct {
		id  string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		id, err := s.read()
		ch <- result{id, err}
	}()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			s.log.Debug("cannot read the stored framework id", "error", r.err)
			return s.id
		}
		s.id, s.at = r.id, time.Now()
	case <-timer.C:
		s.log.Debug("reading the stored framework id timed out", "timeout", s.timeout)
	}
	return s.id
}
