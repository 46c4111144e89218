package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

var _ state.Store = (*Store)(nil)

// Config configures a Store.
type Config struct {
	// MaxVersions is the number of app and group versions kept per id;
	// zero means state.DefaultMaxVersions.
	MaxVersions int
}

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	if c.MaxVersions < 0 {
		return fmt.Errorf("memstore: max versions %d is negative", c.MaxVersions)
	}
	return nil
}

// Store is an in-memory state.Store, safe for concurrent use.
type Store struct {
	maxVersions int

	mu          sync.RWMutex
	closed      bool
	frameworkID string
	apps        map[marathon.PathID]*history
	pods        map[marathon.PathID]*history
	groups      map[marathon.PathID]*history
	instances   map[string][]byte
	deployments map[string][]byte
}

// history holds the encoded versions of one app or group.
type history struct {
	current  string
	versions map[string][]byte // by marathon.Timestamp.String
}

// New returns an empty store.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxVersions == 0 {
		cfg.MaxVersions = state.DefaultMaxVersions
	}
	return &Store{
		maxVersions: cfg.MaxVersions,
		apps:        map[marathon.PathID]*history{},
		pods:        map[marathon.PathID]*history{},
		groups:      map[marathon.PathID]*history{},
		instances:   map[string][]byte{},
		deployments: map[string][]byte{},
	}, nil
}

// encoded is a Change with every put record encoded, ready to be stored.
type encoded struct {
	apps, pods, groups     []versioned
	instances, deployments []keyed
}

type versioned struct {
	id      marathon.PathID
	version string
	data    []byte
}

type keyed struct {
	id   string
	data []byte
}

// encode validates and encodes c, so that Apply fails before it changes
// anything.
func encode(c state.Change) (encoded, error) {
	var e encoded
	if err := c.Validate(); err != nil {
		return e, err
	}
	for _, a := range c.PutApps {
		b, err := marathon.CanonicalJSON(a)
		if err != nil {
			return e, fmt.Errorf("encode app %s: %w", a.ID, err)
		}
		e.apps = append(e.apps, versioned{a.ID, a.Version.String(), b})
	}
	for _, p := range c.PutPods {
		b, err := json.Marshal(p)
		if err != nil {
			return e, fmt.Errorf("encode pod %s: %w", p.ID, err)
		}
		e.pods = append(e.pods, versioned{p.ID, p.Version.String(), b})
	}
	for _, g := range c.PutGroups {
		b, err := json.Marshal(g)
		if err != nil {
			return e, fmt.Errorf("encode group %s: %w", g.ID, err)
		}
		e.groups = append(e.groups, versioned{g.ID, g.Version.String(), b})
	}
	for _, in := range c.PutInstances {
		b, err := json.Marshal(in)
		if err != nil {
			return e, fmt.Errorf("encode instance %s: %w", in.ID, err)
		}
		e.instances = append(e.instances, keyed{in.ID, b})
	}
	for _, d := range c.PutDeployments {
		b, err := json.Marshal(d)
		if err != nil {
			return e, fmt.Errorf("encode deployment %s: %w", d.ID, err)
		}
		e.deployments = append(e.deployments, keyed{d.ID, b})
	}
	return e, nil
}

// Apply implements state.Store.
func (s *Store) Apply(ctx context.Context, c state.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e, err := encode(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return state.ErrClosed
	}
	if c.FrameworkID != "" {
		s.frameworkID = c.FrameworkID
	}
	for _, id := range c.DeleteApps {
		delete(s.apps, id)
	}
	for _, id := range c.DeletePods {
		delete(s.pods, id)
	}
	for _, id := range c.DeleteGroups {
		delete(s.groups, id)
	}
	for _, id := range c.DeleteInstances {
		delete(s.instances, id)
	}
	for _, id := range c.DeleteDeployments {
		delete(s.deployments, id)
	}
	s.putVersions(s.apps, e.apps)
	s.putVersions(s.pods, e.pods)
	s.putVersions(s.groups, e.groups)
	for _, in := range e.instances {
		s.instances[in.id] = in.data
	}
	for _, d := range e.deployments {
		s.deployments[d.id] = d.data
	}
	return nil
}

