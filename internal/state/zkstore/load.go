package zkstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// maxLoadTries bounds how often Load reads again because another writer
// changed the state while it read.
const maxLoadTries = 3

// Load implements state.Store. It reads the commit node, the current
// version of every app and group, every instance and deployment (the nodes
// the index names, pipelined), and the commit node again: when the commit
// node did not change, no write came in between, so the snapshot is one
// state. Writes of this store wait for Load; a change by another writer
// makes Load read again.
func (s *Store) Load(ctx context.Context) (state.Snapshot, error) {
	if err := s.lock(ctx); err != nil {
		return state.Snapshot{}, err
	}
	defer s.mu.Unlock()
	var snap state.Snapshot
	err := s.retry(ctx, "load state", func(ctx context.Context) error {
		for range maxLoadTries {
			if err := s.ready(ctx, true); err != nil {
				return err
			}
			var err error
			snap, err = s.read(ctx)
			if err != nil && !errors.Is(err, gozk.ErrNoNode) {
				return err
			}
			if err == nil {
				c, err := s.readCommit(ctx)
				if err != nil {
					return err
				}
				if c.version == s.idx.commit.version && c.Pending == nil {
					return nil
				}
			}
			s.dirty = true // changed under us: read again
		}
		return fmt.Errorf("%w: the state kept changing while it was read", ErrConflict)
	})
	if err != nil {
		return state.Snapshot{}, fmt.Errorf("load state: %w", err)
	}
	return snap, nil
}

// read reads the records the index names.
func (s *Store) read(ctx context.Context) (state.Snapshot, error) {
	x := s.idx
	apps, err := currentVersions(x, kindApps)
	if err != nil {
		return state.Snapshot{}, err
	}
	groups, err := currentVersions(x, kindGroups)
	if err != nil {
		return state.Snapshot{}, err
	}
	instances, deployments := x.records(kindInstances), x.records(kindDeployments)
	paths := slices.Concat([]string{nodeFrameworkID}, apps, groups, instances, deployments)
	data, err := s.readRecords(ctx, paths)
	if err != nil {
		return state.Snapshot{}, err
	}
	snap := state.Snapshot{FrameworkID: string(data[0])}
	data = data[1:]
	if snap.Apps, err = decodeAll[marathon.App](apps, data[:len(apps)]); err != nil {
		return state.Snapshot{}, err
	}
	data = data[len(apps):]
	if snap.Groups, err = decodeAll[state.Group](groups, data[:len(groups)]); err != nil {
		return state.Snapshot{}, err
	}
	data = data[len(groups):]
	if snap.Instances, err = decodeAll[state.Instance](instances, data[:len(instances)]); err != nil {
		return state.Snapshot{}, err
	}
	data = data[len(instances):]
	if snap.Deployments, err = decodeAll[state.Deployment](deployments, data); err != nil {
		return state.Snapshot{}, err
	}
	slices.SortFunc(snap.Apps, func(a, b marathon.App) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Groups, func(a, b state.Group) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Instances, func(a, b state.Instance) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Deployments, func(a, b state.Deployment) int { return cmp.Compare(a.ID, b.ID) })
	return snap, nil
}

// currentVersions lists the current version node of every app or group.
func currentVersions(x *index, kind string) ([]string, error) {
	var out []string
	for node, h := range x.hist {
		if !strings.HasPrefix(node, kind+"/") {
			continue
		}
		if h.current == "" || !h.versions[h.current] {
			return nil, fmt.Errorf("%s: current version %q is not stored", node, h.current)
		}
		out = append(out, node+"/"+h.current)
	}
	slices.Sort(out)
	return out, nil
}

func decodeAll[T any](paths []string, data [][]byte) ([]T, error) {
	out := make([]T, len(data))
	for i, b := range data {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s: %w", paths[i], err)
		}
	}
	return out, nil
}

