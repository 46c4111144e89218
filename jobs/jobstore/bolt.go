package jobstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/stadionhq/stadion/jobs"
)

// Buckets and keys of the bbolt file.
var (
	bucketJobs = []byte("jobs")
	bucketRuns = []byte("runs")
	bucketMeta = []byte("meta")
	keyFwID    = []byte("framework-id")
)

// ErrClosed is returned by a closed store.
var ErrClosed = errors.New("jobstore: closed")

// lockTimeout bounds the wait for a file another process holds.
const lockTimeout = 5 * time.Second

// Bolt is the bbolt store.
type Bolt struct {
	db *bolt.DB
}

var _ jobs.Store = (*Bolt)(nil)

// OpenBolt opens (creating) the bbolt file at path.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketRuns, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create buckets in %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

// Load reads everything in one transaction.
func (s *Bolt) Load(context.Context) (jobs.Snapshot, error) {
	var snap jobs.Snapshot
	if s.db == nil {
		return snap, ErrClosed
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		snap.FrameworkID = string(tx.Bucket(bucketMeta).Get(keyFwID))
		if err := tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			j, err := jobs.DecodeJob(v)
			if err != nil {
				return fmt.Errorf("job %s: %w", k, err)
			}
			snap.Jobs = append(snap.Jobs, j)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			r, err := jobs.DecodeRun(v)
			if err != nil {
				return fmt.Errorf("run %s: %w", k, err)
			}
			snap.Runs = append(snap.Runs, r)
			return nil
		})
	})
	return snap, err
}

// Apply writes c in one transaction.
func (s *Bolt) Apply(_ context.Context, c jobs.Change) error {
	if s.db == nil {
		return ErrClosed
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		bj, br := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
		for _, name := range c.DeleteJobs {
			if err := bj.Delete([]byte(name)); err != nil {
				return err
			}
		}
		for _, id := range c.DeleteRuns {
			if err := br.Delete([]byte(id)); err != nil {
				return err
			}
		}
		for _, j := range c.PutJobs {
			b, err := jobs.EncodeJob(j)
			if err != nil {
				return err
			}
			if err := bj.Put([]byte(j.Name), b); err != nil {
				return err
			}
		}
		for _, r := range c.PutRuns {
			b, err := jobs.EncodeRun(r)
			if err != nil {
				return err
			}
			if err := br.Put([]byte(r.TaskID), b); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoadFrameworkID returns the stored framework id.
func (s *Bolt) LoadFrameworkID(context.Context) (string, error) {
	if s.db == nil {
		return "", ErrClosed
	}
	var id string
	err := s.db.View(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(keyFwID))
		return nil
	})
	return id, err
}

// SaveFrameworkID stores the framework id.
func (s *Bolt) SaveFrameworkID(_ context.Context, id string) error {
	if s.db == nil {
		return ErrClosed
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFwID, []byte(id)) })
}

// Close closes the file; a second Close returns nil.
func (s *Bolt) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}
