package statetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// MaxVersions is the version limit the stores under test must be opened
// with: small, so that trimming is cheap to exercise.
const MaxVersions = 3

// Run runs the contract suite. open returns a new, empty store configured
// to keep MaxVersions app and group versions, and registers its Close with
// t.Cleanup. reopen closes s and returns a store over the same data (a
// store without durability returns s itself), also closed in t.Cleanup;
// Close must therefore be safe to call twice.
func Run(t *testing.T, open func(t *testing.T) state.Store, reopen func(t *testing.T, s state.Store) state.Store) {
	h := harness{open: open, reopen: reopen}
	tests := []struct {
		name string
		test func(t *testing.T, h harness)
	}{
		{name: "empty load", test: testEmptyLoad},
		{name: "framework id", test: testFrameworkID},
		{name: "put app", test: testPutApp},
		{name: "app versions", test: testAppVersions},
		{name: "app version limit", test: testAppVersionLimit},
		{name: "delete app", test: testDeleteApp},
		{name: "pods", test: testPods},
		{name: "pod version limit", test: testPodVersionLimit},
		{name: "delete pod", test: testDeletePod},
		{name: "groups", test: testGroups},
		{name: "group version limit", test: testGroupVersionLimit},
		{name: "instances", test: testInstances},
		{name: "deployments", test: testDeployments},
		{name: "atomic apply", test: testAtomicApply},
		{name: "durability", test: testDurability},
		{name: "concurrent readers", test: testConcurrentReaders},
		{name: "large snapshot", test: testLargeSnapshot},
		{name: "closed store", test: testClosedStore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, h) })
	}
}

type harness struct {
	open   func(t *testing.T) state.Store
	reopen func(t *testing.T, s state.Store) state.Store
}

// opts compare stored records: nil and empty collections are equal, since
// stores encode both the same way (marathon.CanonicalJSON writes [] and {}).
var opts = []gocmp.Option{cmpopts.EquateEmpty()}

