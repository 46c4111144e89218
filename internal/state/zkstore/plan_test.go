package zkstore

import (
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	gozk "github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/testenv"
)

// testChunk is the chunk size of the plan tests: records over 16 bytes are
// chunked.
const testChunk = 16

var (
	inst   = recordPath(kindInstances, "web.instance-1")
	webApp = recordPath(kindApps, "/web")
	rootG  = recordPath(kindGroups, "/")
)

// stored returns an index of the given nodes, as after writing them.
func stored(nodes map[string][]byte) *index {
	x := newIndex()
	x.nodes[nodeFrameworkID] = 0
	x.apply(nodes, testChunk)
	return x
}

// show renders ops as "create path=data" lines.
func show(ops []op) []string {
	var out []string
	for _, o := range ops {
		s := [...]string{"create", "set", "delete"}[o.kind] + " " + o.path
		if o.kind != opDelete && o.data != nil {
			s += "=" + string(o.data)
		}
		out = append(out, s)
	}
	return out
}

func TestCompileDiff(t *testing.T) {
	big := strings.Repeat("x", 40) // 3 chunks of 16
	tests := []struct {
		name   string
		before map[string][]byte
		change encoded
		want   []string
	}{
		{
			name:   "new instance: bucket first",
			change: encoded{instances: []keyed{{"web.instance-1", []byte("{}")}}},
			want:   []string{"create " + parent(inst), "create " + inst + "={}"},
		},
		{
			name:   "known instance is set",
			before: map[string][]byte{inst: []byte("{}")},
			change: encoded{instances: []keyed{{"web.instance-1", []byte(`{"a":1}`)}}},
			want:   []string{"set " + inst + `={"a":1}`},
		},
		{
			name:   "deleting a chunked instance deletes its chunks",
			before: map[string][]byte{inst: []byte(big)},
			change: encoded{deleteInstances: []string{"web.instance-1", "absent"}},
			want:   []string{"delete " + inst, "delete " + inst + "~1", "delete " + inst + "~2", "delete " + inst + "~3"},
		},
		{
			name:   "delete then put of one id: the put",
			before: map[string][]byte{inst: []byte("{}")},
			change: encoded{deleteInstances: []string{"web.instance-1"}, instances: []keyed{{"web.instance-1", []byte("{2}")}}},
			want:   []string{"set " + inst + "={2}"},
		},
		{
			name:   "record grows into chunks",
			before: map[string][]byte{inst: []byte("{}")},
			change: encoded{instances: []keyed{{"web.instance-1", []byte(big)}}},
			want: []string{
				fmt.Sprintf("set %s=chunks 3 40 %08x", inst, crc(big)),
				"create " + inst + "~1=" + big[:16], "create " + inst + "~2=" + big[16:32], "create " + inst + "~3=" + big[32:],
			},
		},
		{
			name:   "record shrinks out of chunks",
			before: map[string][]byte{inst: []byte(big)},
			change: encoded{instances: []keyed{{"web.instance-1", []byte("{}")}}},
			want:   []string{"set " + inst + "={}", "delete " + inst + "~1", "delete " + inst + "~2", "delete " + inst + "~3"},
		},
		{
			name:   "new app: bucket, app node, version",
			change: encoded{apps: []versioned{{"/web", "v1", []byte("{1}")}}},
			want:   []string{"create " + parent(webApp), "create " + webApp + "=v1", "create " + webApp + "/v1={1}"},
		},
		{
			name:   "new version beyond the limit drops the oldest",
			before: map[string][]byte{webApp: []byte("v2"), webApp + "/v1": []byte("{1}"), webApp + "/v2": []byte("{2}")},
			change: encoded{apps: []versioned{{"/web", "v3", []byte("{3}")}}},
			want:   []string{"set " + webApp + "=v3", "create " + webApp + "/v3={3}", "delete " + webApp + "/v1"},
		},
		{
			name:   "versions put and trimmed in one change are never written",
			before: map[string][]byte{webApp: []byte("v2"), webApp + "/v1": []byte("{1}"), webApp + "/v2": []byte("{2}")},
			change: encoded{apps: []versioned{{"/web", "v3", []byte("{3}")}, {"/web", "v4", []byte("{4}")}, {"/web", "v5", []byte("{5}")}}},
			want: []string{
				"set " + webApp + "=v5", "create " + webApp + "/v4={4}", "create " + webApp + "/v5={5}",
				"delete " + webApp + "/v1", "delete " + webApp + "/v2",
			},
		},
		{
			name:   "deleted app: versions before the app node",
			before: map[string][]byte{webApp: []byte("v2"), webApp + "/v1": []byte("{1}"), webApp + "/v2": []byte(big)},
			change: encoded{deleteApps: []string{"/web"}},
			want: []string{
				"delete " + webApp + "/v1", "delete " + webApp + "/v2",
				"delete " + webApp + "/v2~1", "delete " + webApp + "/v2~2", "delete " + webApp + "/v2~3",
				"delete " + webApp,
			},
		},
		{
			name:   "delete and put of one app keeps only the new version",
			before: map[string][]byte{webApp: []byte("v1"), webApp + "/v1": []byte("{1}")},
			change: encoded{deleteApps: []string{"/web"}, apps: []versioned{{"/web", "v2", []byte("{2}")}}},
			want:   []string{"set " + webApp + "=v2", "create " + webApp + "/v2={2}", "delete " + webApp + "/v1"},
		},
		{
			name:   "root group and framework id",
			change: encoded{frameworkID: "fw-1", groups: []versioned{{"/", "v1", []byte("{g}")}}},
			want:   []string{"set framework-id=fw-1", "create " + parent(rootG), "create " + rootG + "=v1", "create " + rootG + "/v1={g}"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := stored(tc.before)
			nodes := x.compile(tc.change, 2)
			if diff := cmp.Diff(tc.want, show(x.diff(nodes, testChunk))); diff != "" {
				t.Errorf("ops (-want +got):\n%s", diff)
			}
			// Once written, the index knows the nodes: the same plan
			// again only sets.
			x.apply(nodes, testChunk)
			for _, o := range x.diff(nodes, testChunk) {
				if o.kind != opSet {
					t.Errorf("after apply, the plan still needs %s", show([]op{o}))
				}
			}
		})
	}
}

