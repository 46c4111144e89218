package zkstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/zk"
)

var _ state.Store = (*Store)(nil)

var (
	// ErrNoSession is returned when ZooKeeper could not be reached: the
	// connection was lost or the session expired and did not come back
	// within OperationTimeout, or ZooKeeper did not answer. A write that
	// fails with it is either wholly stored or not at all; the next call
	// finds out which.
	ErrNoSession = errors.New("zkstore: no zookeeper session")
	// ErrConflict is returned when another writer changed the state under
	// this store: two stores write to one root, which leader election
	// must prevent. Nothing of the failed write is stored; the next call
	// reads the state again.
	ErrConflict = errors.New("zkstore: state changed by another writer")
	// ErrFenced is returned by a write while the fence node (Config.Fence)
	// is missing. Nothing of the write is stored.
	ErrFenced = errors.New("zkstore: fence node is gone")
	// ErrSchema is returned by Open for a root holding another layout.
	ErrSchema = errors.New("zkstore: unknown state layout")
	// ErrNoState is returned by Open with Config.Existing for a root
	// that holds no state.
	ErrNoState = errors.New("zkstore: no state under this root")
)

// Store is a state.Store in ZooKeeper. It is safe for concurrent use; its
// methods run one at a time, each pipelining its requests.
type Store struct {
	conn        *gozk.Conn
	ownConn     bool
	base        string // Root/state
	fence       string
	maxVersions int
	maxRequest  int
	chunk       int
	opTimeout   time.Duration
	existing    bool
	log         *slog.Logger

	closed    atomic.Bool
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu sync.Mutex
	// idx is the picture of the nodes; dirty means it may be stale or a
	// committed large Change may be unfinished: the next method rebuilds
	// it (and finishes the Change) first.
	idx   *index
	dirty bool
	// crash, set by tests, is called at the named points of a large
	// Apply ("pieces", "commit", and "batch" before each multi that
	// writes out a committed Change, from several goroutines); an error
	// stops the Apply there, as if the process died.
	crash func(point string) error
}

// Open connects to ZooKeeper (or uses cfg.Conn), creates the nodes under
// Root/state when missing, reads what they hold and finishes a large
// Change that a crashed writer committed but did not write out. It fails
// with ErrNoSession when ZooKeeper cannot be reached within
// OperationTimeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger.With("component", "state", "root", cfg.Root)
	s := &Store{
		conn:        cfg.Conn,
		base:        cfg.Root + "/state",
		fence:       cfg.Fence,
		maxVersions: cfg.MaxVersions,
		maxRequest:  cfg.MaxRequestBytes,
		chunk:       chunkSize(cfg.MaxRequestBytes),
		opTimeout:   cfg.OperationTimeout,
		existing:    cfg.Existing,
		log:         log,
		done:        make(chan struct{}),
		dirty:       true,
	}
	if s.conn == nil {
		conn, _, err := zk.Connect(cfg.Servers, cfg.SessionTimeout, log.With("component", "zk"))
		if err != nil {
			return nil, err
		}
		s.conn, s.ownConn = conn, true
	}
	s.mu.Lock()
	err := s.retry(ctx, "open state", func(ctx context.Context) error {
		if err := s.init(ctx); err != nil {
			return err
		}
		return s.ready(ctx, false)
	})
	s.mu.Unlock()
	if err != nil {
		if s.ownConn {
			s.conn.Close()
		}
		return nil, fmt.Errorf("open state in zookeeper %s: %w", s.base, err)
	}
	s.log.Info("state store opened", "servers", strings.Join(cfg.Servers, ","),
		"apps", countPrefix(s.idx.hist, kindApps+"/"),
		"instances", len(s.idx.records(kindInstances)), "max_versions", s.maxVersions)
	return s, nil
}

func countPrefix(m map[string]*history, prefix string) int {
	n := 0
	for p := range m {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

// init creates Root, Root/state and the fixed nodes below it when missing
// and checks the schema version.
func (s *Store) init(ctx context.Context) error {
	if s.existing {
		if _, _, err := s.get(ctx, nodeSchema); errors.Is(err, gozk.ErrNoNode) {
			return fmt.Errorf("%w: %s does not exist", ErrNoState, s.abs(nodeSchema))
		} else if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
	}
	var parents []string
	for i := 1; i < len(s.base); i++ {
		if s.base[i] == '/' {
			parents = append(parents, s.base[:i])
		}
	}
	parents = append(parents, s.base)
	for _, p := range parents { // each needs the one before
		if err := s.create(ctx, p, nil); err != nil {
			return err
		}
	}
	fixed := []struct {
		path string
		data string
	}{
		{nodeSchema, schemaVersion},
		{nodeCommit, "{}"},
		{nodeFrameworkID, ""},
		{dirTxn, ""},
	}
	for _, k := range kinds {
		fixed = append(fixed, struct{ path, data string }{k, ""})
	}
	err := s.gather(ctx, len(fixed), func(i int) error {
		_, err := s.conn.Create(s.abs(fixed[i].path), []byte(fixed[i].data), 0, worldACL)
		if errors.Is(err, gozk.ErrNodeExists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create state nodes: %w", err)
	}
	v, _, err := s.get(ctx, nodeSchema)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if string(v) != schemaVersion {
		return fmt.Errorf("%w: schema version %q, this build reads %q", ErrSchema, v, schemaVersion)
	}
	return nil
}

// create creates an empty persistent node at an absolute path; one that
// exists is fine.
func (s *Store) create(ctx context.Context, p string, data []byte) error {
	err := s.gather(ctx, 1, func(int) error {
		_, err := s.conn.Create(p, data, 0, worldACL)
		if errors.Is(err, gozk.ErrNodeExists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	return nil
}

// Conn returns the store's ZooKeeper connection, so that the leader
// election can share its session: when the session expires, both learn it
// together.
func (s *Store) Conn() *gozk.Conn {
	return s.conn
}

// Close implements state.Store. It ends the waits of a method under way,
// closes the connection unless it was shared (Config.Conn), and waits for
// the method to return.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		if s.ownConn {
			s.conn.Close()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.log.Info("state store closed")
	})
	return nil
}

// lock takes the store's lock, or fails when the store is closed.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return state.ErrClosed
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return state.ErrClosed
	}
	return nil
}

// newToken returns a random token naming one Apply.
func newToken() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
