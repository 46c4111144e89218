package zkstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// commitRecord is the content of the commit node. Every committed write
// sets it, so its znode version counts commits: Load compares it before and
// after reading, and every write names the version it expects.
type commitRecord struct {
	// Token names the last committed Apply, so that an Apply whose answer
	// was lost learns on its next try that it committed.
	Token string `json:"token,omitempty"`
	// Pending is a committed large Change not yet written to its nodes.
	Pending *txnRef `json:"pending,omitempty"`
}

// txnRef describes the write-ahead record of a large Change: the pieces
// txn/<token>-0 ... txn/<token>-<pieces-1>, concatenated.
type txnRef struct {
	Pieces int    `json:"pieces"`
	Bytes  int    `json:"bytes"`
	CRC    uint32 `json:"crc32"`
}

// commitState is the commit record and its znode version.
type commitState struct {
	commitRecord
	version int32
}

// history is what the index knows of an app or group: its current version
// and the names of its stored versions.
type history struct {
	current  string
	versions map[string]bool
}

// index is the store's picture of the nodes under Root/state, so that a
// write knows which nodes to create and which to set, and Load knows which
// nodes to read without listing them. It is rebuilt from ZooKeeper when it
// may be stale: at Open, after a lost answer, after another writer.
type index struct {
	commit  commitState
	buckets map[string]bool     // "instances/3f"
	nodes   map[string]int      // record, app, group and version nodes → number of chunks
	hist    map[string]*history // by the app's or group's node
	txn     []string            // the children of txn
}

func newIndex() *index {
	return &index{buckets: map[string]bool{}, nodes: map[string]int{}, hist: map[string]*history{}}
}

// readCommit reads the commit node.
func (s *Store) readCommit(ctx context.Context) (commitState, error) {
	data, stat, err := s.get(ctx, nodeCommit)
	if err != nil {
		return commitState{}, fmt.Errorf("read commit record: %w", err)
	}
	c := commitState{version: stat.Version}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &c.commitRecord); err != nil {
			return commitState{}, fmt.Errorf("decode commit record: %w", err)
		}
	}
	return c, nil
}

// rebuild lists the nodes under Root/state into a new index: the commit
// node, the kinds and txn, then every bucket, then every app's and group's
// node and versions, each level pipelined.
func (s *Store) rebuild(ctx context.Context) (*index, error) {
	// A new session may be served by a follower behind the leader; sync
	// makes it catch up, so that a new leader reads all its predecessor
	// wrote.
	err := s.gather(ctx, 1, func(int) error {
		_, err := s.conn.Sync(s.base)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sync with the zookeeper leader: %w", err)
	}
	x := newIndex()
	c, err := s.readCommit(ctx)
	if err != nil {
		return nil, err
	}
	x.commit = c
	x.nodes[nodeFrameworkID] = 0 // created by Open, never deleted

	dirs := append(slices.Clone(kinds), dirTxn)
	lists, err := s.listAll(ctx, dirs)
	if err != nil {
		return nil, err
	}
	x.txn = lists[len(kinds)]
	var buckets []string
	for i, kind := range kinds {
		for _, b := range lists[i] {
			buckets = append(buckets, kind+"/"+b)
			x.buckets[kind+"/"+b] = true
		}
	}

	names, err := s.listAll(ctx, buckets)
	if err != nil {
		return nil, err
	}
	var containers []string
	for i, b := range buckets {
		x.addNames(b, names[i])
		if kind, _, _ := strings.Cut(b, "/"); versionedKind(kind) {
			for _, n := range names[i] {
				containers = append(containers, b+"/"+n)
			}
		}
	}

	current := make([][]byte, len(containers))
	versions := make([][]string, len(containers))
	err = s.gather(ctx, 2*len(containers), func(i int) (err error) {
		p := s.abs(containers[i/2])
		if i%2 == 0 {
			current[i/2], _, err = s.conn.Get(p)
		} else {
			versions[i/2], _, err = s.conn.Children(p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	for i, p := range containers {
		h := &history{current: string(current[i]), versions: map[string]bool{}}
		for _, n := range versions[i] {
			if _, _, chunk := splitChunkName(n); !chunk {
				h.versions[n] = true
			}
		}
		x.hist[p] = h
		x.addNames(p, versions[i])
	}
	return x, nil
}

// listAll lists the children of every path, pipelined.
func (s *Store) listAll(ctx context.Context, paths []string) ([][]string, error) {
	out := make([][]string, len(paths))
	err := s.gather(ctx, len(paths), func(i int) (err error) {
		out[i], _, err = s.conn.Children(s.abs(paths[i]))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return out, nil
}

// addNames records the children of dir: records and their chunks.
func (x *index) addNames(dir string, names []string) {
	for _, n := range names {
		base, k, chunk := splitChunkName(n)
		p := dir + "/" + base
		if chunk {
			x.nodes[p] = max(x.nodes[p], k)
		} else if _, ok := x.nodes[p]; !ok {
			x.nodes[p] = 0
		}
	}
}

// apply records that the nodes now hold what a plan wrote (nil: deleted).
func (x *index) apply(nodes map[string][]byte, chunk int) {
	for _, p := range slices.Sorted(maps.Keys(nodes)) {
		data := nodes[p]
		sh := shape(p)
		if data == nil {
			delete(x.nodes, p)
			switch sh {
			case shapeContainer:
				delete(x.hist, p)
			case shapeVersion:
				if h := x.hist[parent(p)]; h != nil {
					delete(h.versions, p[len(parent(p))+1:])
				}
			}
			continue
		}
		x.nodes[p] = chunkCount(data, chunk)
		switch sh {
		case shapeRecord:
			x.buckets[parent(p)] = true
		case shapeContainer:
			x.buckets[parent(p)] = true
			x.history(p).current = string(data)
		case shapeVersion:
			x.history(parent(p)).versions[p[len(parent(p))+1:]] = true
		}
	}
}

// history returns the history of an app's or group's node, creating it.
func (x *index) history(node string) *history {
	h := x.hist[node]
	if h == nil {
		h = &history{versions: map[string]bool{}}
		x.hist[node] = h
	}
	return h
}

// records lists the record nodes of a kind, sorted.
func (x *index) records(kind string) []string {
	var out []string
	for p := range x.nodes {
		if strings.HasPrefix(p, kind+"/") && shape(p) == shapeRecord {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