func crc(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

func TestPack(t *testing.T) {
	s := &Store{base: "/stadion/state"}
	head := []any{&gozk.CheckVersionRequest{Path: "/stadion/state/commit", Version: 7}}
	var ops []op
	for i := range 100 {
		ops = append(ops, op{kind: opKind(i % 3), path: fmt.Sprintf("instances/%02x/web.instance-%d", i, i), data: make([]byte, i*10)})
	}
	reqs := s.requests(ops)
	const limit = 4096
	batches := pack(head, reqs, limit)
	var got []any
	for i, b := range batches {
		if size := multiSize(b); size > limit {
			t.Errorf("batch %d: %d bytes, limit %d", i, size, limit)
		}
		if b[0] != head[0] {
			t.Errorf("batch %d does not start with the head", i)
		}
		if i > 0 && multiSize(append(slices.Clone(batches[i-1]), b[1])) <= limit {
			t.Errorf("batch %d: its first request fitted in batch %d", i, i-1)
		}
		got = append(got, b[1:]...)
	}
	if len(got) != len(reqs) {
		t.Fatalf("%d requests in the batches, want %d", len(got), len(reqs))
	}
	for i := range reqs {
		if got[i] != reqs[i] {
			t.Fatalf("request %d out of order", i)
		}
	}
}

// TestRequestSize checks requestSize against a server: ZooKeeper accepts a
// request of exactly jute.maxbuffer bytes (1 MiB - 1 by default; the
// length prefix does not count) and drops the connection for one byte
// more. A size computed too small or too large fails one of the two.
func TestRequestSize(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	conn := rawConn(t, z.Servers())
	const juteMaxBuffer = 1<<20 - 1
	multiOf := func(p string, extra int) []any {
		create := &gozk.CreateRequest{Path: p, Acl: worldACL}
		create.Data = make([]byte, juteMaxBuffer+4-multiSize([]any{create})+extra)
		reqs := []any{create}
		if got := multiSize(reqs) - 4; got != juteMaxBuffer+extra {
			t.Fatalf("multi of %d bytes, want %d", got, juteMaxBuffer+extra)
		}
		return reqs
	}
	if _, err := conn.Multi(multiOf("/fits", 0)...); err != nil {
		t.Fatalf("multi of jute.maxbuffer bytes: %v", err)
	}
	if _, err := conn.Multi(multiOf("/too-large", 1)...); err == nil {
		t.Fatal("multi of jute.maxbuffer+1 bytes succeeded")
	}
	waitUntil(t, "a new session", func() bool { return conn.State() == gozk.StateHasSession })
	if ok, _, err := conn.Exists("/too-large"); err != nil || ok {
		t.Errorf("Exists(/too-large) = %v, %v; want false", ok, err)
	}
}
