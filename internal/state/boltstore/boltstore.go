package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

var _ state.Store = (*Store)(nil)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("boltstore: database file is locked by another process")

// DefaultTimeout is how long Open waits for the file lock by default.
const DefaultTimeout = 5 * time.Second

// schemaVersion is the layout written by this package; Open refuses others.
const schemaVersion = "1"

var (
	bucketMeta        = []byte("meta")
	bucketApps        = []byte("apps")
	bucketPods        = []byte("pods")
	bucketGroups      = []byte("groups")
	bucketInstances   = []byte("instances")
	bucketDeployments = []byte("deployments")

	keyFrameworkID   = []byte("framework_id")
	keySchemaVersion = []byte("schema_version")
	// keyCurrent names the current version in an app or group bucket.
	// Version keys start with a digit, so it never collides with one.
	keyCurrent = []byte("current")
)

// Config configures Open.
type Config struct {
	// Path is the database file, e.g. <data_dir>/stadion.db. Missing
	// parent directories are created.
	Path string
	// MaxVersions is the number of app and group versions kept per id;
	// zero means state.DefaultMaxVersions (50, as Marathon's
	// --zk_max_versions). The current version is always kept.
	MaxVersions int
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
	// Timeout bounds the wait for the file lock, so that a second process
	// on the same file fails with ErrLocked instead of hanging; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Init starts fresh: Open creates the database even where state is
	// expected (ErrNoDatabase): a missing file in a directory holding
	// other files, or an empty file. It never touches a file that holds
	// data, damaged or not.
	Init bool
	// ReadOnly opens an existing database for reading (`stadion state
	// check` and `export`): nothing is created, Apply fails, and other
	// readers may open it at the same time.
	ReadOnly bool
}

// Validate reports a configuration Open cannot use.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("boltstore: no path"))
	}
	if c.MaxVersions < 0 {
		errs = append(errs, fmt.Errorf("boltstore: max versions %d is negative", c.MaxVersions))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("boltstore: timeout %s is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// Store is a state.Store in one bbolt file. It is safe for concurrent use:
// bbolt runs any number of readers beside one writer.
type Store struct {
	db          *bolt.DB
	path        string
	maxVersions int
	log         *slog.Logger
	closed      atomic.Bool
}

// Open opens or creates the database file.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxVersions == 0 {
		cfg.MaxVersions = state.DefaultMaxVersions
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
			return nil, fmt.Errorf("create state directory: %w", err)
		}
	}
	if err := preflight(cfg, false); err != nil {
		return nil, err
	}
	var db *bolt.DB
	err := protect(func() (err error) {
		db, err = bolt.Open(cfg.Path, 0o600, &bolt.Options{
			Timeout:  cfg.Timeout,
			ReadOnly: cfg.ReadOnly,
			// The freelist is rebuilt by scanning the file on open, so
			// not syncing it loses nothing after a crash and saves a
			// page write per transaction. Data and meta pages are still
			// fsynced.
			NoFreelistSync: true,
			FreelistType:   bolt.FreelistMapType,
		})
		return err
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open state %s: %w (waited %s)", cfg.Path, ErrLocked, cfg.Timeout)
	}
	if errors.Is(err, errPanic) {
		return nil, fmt.Errorf("open state %s: %w: %w; %s", cfg.Path, ErrCorrupt, err, remedy)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", cfg.Path, err)
	}
	setup := db.Update
	if cfg.ReadOnly {
		setup = db.View
	}
	if err := protect(func() error { return setup(initialize) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", cfg.Path, err)
	}
	s := &Store{db: db, path: cfg.Path, maxVersions: cfg.MaxVersions, log: cfg.Logger.With("component", "state")}
	s.log.Info("state store opened", "path", cfg.Path, "max_versions", cfg.MaxVersions)
	return s, nil
}

// initialize creates the buckets and checks the schema version; in a
// read-only transaction it only checks that they are there. The pods
// bucket came later within the same schema: a file written before it
// gets it on the first writable open, and reads as having no pods until
// then.
func initialize(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketApps, bucketPods, bucketGroups, bucketInstances, bucketDeployments} {
		if !tx.Writable() {
			if tx.Bucket(name) == nil && string(name) != string(bucketPods) {
				return fmt.Errorf("%w: bucket %s is missing", ErrCorrupt, name)
			}
			continue
		}
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keySchemaVersion); {
	case v == nil && !tx.Writable():
		return fmt.Errorf("%w: no schema version", ErrCorrupt)
	case v == nil:
		return meta.Put(keySchemaVersion, []byte(schemaVersion))
	case string(v) != schemaVersion:
		return fmt.Errorf("schema version %q, this build reads %q", v, schemaVersion)
	}
	return nil
}

