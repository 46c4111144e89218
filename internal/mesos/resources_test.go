package mesos

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Builders for resources in tests.

func scalarRes(name, role string, v float64) Resource {
	return Resource{Name: name, Type: ValueScalar, Role: role, Scalar: &Scalar{Value: v}}
}

func rangesRes(name, role string, rs ...Range) Resource {
	return Resource{Name: name, Type: ValueRanges, Role: role, Ranges: &Ranges{Range: rs}}
}

func setRes(name, role string, items ...string) Resource {
	return Resource{Name: name, Type: ValueSet, Role: role, Set: &Set{Item: items}}
}

func rng(begin, end uint64) Range { return Range{Begin: begin, End: end} }

func resList(rs ...Resource) Resources { return Resources(rs) }

func TestParseResources(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    Resources
		wantErr string
	}{
		{
			name: "agent default form",
			text: "cpus:4;mem:4096;disk:1000;ports:[31000-32000]",
			want: resList(scalarRes("cpus", "*", 4), scalarRes("mem", "*", 4096), scalarRes("disk", "*", 1000), rangesRes("ports", "*", rng(31000, 32000))),
		},
		{
			name: "roles",
			text: "cpus(web):2; cpus(*):1; mem(web):512",
			want: resList(scalarRes("cpus", "web", 2), scalarRes("cpus", "*", 1), scalarRes("mem", "web", 512)),
		},
		{
			name: "ranges with spaces are merged and sorted",
			text: "ports:[ 5-7 , 1-2, 3-3 ,10-12]",
			want: resList(rangesRes("ports", "*", rng(1, 3), rng(5, 7), rng(10, 12))),
		},
		{
			name: "set",
			text: "disks:{sdb, sda}",
			want: resList(setRes("disks", "*", "sda", "sdb")),
		},
		{
			name: "duplicate names add up",
			text: "cpus:1.5;cpus:2.5;ports:[1-2];ports:[3-5];mem(r):1",
			want: resList(scalarRes("cpus", "*", 4), rangesRes("ports", "*", rng(1, 5)), scalarRes("mem", "r", 1)),
		},
		{
			name: "trailing separator and blanks",
			text: " cpus:1 ; ;",
			want: resList(scalarRes("cpus", "*", 1)),
		},
		{
			name: "zero scalar is dropped",
			text: "cpus:0;mem:1",
			want: resList(scalarRes("mem", "*", 1)),
		},
		{
			name: "fractional scalar rounds to three decimals",
			text: "cpus:0.12345",
			want: resList(scalarRes("cpus", "*", 0.123)),
		},
		{name: "empty text", text: "", want: nil},
		{
			name: "json",
			text: `[{"name":"cpus","type":"SCALAR","scalar":{"value":2}},{"name":"cpus","type":"SCALAR","scalar":{"value":1}},` +
				`{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31005}]},"role":"web"}]`,
			want: resList(scalarRes("cpus", "*", 3), rangesRes("ports", "web", rng(31000, 31005))),
		},
		{name: "missing colon", text: "cpus:1;mem", wantErr: `"mem"`},
		{name: "not a number", text: "cpus:abc", wantErr: `"cpus:abc"`},
		{name: "negative", text: "mem:-5", wantErr: "negative"},
		{name: "nan", text: "cpus:nan", wantErr: `"cpus:nan"`},
		{name: "inf", text: "cpus:inf", wantErr: `"cpus:inf"`},
		{name: "empty value", text: "cpus:", wantErr: "empty value"},
		{name: "empty role", text: "cpus():1", wantErr: "bad role"},
		{name: "unclosed role", text: "cpus(web:1", wantErr: "bad role"},
		{name: "range begin after end", text: "ports:[5-1]", wantErr: "begin after end"},
		{name: "range without dash", text: "ports:[5]", wantErr: `"5"`},
		{name: "range not a number", text: "ports:[a-5]", wantErr: "bad begin"},
		{name: "unclosed range", text: "ports:[1-5", wantErr: "ports:[1-5"},
		{name: "empty set item", text: "s:{a,,b}", wantErr: "empty item"},
		{name: "bad json", text: `[{"name":`, wantErr: "json"},
		{name: "json negative scalar", text: `[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]`, wantErr: "negative"},
		{name: "json missing value", text: `[{"name":"cpus","type":"SCALAR"}]`, wantErr: `"cpus"`},
		{name: "json text type", text: `[{"name":"x","type":"TEXT"}]`, wantErr: "unsupported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResources(tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseResources(%q) error = %v, want it to contain %q", tc.text, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseResources(%q): %v", tc.text, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("ParseResources(%q) mismatch (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestParseAttributes(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []Attribute
		wantErr string
	}{
		{
			name: "all kinds",
			text: "rack:r1;level:2;ranges:[1-3];set:{b,a};ver:1.5e2",
			want: []Attribute{
				{Name: "rack", Type: ValueText, Text: &Text{Value: "r1"}},
				{Name: "level", Type: ValueScalar, Scalar: &Scalar{Value: 2}},
				{Name: "ranges", Type: ValueRanges, Ranges: &Ranges{Range: []Range{rng(1, 3)}}},
				{Name: "set", Type: ValueSet, Set: &Set{Item: []string{"a", "b"}}},
				{Name: "ver", Type: ValueScalar, Scalar: &Scalar{Value: 150}},
			},
		},
		{
			name: "text that looks almost numeric",
			text: "os:ubuntu-22.04; host : a:b ; zone:1a",
			want: []Attribute{
				{Name: "os", Type: ValueText, Text: &Text{Value: "ubuntu-22.04"}},
				{Name: "host", Type: ValueText, Text: &Text{Value: "a:b"}},
				{Name: "zone", Type: ValueText, Text: &Text{Value: "1a"}},
			},
		},
		{name: "empty", text: "", want: nil},
		{name: "missing colon", text: "rack", wantErr: `"rack"`},
		{name: "empty value", text: "rack:", wantErr: `"rack:"`},
		{name: "bad range", text: "r:[3-1]", wantErr: `"r:[3-1]"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAttributes(tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAttributes(%q) error = %v, want it to contain %q", tc.text, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAttributes(%q): %v", tc.text, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("ParseAttributes(%q) mismatch (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestResourcesPlus(t *testing.T) {
	tests := []struct {
		name string
		a, b Resources
		want Resources
	}{
		{
			name: "scalars add with fixed point",
			a:    resList(scalarRes("cpus", "*", 0.1)),
			b:    resList(scalarRes("cpus", "*", 0.2)),
			want: resList(scalarRes("cpus", "*", 0.3)),
		},
		{
			name: "different roles stay apart",
			a:    resList(scalarRes("cpus", "*", 1)),
			b:    resList(scalarRes("cpus", "web", 1)),
			want: resList(scalarRes("cpus", "*", 1), scalarRes("cpus", "web", 1)),
		},
		{
			name: "empty role counts as star",
			a:    resList(scalarRes("cpus", "*", 1)),
			b:    resList(scalarRes("cpus", "", 1)),
			want: resList(scalarRes("cpus", "*", 2)),
		},
		{
			name: "ranges overlap and adjacency merge",
			a:    resList(rangesRes("ports", "*", rng(10, 20), rng(40, 50))),
			b:    resList(rangesRes("ports", "*", rng(15, 25), rng(26, 30), rng(5, 9))),
			want: resList(rangesRes("ports", "*", rng(5, 30), rng(40, 50))),
		},
		{
			name: "sets unite",
			a:    resList(setRes("disks", "*", "a", "b")),
			b:    resList(setRes("disks", "*", "c", "b")),
			want: resList(setRes("disks", "*", "a", "b", "c")),
		},
		{
			name: "new names are appended",
			a:    resList(scalarRes("cpus", "*", 1)),
			b:    resList(scalarRes("mem", "*", 64)),
			want: resList(scalarRes("cpus", "*", 1), scalarRes("mem", "*", 64)),
		},
		{
			name: "empty entries dropped",
			a:    resList(scalarRes("cpus", "*", 0), rangesRes("ports", "*")),
			b:    nil,
			want: resList(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.a.String()
			got := tc.a.Plus(tc.b)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("Plus mismatch (-want +got):\n%s", diff)
			}
			if tc.a.String() != before {
				t.Fatalf("Plus modified its receiver: %s, was %s", tc.a, before)
			}
		})
	}
}

func TestResourcesMinus(t *testing.T) {
	tests := []struct {
		name string
		a, b Resources
		want Resources
	}{
		{
			name: "scalars subtract with fixed point",
			a:    resList(scalarRes("cpus", "*", 0.3)),
			b:    resList(scalarRes("cpus", "*", 0.1)),
			want: resList(scalarRes("cpus", "*", 0.2)),
		},
		{
			name: "scalar at zero is dropped",
			a:    resList(scalarRes("cpus", "*", 0.3), scalarRes("mem", "*", 10)),
			b:    resList(scalarRes("cpus", "*", 0.1), scalarRes("cpus", "*", 0.2)),
			want: resList(scalarRes("mem", "*", 10)),
		},
		{
			name: "scalar below zero is dropped",
			a:    resList(scalarRes("cpus", "*", 1)),
			b:    resList(scalarRes("cpus", "*", 2)),
			want: resList(),
		},
		{
			name: "task resources without role come off star",
			a:    resList(scalarRes("cpus", "*", 2), rangesRes("ports", "*", rng(31000, 32000))),
			b:    resList(scalarRes("cpus", "", 0.5), rangesRes("ports", "", rng(31005, 31005))),
			want: resList(scalarRes("cpus", "*", 1.5), rangesRes("ports", "*", rng(31000, 31004), rng(31006, 32000))),
		},
		{
			name: "other role is untouched",
			a:    resList(scalarRes("cpus", "web", 2)),
			b:    resList(scalarRes("cpus", "*", 1)),
			want: resList(scalarRes("cpus", "web", 2)),
		},
		{
			name: "range subtraction at edges and across",
			a:    resList(rangesRes("ports", "*", rng(1, 10), rng(20, 30))),
			b:    resList(rangesRes("ports", "*", rng(1, 2), rng(8, 22), rng(30, 30))),
			want: resList(rangesRes("ports", "*", rng(3, 7), rng(23, 29))),
		},
		{
			name: "all ranges taken drops the entry",
			a:    resList(rangesRes("ports", "*", rng(1, 10)), scalarRes("cpus", "*", 1)),
			b:    resList(rangesRes("ports", "*", rng(0, 100))),
			want: resList(scalarRes("cpus", "*", 1)),
		},
		{
			name: "sets subtract",
			a:    resList(setRes("disks", "*", "a", "b", "c")),
			b:    resList(setRes("disks", "*", "b", "x")),
			want: resList(setRes("disks", "*", "a", "c")),
		},
		{
			name: "rounding after many operations",
			a:    resList(scalarRes("cpus", "*", 1)),
			b:    resList(scalarRes("cpus", "*", 0.1), scalarRes("cpus", "*", 0.1), scalarRes("cpus", "*", 0.1), scalarRes("cpus", "*", 0.7)),
			want: resList(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.a.String()
			got := tc.a.Minus(tc.b)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("Minus mismatch (-want +got):\n%s", diff)
			}
			if tc.a.String() != before {
				t.Fatalf("Minus modified its receiver: %s, was %s", tc.a, before)
			}
		})
	}
}

func TestResourcesContains(t *testing.T) {
	offer := resList(
		scalarRes("cpus", "*", 2), scalarRes("mem", "*", 1024),
		rangesRes("ports", "*", rng(31000, 31010), rng(31020, 31030)),
		setRes("disks", "*", "a", "b"), scalarRes("cpus", "web", 1),
	)
	tests := []struct {
		name string
		want Resources
		fits bool
	}{
		{name: "nothing fits", want: nil, fits: true},
		{name: "task without roles", want: resList(scalarRes("cpus", "", 0.5), scalarRes("mem", "", 128), rangesRes("ports", "", rng(31005, 31005))), fits: true},
		{name: "exact amount", want: resList(scalarRes("cpus", "*", 2), scalarRes("mem", "*", 1024)), fits: true},
		{name: "fixed point equality", want: resList(scalarRes("cpus", "*", 0.1), scalarRes("cpus", "*", 0.2), scalarRes("cpus", "*", 1.7)), fits: true},
		{name: "too much cpu", want: resList(scalarRes("cpus", "*", 2.001)), fits: false},
		{name: "reserved cpu counted apart", want: resList(scalarRes("cpus", "*", 3)), fits: false},
		{name: "reserved role", want: resList(scalarRes("cpus", "web", 1)), fits: true},
		{name: "unknown role", want: resList(scalarRes("cpus", "db", 0.1)), fits: false},
		{name: "unknown name", want: resList(scalarRes("gpus", "*", 1)), fits: false},
		{name: "ports in both ranges", want: resList(rangesRes("ports", "", rng(31000, 31000), rng(31030, 31030))), fits: true},
		{name: "ports in the gap", want: resList(rangesRes("ports", "", rng(31010, 31020))), fits: false},
		{name: "set subset", want: resList(setRes("disks", "", "b")), fits: true},
		{name: "set not subset", want: resList(setRes("disks", "", "b", "c")), fits: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := offer.Contains(tc.want); got != tc.fits {
				t.Fatalf("(%s).Contains(%s) = %t, want %t", offer, tc.want, got, tc.fits)
			}
		})
	}
}

func TestResourcesQueries(t *testing.T) {
	r := resList(
		scalarRes("cpus", "*", 0.1), scalarRes("cpus", "web", 0.2),
		rangesRes("ports", "*", rng(31010, 31020)), rangesRes("ports", "web", rng(31000, 31009), rng(31050, 31060)),
	)
	if got := r.Scalar("cpus"); got != 0.3 {
		t.Errorf("Scalar(cpus) = %v, want 0.3", got)
	}
	if got := r.Scalar("mem"); got != 0 {
		t.Errorf("Scalar(mem) = %v, want 0", got)
	}
	if diff := cmp.Diff([]Range{rng(31000, 31020), rng(31050, 31060)}, r.Ranges("ports")); diff != "" {
		t.Errorf("Ranges(ports) mismatch (-want +got):\n%s", diff)
	}
	if r.Ranges("none") != nil {
		t.Errorf("Ranges(none) = %v, want nil", r.Ranges("none"))
	}
}

func TestResourcesEmpty(t *testing.T) {
	tests := []struct {
		name  string
		r     Resources
		empty bool
	}{
		{name: "nil", r: nil, empty: true},
		{name: "zero scalar", r: resList(scalarRes("cpus", "*", 0.0004)), empty: true},
		{name: "no ranges", r: resList(rangesRes("ports", "*")), empty: true},
		{name: "no items", r: resList(setRes("s", "*")), empty: true},
		{name: "scalar", r: resList(scalarRes("cpus", "*", 0.001)), empty: false},
		{name: "a range", r: resList(rangesRes("ports", "*", rng(1, 1))), empty: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Empty(); got != tc.empty {
				t.Fatalf("Empty() = %t, want %t", got, tc.empty)
			}
		})
	}
}

func TestResourcesString(t *testing.T) {
	tests := []struct {
		name string
		r    Resources
		want string
	}{
		{name: "nil", r: nil, want: ""},
		{
			name: "agent resources",
			r:    resList(scalarRes("cpus", "*", 4), scalarRes("mem", "*", 4096), rangesRes("ports", "*", rng(31000, 32000))),
			want: "cpus(*):4; mem(*):4096; ports(*):[31000-32000]",
		},
		{
			name: "roles fractions sets",
			r:    resList(scalarRes("cpus", "web", 0.5), scalarRes("cpus", "", 0.1), setRes("disks", "*", "a", "b"), rangesRes("ports", "*", rng(1, 2), rng(5, 5))),
			want: "cpus(web):0.5; cpus(*):0.1; disks(*):{a, b}; ports(*):[1-2, 5-5]",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseResourcesStringRoundTrip(t *testing.T) {
	text := "cpus(*):4; mem(*):4096; ports(*):[31000-31005, 31010-31010]; disks(r):{a, b}"
	r, err := ParseResources(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String(); got != text {
		t.Fatalf("String() = %q, want %q", got, text)
	}
}

func TestFormatRanges(t *testing.T) {
	tests := []struct {
		name string
		rs   []Range
		want string
	}{
		{name: "none", rs: nil, want: "[]"},
		{name: "one", rs: []Range{rng(31005, 31005)}, want: "[31005-31005]"},
		{name: "two", rs: []Range{rng(31000, 31005), rng(31010, 31010)}, want: "[31000-31005, 31010-31010]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatRanges(tc.rs); got != tc.want {
				t.Fatalf("FormatRanges(%v) = %q, want %q", tc.rs, got, tc.want)
			}
		})
	}
}