func apply(t *testing.T, s state.Store, c state.Change) {
	t.Helper()
	if err := s.Apply(t.Context(), c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func load(t *testing.T, s state.Store) state.Snapshot {
	t.Helper()
	snap, err := s.Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return snap
}

// sorted puts a wanted snapshot in the order Load returns.
func sorted(snap state.Snapshot) state.Snapshot {
	slices.SortFunc(snap.Apps, func(a, b marathon.App) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Pods, func(a, b marathon.Pod) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Groups, func(a, b state.Group) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Instances, func(a, b state.Instance) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(snap.Deployments, func(a, b state.Deployment) int { return cmp.Compare(a.ID, b.ID) })
	return snap
}

func checkLoad(t *testing.T, s state.Store, want state.Snapshot) {
	t.Helper()
	if diff := gocmp.Diff(sorted(want), load(t, s), opts...); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

// checkAppVersions checks the listed versions and each stored definition.
func checkAppVersions(t *testing.T, s state.Store, id marathon.PathID, want ...marathon.App) {
	t.Helper()
	checkVersions(t, "App", id, s.AppVersions, s.AppVersion, func(a marathon.App) marathon.Timestamp { return a.Version }, want)
}

// checkVersions checks that list gives the versions of want, oldest
// first, and that get returns each as it is in want; kind names the
// methods in messages.
func checkVersions[T any](t *testing.T, kind string, id marathon.PathID,
	list func(context.Context, marathon.PathID) ([]marathon.Timestamp, error),
	get func(context.Context, marathon.PathID, marathon.Timestamp) (T, bool, error),
	versionOf func(T) marathon.Timestamp, want []T) {
	t.Helper()
	got, err := list(t.Context(), id)
	if err != nil {
		t.Fatalf("%sVersions(%s): %v", kind, id, err)
	}
	var wantVersions []marathon.Timestamp
	for _, w := range want {
		wantVersions = append(wantVersions, versionOf(w))
	}
	if diff := gocmp.Diff(wantVersions, got, opts...); diff != "" {
		t.Errorf("%sVersions(%s) (-want +got):\n%s", kind, id, diff)
	}
	for _, w := range want {
		v := versionOf(w)
		x, ok, err := get(t.Context(), id, v)
		if err != nil || !ok {
			t.Errorf("%sVersion(%s, %s) = ok %v, err %v; want the version", kind, id, v, ok, err)
			continue
		}
		if diff := gocmp.Diff(w, x, opts...); diff != "" {
			t.Errorf("%sVersion(%s, %s) (-want +got):\n%s", kind, id, v, diff)
		}
	}
}

// checkNoAppVersion checks that a version is not stored.
func checkNoAppVersion(t *testing.T, s state.Store, id marathon.PathID, version marathon.Timestamp) {
	t.Helper()
	if a, ok, err := s.AppVersion(t.Context(), id, version); err != nil || ok {
		t.Errorf("AppVersion(%s, %s) = %s, ok %v, err %v; want not found", id, version, a.ID, ok, err)
	}
}

// checkGroupVersions is checkAppVersions for groups.
func checkGroupVersions(t *testing.T, s state.Store, id marathon.PathID, want ...state.Group) {
	t.Helper()
	checkVersions(t, "Group", id, s.GroupVersions, s.GroupVersion, func(g state.Group) marathon.Timestamp { return g.Version }, want)
}

func checkNoGroupVersion(t *testing.T, s state.Store, id marathon.PathID, version marathon.Timestamp) {
	t.Helper()
	if _, ok, err := s.GroupVersion(t.Context(), id, version); err != nil || ok {
		t.Errorf("GroupVersion(%s, %s) = ok %v, err %v; want not found", id, version, ok, err)
	}
}

func testEmptyLoad(t *testing.T, h harness) {
	s := h.open(t)
	checkLoad(t, s, state.Snapshot{})
	checkAppVersions(t, s, "/absent")
	checkNoAppVersion(t, s, "/absent", ts(1))
	checkGroupVersions(t, s, "/absent")
	checkNoGroupVersion(t, s, "/absent", ts(1))
	// An empty Change is valid and writes nothing.
	apply(t, s, state.Change{})
	checkLoad(t, s, state.Snapshot{})
}

// frameworkIDReader is the optional fast read of the framework id.
type frameworkIDReader interface {
	FrameworkID(ctx context.Context) (string, error)
}

// checkFrameworkID checks the store's FrameworkID, when it has one.
func checkFrameworkID(t *testing.T, s state.Store, want string) {
	t.Helper()
	r, ok := s.(frameworkIDReader)
	if !ok {
		return
	}
	got, err := r.FrameworkID(t.Context())
	if err != nil || got != want {
		t.Fatalf("FrameworkID() = %q, %v; want %q", got, err, want)
	}
}

func testFrameworkID(t *testing.T, h harness) {
	s := h.open(t)
	checkFrameworkID(t, s, "")
	apply(t, s, state.Change{FrameworkID: "fw-1"})
	checkFrameworkID(t, s, "fw-1")
	checkLoad(t, s, state.Snapshot{FrameworkID: "fw-1"})
	apply(t, s, state.Change{FrameworkID: "fw-2"})
	checkLoad(t, s, state.Snapshot{FrameworkID: "fw-2"})
	// A Change without a framework id keeps the stored one.
	d := deployment("d1", "/web", ts(1), ts(2))
	apply(t, s, state.Change{PutDeployments: []state.Deployment{d}})
	checkLoad(t, s, state.Snapshot{FrameworkID: "fw-2", Deployments: []state.Deployment{d}})
	checkFrameworkID(t, s, "fw-2")
	checkFrameworkID(t, h.reopen(t, s), "fw-2")
}

func testPutApp(t *testing.T, h harness) {
	s := h.open(t)
	web := app("/prod/web", ts(1), "serve")
	apply(t, s, state.Change{PutApps: []marathon.App{web}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{web}})
	checkAppVersions(t, s, web.ID, web)
	checkNoAppVersion(t, s, web.ID, ts(2))
	checkNoAppVersion(t, s, "/prod", ts(1))
}

func testAppVersions(t *testing.T, h harness) {
	s := h.open(t)
	v1 := app("/web", ts(1), "serve v1")
	v2 := app("/web", ts(2), "serve v2")
	api := app("/api", ts(1), "api")
	apply(t, s, state.Change{PutApps: []marathon.App{v1, api}})
	apply(t, s, state.Change{PutApps: []marathon.App{v2}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{api, v2}})
	checkAppVersions(t, s, "/web", v1, v2)
	checkAppVersions(t, s, "/api", api)
	checkNoAppVersion(t, s, "/web", ts(3))

	// Putting a stored version again replaces it and makes it current.
	v1b := app("/web", ts(1), "serve v1, again")
	apply(t, s, state.Change{PutApps: []marathon.App{v1b}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{api, v1b}})
	checkAppVersions(t, s, "/web", v1b, v2)

	// Several versions of one app in one Change: the last one is current.
	v3 := app("/web", ts(3), "serve v3")
	v4 := app("/web", ts(4), "serve v4")
	apply(t, s, state.Change{PutApps: []marathon.App{v4, v3}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{api, v3}})
	checkAppVersions(t, s, "/web", v2, v3, v4) // v1 trimmed: MaxVersions is 3
}

func testAppVersionLimit(t *testing.T, h harness) {
	s := h.open(t)
	var all []marathon.App
	for n := 1; n <= MaxVersions+2; n++ {
		a := app("/web", ts(n), fmt.Sprintf("serve v%d", n))
		all = append(all, a)
		apply(t, s, state.Change{PutApps: []marathon.App{a}})
	}
	checkAppVersions(t, s, "/web", all[2:]...)
	checkNoAppVersion(t, s, "/web", ts(1))
	checkNoAppVersion(t, s, "/web", ts(2))

	// A current version older than all others is kept; the oldest of the
	// others goes.
	old := app("/web", ts(0), "serve v0")
	apply(t, s, state.Change{PutApps: []marathon.App{old}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{old}})
	checkAppVersions(t, s, "/web", old, all[3], all[4])

	// More versions than the limit in one Change.
	var burst []marathon.App
	for n := 10; n < 10+2*MaxVersions; n++ {
		burst = append(burst, app("/api", ts(n), fmt.Sprintf("api v%d", n)))
	}
	apply(t, s, state.Change{PutApps: burst})
	checkAppVersions(t, s, "/api", burst[len(burst)-MaxVersions:]...)
}

func testDeleteApp(t *testing.T, h harness) {
	s := h.open(t)
	web1, web2 := app("/web", ts(1), "v1"), app("/web", ts(2), "v2")
	api := app("/api", ts(1), "api")
	apply(t, s, state.Change{PutApps: []marathon.App{web1, api}})
	apply(t, s, state.Change{PutApps: []marathon.App{web2}})
	apply(t, s, state.Change{DeleteApps: []marathon.PathID{"/web", "/absent"}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{api}})
	checkAppVersions(t, s, "/web")
	checkNoAppVersion(t, s, "/web", ts(1))
	checkNoAppVersion(t, s, "/web", ts(2))
	checkAppVersions(t, s, "/api", api)

	// Delete and put of one id in one Change: deletes go first, so only
	// the new version remains.
	apply(t, s, state.Change{PutApps: []marathon.App{web1}})
	web3 := app("/web", ts(3), "v3")
	apply(t, s, state.Change{DeleteApps: []marathon.PathID{"/web"}, PutApps: []marathon.App{web3}})
	checkLoad(t, s, state.Snapshot{Apps: []marathon.App{api, web3}})
	checkAppVersions(t, s, "/web", web3)
}

func testGroups(t *testing.T, h harness) {
	s := h.open(t)
	root1 := group(marathon.RootID, ts(1), nil)
	prod1 := group("/prod", ts(1), map[marathon.PathID]marathon.Timestamp{"/prod/web": ts(1)})
	prod2 := group("/prod", ts(2), map[marathon.PathID]marathon.Timestamp{"/prod/web": ts(2), "/prod/api": ts(1)})
	apply(t, s, state.Change{PutGroups: []state.Group{root1, prod1}})
	checkLoad(t, s, state.Snapshot{Groups: []state.Group{root1, prod1}})
	apply(t, s, state.Change{PutGroups: []state.Group{prod2}})
	checkLoad(t, s, state.Snapshot{Groups: []state.Group{root1, prod2}})
	checkGroupVersions(t, s, "/prod", prod1, prod2)
	checkGroupVersions(t, s, marathon.RootID, root1)
	checkNoGroupVersion(t, s, "/prod", ts(3))

	// Replace a stored version.
	prod1b := group("/prod", ts(1), map[marathon.PathID]marathon.Timestamp{"/prod/web": ts(0)})
	apply(t, s, state.Change{PutGroups: []state.Group{prod1b}})
	checkLoad(t, s, state.Snapshot{Groups: []state.Group{root1, prod1b}})
	checkGroupVersions(t, s, "/prod", prod1b, prod2)

	apply(t, s, state.Change{DeleteGroups: []marathon.PathID{"/prod", "/absent"}})
	checkLoad(t, s, state.Snapshot{Groups: []state.Group{root1}})
	checkGroupVersions(t, s, "/prod")
	checkNoGroupVersion(t, s, "/prod", ts(1))
	checkNoGroupVersion(t, s, "/prod", ts(2))
}

func testGroupVersionLimit(t *testing.T, h harness) {
	s := h.open(t)
	var all []state.Group
	for n := 1; n <= MaxVersions+2; n++ {
		g := group("/prod", ts(n), map[marathon.PathID]marathon.Timestamp{"/prod/web": ts(n)})
		all = append(all, g)
		apply(t, s, state.Change{PutGroups: []state.Group{g}})
	}
	checkGroupVersions(t, s, "/prod", all[2:]...)
	checkNoGroupVersion(t, s, "/prod", ts(1))

	old := group("/prod", ts(0), nil)
	apply(t, s, state.Change{PutGroups: []state.Group{old}})
	checkLoad(t, s, state.Snapshot{Groups: []state.Group{old}})
	checkGroupVersions(t, s, "/prod", old, all[3], all[4])
}

func testInstances(t *testing.T, h harness) {
	s := h.open(t)
	all := instances("/web", ts(1), 0, 1000)
	apply(t, s, state.Change{PutInstances: all})
	checkLoad(t, s, state.Snapshot{Instances: all})

	// Replace some: a relaunch and a state change.
	all[10].Incarnation = 2
	all[10].TaskID = all[10].ID + "._app.2"
	all[10].State = ""
	all[10].Healthy = nil
	all[11].State = "TASK_KILLING"
	all[11].Goal = state.GoalDecommissioned
	apply(t, s, state.Change{PutInstances: []state.Instance{all[10], all[11]}})
	checkLoad(t, s, state.Snapshot{Instances: all})

	// Delete half, plus ids that are not stored.
	var del []string
	for _, in := range all[500:] {
		del = append(del, in.ID)
	}
	del = append(del, "absent.instance-1")
	apply(t, s, state.Change{DeleteInstances: del})
	checkLoad(t, s, state.Snapshot{Instances: all[:500]})

	// Delete and put of one id in one Change leaves the put record.
	apply(t, s, state.Change{DeleteInstances: []string{all[0].ID}, PutInstances: []state.Instance{all[0]}})
	checkLoad(t, s, state.Snapshot{Instances: all[:500]})
}

func testDeployments(t *testing.T, h harness) {
	s := h.open(t)
	d1 := deployment("d1", "/web", ts(1), ts(2))
	d2 := deployment("d2", "/api", ts(1), ts(3))
	apply(t, s, state.Change{PutDeployments: []state.Deployment{d1, d2}})
	checkLoad(t, s, state.Snapshot{Deployments: []state.Deployment{d1, d2}})

	d1.CurrentStep = 1
	d1.Steps = append(d1.Steps, state.Step{Actions: []state.Action{{Type: marathon.ScaleApplication, AppID: "/web"}}})
	apply(t, s, state.Change{PutDeployments: []state.Deployment{d1}})
	checkLoad(t, s, state.Snapshot{Deployments: []state.Deployment{d1, d2}})

	apply(t, s, state.Change{DeleteDeployments: []string{"d2", "absent"}})
	checkLoad(t, s, state.Snapshot{Deployments: []state.Deployment{d1}})
}

func testAtomicApply(t *testing.T, h harness) {
	s := h.open(t)
	web := app("/web", ts(1), "serve")
	prod := group("/prod", ts(1), nil)
	ins := instances("/web", ts(1), 0, 3)
	d := deployment("d1", "/web", ts(0), ts(1))
	base := state.Snapshot{
		FrameworkID: "fw-1",
		Apps:        []marathon.App{web},
		Groups:      []state.Group{prod},
		Instances:   ins,
		Deployments: []state.Deployment{d},
	}
	apply(t, s, state.Change{
		FrameworkID:    base.FrameworkID,
		PutApps:        base.Apps,
		PutGroups:      base.Groups,
		PutInstances:   base.Instances,
		PutDeployments: base.Deployments,
	})

	// valid touches every kind of record; each case adds one invalid part.
	valid := func() state.Change {
		return state.Change{
			FrameworkID:       "fw-2",
			PutApps:           []marathon.App{app("/web", ts(2), "v2"), app("/api", ts(1), "api")},
			DeleteApps:        []marathon.PathID{"/web"},
			PutGroups:         []state.Group{group("/prod", ts(2), nil)},
			DeleteGroups:      []marathon.PathID{"/prod"},
			PutInstances:      instances("/api", ts(1), 0, 5),
			DeleteInstances:   []string{ins[0].ID},
			PutDeployments:    []state.Deployment{deployment("d2", "/api", ts(0), ts(1))},
			DeleteDeployments: []string{"d1"},
		}
	}
	tests := []struct {
		name  string
		spoil func(c *state.Change)
	}{
		{name: "app without version", spoil: func(c *state.Change) {
			c.PutApps = append(c.PutApps, app("/other", marathon.Timestamp{}, "x"))
		}},
		{name: "app with relative id", spoil: func(c *state.Change) {
			c.PutApps = append(c.PutApps, app("other", ts(1), "x"))
		}},
		{name: "group without version", spoil: func(c *state.Change) {
			c.PutGroups = append(c.PutGroups, group("/other", marathon.Timestamp{}, nil))
		}},
		{name: "instance without id", spoil: func(c *state.Change) {
			in := instance("/api", ts(1), 99)
			in.ID = ""
			c.PutInstances = append(c.PutInstances, in)
		}},
		{name: "deployment without id", spoil: func(c *state.Change) {
			c.PutDeployments = append(c.PutDeployments, deployment("", "/api", ts(0), ts(1)))
		}},
		{name: "empty delete id", spoil: func(c *state.Change) {
			c.DeleteInstances = append(c.DeleteInstances, "")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.spoil(&c)
			err := s.Apply(t.Context(), c)
			if !errors.Is(err, state.ErrInvalidChange) {
				t.Fatalf("Apply = %v, want ErrInvalidChange", err)
			}
			checkLoad(t, s, base)
			checkAppVersions(t, s, "/web", web)
			checkAppVersions(t, s, "/api")
			checkGroupVersions(t, s, "/prod", prod)
		})
	}
}

func testDurability(t *testing.T, h harness) {
	s := h.open(t)
	web1, web2 := app("/prod/web", ts(1), "v1"), app("/prod/web", ts(2), "v2")
	api := app("/prod/api", ts(1), "api")
	gone := app("/gone", ts(1), "gone")
	root := group(marathon.RootID, ts(1), nil)
	prod1 := group("/prod", ts(1), map[marathon.PathID]marathon.Timestamp{"/prod/web": ts(1)})
	prod2 := group("/prod", ts(2), map[marathon.PathID]marathon.Timestamp{"/prod/web": ts(2), "/prod/api": ts(1)})
	ins := append(instances("/prod/web", ts(2), 0, 20), instances("/prod/api", ts(1), 0, 5)...)
	d := deployment("d1", "/prod/web", ts(1), ts(2))
	apply(t, s, state.Change{
		FrameworkID:    "fw-1",
		PutApps:        []marathon.App{web1, api, gone},
		PutGroups:      []state.Group{root, prod1},
		PutInstances:   append(ins, instance("/gone", ts(1), 0)),
		PutDeployments: []state.Deployment{d, deployment("d0", "/gone", ts(0), ts(1))},
	})
	apply(t, s, state.Change{
		PutApps:           []marathon.App{web2},
		DeleteApps:        []marathon.PathID{"/gone"},
		PutGroups:         []state.Group{prod2},
		DeleteInstances:   []string{instance("/gone", ts(1), 0).ID},
		DeleteDeployments: []string{"d0"},
	})
	want := state.Snapshot{
		FrameworkID: "fw-1",
		Apps:        []marathon.App{web2, api},
		Groups:      []state.Group{root, prod2},
		Instances:   ins,
		Deployments: []state.Deployment{d},
	}
	check := func(s state.Store) {
		t.Helper()
		checkLoad(t, s, want)
		checkAppVersions(t, s, "/prod/web", web1, web2)
		checkAppVersions(t, s, "/prod/api", api)
		checkAppVersions(t, s, "/gone")
		checkGroupVersions(t, s, "/prod", prod1, prod2)
		checkGroupVersions(t, s, marathon.RootID, root)
	}
	check(s)
	s = h.reopen(t, s)
	check(s)

	// The reopened store keeps writing, and trimming counts the versions
	// written before the reopen.
	var later []marathon.App
	for n := 3; n < 3+MaxVersions; n++ {
		later = append(later, app("/prod/web", ts(n), fmt.Sprintf("v%d", n)))
	}
	apply(t, s, state.Change{FrameworkID: "fw-2", PutApps: later})
	want.FrameworkID = "fw-2"
	want.Apps = []marathon.App{later[len(later)-1], api}
	s = h.reopen(t, s)
	checkLoad(t, s, want)
	checkAppVersions(t, s, "/prod/web", later...)
}

func testConcurrentReaders(t *testing.T, h harness) {
	s := h.open(t)
	const writes = 60
	step := func(n int) state.Change {
		return state.Change{
			PutApps:      []marathon.App{app("/web", ts(n), fmt.Sprintf("v%d", n))},
			PutInstances: instances("/web", ts(n), 0, 10),
		}
	}
	apply(t, s, step(0))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := readConsistent(t, s); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for n := 1; n <= writes; n++ {
		apply(t, s, step(n))
	}
	close(stop)
	wg.Wait()
	checkLoad(t, s, state.Snapshot{
		Apps:      []marathon.App{app("/web", ts(writes), fmt.Sprintf("v%d", writes))},
		Instances: instances("/web", ts(writes), 0, 10),
	})
}

// readConsistent reads while testConcurrentReaders writes: each Apply puts
// a new app version and moves every instance to it, so one Load must see
// them agree, and version lists are sorted and within the limit.
func readConsistent(t *testing.T, s state.Store) error {
	versions, err := s.AppVersions(t.Context(), "/web")
	if err != nil {
		return fmt.Errorf("AppVersions: %w", err)
	}
	if len(versions) == 0 || len(versions) > MaxVersions {
		return fmt.Errorf("AppVersions: %d versions, want 1 to %d", len(versions), MaxVersions)
	}
	if !slices.IsSortedFunc(versions, func(a, b marathon.Timestamp) int { return a.Compare(b.Time) }) {
		return fmt.Errorf("AppVersions: %v not sorted", versions)
	}
	last := versions[len(versions)-1]
	a, ok, err := s.AppVersion(t.Context(), "/web", last)
	if err != nil {
		return fmt.Errorf("AppVersion: %w", err)
	}
	if ok && !a.Version.Equal(last.Time) {
		return fmt.Errorf("AppVersion(%s) returned version %s", last, a.Version)
	}
	snap, err := s.Load(t.Context())
	if err != nil {
		return fmt.Errorf("Load: %w", err)
	}
	if len(snap.Apps) != 1 || len(snap.Instances) != 10 {
		return fmt.Errorf("Load: %d apps and %d instances, want 1 and 10", len(snap.Apps), len(snap.Instances))
	}
	for _, in := range snap.Instances {
		if !in.AppVersion.Equal(snap.Apps[0].Version.Time) {
			return fmt.Errorf("Load: instance %s at version %s, app at %s: not one transaction", in.ID, in.AppVersion, snap.Apps[0].Version)
		}
	}
	return nil
}

func testLargeSnapshot(t *testing.T, h harness) {
	s := h.open(t)
	var want state.Snapshot
	for i := range 100 {
		id := marathon.PathID(fmt.Sprintf("/team-%02d/app-%03d", i%10, i))
		want.Apps = append(want.Apps, app(id, ts(i), "serve"))
		want.Instances = append(want.Instances, instances(id, ts(i), 0, 100)...)
	}
	apply(t, s, state.Change{PutApps: want.Apps, PutInstances: want.Instances})
	checkLoad(t, s, want)
	s = h.reopen(t, s)
	checkLoad(t, s, want)
}

func testClosedStore(t *testing.T, h harness) {
	s := h.open(t)
	apply(t, s, state.Change{PutApps: []marathon.App{app("/web", ts(1), "serve")}})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	errs := map[string]error{
		"Apply": s.Apply(ctx, state.Change{FrameworkID: "fw"}),
	}
	_, errs["Load"] = s.Load(ctx)
	_, errs["AppVersions"] = s.AppVersions(ctx, "/web")
	_, _, errs["AppVersion"] = s.AppVersion(ctx, "/web", ts(1))
	_, errs["PodVersions"] = s.PodVersions(ctx, "/web")
	_, _, errs["PodVersion"] = s.PodVersion(ctx, "/web", ts(1))
	_, errs["GroupVersions"] = s.GroupVersions(ctx, "/web")
	_, _, errs["GroupVersion"] = s.GroupVersion(ctx, "/web", ts(1))
	for name, err := range errs {
		if !errors.Is(err, state.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}