// Close implements state.Store. It waits for running transactions.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	s.log.Info("state store closed")
	return nil
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return state.ErrClosed
	}
	return closedErr(s.protect(func() error { return s.db.View(fn) }))
}

// protect runs a transaction, turning bbolt's panic on a damaged page
// into an error naming the file (bbolt rolls the transaction back).
func (s *Store) protect(fn func() error) error {
	err := protect(fn)
	if errors.Is(err, errPanic) {
		return fmt.Errorf("state %s: %w: %w; %s", s.path, ErrCorrupt, err, remedy)
	}
	return err
}

// closedErr maps bbolt's error for a closed database to state.ErrClosed
// (Close may run between the check of s.closed and the transaction).
func closedErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return state.ErrClosed
	}
	return err
}

// Apply implements state.Store: c is validated, then written in one bbolt
// transaction, deletes first, then puts, trimming versions as it goes.
func (s *Store) Apply(ctx context.Context, c state.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if s.closed.Load() {
		return state.ErrClosed
	}
	start := time.Now()
	err := s.protect(func() error {
		return s.db.Update(func(tx *bolt.Tx) error { return s.apply(tx, c) })
	})
	if err != nil {
		return closedErr(err)
	}
	s.log.Debug("state change applied",
		"apps", len(c.PutApps)+len(c.DeleteApps),
		"pods", len(c.PutPods)+len(c.DeletePods),
		"groups", len(c.PutGroups)+len(c.DeleteGroups),
		"instances", len(c.PutInstances)+len(c.DeleteInstances),
		"deployments", len(c.PutDeployments)+len(c.DeleteDeployments),
		"duration", time.Since(start))
	return nil
}

func (s *Store) apply(tx *bolt.Tx, c state.Change) error {
	if c.FrameworkID != "" {
		if err := tx.Bucket(bucketMeta).Put(keyFrameworkID, []byte(c.FrameworkID)); err != nil {
			return fmt.Errorf("put framework id: %w", err)
		}
	}
	apps, groups, pods := tx.Bucket(bucketApps), tx.Bucket(bucketGroups), tx.Bucket(bucketPods)
	instances, deployments := tx.Bucket(bucketInstances), tx.Bucket(bucketDeployments)

	for _, id := range c.DeleteApps {
		if err := deleteBucket(apps, []byte(id)); err != nil {
			return fmt.Errorf("delete app %s: %w", id, err)
		}
	}
	for _, id := range c.DeletePods {
		if err := deleteBucket(pods, []byte(id)); err != nil {
			return fmt.Errorf("delete pod %s: %w", id, err)
		}
	}
	for _, id := range c.DeleteGroups {
		if err := deleteBucket(groups, []byte(id)); err != nil {
			return fmt.Errorf("delete group %s: %w", id, err)
		}
	}
	for _, id := range c.DeleteInstances {
		if err := instances.Delete([]byte(id)); err != nil {
			return fmt.Errorf("delete instance %s: %w", id, err)
		}
	}
	for _, id := range c.DeleteDeployments {
		if err := deployments.Delete([]byte(id)); err != nil {
			return fmt.Errorf("delete deployment %s: %w", id, err)
		}
	}

	for _, a := range c.PutApps {
		b, err := marathon.CanonicalJSON(a)
		if err != nil {
			return fmt.Errorf("encode app %s: %w", a.ID, err)
		}
		if err := s.putVersion(apps, a.ID, a.Version, b); err != nil {
			return fmt.Errorf("put app %s: %w", a.ID, err)
		}
	}
	for _, p := range c.PutPods {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode pod %s: %w", p.ID, err)
		}
		if err := s.putVersion(pods, p.ID, p.Version, b); err != nil {
			return fmt.Errorf("put pod %s: %w", p.ID, err)
		}
	}
	for _, g := range c.PutGroups {
		b, err := json.Marshal(g)
		if err != nil {
			return fmt.Errorf("encode group %s: %w", g.ID, err)
		}
		if err := s.putVersion(groups, g.ID, g.Version, b); err != nil {
			return fmt.Errorf("put group %s: %w", g.ID, err)
		}
	}
	for _, in := range c.PutInstances {
		if err := putJSON(instances, in.ID, in); err != nil {
			return fmt.Errorf("put instance %s: %w", in.ID, err)
		}
	}
	for _, d := range c.PutDeployments {
		if err := putJSON(deployments, d.ID, d); err != nil {
			return fmt.Errorf("put deployment %s: %w", d.ID, err)
		}
	}
	return nil
}

