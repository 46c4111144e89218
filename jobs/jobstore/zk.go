package jobstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/zk"
	"github.com/stadionhq/stadion/jobs"
)

// ErrFenced is returned by a write after the fence node is gone: this
// instance no longer leads.
var ErrFenced = errors.New("jobstore: fence node is gone")

// ZKConfig configures OpenZK.
type ZKConfig struct {
	// Servers are host:port of the ensemble. Required.
	Servers []string
	// Root is the store's node, such as /chronos/state. Required.
	Root string
	// SessionTimeout of the ZooKeeper session (zero: 10s).
	SessionTimeout time.Duration
	// Fence, when set, is a node that must exist for a write to happen:
	// the leader's election node.
	Fence string
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
}

// ZK is the ZooKeeper store: <root>/jobs/<name>, <root>/runs/<task id in
// base64url>, <root>/framework-id.
type ZK struct {
	conn  *gozk.Conn
	root  string
	fence string

	mu     sync.Mutex
	exists map[string]bool // nodes below jobs/ and runs/ known to exist
	closed bool
}

var _ jobs.Store = (*ZK)(nil)

// OpenZK connects and creates the layout's nodes.
func OpenZK(ctx context.Context, cfg ZKConfig) (*ZK, error) {
	if err := zk.ValidatePath(cfg.Root); err != nil {
		return nil, fmt.Errorf("jobstore: root: %w", err)
	}
	conn, _, err := zk.Connect(cfg.Servers, cfg.SessionTimeout, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s := &ZK{conn: conn, root: cfg.Root, fence: cfg.Fence, exists: map[string]bool{}}
	for _, p := range []string{s.root, s.abs("jobs"), s.abs("runs")} {
		if err := s.ensure(p); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *ZK) abs(rel string) string { return path.Join(s.root, rel) }

func jobNode(name string) string { return "jobs/" + name }

func runNode(id string) string { return "runs/" + base64.RawURLEncoding.EncodeToString([]byte(id)) }

// ensure creates p and its parents when missing.
func (s *ZK) ensure(p string) error {
	if p == "/" || p == "" {
		return nil
	}
	ok, _, err := s.conn.Exists(p)
	if err != nil {
		return fmt.Errorf("zookeeper exists %s: %w", p, err)
	}
	if ok {
		return nil
	}
	if err := s.ensure(path.Dir(p)); err != nil {
		return err
	}
	if _, err := s.conn.Create(p, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && !errors.Is(err, gozk.ErrNodeExists) {
		return fmt.Errorf("zookeeper create %s: %w", p, err)
	}
	return nil
}

// Load reads every job and run.
func (s *ZK) Load(context.Context) (jobs.Snapshot, error) {
	var snap jobs.Snapshot
	if s.isClosed() {
		return snap, ErrClosed
	}
	id, err := s.LoadFrameworkID(context.Background())
	if err != nil {
		return snap, err
	}
	snap.FrameworkID = id
	exists := map[string]bool{}
	for _, dir := range []string{"jobs", "runs"} {
		children, _, err := s.conn.Children(s.abs(dir))
		if err != nil {
			return snap, fmt.Errorf("zookeeper list %s: %w", dir, err)
		}
		for _, c := range children {
			rel := dir + "/" + c
			b, _, err := s.conn.Get(s.abs(rel))
			if errors.Is(err, gozk.ErrNoNode) {
				continue
			}
			if err != nil {
				return snap, fmt.Errorf("zookeeper get %s: %w", rel, err)
			}
			exists[rel] = true
			if dir == "jobs" {
				j, err := jobs.DecodeJob(b)
				if err != nil {
					return snap, fmt.Errorf("%s: %w", rel, err)
				}
				snap.Jobs = append(snap.Jobs, j)
			} else {
				r, err := jobs.DecodeRun(b)
				if err != nil {
					return snap, fmt.Errorf("%s: %w", rel, err)
				}
				snap.Runs = append(snap.Runs, r)
			}
		}
	}
	s.mu.Lock()
	s.exists = exists
	s.mu.Unlock()
	return snap, nil
}

// Apply writes c in one multi, behind the fence check.
func (s *ZK) Apply(_ context.Context, c jobs.Change) error {
	if s.isClosed() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ops []any
	if s.fence != "" {
		ops = append(ops, &gozk.CheckVersionRequest{Path: s.fence, Version: -1})
	}
	after := map[string]bool{}
	for k, v := range s.exists {
		after[k] = v
	}
	del := func(rel string) {
		if after[rel] {
			ops = append(ops, &gozk.DeleteRequest{Path: s.abs(rel), Version: -1})
			delete(after, rel)
		}
	}
	put := func(rel string, data []byte) {
		if after[rel] {
			ops = append(ops, &gozk.SetDataRequest{Path: s.abs(rel), Data: data, Version: -1})
			return
		}
		ops = append(ops, &gozk.CreateRequest{Path: s.abs(rel), Data: data, Acl: gozk.WorldACL(gozk.PermAll)})
		after[rel] = true
	}
	for _, name := range c.DeleteJobs {
		del(jobNode(name))
	}
	for _, id := range c.DeleteRuns {
		del(runNode(id))
	}
	for _, j := range c.PutJobs {
		b, err := jobs.EncodeJob(j)
		if err != nil {
			return err
		}
		put(jobNode(j.Name), b)
	}
	for _, r := range c.PutRuns {
		b, err := jobs.EncodeRun(r)
		if err != nil {
			return err
		}
		put(runNode(r.TaskID), b)
	}
	if len(ops) == 0 || (s.fence != "" && len(ops) == 1) {
		return nil
	}
	res, err := s.conn.Multi(ops...)
	if err != nil {
		if s.fence != "" && len(res) > 0 && res[0].Error != nil {
			return fmt.Errorf("%w: %s: %w", ErrFenced, s.fence, res[0].Error)
		}
		// What exists is unknown now: read it again before the next write.
		s.reindex()
		return fmt.Errorf("zookeeper multi: %w", err)
	}
	s.exists = after
	return nil
}

// reindex reads which job and run nodes exist.
func (s *ZK) reindex() {
	exists := map[string]bool{}
	for _, dir := range []string{"jobs", "runs"} {
		children, _, err := s.conn.Children(s.abs(dir))
		if err != nil {
			return
		}
		for _, c := range children {
			exists[dir+"/"+c] = true
		}
	}
	s.exists = exists
}

// LoadFrameworkID reads <root>/framework-id.
func (s *ZK) LoadFrameworkID(context.Context) (string, error) {
	if s.isClosed() {
		return "", ErrClosed
	}
	b, _, err := s.conn.Get(s.abs("framework-id"))
	if errors.Is(err, gozk.ErrNoNode) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("zookeeper get framework-id: %w", err)
	}
	return string(b), nil
}

// SaveFrameworkID writes <root>/framework-id, behind the fence.
func (s *ZK) SaveFrameworkID(_ context.Context, id string) error {
	if s.isClosed() {
		return ErrClosed
	}
	p := s.abs("framework-id")
	ok, _, err := s.conn.Exists(p)
	if err != nil {
		return fmt.Errorf("zookeeper exists framework-id: %w", err)
	}
	var ops []any
	if s.fence != "" {
		ops = append(ops, &gozk.CheckVersionRequest{Path: s.fence, Version: -1})
	}
	if ok {
		ops = append(ops, &gozk.SetDataRequest{Path: p, Data: []byte(id), Version: -1})
	} else {
		ops = append(ops, &gozk.CreateRequest{Path: p, Data: []byte(id), Acl: gozk.WorldACL(gozk.PermAll)})
	}
	if _, err := s.conn.Multi(ops...); err != nil {
		return fmt.Errorf("zookeeper write framework-id: %w", err)
	}
	return nil
}

func (s *ZK) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close ends the session.
func (s *ZK) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.conn.Close()
	}
	return nil
}
