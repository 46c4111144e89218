package zkstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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
	for _, r := range snap.SetAside {
		s.log.Warn("record set aside", "kind", r.Kind, "id", r.ID, "version", r.Version, "where", r.Where, "error", r.Error)
	}
	return snap, nil
}

// Raw returns the stored bytes of a record, as Load or a DecodeError
// named it, for `stadion state export`: the record put together from its
// chunks (those that can be read, when it is damaged); nil when it is
// gone.
func (s *Store) Raw(ctx context.Context, r state.SetAside) ([]byte, error) {
	p, ok := strings.CutPrefix(r.Where, s.base+"/")
	if !ok {
		return nil, fmt.Errorf("read %s: not under %s", r.Where, s.base)
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var data []byte
	err := s.retry(ctx, "read record", func(ctx context.Context) error {
		d, _, err := s.readRecords(ctx, []string{p})
		if err != nil {
			return err
		}
		data = d[0]
		return nil
	})
	if errors.Is(err, gozk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.Where, err)
	}
	return data, nil
}

// read reads the records the index names. A record that cannot be read
// whole (a damaged chunk manifest or chunk) or decoded is set aside: left
// in place, logged by Load and listed in Snapshot.SetAside.
func (s *Store) read(ctx context.Context) (state.Snapshot, error) {
	x := s.idx
	var snap state.Snapshot
	apps, set := s.currentVersions(x, kindApps)
	snap.SetAside = append(snap.SetAside, set...)
	pods, set := s.currentVersions(x, kindPods)
	snap.SetAside = append(snap.SetAside, set...)
	groups, set := s.currentVersions(x, kindGroups)
	snap.SetAside = append(snap.SetAside, set...)
	instances, deployments := x.records(kindInstances), x.records(kindDeployments)
	paths := slices.Concat([]string{nodeFrameworkID}, apps, pods, groups, instances, deployments)
	data, bad, err := s.readRecords(ctx, paths)
	if err != nil {
		return state.Snapshot{}, err
	}
	snap.FrameworkID = string(data[0])
	paths, data, bad = paths[1:], data[1:], bad[1:]
	take := func(n int) loaded {
		l := loaded{s: s, paths: paths[:n], data: data[:n], bad: bad[:n]}
		paths, data, bad = paths[n:], data[n:], bad[n:]
		return l
	}
	snap.Apps, set = decodeAll[marathon.App](take(len(apps)))
	snap.SetAside = append(snap.SetAside, set...)
	snap.Pods, set = decodeAll[marathon.Pod](take(len(pods)))
	snap.SetAside = append(snap.SetAside, set...)
	snap.Groups, set = decodeAll[state.Group](take(len(groups)))
	snap.SetAside = append(snap.SetAside, set...)
	snap.Instances, set = decodeAll[state.Instance](take(len(instances)))
	snap.SetAside = append(snap.SetAside, set...)
	snap.Deployments, set = decodeAll[state.Deployment](take(len(deployments)))
	snap.SetAside = append(snap.SetAside, set...)
	slices.SortFunc(snap.Apps, func(a, b marathon.App) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Pods, func(a, b marathon.Pod) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Groups, func(a, b state.Group) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Instances, func(a, b state.Instance) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Deployments, func(a, b state.Deployment) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.SetAside, func(a, b state.SetAside) int { return cmp.Compare(a.Where, b.Where) })
	return snap, nil
}

// loaded is records read for decoding: their paths, bytes and the error
// that kept each from being read whole (nil when it was).
type loaded struct {
	s     *Store
	paths []string
	data  [][]byte
	bad   []error
}

// currentVersions lists the current version node of every app or group;
// one whose current version is not stored is set aside.
func (s *Store) currentVersions(x *index, kind string) ([]string, []state.SetAside) {
	var (
		out []string
		set []state.SetAside
	)
	for node, h := range x.hist {
		if !strings.HasPrefix(node, kind+"/") {
			continue
		}
		if h.current == "" || !h.versions[h.current] {
			r := s.record(node)
			r.Version, r.Error = h.current, fmt.Sprintf("current version %q is not stored", h.current)
			set = append(set, r)
			continue
		}
		out = append(out, node+"/"+h.current)
	}
	slices.Sort(out)
	return out, set
}

// record names the record at a relative path: its kind, id and version.
func (s *Store) record(p string) state.SetAside {
	segs := strings.Split(p, "/")
	r := state.SetAside{Where: s.abs(p)}
	switch segs[0] {
	case kindApps:
		r.Kind = state.KindApp
	case kindPods:
		r.Kind = state.KindPod
	case kindGroups:
		r.Kind = state.KindGroup
	case kindInstances:
		r.Kind = state.KindInstance
	case kindDeployments:
		r.Kind = state.KindDeployment
	}
	if len(segs) >= 3 {
		r.ID = segs[2]
		if id, err := url.PathUnescape(segs[2]); err == nil {
			r.ID = id
		}
	}
	if len(segs) >= 4 {
		r.Version = segs[3]
	}
	return r
}