// deleteBucket deletes a sub-bucket; an absent one is not an error.
func deleteBucket(parent *bolt.Bucket, name []byte) error {
	err := parent.DeleteBucket(name)
	if errors.Is(err, bolt.ErrBucketNotFound) {
		return nil
	}
	return err
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return b.Put([]byte(key), data)
}

// putVersion stores one version of an app or group, makes it current and
// drops the oldest versions beyond the limit.
func (s *Store) putVersion(parent *bolt.Bucket, id marathon.PathID, version marathon.Timestamp, data []byte) error {
	b, err := parent.CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return err
	}
	v := version.String()
	if err := b.Put([]byte(v), data); err != nil {
		return err
	}
	if err := b.Put(keyCurrent, []byte(v)); err != nil {
		return err
	}
	for _, old := range state.TrimVersions(versionKeys(b), v, s.maxVersions) {
		if err := b.Delete([]byte(old)); err != nil {
			return fmt.Errorf("trim version %s: %w", old, err)
		}
	}
	return nil
}

// versionKeys lists the version keys of an app or group bucket, oldest
// first.
func versionKeys(b *bolt.Bucket) []string {
	var keys []string
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if string(k) != string(keyCurrent) {
			keys = append(keys, string(k))
		}
	}
	return keys
}

// Load implements state.Store, in one read transaction. A record that
// cannot be decoded is left in place, logged and listed in
// Snapshot.SetAside; the rest loads.
func (s *Store) Load(ctx context.Context) (state.Snapshot, error) {
	var snap state.Snapshot
	err := s.view(ctx, func(tx *bolt.Tx) error {
		snap = state.Snapshot{FrameworkID: string(tx.Bucket(bucketMeta).Get(keyFrameworkID))}
		var set []state.SetAside
		snap.Apps, set = decodeVersioned[marathon.App](tx.Bucket(bucketApps), state.KindApp)
		snap.SetAside = append(snap.SetAside, set...)
		if pods := tx.Bucket(bucketPods); pods != nil {
			snap.Pods, set = decodeVersioned[marathon.Pod](pods, state.KindPod)
			snap.SetAside = append(snap.SetAside, set...)
		}
		snap.Groups, set = decodeVersioned[state.Group](tx.Bucket(bucketGroups), state.KindGroup)
		snap.SetAside = append(snap.SetAside, set...)
		snap.Instances, set = decodeAll[state.Instance](tx.Bucket(bucketInstances), state.KindInstance)
		snap.SetAside = append(snap.SetAside, set...)
		snap.Deployments, set = decodeAll[state.Deployment](tx.Bucket(bucketDeployments), state.KindDeployment)
		snap.SetAside = append(snap.SetAside, set...)
		return nil
	})
	if err != nil {
		return state.Snapshot{}, fmt.Errorf("load state %s: %w", s.path, err)
	}
	for _, r := range snap.SetAside {
		s.log.Warn("record set aside", "kind", r.Kind, "id", r.ID, "version", r.Version, "where", r.Where, "error", r.Error)
	}
	return snap, nil
}

// bucketOf maps a kind to its bucket.
func bucketOf(kind state.Kind) []byte {
	switch kind {
	case state.KindApp:
		return bucketApps
	case state.KindPod:
		return bucketPods
	case state.KindGroup:
		return bucketGroups
	case state.KindInstance:
		return bucketInstances
	case state.KindDeployment:
		return bucketDeployments
	}
	return nil
}

// decodeVersioned decodes the current version of each app or group
// bucket under parent, in key order, setting aside what does not decode.
func decodeVersioned[T any](parent *bolt.Bucket, kind state.Kind) ([]T, []state.SetAside) {
	var (
		out []T
		set []state.SetAside
	)
	_ = parent.ForEachBucket(func(id []byte) error {
		b := parent.Bucket(id)
		v := b.Get(keyCurrent)
		if v == nil {
			set = append(set, state.SetAside{Kind: kind, ID: string(id), Where: where(string(bucketOf(kind)), string(id)),
				Error: "no current version"})
			return nil
		}
		data := b.Get(v)
		w := where(string(bucketOf(kind)), string(id), string(v))
		if data == nil {
			set = append(set, state.SetAside{Kind: kind, ID: string(id), Version: string(v), Where: w,
				Error: "the current version is missing"})
			return nil
		}
		var x T
		if err := json.Unmarshal(data, &x); err != nil {
			set = append(set, state.SetAside{Kind: kind, ID: string(id), Version: string(v), Where: w,
				Error: state.DescribeDecodeError(err)})
			return nil
		}
		out = append(out, x)
		return nil
	})
	return out, set
}

