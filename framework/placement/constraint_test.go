package placement

import (
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

func TestFitConstraints(t *testing.T) {
	const (
		unique  = marathon.OpUnique
		cluster = marathon.OpCluster
		groupBy = marathon.OpGroupBy
		like    = marathon.OpLike
		unlike  = marathon.OpUnlike
		maxPer  = marathon.OpMaxPer
		is      = marathon.OpIs
	)
	tests := []struct {
		name    string
		offers  []mesos.Offer
		apps    []marathon.App
		running []state.Instance
		max     int
		want    string
	}{
		// UNIQUE
		{
			name:   "unique hostname spreads one per agent",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(3), constraint("hostname", unique))},
			want:   "a.1@a a.2@b a.3!constraint hostname UNIQUE",
		},
		{
			name:    "unique hostname counts running instances of the app",
			offers:  []mesos.Offer{big("a"), big("b")},
			apps:    []marathon.App{app(instances(2), constraint("hostname", unique))},
			running: []state.Instance{running("/a", on("a"))},
			want:    "a.1@b a.2!constraint hostname UNIQUE -o-a",
		},
		{
			name:   "unique ignores terminal, unplaced and other apps' instances",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(2), constraint("@hostname", unique))},
			running: []state.Instance{
				running("/a", on("a"), inState(mesos.TaskFailed)),
				running("/a"),
				running("/other", on("b")),
			},
			want: "a.1@a a.2@b",
		},
		{
			name:   "unique attribute",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r1")), big("c", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(3), constraint("rack", unique))},
			want:   "a.1@a a.2@c a.3!constraint rack UNIQUE -o-b",
		},
		{
			name:   "unique rejects agents without the attribute",
			offers: []mesos.Offer{big("a")},
			apps:   []marathon.App{app(instances(1), constraint("rack", unique))},
			want:   "a.1!constraint rack UNIQUE -o-a",
		},
		// CLUSTER
		{
			name:   "cluster hostname with value",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(2), constraint("hostname", cluster, "b"))},
			want:   "a.1@b a.2@b -o-a",
		},
		{
			name:   "cluster attribute with value",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(2), constraint("rack", cluster, "r2"))},
			want:   "a.1@b a.2@b -o-a",
		},
		{
			name:   "cluster without value follows the first placement",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2")), big("c", attr("rack", "r1"))},
			apps:   []marathon.App{app(instances(3), constraint("rack", cluster))},
			max:    1,
			want:   "a.1@a a.2@c a.3!offers full (1 instances per offer) -o-b",
		},
		{
			name:    "cluster without value follows running instances",
			offers:  []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2"))},
			apps:    []marathon.App{app(instances(1), constraint("rack", cluster))},
			running: []state.Instance{running("/a", on("x"), with("rack", "r2"))},
			want:    "a.1@b -o-a",
		},
		{
			name:   "cluster hostname without value keeps instances together",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(3), constraint("hostname", cluster))},
			max:    2,
			want:   "a.1@a a.2@a a.3!constraint hostname CLUSTER -o-b",
		},
		// GROUP_BY
		{
			name:   "group by spreads evenly over values",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r1")), big("c", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(4), constraint("rack", groupBy))},
			want:   "a.1@a a.3@a a.2@c a.4@c -o-b",
		},
		{
			name:   "group by with expected values waits for the missing ones",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("c", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(3), constraint("rack", groupBy, "3"))},
			want:   "a.1@a a.2@c a.3!constraint rack GROUP_BY 3",
		},
		{
			name:    "group by evens out running instances",
			offers:  []mesos.Offer{big("a", attr("rack", "r1")), big("c", attr("rack", "r2"))},
			apps:    []marathon.App{app(instances(2), constraint("rack", groupBy))},
			running: []state.Instance{running("/a", on("x"), with("rack", "r1")), running("/a", on("y"), with("rack", "r1"))},
			want:    "a.1@c a.2@c -o-a",
		},
		{
			name:   "group by hostname",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(4), constraint("hostname", groupBy))},
			want:   "a.1@a a.3@a a.2@b a.4@b",
		},
		// LIKE / UNLIKE
		{
			name:   "like hostname regex",
			offers: []mesos.Offer{big("b1"), big("a1")},
			apps:   []marathon.App{app(instances(2), constraint("hostname", like, "a.*"))},
			want:   "a.1@a1 a.2@a1 -o-b1",
		},
		{
			name:   "like is a full match",
			offers: []mesos.Offer{big("a", attr("rack", "r1"))},
			apps:   []marathon.App{app(instances(1), constraint("rack", like, "r"))},
			want:   "a.1!constraint rack LIKE r -o-a",
		},
		{
			name:   "like with alternation is anchored as a whole",
			offers: []mesos.Offer{big("a", attr("rack", "xr1")), big("b", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(1), constraint("rack", like, "r1|r2"))},
			want:   "a.1@b -o-a",
		},
		{
			name:   "like rejects a missing attribute and an empty value",
			offers: []mesos.Offer{big("a"), big("b", attr("rack", "r1"))},
			apps:   []marathon.App{app(id("/x"), instances(1), constraint("rack", like, ".*")), app(id("/y"), instances(1), constraint("rack", like))},
			want:   "x.1@b y.1!constraint rack LIKE -o-a",
		},
		{
			name:   "unlike accepts other values and a missing attribute",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2")), big("c")},
			apps:   []marathon.App{app(instances(3), constraint("rack", unlike, "r1"))},
			max:    1,
			want:   "a.1@b a.2@c a.3!offers full (1 instances per offer) -o-a",
		},
		// MAX_PER
		{
			name:   "max per hostname",
			offers: []mesos.Offer{big("a"), big("b")},
			apps:   []marathon.App{app(instances(5), constraint("hostname", maxPer, "2"))},
			want:   "a.1@a a.2@a a.3@b a.4@b a.5!constraint hostname MAX_PER 2",
		},
		{
			name:    "max per attribute counts running instances",
			offers:  []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2"))},
			apps:    []marathon.App{app(instances(2), constraint("rack", maxPer, "1"))},
			running: []state.Instance{running("/a", on("x"), with("rack", "r1"))},
			want:    "a.1@b a.2!constraint rack MAX_PER 1 -o-a",
		},
		// IS
		{
			name:   "is text attribute",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(1), constraint("rack", is, "r2"))},
			want:   "a.1@b -o-a",
		},
		{
			name:   "is scalar attribute rendered as Mesos does",
			offers: []mesos.Offer{big("a", scalarAttr("level", 2)), big("b", scalarAttr("level", 2.5))},
			apps: []marathon.App{
				app(id("/x"), instances(1), constraint("level", is, "2")),
				app(id("/y"), instances(1), constraint("level", is, "2.5")),
				app(id("/z"), instances(1), constraint("level", is, "2.000")),
			},
			want: "x.1@a y.1@b z.1!constraint level IS 2.000",
		},
		{
			name:   "zone and region from the fault domain",
			offers: []mesos.Offer{big("a", domain("eu", "z1")), big("b", domain("eu", "z2"))},
			apps:   []marathon.App{app(instances(1), constraint("@zone", is, "z2"), constraint("@region", is, "eu"))},
			want:   "a.1@b -o-a",
		},
		// Several constraints
		{
			name:   "every constraint must hold",
			offers: []mesos.Offer{big("a", attr("rack", "r1")), big("b", attr("rack", "r2")), big("c", attr("rack", "r2"))},
			apps:   []marathon.App{app(instances(3), constraint("hostname", unique), constraint("rack", like, "r2"))},
			want:   "a.1@b a.2@c a.3!constraint hostname UNIQUE -o-a",
		},
		{
			name:   "constraints are per app",
			offers: []mesos.Offer{big("a")},
			apps:   []marathon.App{app(id("/x"), instances(1), constraint("hostname", unique)), app(id("/y"), instances(1), constraint("hostname", unique))},
			want:   "x.1@a y.1@a",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(Fit(Request{Offers: tc.offers, Pending: pending(tc.apps...), Running: tc.running, MaxPerOffer: tc.max}))
			if got != tc.want {
				t.Errorf("Fit:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAttributeValue(t *testing.T) {
	tests := []struct {
		name string
		attr mesos.Attribute
		want string
	}{
		{name: "text", attr: mesos.Attribute{Type: mesos.ValueText, Text: &mesos.Text{Value: "r1"}}, want: "r1"},
		{name: "integral scalar", attr: mesos.Attribute{Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 2}}, want: "2"},
		{name: "fractional scalar", attr: mesos.Attribute{Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 2.5}}, want: "2.5"},
		{name: "large scalar has no grouping", attr: mesos.Attribute{Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 1000}}, want: "1000"},
		{name: "scalar keeps three decimals", attr: mesos.Attribute{Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.12345}}, want: "0.123"},
		{name: "ranges sorted", attr: mesos.Attribute{Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: []mesos.Range{{Begin: 5, End: 7}, {Begin: 1, End: 2}}}}, want: "[1-2,5-7]"},
		{name: "set sorted", attr: mesos.Attribute{Type: mesos.ValueSet, Set: &mesos.Set{Item: []string{"b", "a"}}}, want: "{a,b}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := AttributeValue(tc.attr); got != tc.want {
				t.Errorf("AttributeValue = %q, want %q", got, tc.want)
			}
		})
	}
}