// decodeAll decodes the records that were read whole, setting aside
// the others and those that do not decode.
func decodeAll[T any](l loaded) ([]T, []state.SetAside) {
	var (
		out []T
		set []state.SetAside
	)
	for i, b := range l.data {
		err := l.bad[i]
		if err == nil {
			var x T
			if err = json.Unmarshal(b, &x); err == nil {
				out = append(out, x)
				continue
			}
			err = errors.New(state.DescribeDecodeError(err))
		}
		r := l.s.record(l.paths[i])
		r.Error = err.Error()
		set = append(set, r)
	}
	return out, set
}

// readRecords reads records, pipelined: each node, then the chunks of the
// chunked ones. bad[i] says why record i could not be put together from
// its chunks (a damaged manifest, a chunk missing or not matching its
// checksum); data[i] then holds what could be read, for export. err is
// for the requests that failed. A missing chunk is damage, not a
// concurrent delete: Load checks the commit node after reading.
func (s *Store) readRecords(ctx context.Context, paths []string) (data [][]byte, bad []error, err error) {
	data = make([][]byte, len(paths))
	bad = make([]error, len(paths))
	err = s.gather(ctx, len(paths), func(i int) (err error) {
		data[i], _, err = s.conn.Get(s.abs(paths[i]))
		if err != nil {
			return fmt.Errorf("read %s: %w", paths[i], err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	type chunkRef struct{ record, k int }
	var (
		refs      []chunkRef
		manifests = map[int]manifest{}
	)
	for i, d := range data {
		m, ok, err := parseManifest(d)
		if err != nil {
			bad[i] = err
			continue
		}
		if ok {
			manifests[i] = m
			for k := 1; k <= m.chunks; k++ {
				refs = append(refs, chunkRef{i, k})
			}
		}
	}
	if len(refs) == 0 {
		return data, bad, nil
	}
	chunks := make([][]byte, len(refs))
	missing := make([]bool, len(refs))
	err = s.gather(ctx, len(refs), func(j int) (err error) {
		p := chunkPath(paths[refs[j].record], refs[j].k)
		chunks[j], _, err = s.conn.Get(s.abs(p))
		if errors.Is(err, gozk.ErrNoNode) {
			missing[j] = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for first := 0; first < len(refs); {
		i := refs[first].record
		m := manifests[i]
		if k := slices.Index(missing[first:first+m.chunks], true); k >= 0 {
			bad[i] = fmt.Errorf("chunk %d of %d is missing", k+1, m.chunks)
		}
		joined, err := m.join(chunks[first : first+m.chunks])
		if bad[i] == nil && err != nil {
			bad[i] = err
		}
		if bad[i] != nil {
			joined = slices.Concat(chunks[first : first+m.chunks]...)
		}
		data[i] = joined
		first += m.chunks
	}
	return data, bad, nil
}

// AppVersions implements state.Store.
func (s *Store) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, kindApps, id)
}

// PodVersions implements state.Store.
func (s *Store) PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	return s.versions(ctx, kindPods, id)
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

// PodVersion implements state.Store.
func (s *Store) PodVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.Pod, bool, error) {
	var p marathon.Pod
	ok, err := s.version(ctx, kindPods, id, version, &p)
	return p, ok, err
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
	var (
		data []byte
		bad  error
	)
	p := recordPath(kind, string(id)) + "/" + version.String()
	err := s.retry(ctx, "read version", func(ctx context.Context) error {
		if err := s.ready(ctx, false); err != nil {
			return err
		}
		d, b, err := s.readRecords(ctx, []string{p})
		if err != nil {
			return err
		}
		data, bad = d[0], b[0]
		return nil
	})
	if errors.Is(err, gozk.ErrNoNode) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s version %s: %w", id, version, err)
	}
	if bad == nil {
		if err := json.Unmarshal(data, v); err != nil {
			bad = errors.New(state.DescribeDecodeError(err))
		}
	}
	if bad != nil {
		r := s.record(p)
		r.ID, r.Version, r.Error = string(id), version.String(), bad.Error()
		return false, &state.DecodeError{Record: r}
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

// ReadFrameworkID reads the framework id stored under root (the --zk
// path) through conn, without opening the store: a standby shows it in
// /v2/info, as Marathon's standbys read it from their store. "" when none
// is stored yet.
func ReadFrameworkID(conn *gozk.Conn, root string) (string, error) {
	data, _, err := conn.Get(root + "/state/" + nodeFrameworkID)
	if errors.Is(err, gozk.ErrNoNode) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load framework id: %w", err)
	}
	return string(data), nil
}