// decodeAll decodes every value of b, in key order, setting aside what
// does not decode.
func decodeAll[T any](b *bolt.Bucket, kind state.Kind) ([]T, []state.SetAside) {
	var (
		out []T
		set []state.SetAside
	)
	_ = b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket: not written by this package
		}
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			set = append(set, state.SetAside{Kind: kind, ID: string(k), Where: where(string(bucketOf(kind)), string(k)),
				Error: state.DescribeDecodeError(err)})
			return nil
		}
		out = append(out, x)
		return nil
	})
	return out, set
}

// Raw returns the stored bytes of a record, as Load or a DecodeError
// named it, for `stadion state export`; nil when there are none.
func (s *Store) Raw(ctx context.Context, r state.SetAside) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOf(r.Kind))
		if b == nil {
			return fmt.Errorf("no bucket for kind %q", r.Kind)
		}
		switch r.Kind {
		case state.KindApp, state.KindPod, state.KindGroup:
			if b = b.Bucket([]byte(r.ID)); b == nil || r.Version == "" {
				return nil
			}
			out = bytes.Clone(b.Get([]byte(r.Version)))
		default:
			out = bytes.Clone(b.Get([]byte(r.ID)))
		}
		return nil
	})
	return out, err
}

// child returns the bucket of id under a top-level bucket, or nil when
// either is absent (the pods bucket of a file opened read-only before it
// was created).
func child(tx *bolt.Tx, parent []byte, id marathon.PathID) *bolt.Bucket {
	p := tx.Bucket(parent)
	if p == nil {
		return nil
	}
	return p.Bucket([]byte(id))
}

// AppVersions implements state.Store.
func (s *Store) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, bucketApps, id)
}

// PodVersions implements state.Store.
func (s *Store) PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, bucketPods, id)
}

// GroupVersions implements state.Store.
func (s *Store) GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, bucketGroups, id)
}

func (s *Store) versions(ctx context.Context, kind []byte, id marathon.PathID) ([]marathon.Timestamp, error) {
	var out []marathon.Timestamp
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := child(tx, kind, id)
		if b == nil {
			return nil
		}
		for _, k := range versionKeys(b) {
			v, err := marathon.ParseTimestamp(k)
			if err != nil {
				return fmt.Errorf("parse version %q of %s: %w", k, id, err)
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppVersion implements state.Store.
func (s *Store) AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.App, bool, error) {
	var a marathon.App
	ok, err := s.version(ctx, bucketApps, id, version, &a)
	return a, ok, err
}

// PodVersion implements state.Store.
func (s *Store) PodVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.Pod, bool, error) {
	var p marathon.Pod
	ok, err := s.version(ctx, bucketPods, id, version, &p)
	return p, ok, err
}

// GroupVersion implements state.Store.
func (s *Store) GroupVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (state.Group, bool, error) {
	var g state.Group
	ok, err := s.version(ctx, bucketGroups, id, version, &g)
	return g, ok, err
}

// version decodes one stored version into v.
func (s *Store) version(ctx context.Context, bucket []byte, id marathon.PathID, version marathon.Timestamp, v any) (bool, error) {
	var found bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := child(tx, bucket, id)
		if b == nil || version.IsZero() {
			return nil
		}
		data := b.Get([]byte(version.String()))
		if data == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(data, v); err != nil {
			kind := state.KindApp
			switch string(bucket) {
			case string(bucketGroups):
				kind = state.KindGroup
			case string(bucketPods):
				kind = state.KindPod
			}
			return &state.DecodeError{Record: state.SetAside{Kind: kind, ID: string(id), Version: version.String(),
				Where: where(string(bucket), string(id), version.String()), Error: state.DescribeDecodeError(err)}}
		}
		return nil
	})
	return found && err == nil, err
}

// FrameworkID reads the stored framework id alone.
func (s *Store) FrameworkID(ctx context.Context) (string, error) {
	var id string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(keyFrameworkID))
		return nil
	})
	return id, err
}
