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
// from the store, as Marathon's standbys do. One read runs at a time;
// while it runs (ZooKeeper may be slow or away) the last value read is
// shown, and only a standby that has none yet waits for it, at most
// timeout.
type storedFrameworkID struct {
	read    func() (string, error)
	close   func()
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	id      string
	at      time.Time
	reading chan struct{} // closed when the read under way ends; nil when none
}

func (s *storedFrameworkID) get() string {
	s.mu.Lock()
	if s.id != "" && time.Since(s.at) < storedIDTTL {
		defer s.mu.Unlock()
		return s.id
	}
	if s.reading == nil {
		done := make(chan struct{})
		s.reading = done
		go func() {
			defer close(done)
			id, err := s.read()
			s.mu.Lock()
			defer s.mu.Unlock()
			s.reading = nil
			if err != nil {
				s.log.Debug("cannot read the stored framework id", "error", err)
				return
			}
			s.id, s.at = id, time.Now()
		}()
	}
	done, last := s.reading, s.id
	s.mu.Unlock()
	if last != "" {
		return last
	}
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.log.Debug("reading the stored framework id timed out", "timeout", s.timeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}
