package zkstore

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Node names under <Root>/state; doc.go shows the whole layout. Paths inside
// the package are relative to <Root>/state ("instances/3f/web.instance-1").
const (
	nodeSchema      = "schema"
	nodeCommit      = "commit"
	nodeFrameworkID = "framework-id"
	dirTxn          = "txn"

	kindApps        = "apps"
	kindPods        = "pods"
	kindGroups      = "groups"
	kindInstances   = "instances"
	kindDeployments = "deployments"
)

// kinds are the record directories, each split into buckets.
// Open creates a missing one (pods came later within the same schema).
var kinds = []string{kindApps, kindPods, kindGroups, kindInstances, kindDeployments}

// versionedKind reports whether a kind keeps versions (apps, pods, groups).
func versionedKind(kind string) bool {
	return kind == kindApps || kind == kindPods || kind == kindGroups
}

// schemaVersion is the layout written by this package; Open refuses others.
const schemaVersion = "1"

// bucketCount is the number of buckets per kind. A bucket's children list is
// one ZooKeeper reply, so it must not grow with the cluster into a reply of
// a megabyte: 100,000 instances make 400 names (~30 KB) per bucket. Changing
// it changes the layout (schemaVersion).
const bucketCount = 256

// chunkSep separates a record's node name from the number of one of its
// chunks ("<name>~1"). escape never emits it and versions never hold it.
const chunkSep = "~"

// escape encodes an id as one node name: the bytes A-Z a-z 0-9 . _ - stay,
// every other byte becomes %XX (upper-case hex), which url.PathUnescape
// reads back. "/prod/web" is "%2Fprod%2Fweb"; "prod_web.instance-1" stays as
// it is. The names "." and "..", which ZooKeeper refuses, are escaped whole.
func escape(id string) string {
	var b strings.Builder
	b.Grow(len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	s := b.String()
	if s == "." || s == ".." {
		return strings.Repeat("%2E", len(s))
	}
	return s
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// bucket names the bucket of an id: two hex digits of its FNV-1a hash.
func bucket(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%02x", h.Sum32()%bucketCount)
}

// recordPath is the node of an id of a kind: an instance or deployment
// record, or the node of an app or group whose children are its versions.
func recordPath(kind, id string) string {
	return kind + "/" + bucket(id) + "/" + escape(id)
}

// chunkPath is the node of chunk k (from 1) of the record at p.
func chunkPath(p string, k int) string {
	return p + chunkSep + strconv.Itoa(k)
}

// splitChunkName parses "<name>~<k>"; ok is false for a record's own name.
func splitChunkName(name string) (base string, k int, ok bool) {
	base, num, found := strings.Cut(name, chunkSep)
	if !found {
		return name, 0, false
	}
	k, err := strconv.Atoi(num)
	if err != nil || k < 1 {
		return name, 0, false
	}
	return base, k, true
}

// pathShape tells what a relative path names.
type pathShape int

const (
	shapeOther     pathShape = iota // fixed nodes, kinds, buckets, txn pieces
	shapeRecord                     // an instance or deployment record
	shapeContainer                  // an app's or group's node: the current version
	shapeVersion                    // one version of an app or group
)

// shape classifies a relative path of a record kind.
func shape(p string) pathShape {
	segs := strings.Split(p, "/")
	switch {
	case len(segs) == 3 && (segs[0] == kindInstances || segs[0] == kindDeployments):
		return shapeRecord
	case len(segs) == 3 && versionedKind(segs[0]):
		return shapeContainer
	case len(segs) == 4 && versionedKind(segs[0]):
		return shapeVersion
	}
	return shapeOther
}

// parent returns the path above p ("" for a top-level node).
func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// depth counts the segments of a relative path.
func depth(p string) int {
	return strings.Count(p, "/") + 1
}