// readRecords reads records, pipelined: each node, then the chunks of the
// chunked ones.
func (s *Store) readRecords(ctx context.Context, paths []string) ([][]byte, error) {
	data := make([][]byte, len(paths))
	err := s.gather(ctx, len(paths), func(i int) (err error) {
		data[i], _, err = s.conn.Get(s.abs(paths[i]))
		if err != nil {
			return fmt.Errorf("read %s: %w", paths[i], err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	type chunkRef struct{ record, k int }
	var (
		refs      []chunkRef
		manifests = map[int]manifest{}
	)
	for i, d := range data {
		m, ok, err := parseManifest(d)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", paths[i], err)
		}
		if ok {
			manifests[i] = m
			for k := 1; k <= m.chunks; k++ {
				refs = append(refs, chunkRef{i, k})
			}
		}
	}
	if len(refs) == 0 {
		return data, nil
	}
	chunks := make([][]byte, len(refs))
	err = s.gather(ctx, len(refs), func(j int) (err error) {
		p := chunkPath(paths[refs[j].record], refs[j].k)
		chunks[j], _, err = s.conn.Get(s.abs(p))
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for first := 0; first < len(refs); {
		i := refs[first].record
		m := manifests[i]
		joined, err := m.join(chunks[first : first+m.chunks])
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", paths[i], err)
		}
		data[i] = joined
		first += m.chunks
	}
	return data, nil
}

// AppVersions implements state.Store.
func (s *Store) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, kindApps, id)
}

// GroupVersions implements state.Store.
func (s *Store) GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, kindGroups, id)
}

// versions lists the version nodes of an app or group.
func (s *Store) versions(ctx context.Context, kind string, id marathon.PathID) ([]marathon.Timestamp, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var names []string
	err := s.retry(ctx, "list versions", func(ctx context.Context) error {
		if err := s.ready(ctx, false); err != nil {
			return err
		}
		var err error
		names, err = s.children(ctx, recordPath(kind, string(id)))
		if errors.Is(err, gozk.ErrNoNode) {
			names, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", id, err)
	}
	var out []marathon.Timestamp
	slices.Sort(names)
	for _, n := range names {
		if _, _, chunk := splitChunkName(n); chunk {
			continue
		}
		v, err := marathon.ParseTimestamp(n)
		if err != nil {
			return nil, fmt.Errorf("parse version %q of %s: %w", n, id, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// AppVersion implements state.Store.
func (s *Store) AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.App, bool, error) {
	var a marathon.App
	ok, err := s.version(ctx, kindApps, id, version, &a)
	return a, ok, err
}

// GroupVersion implements state.Store.
func (s *Store) GroupVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (state.Group, bool, error) {
	var g state.Group
	ok, err := s.version(ctx, kindGroups, id, version, &g)
	return g, ok, err
}

// version decodes one stored version into v.
func (s *Store) version(ctx context.Context, kind string, id marathon.PathID, version marathon.Timestamp, v any) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if version.IsZero() {
		return false, nil
	}
	var data []byte
	err := s.retry(ctx, "read version", func(ctx context.Context) error {
		if err := s.ready(ctx, false); err != nil {
			return err
		}
		d, err := s.readRecords(ctx, []string{recordPath(kind, string(id)) + "/" + version.String()})
		if err != nil {
			return err
		}
		data = d[0]
		return nil
	})
	if errors.Is(err, gozk.ErrNoNode) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s version %s: %w", id, version, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s version %s: %w", id, version, err)
	}
	return true, nil
}

// FrameworkID reads the stored framework id alone: the Mesos client asks
// for it on every subscription, and Load would read the whole state.
func (s *Store) FrameworkID(ctx context.Context) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	var id string
	err := s.retry(ctx, "load framework id", func(ctx context.Context) error {
		data, _, err := s.get(ctx, nodeFrameworkID)
		id = string(data)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("load framework id: %w", err)
	}
	return id, nil
}