// putVersions stores each version, makes it current and trims the history.
func (s *Store) putVersions(m map[marathon.PathID]*history, puts []versioned) {
	for _, p := range puts {
		h := m[p.id]
		if h == nil {
			h = &history{versions: map[string][]byte{}}
			m[p.id] = h
		}
		h.versions[p.version] = p.data
		h.current = p.version
		for _, v := range state.TrimVersions(slices.Sorted(maps.Keys(h.versions)), h.current, s.maxVersions) {
			delete(h.versions, v)
		}
	}
}

// Load implements state.Store.
func (s *Store) Load(ctx context.Context) (state.Snapshot, error) {
	var snap state.Snapshot
	if err := ctx.Err(); err != nil {
		return snap, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return snap, state.ErrClosed
	}
	snap.FrameworkID = s.frameworkID
	for _, id := range slices.Sorted(maps.Keys(s.apps)) {
		h := s.apps[id]
		var a marathon.App
		if err := json.Unmarshal(h.versions[h.current], &a); err != nil {
			return state.Snapshot{}, fmt.Errorf("decode app %s: %w", id, err)
		}
		snap.Apps = append(snap.Apps, a)
	}
	for _, id := range slices.Sorted(maps.Keys(s.pods)) {
		h := s.pods[id]
		var p marathon.Pod
		if err := json.Unmarshal(h.versions[h.current], &p); err != nil {
			return state.Snapshot{}, fmt.Errorf("decode pod %s: %w", id, err)
		}
		snap.Pods = append(snap.Pods, p)
	}
	for _, id := range slices.Sorted(maps.Keys(s.groups)) {
		h := s.groups[id]
		var g state.Group
		if err := json.Unmarshal(h.versions[h.current], &g); err != nil {
			return state.Snapshot{}, fmt.Errorf("decode group %s: %w", id, err)
		}
		snap.Groups = append(snap.Groups, g)
	}
	var err error
	if snap.Instances, err = decodeAll[state.Instance](s.instances); err != nil {
		return state.Snapshot{}, fmt.Errorf("decode instances: %w", err)
	}
	if snap.Deployments, err = decodeAll[state.Deployment](s.deployments); err != nil {
		return state.Snapshot{}, fmt.Errorf("decode deployments: %w", err)
	}
	return snap, nil
}

func decodeAll[T any](m map[string][]byte) ([]T, error) {
	var out []T
	for _, id := range slices.Sorted(maps.Keys(m)) {
		var v T
		if err := json.Unmarshal(m[id], &v); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// AppVersions implements state.Store.
func (s *Store) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, s.apps, id)
}

// PodVersions implements state.Store.
func (s *Store) PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, s.pods, id)
}

// GroupVersions implements state.Store.
func (s *Store) GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, s.groups, id)
}

func (s *Store) versions(ctx context.Context, m map[marathon.PathID]*history, id marathon.PathID) ([]marathon.Timestamp, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, state.ErrClosed
	}
	h := m[id]
	if h == nil {
		return nil, nil
	}
	var out []marathon.Timestamp
	for _, v := range slices.Sorted(maps.Keys(h.versions)) {
		ts, err := marathon.ParseTimestamp(v)
		if err != nil {
			return nil, fmt.Errorf("parse version %q of %s: %w", v, id, err)
		}
		out = append(out, ts)
	}
	return out, nil
}

// AppVersion implements state.Store.
func (s *Store) AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.App, bool, error) {
	var a marathon.App
	ok, err := s.version(ctx, s.apps, id, version, &a)
	return a, ok, err
}

// PodVersion implements state.Store.
func (s *Store) PodVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.Pod, bool, error) {
	var p marathon.Pod
	ok, err := s.version(ctx, s.pods, id, version, &p)
	return p, ok, err
}

// GroupVersion implements state.Store.
func (s *Store) GroupVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (state.Group, bool, error) {
	var g state.Group
	ok, err := s.version(ctx, s.groups, id, version, &g)
	return g, ok, err
}

func (s *Store) version(ctx context.Context, m map[marathon.PathID]*history, id marathon.PathID, version marathon.Timestamp, v any) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false, state.ErrClosed
	}
	h := m[id]
	if h == nil {
		return false, nil
	}
	b, ok := h.versions[version.String()]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s version %s: %w", id, version, err)
	}
	return true, nil
}

// Close implements state.Store; the contents are dropped.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.apps, s.pods, s.groups, s.instances, s.deployments = nil, nil, nil, nil, nil
	return nil
}
