package placement

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Expected-resource helpers: what a task takes, as Fit copies it from the
// builders' unreserved entries.
func takeCpus(v float64) mesos.Resource { return scalarRes("cpus", "*", v) }
func takeMem(v float64) mesos.Resource  { return scalarRes("mem", "*", v) }
func takePorts(rs ...uint64) mesos.Resource {
	var ranges []mesos.Range
	for i := 0; i < len(rs); i += 2 {
		ranges = append(ranges, mesos.Range{Begin: rs[i], End: rs[i+1]})
	}
	return rangesRes("*", ranges...)
}

func launch(inst, h string, hostPorts []uint32, res ...mesos.Resource) Launch {
	return Launch{
		OfferID: mesos.OfferID{Value: "o-" + h}, AgentID: mesos.AgentID{Value: "ag-" + h}, Hostname: h,
		InstanceID: inst, AppID: "/a", Resources: res, HostPorts: hostPorts,
	}
}

func TestFitResources(t *testing.T) {
	tests := []struct {
		name   string
		offers []mesos.Offer
		apps   []marathon.App
		max    int
		want   Result
	}{
		{
			name:   "no offers",
			offers: nil,
			apps:   []marathon.App{app(instances(1))},
			want:   Result{Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "no offers"}}},
		},
		{
			name:   "several instances share an offer until cpus run out",
			offers: []mesos.Offer{offer(host("a"), cpus(1), mem(1024))},
			apps:   []marathon.App{app(instances(3), needCpus(0.4), needMem(100))},
			want: Result{
				Launches: []Launch{
					launch("a.1", "a", nil, takeCpus(0.4), takeMem(100)),
					launch("a.2", "a", nil, takeCpus(0.4), takeMem(100)),
				},
				Unplaced: []Unplaced{{InstanceID: "a.3", AppID: "/a", Reason: "insufficient cpus", Rejections: []Rejection{{Reason: ReasonCpus, Offers: 1}}}},
			},
		},
		{
			name:   "memory",
			offers: []mesos.Offer{offer(host("a"), cpus(4), mem(100))},
			apps:   []marathon.App{app(instances(1), needMem(128))},
			want: Result{
				Unused:   []mesos.OfferID{{Value: "o-a"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "insufficient mem", Rejections: []Rejection{{Reason: ReasonMem, Offers: 1}}}},
			},
		},
		{
			name:   "disk and gpus are taken only when asked for",
			offers: []mesos.Offer{offer(host("a"), cpus(4), mem(1024), disk(100), gpus(2))},
			apps:   []marathon.App{app(instances(2), needDisk(40), needGpus(1))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", nil, takeCpus(0.5), takeMem(64), scalarRes("disk", "*", 40), scalarRes("gpus", "*", 1)),
				launch("a.2", "a", nil, takeCpus(0.5), takeMem(64), scalarRes("disk", "*", 40), scalarRes("gpus", "*", 1)),
			}},
		},
		{
			name:   "gpus",
			offers: []mesos.Offer{offer(host("a"), cpus(4), mem(1024))},
			apps:   []marathon.App{app(instances(1), needGpus(1))},
			want: Result{
				Unused:   []mesos.OfferID{{Value: "o-a"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "insufficient gpus", Rejections: []Rejection{{Reason: ReasonGpus, Offers: 1}}}},
			},
		},
		{
			name:   "scalars add up over entries and roles",
			offers: []mesos.Offer{offer(host("a"), cpus(0.3), reserved("web", scalarRes("cpus", "", 0.3)), mem(128))},
			apps:   []marathon.App{app(instances(1), role("web"))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", nil, scalarRes("cpus", "web", 0.3), takeCpus(0.2), takeMem(64)),
			}},
		},
		{
			name:   "an app without a role cannot use reserved resources",
			offers: []mesos.Offer{offer(host("a"), reserved("web", scalarRes("cpus", "", 4)), reserved("web", scalarRes("mem", "", 1024)))},
			apps:   []marathon.App{app(instances(1))},
			want: Result{
				Unused:   []mesos.OfferID{{Value: "o-a"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "no resources in an accepted role", Rejections: []Rejection{{Reason: ReasonRole, Offers: 1}}}},
			},
		},
		{
			name:   "accepted resource roles narrow the roles",
			offers: []mesos.Offer{offer(host("a"), reserved("web", scalarRes("cpus", "", 4)), mem(1024))},
			apps:   []marathon.App{app(instances(1), role("web"), accepted("*"))},
			want: Result{
				Unused:   []mesos.OfferID{{Value: "o-a"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "insufficient cpus", Rejections: []Rejection{{Reason: ReasonCpus, Offers: 1}}}},
			},
		},
		{
			name:   "max per offer defaults to five",
			offers: []mesos.Offer{offer(host("a"), cpus(100), mem(10000)), offer(host("b"), cpus(100), mem(10000))},
			apps:   []marathon.App{app(instances(7), needCpus(1), needMem(1))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.2", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.3", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.4", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.5", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.6", "b", nil, takeCpus(1), takeMem(1)),
				launch("a.7", "b", nil, takeCpus(1), takeMem(1)),
			}},
		},
		{
			name:   "max per offer reached everywhere",
			offers: []mesos.Offer{offer(host("a"), cpus(100), mem(10000))},
			apps:   []marathon.App{app(instances(3), needCpus(1), needMem(1))},
			max:    2,
			want: Result{
				Launches: []Launch{
					launch("a.1", "a", nil, takeCpus(1), takeMem(1)),
					launch("a.2", "a", nil, takeCpus(1), takeMem(1)),
				},
				Unplaced: []Unplaced{{InstanceID: "a.3", AppID: "/a", Reason: "offers full (2 instances per offer)", Rejections: []Rejection{{Reason: ReasonOfferFull, Offers: 1}}}},
			},
		},
		{
			name:   "negative max per offer is no cap",
			offers: []mesos.Offer{offer(host("a"), cpus(100), mem(10000))},
			apps:   []marathon.App{app(instances(6), needCpus(1), needMem(1))},
			max:    -1,
			want: Result{Launches: []Launch{
				launch("a.1", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.2", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.3", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.4", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.5", "a", nil, takeCpus(1), takeMem(1)),
				launch("a.6", "a", nil, takeCpus(1), takeMem(1)),
			}},
		},
		{
			name:   "rejections count every offer",
			offers: []mesos.Offer{offer(host("a"), cpus(0.1), mem(1024)), offer(host("b"), cpus(4), mem(10)), offer(host("c"), cpus(0.1), mem(1024))},
			apps:   []marathon.App{app(instances(1))},
			want: Result{
				Unused: []mesos.OfferID{{Value: "o-a"}, {Value: "o-b"}, {Value: "o-c"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "insufficient cpus", Rejections: []Rejection{
					{Reason: ReasonCpus, Offers: 2}, {Reason: ReasonMem, Offers: 1},
				}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Fit(Request{Offers: tc.offers, Pending: pending(tc.apps...), MaxPerOffer: tc.max})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Fit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitPorts(t *testing.T) {
	small := func(more ...offerOpt) mesos.Offer {
		return offer(append([]offerOpt{host("a"), cpus(8), mem(8192)}, more...)...)
	}
	res := []mesos.Resource{takeCpus(0.5), takeMem(64)}
	with := func(r ...mesos.Resource) []mesos.Resource { return append(append([]mesos.Resource{}, res...), r...) }
	tests := []struct {
		name   string
		offers []mesos.Offer
		apps   []marathon.App
		want   Result
	}{
		{
			name:   "dynamic ports lowest first",
			offers: []mesos.Offer{small(ports(31000, 31005))},
			apps:   []marathon.App{app(instances(2), portDefs(0, 0))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", []uint32{31000, 31001}, with(takePorts(31000, 31001))...),
				launch("a.2", "a", []uint32{31002, 31003}, with(takePorts(31002, 31003))...),
			}},
		},
		{
			name:   "service ports without requirePorts are dynamic",
			offers: []mesos.Offer{small(ports(31000, 31005))},
			apps:   []marathon.App{app(instances(1), portDefs(10000))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", []uint32{31000}, with(takePorts(31000, 31000))...),
			}},
		},
		{
			name:   "requirePorts takes the defined ports",
			offers: []mesos.Offer{small(ports(31000, 31005))},
			apps:   []marathon.App{app(instances(2), portDefs(31003, 0), requirePorts())},
			want: Result{
				Launches: []Launch{launch("a.1", "a", []uint32{31003, 31000}, with(takePorts(31000, 31000, 31003, 31003))...)},
				Unplaced: []Unplaced{{InstanceID: "a.2", AppID: "/a", Reason: "no ports", Rejections: []Rejection{{Reason: ReasonPorts, Offers: 1}}}},
			},
		},
		{
			name:   "requirePorts outside the offered ranges",
			offers: []mesos.Offer{small(ports(31000, 31005))},
			apps:   []marathon.App{app(instances(1), portDefs(80), requirePorts())},
			want: Result{
				Unused:   []mesos.OfferID{{Value: "o-a"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "no ports", Rejections: []Rejection{{Reason: ReasonPorts, Offers: 1}}}},
			},
		},
		{
			name:   "too few ports",
			offers: []mesos.Offer{small(ports(31000, 31000))},
			apps:   []marathon.App{app(instances(1), portDefs(0, 0))},
			want: Result{
				Unused:   []mesos.OfferID{{Value: "o-a"}},
				Unplaced: []Unplaced{{InstanceID: "a.1", AppID: "/a", Reason: "no ports", Rejections: []Rejection{{Reason: ReasonPorts, Offers: 1}}}},
			},
		},
		{
			name:   "ports across ranges",
			offers: []mesos.Offer{small(ports(31000, 31000), ports(31005, 31009))},
			apps:   []marathon.App{app(instances(1), portDefs(0, 0))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", []uint32{31000, 31005}, with(takePorts(31000, 31000, 31005, 31005))...),
			}},
		},
		{
			name:   "bridge mappings: dynamic, fixed and container-only",
			offers: []mesos.Offer{small(ports(31000, 31005))},
			apps:   []marathon.App{app(instances(1), bridge(0, 31000, -1))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", []uint32{31001, 31000, 0}, with(takePorts(31000, 31001))...),
			}},
		},
		{
			name:   "apps without ports take none",
			offers: []mesos.Offer{small()},
			apps:   []marathon.App{app(instances(1))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", nil, res...),
			}},
		},
		{
			name:   "ports of the app's role first",
			offers: []mesos.Offer{small(ports(31000, 31005), reserved("web", rangesRes("", mesos.Range{Begin: 4000, End: 4001})))},
			apps:   []marathon.App{app(instances(1), role("web"), portDefs(0, 0, 0))},
			want: Result{Launches: []Launch{
				launch("a.1", "a", []uint32{4000, 4001, 31000}, with(
					takePorts(31000, 31000),
					rangesRes("web", mesos.Range{Begin: 4000, End: 4001}),
				)...),
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Fit(Request{Offers: tc.offers, Pending: pending(tc.apps...)})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Fit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitKeepsResourceMetadata(t *testing.T) {
	o := offer(host("a"), cpus(1), mem(128))
	for i := range o.Resources {
		o.Resources[i].AllocationInfo = &mesos.AllocationInfo{Role: "*"}
	}
	got := Fit(Request{Offers: []mesos.Offer{o}, Pending: pending(app(instances(1)))})
	want := []mesos.Resource{takeCpus(0.5), takeMem(64)}
	for i := range want {
		want[i].AllocationInfo = &mesos.AllocationInfo{Role: "*"}
	}
	if len(got.Launches) != 1 {
		t.Fatalf("launches = %v", got.Launches)
	}
	if diff := cmp.Diff(want, got.Launches[0].Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	// The offer itself is left untouched.
	if o.Resources[0].Scalar.Value != 1 {
		t.Errorf("offer modified: %v", o.Resources[0])
	}
}

func TestFitSkipsUnusableResources(t *testing.T) {
	dyn := scalarRes("cpus", "", 4)
	dyn.Reservations = []json.RawMessage{json.RawMessage(`{"type":"DYNAMIC","role":"web"}`)}
	static := scalarRes("cpus", "", 4)
	static.Reservations = []json.RawMessage{json.RawMessage(`{"type":"STATIC","role":"web"}`)}
	revocable := scalarRes("cpus", "*", 4)
	revocable.Revocable = json.RawMessage(`{}`)
	tests := []struct {
		name string
		res  mesos.Resource
		want string
	}{
		{name: "dynamically reserved", res: dyn, want: "a.1!insufficient cpus -o-a"},
		{name: "statically reserved (refined format)", res: static, want: "a.1@a"},
		{name: "revocable", res: revocable, want: "a.1!insufficient cpus -o-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := offer(host("a"), withRes(tc.res), mem(1024))
			got := summary(Fit(Request{Offers: []mesos.Offer{o}, Pending: pending(app(instances(1), role("web")))}))
			if got != tc.want {
				t.Errorf("Fit = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestFitLaunchAttributes(t *testing.T) {
	got := Fit(Request{Offers: []mesos.Offer{big("a", attr("rack", "r1"), scalarAttr("level", 3), domain("eu", "z1"))}, Pending: pending(app(instances(1))), LocalRegion: "eu"})
	want := map[string]string{"rack": "r1", "level": "3", "@region": "eu", "@zone": "z1"}
	if diff := cmp.Diff(want, got.Launches[0].Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

func TestFitPriorityOrder(t *testing.T) {
	// Pending order is priority: the first app gets the only slot.
	apps := []marathon.App{app(id("/x"), instances(1), needCpus(1)), app(id("/y"), instances(1), needCpus(1))}
	got := summary(Fit(Request{Offers: []mesos.Offer{offer(host("a"), cpus(1), mem(1024))}, Pending: pending(apps...)}))
	if want := "x.1@a y.1!insufficient cpus"; got != want {
		t.Errorf("Fit = %s, want %s", got, want)
	}
}

func TestFitDeterministic(t *testing.T) {
	req := benchRequest(20, 20, 10, 5)
	first := Fit(req)
	for range 5 {
		if diff := cmp.Diff(first, Fit(req)); diff != "" {
			t.Fatalf("Fit differs between runs:\n%s", diff)
		}
	}
	if len(first.Launches) == 0 {
		t.Fatal("nothing launched")
	}
}

// TestRunningWithoutConstraints checks what the scheduler relies on to hand
// Fit only the running instances of constrained apps: those of an app
// without constraints change nothing, even when offers run out and the
// app's later instances get the verdict of an earlier one.
func TestRunningWithoutConstraints(t *testing.T) {
	tests := []struct {
		name   string
		offers []mesos.Offer
		apps   []marathon.App
		max    int
	}{
		{
			name:   "fits",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(3))},
		},
		{
			name:   "offers full",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(5)), app(id("/b"), instances(2))},
			max:    2,
		},
		{
			name:   "insufficient resources",
			offers: []mesos.Offer{offer(host("a"), cpus(0.1), mem(1024)), big("b")},
			apps:   []marathon.App{app(instances(3), needCpus(1)), app(id("/b"), instances(2), needCpus(0.05))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alone := Fit(Request{Offers: tc.offers, Pending: pending(tc.apps...), MaxPerOffer: tc.max})
			var live []state.Instance
			for _, a := range tc.apps {
				live = append(live, running(string(a.ID), on("a")), running(string(a.ID), on("b"), with("rack", "r1")))
			}
			withRunning := Fit(Request{Offers: tc.offers, Pending: pending(tc.apps...), Running: live, MaxPerOffer: tc.max})
			if diff := cmp.Diff(alone, withRunning); diff != "" {
				t.Errorf("Fit changed with running instances (-without +with):\n%s", diff)
			}
		})
	}
}

// TestFitAllocationRole: an app takes only offers allocated to its role
// (Marathon 1.9+ matches offer.allocation_info.role against the
// instance's role), its task's resources echo the allocation, and the
// launch carries the role Mesos applies.
func TestFitAllocationRole(t *testing.T) {
	tests := []struct {
		name     string
		offers   []mesos.Offer
		app      marathon.App
		want     string
		wantRole string
	}{
		{name: "offer of the app's role", offers: []mesos.Offer{big("a", allocated("stadion"))},
			app: app(instances(1), role("stadion")), want: "a.1@a", wantRole: "stadion"},
		{name: "offer of another role", offers: []mesos.Offer{big("a", allocated("dev"))},
			app: app(instances(1), role("stadion")), want: "a.1!no resources in an accepted role -o-a"},
		{name: "first offer of the right role", offers: []mesos.Offer{big("a", allocated("dev")), big("b", allocated("stadion"))},
			app: app(instances(1), role("stadion")), want: "a.1@b -o-a", wantRole: "stadion"},
		{name: "star app on a star allocation", offers: []mesos.Offer{big("a", allocated("*"))},
			app: app(instances(1), role("*")), want: "a.1@a", wantRole: "*"},
		{name: "legacy offer without allocation", offers: []mesos.Offer{big("a")},
			app: app(instances(1), role("stadion")), want: "a.1@a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Fit(Request{Offers: tc.offers, Pending: pending(tc.app)})
			if got := summary(res); got != tc.want {
				t.Fatalf("Fit = %s, want %s", got, tc.want)
			}
			for _, l := range res.Launches {
				if l.Role != tc.wantRole {
					t.Errorf("launch role = %q, want %q", l.Role, tc.wantRole)
				}
				for _, r := range l.Resources {
					got := ""
					if r.AllocationInfo != nil {
						got = r.AllocationInfo.Role
					}
					if got != tc.wantRole {
						t.Errorf("resource %s allocated to %q, want %q", r.Name, got, tc.wantRole)
					}
				}
			}
		})
	}
}

// TestFitRegionAware: offers from agents outside the master's region take
// only apps with a constraint on @region or @zone (Marathon's
// meetsFaultDomainRequirements for a REGION_AWARE framework).
func TestFitRegionAware(t *testing.T) {
	regionConstraint := constraint("@region", marathon.OpLike, "us")
	zoneConstraint := constraint("@zone", marathon.OpGroupBy)
	tests := []struct {
		name   string
		local  string
		offers []mesos.Offer
		app    marathon.App
		want   string
	}{
		{name: "local region", local: "eu", offers: []mesos.Offer{big("a", domain("eu", "z1"))},
			app: app(instances(1)), want: "a.1@a"},
		{name: "agent without a domain", local: "eu", offers: []mesos.Offer{big("a")},
			app: app(instances(1)), want: "a.1@a"},
		{name: "remote region refused", local: "eu", offers: []mesos.Offer{big("a", domain("us", "z1"))},
			app: app(instances(1)), want: "a.1!constraint " + textRemoteRegion + " -o-a"},
		{name: "master without a domain", offers: []mesos.Offer{big("a", domain("eu", "z1"))},
			app: app(instances(1)), want: "a.1!constraint " + textRemoteRegion + " -o-a"},
		{name: "remote region skipped for a local one", local: "eu", offers: []mesos.Offer{big("a", domain("us", "z1")), big("b", domain("eu", "z1"))},
			app: app(instances(1)), want: "a.1@b -o-a"},
		{name: "region constraint opens remote regions", local: "eu", offers: []mesos.Offer{big("a", domain("us", "z1"))},
			app: app(instances(1), regionConstraint), want: "a.1@a"},
		{name: "zone constraint opens remote regions", local: "eu", offers: []mesos.Offer{big("a", domain("us", "z1"))},
			app: app(instances(1), zoneConstraint), want: "a.1@a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(Fit(Request{Offers: tc.offers, Pending: pending(tc.app), LocalRegion: tc.local}))
			if got != tc.want {
				t.Errorf("Fit = %s, want %s", got, tc.want)
			}
		})
	}
}
