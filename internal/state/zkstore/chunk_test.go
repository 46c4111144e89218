package zkstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/testenv"
)

func TestSplitJoin(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		chunks int
	}{
		{name: "empty", size: 0},
		{name: "fits", size: 1000},
		{name: "exactly one chunk", size: 1024},
		{name: "one byte over", size: 1025, chunks: 2},
		{name: "many", size: 10*1024 + 7, chunks: 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			for i := range data {
				data[i] = byte('a' + i%26)
			}
			head, chunks := split(data, 1024)
			if len(chunks) != tc.chunks || chunkCount(data, 1024) != tc.chunks {
				t.Fatalf("split: %d chunks, chunkCount %d; want %d", len(chunks), chunkCount(data, 1024), tc.chunks)
			}
			m, ok, err := parseManifest(head)
			if err != nil {
				t.Fatal(err)
			}
			if tc.chunks == 0 {
				if ok || !bytes.Equal(head, data) {
					t.Fatalf("a record that fits is stored as it is; got manifest %v, head %q", ok, head)
				}
				return
			}
			if !ok {
				t.Fatalf("head %q is not a manifest", head)
			}
			for _, c := range chunks {
				if len(c) > 1024 {
					t.Errorf("chunk of %d bytes", len(c))
				}
			}
			got, err := m.join(chunks)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("join = %d bytes, %v; want the %d bytes back", len(got), err, len(data))
			}
		})
	}
}

func TestJoinDetectsDamage(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 300)
	head, chunks := split(data, 1024)
	m, _, err := parseManifest(head)
	if err != nil {
		t.Fatal(err)
	}
	changed := [][]byte{chunks[0], append([]byte("X"), chunks[1][1:]...), chunks[2]}
	tests := []struct {
		name   string
		chunks [][]byte
	}{
		{name: "missing chunk", chunks: chunks[:2]},
		{name: "changed byte", chunks: changed},
		{name: "short chunk", chunks: [][]byte{chunks[0], chunks[1], chunks[2][:10]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.join(tc.chunks); !errors.Is(err, errChunks) {
				t.Errorf("join = %v, want errChunks", err)
			}
		})
	}
	if _, _, err := parseManifest([]byte("chunks x")); !errors.Is(err, errChunks) {
		t.Errorf("parseManifest of a bad manifest = %v, want errChunks", err)
	}
}

// TestChunkedGroup stores a root group of 20,000 apps (a record of about
// 900 KB, more than one multi) and reads it back, and checks that every
// node stays within the chunk size.
func TestChunkedGroup(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	s := openConfig(t, testConfig(t, z, newRoot()))
	apps := map[marathon.PathID]marathon.Timestamp{}
	for i := range 20000 {
		apps[marathon.PathID(fmt.Sprintf("/team-%02d/app-%05d", i%50, i))] = ts(i % 100)
	}
	root := state.Group{ID: marathon.RootID, Version: ts(1), Apps: apps}
	record, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(t.Context(), state.Change{PutGroups: []state.Group{root}}); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		g, ok, err := s.GroupVersion(t.Context(), marathon.RootID, ts(1))
		if err != nil || !ok {
			t.Fatalf("GroupVersion = ok %v, %v", ok, err)
		}
		if diff := cmp.Diff(root, g); diff != "" {
			t.Errorf("GroupVersion (-want +got):\n%s", diff)
		}
		snap, err := s.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Groups) != 1 || len(snap.Groups[0].Apps) != len(apps) {
			t.Fatalf("Load: %d groups", len(snap.Groups))
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openConfig(t, testConfig(t, z, s.root()))
	check(s)

	nodes := walk(t, rawConn(t, z.Servers()), s.base)
	chunks := 0
	for p, d := range nodes {
		if len(d) > s.chunk {
			t.Errorf("%s holds %d bytes", p, len(d))
		}
		if strings.Contains(p, chunkSep) {
			chunks++
		}
	}
	if want := chunkCount(record, s.chunk); chunks != want || want < 3 {
		t.Errorf("%d chunk nodes for a record of %d bytes, want %d", chunks, len(record), want)
	}

	// A small new version, then the group's deletion, remove the chunks.
	small := state.Group{ID: marathon.RootID, Version: ts(2)}
	if err := s.Apply(t.Context(), state.Change{PutGroups: []state.Group{small}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(t.Context(), state.Change{DeleteGroups: []marathon.PathID{marathon.RootID}}); err != nil {
		t.Fatal(err)
	}
	for p := range walk(t, rawConn(t, z.Servers()), s.base) {
		if strings.HasPrefix(p, s.base+"/groups/") && strings.Count(p, "/") > strings.Count(s.base, "/")+2 {
			t.Errorf("%s is left after the group's deletion", p)
		}
	}
}

// TestChunkedRecords stores an app version and an instance larger than the
// chunk size of 1 KiB requests and reads them back.
func TestChunkedRecords(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	cfg := testConfig(t, z, newRoot())
	cfg.MaxRequestBytes = minRequestBytes
	s := openConfig(t, cfg)
	web := testApp("/web", ts(1))
	web.Labels = map[string]string{"note": strings.Repeat("x", 2000)}
	in := testInstance("/web", ts(1), "1")
	in.Message = strings.Repeat("y", 3000)
	if err := s.Apply(t.Context(), state.Change{PutApps: []marathon.App{web}, PutInstances: []state.Instance{in}}); err != nil {
		t.Fatal(err)
	}
	nodes := walk(t, rawConn(t, z.Servers()), s.base)
	for _, p := range []string{
		s.abs(recordPath(kindApps, "/web")) + "/" + ts(1).String() + "~5",
		s.abs(recordPath(kindInstances, in.ID)) + "~6",
	} {
		if _, ok := nodes[p]; !ok {
			t.Errorf("no chunk node %s", p)
		}
	}
	for p, d := range nodes {
		if len(d) > s.chunk {
			t.Errorf("%s holds %d bytes, chunk size %d", p, len(d), s.chunk)
		}
	}
	a, ok, err := s.AppVersion(t.Context(), "/web", ts(1))
	if err != nil || !ok {
		t.Fatalf("AppVersion = ok %v, %v", ok, err)
	}
	if diff := cmp.Diff(web, a, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("AppVersion (-want +got):\n%s", diff)
	}
	checkSnapshot(t, state.Snapshot{Apps: []marathon.App{web}, Instances: []state.Instance{in}}, load(t, s))
}
