package statetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// Target names a stored record for Damage: Version is set for apps and
// groups.
type Target struct {
	Kind    state.Kind
	ID      string
	Version marathon.Timestamp
}

// Damage overwrites the stored bytes of a record behind the store's back
// (as a bad disk, a hand edit or an older build would) and returns a
// store over the same data, reopened when the store must be closed for
// that; the returned store is closed in t.Cleanup.
type Damage func(t *testing.T, s state.Store, target Target, data []byte) state.Store

// RawReader is what stores offer `stadion state export` for the records
// they set aside.
type RawReader interface {
	Raw(ctx context.Context, r state.SetAside) ([]byte, error)
}

// secret stands for a secret inside a damaged record: it must not show up
// in what the store says about the record.
const secret = "hunter2-secret"

// damagedBytes is a record cut short, holding a secret.
var damagedBytes = []byte(`{"id": "x", "env": {"DB_PASSWORD": "` + secret + `"`)

// RunDamaged checks what a durable store does with records that cannot be
// decoded: Load sets them aside (lists them in Snapshot.SetAside without
// their contents, leaves them in the store) and loads the rest; an old
// version that cannot be decoded fails AppVersion with a state.DecodeError;
// Raw returns the stored bytes; writes go on, and deleting the app removes
// its damaged record. open returns a new, empty store as Run's does.
func RunDamaged(t *testing.T, open func(t *testing.T) state.Store, damage Damage) {
	s := open(t)
	web1, web2 := app("/web", ts(1), "v1"), app("/web", ts(2), "v2")
	db := app("/db", ts(1), "db")
	root := group("/", ts(2), map[marathon.PathID]marathon.Timestamp{"/web": ts(2), "/db": ts(1)})
	insts := instances("/web", ts(2), 0, 3)
	d1 := deployment("d1", "/web", ts(1), ts(2))
	d2 := deployment("d2", "/db", ts(1), ts(1))
	apply(t, s, state.Change{
		FrameworkID:    "fw-1",
		PutApps:        []marathon.App{web1, db},
		PutGroups:      []state.Group{root},
		PutInstances:   insts,
		PutDeployments: []state.Deployment{d1, d2},
	})
	apply(t, s, state.Change{PutApps: []marathon.App{web2}})

	targets := []Target{
		{Kind: state.KindApp, ID: "/db", Version: ts(1)},
		{Kind: state.KindApp, ID: "/web", Version: ts(1)}, // an old version
		{Kind: state.KindInstance, ID: insts[1].ID},
		{Kind: state.KindDeployment, ID: "d2"},
	}
	for _, tg := range targets {
		s = damage(t, s, tg, damagedBytes)
	}

	snap := load(t, s)
	want := sorted(state.Snapshot{
		FrameworkID: "fw-1",
		Apps:        []marathon.App{web2},
		Groups:      []state.Group{root},
		Instances:   []state.Instance{insts[0], insts[2]},
		Deployments: []state.Deployment{d1},
	})
	if diff := gocmp.Diff(want, snap, append(opts, cmpopts.IgnoreFields(state.Snapshot{}, "SetAside"))...); diff != "" {
		t.Errorf("Load with damaged records (-want +got):\n%s", diff)
	}
	type named struct {
		Kind        state.Kind
		ID, Version string
	}
	var got []named
	for _, r := range snap.SetAside {
		got = append(got, named{r.Kind, r.ID, r.Version})
		if r.Where == "" || r.Error == "" {
			t.Errorf("set aside %+v: want where and error", r)
		}
		if strings.Contains(r.String(), secret) {
			t.Errorf("set aside %s: shows the record's contents", r)
		}
	}
	wantSet := []named{
		{state.KindApp, "/db", ts(1).String()},
		{state.KindInstance, insts[1].ID, ""},
		{state.KindDeployment, "d2", ""},
	}
	byName := func(a, b named) bool { return a.Kind+state.Kind(a.ID) < b.Kind+state.Kind(b.ID) }
	if diff := gocmp.Diff(wantSet, got, cmpopts.SortSlices(byName)); diff != "" {
		t.Errorf("SetAside (-want +got):\n%s", diff)
	}

	// An old version that does not decode fails alone, naming itself.
	_, _, err := s.AppVersion(t.Context(), "/web", ts(1))
	var de *state.DecodeError
	if !errors.As(err, &de) || de.Record.Kind != state.KindApp || de.Record.ID != "/web" || de.Record.Version != ts(1).String() {
		t.Errorf("AppVersion of a damaged version: %v, want a DecodeError naming app /web %s", err, ts(1))
	} else if strings.Contains(err.Error(), secret) {
		t.Errorf("AppVersion error shows the record's contents: %v", err)
	}
	if vs, err := s.AppVersions(t.Context(), "/web"); err != nil || len(vs) != 2 {
		t.Errorf("AppVersions(/web) = %v, %v; want both versions, the damaged one kept", vs, err)
	}

	// The bytes stay in the store for export.
	if rr, ok := s.(RawReader); ok {
		for _, r := range append(snap.SetAside, de.Record) {
			raw, err := rr.Raw(t.Context(), r)
			if err != nil || string(raw) != string(damagedBytes) {
				t.Errorf("Raw(%s) = %q, %v; want the damaged bytes", r, raw, err)
			}
		}
	} else {
		t.Errorf("%T has no Raw", s)
	}

	// Writes go on; the damaged records stay set aside until deleted.
	extra := instance("/web", ts(2), 9)
	apply(t, s, state.Change{PutInstances: []state.Instance{extra}, DeleteApps: []marathon.PathID{"/db"}})
	snap = load(t, s)
	if len(snap.Instances) != 3 || len(snap.SetAside) != 2 {
		t.Errorf("after a write and deleting /db: %d instances, set aside %v; want 3 instances, the instance and d2 set aside",
			len(snap.Instances), snap.SetAside)
	}
}
