package zkstore

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// encoded is a Change with every put record encoded, so that Apply fails
// before it writes anything when a record cannot be encoded.
type encoded struct {
	frameworkID                        string
	apps, pods, groups                 []versioned
	deleteApps, deletePods             []string
	deleteGroups                       []string
	instances, deployments             []keyed
	deleteInstances, deleteDeployments []string
}

type versioned struct {
	id      string
	version string
	data    []byte
}

type keyed struct {
	id   string
	data []byte
}

// encode encodes the records of c as the bolt store does: apps with
// marathon.CanonicalJSON, the rest with encoding/json.
func encode(c state.Change) (encoded, error) {
	e := encoded{
		frameworkID:       c.FrameworkID,
		deleteApps:        ids(c.DeleteApps),
		deletePods:        ids(c.DeletePods),
		deleteGroups:      ids(c.DeleteGroups),
		deleteInstances:   c.DeleteInstances,
		deleteDeployments: c.DeleteDeployments,
	}
	for _, a := range c.PutApps {
		b, err := marathon.CanonicalJSON(a)
		if err != nil {
			return e, fmt.Errorf("encode app %s: %w", a.ID, err)
		}
		e.apps = append(e.apps, versioned{string(a.ID), a.Version.String(), b})
	}
	for _, p := range c.PutPods {
		b, err := json.Marshal(p)
		if err != nil {
			return e, fmt.Errorf("encode pod %s: %w", p.ID, err)
		}
		e.pods = append(e.pods, versioned{string(p.ID), p.Version.String(), b})
	}
	for _, g := range c.PutGroups {
		b, err := json.Marshal(g)
		if err != nil {
			return e, fmt.Errorf("encode group %s: %w", g.ID, err)
		}
		e.groups = append(e.groups, versioned{string(g.ID), g.Version.String(), b})
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

func ids(p []marathon.PathID) []string {
	out := make([]string, len(p))
	for i, id := range p {
		out[i] = string(id)
	}
	return out
}

// compile resolves a Change against the index into a plan: the final
// content of every node the Change touches, nil for a node that must not
// exist. It follows the bolt store step by step (deletes first, then puts
// in order, trimming versions after each put), so both stores keep the
// same versions.
func (x *index) compile(e encoded, maxVersions int) map[string][]byte {
	nodes := map[string][]byte{}
	drafts := map[string]map[string]bool{} // version names, as the Change goes
	draft := func(node string) map[string]bool {
		if d, ok := drafts[node]; ok {
			return d
		}
		d := map[string]bool{}
		if h := x.hist[node]; h != nil {
			maps.Copy(d, h.versions)
		}
		drafts[node] = d
		return d
	}
	if e.frameworkID != "" {
		nodes[nodeFrameworkID] = []byte(e.frameworkID)
	}
	deleteVersioned := func(kind string, ids []string) {
		for _, id := range ids {
			node := recordPath(kind, id)
			d := draft(node)
			for v := range d {
				nodes[node+"/"+v] = nil
			}
			clear(d)
			nodes[node] = nil
		}
	}
	deleteVersioned(kindApps, e.deleteApps)
	deleteVersioned(kindPods, e.deletePods)
	deleteVersioned(kindGroups, e.deleteGroups)
	for _, id := range e.deleteInstances {
		nodes[recordPath(kindInstances, id)] = nil
	}
	for _, id := range e.deleteDeployments {
		nodes[recordPath(kindDeployments, id)] = nil
	}
	putVersioned := func(kind string, puts []versioned) {
		for _, p := range puts {
			node := recordPath(kind, p.id)
			d := draft(node)
			d[p.version] = true
			nodes[node+"/"+p.version] = p.data
			nodes[node] = []byte(p.version)
			for _, old := range state.TrimVersions(slices.Sorted(maps.Keys(d)), p.version, maxVersions) {
				delete(d, old)
				nodes[node+"/"+old] = nil
			}
		}
	}
	putVersioned(kindApps, e.apps)
	putVersioned(kindPods, e.pods)
	putVersioned(kindGroups, e.groups)
	for _, in := range e.instances {
		nodes[recordPath(kindInstances, in.id)] = in.data
	}
	for _, d := range e.deployments {
		nodes[recordPath(kindDeployments, d.id)] = d.data
	}
	return nodes
}

// opKind is what an op does to its node.
type opKind int

const (
	opCreate opKind = iota
	opSet
	opDelete
)

// op is one node write, at a path relative to Root/state.
type op struct {
	kind opKind
	path string
	data []byte
}

// maxDepth is deeper than any node of the layout.
const maxDepth = 16

// phase orders ops so that a parent is created before its children and
// deleted after them: creates and sets by depth, then deletes, deepest
// first. Ops of one phase are independent of each other.
func (o op) phase() int {
	if o.kind == opDelete {
		return 2*maxDepth - depth(o.path)
	}
	return depth(o.path)
}

// diff turns a plan into the ops that make the nodes hold it, given what
// the index knows exists: a create or set per node and chunk, deletes for
// nodes and chunks no longer wanted, and the buckets new records need.
// The ops are sorted by phase, then path.
func (x *index) diff(nodes map[string][]byte, chunk int) []op {
	var ops []op
	newBuckets := map[string]bool{}
	for p, data := range nodes {
		old, exists := x.nodes[p]
		if data == nil {
			if !exists {
				continue
			}
			ops = append(ops, op{kind: opDelete, path: p})
			for k := 1; k <= old; k++ {
				ops = append(ops, op{kind: opDelete, path: chunkPath(p, k)})
			}
			continue
		}
		head, chunks := split(data, chunk)
		kind := opSet
		if !exists {
			kind = opCreate
		}
		ops = append(ops, op{kind: kind, path: p, data: head})
		for k := 1; k <= max(len(chunks), old); k++ {
			switch {
			case k <= len(chunks) && k <= old:
				ops = append(ops, op{kind: opSet, path: chunkPath(p, k), data: chunks[k-1]})
			case k <= len(chunks):
				ops = append(ops, op{kind: opCreate, path: chunkPath(p, k), data: chunks[k-1]})
			default:
				ops = append(ops, op{kind: opDelete, path: chunkPath(p, k)})
			}
		}
		if sh := shape(p); !exists && (sh == shapeRecord || sh == shapeContainer) {
			if b := parent(p); !x.buckets[b] && !newBuckets[b] {
				newBuckets[b] = true
				ops = append(ops, op{kind: opCreate, path: b})
			}
		}
	}
	slices.SortFunc(ops, func(a, b op) int {
		return cmp.Or(cmp.Compare(a.phase(), b.phase()), cmp.Compare(a.path, b.path))
	})
	return ops
}

// worldACL is the ACL of every node the store creates.
var worldACL = gozk.WorldACL(gozk.PermAll)

// request turns an op into a request for Multi.
func (s *Store) request(o op) any {
	p := s.abs(o.path)
	switch o.kind {
	case opCreate:
		return &gozk.CreateRequest{Path: p, Data: o.data, Acl: worldACL}
	case opSet:
		return &gozk.SetDataRequest{Path: p, Data: o.data, Version: -1}
	default:
		return &gozk.DeleteRequest{Path: p, Version: -1}
	}
}

// multiOverhead is the size of a multi without its operations: the length
// prefix, the request header (xid, opcode) and the closing multi header.
const multiOverhead = 4 + 8 + 9

// requestSize is the size of a request inside a multi as the client
// encodes it (jute: int32 lengths before strings, byte arrays and
// vectors): a 9-byte multi header (type, done, err) and the request.
func requestSize(r any) int {
	const header = 9
	str := func(s string) int { return 4 + len(s) }
	switch r := r.(type) {
	case *gozk.CreateRequest:
		acl := 4
		for _, a := range r.Acl {
			acl += 4 + str(a.Scheme) + str(a.ID)
		}
		return header + str(r.Path) + 4 + len(r.Data) + acl + 4
	case *gozk.SetDataRequest:
		return header + str(r.Path) + 4 + len(r.Data) + 4
	case *gozk.DeleteRequest:
		return header + str(r.Path) + 4
	case *gozk.CheckVersionRequest:
		return header + str(r.Path) + 4
	}
	panic(fmt.Sprintf("zkstore: no size for request %T", r))
}

// multiSize is the size of a multi of these requests.
func multiSize(reqs []any) int {
	n := multiOverhead
	for _, r := range reqs {
		n += requestSize(r)
	}
	return n
}

// pack splits reqs, in order, into multis of at most limit bytes, each
// starting with the requests in head (the checks every write carries).
func pack(head, reqs []any, limit int) [][]any {
	var (
		out  [][]any
		cur  []any
		size int
	)
	headSize := multiSize(head)
	for _, r := range reqs {
		n := requestSize(r)
		if cur != nil && size+n > limit {
			out = append(out, cur)
			cur = nil
		}
		if cur == nil {
			cur = slices.Clone(head)
			size = headSize
		}
		cur = append(cur, r)
		size += n
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}
