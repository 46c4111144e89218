package mesos

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// RoleUnreserved is the role of unreserved resources.
const RoleUnreserved = "*"

// Resources is a list of resources with arithmetic by (name, role). A
// resource without a role (as schedulers send them in a TaskInfo, and as
// resources in the post-refinement format look when unreserved) counts as
// unreserved, role "*". Scalars keep Mesos's fixed point of three decimals.
type Resources []Resource

// ParseResources parses Mesos's agent --resources text form,
// "cpus:4;mem:4096;disk:1000;ports:[31000-32000]", with optional roles
// "cpus(role):2", ranges "[1-2,5-7]" (spaces allowed) and sets "{a,b}"; or,
// when text starts with '[', a JSON array of Resource. Unreserved resources
// get Role "*". Resources with the same name, role and type add up, and empty
// ones (a zero scalar) are dropped, as Mesos does.
func ParseResources(text string) (Resources, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "[") {
		return parseResourcesJSON(text)
	}
	var out Resources
	for part := range strings.SplitSeq(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		res, err := parseResource(part)
		if err != nil {
			return nil, fmt.Errorf("parse resource %q: %w", part, err)
		}
		out = out.Plus(Resources{res})
	}
	return out, nil
}

func parseResourcesJSON(text string) (Resources, error) {
	var list []Resource
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return nil, fmt.Errorf("parse resources json: %w", err)
	}
	var out Resources
	for i, res := range list {
		if err := validateResource(res); err != nil {
			return nil, fmt.Errorf("parse resource %d (%q): %w", i, res.Name, err)
		}
		if res.Role == "" && len(res.Reservations) == 0 {
			res.Role = RoleUnreserved
		}
		out = out.Plus(Resources{res})
	}
	return out, nil
}

func validateResource(res Resource) error {
	if res.Name == "" {
		return errors.New("empty name")
	}
	switch res.Type {
	case ValueScalar:
		if res.Scalar == nil {
			return errors.New("scalar resource without scalar value")
		}
		return validateScalar(res.Scalar.Value)
	case ValueRanges:
		if res.Ranges == nil {
			return errors.New("ranges resource without ranges value")
		}
		for _, rg := range res.Ranges.Range {
			if rg.Begin > rg.End {
				return fmt.Errorf("range %d-%d: begin after end", rg.Begin, rg.End)
			}
		}
	case ValueSet:
		if res.Set == nil {
			return errors.New("set resource without set value")
		}
	default:
		return fmt.Errorf("unsupported resource type %q", res.Type)
	}
	return nil
}

func validateScalar(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("scalar %v is not a finite number", v)
	case v < 0:
		return fmt.Errorf("scalar %v is negative", v)
	}
	return nil
}

// parseResource parses one "name(role):value" pair of the text form.
func parseResource(part string) (Resource, error) {
	key, value, ok := strings.Cut(part, ":")
	if !ok {
		return Resource{}, errors.New("missing ':' between name and value")
	}
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	name, role := key, RoleUnreserved
	if open := strings.IndexByte(key, '('); open >= 0 {
		if !strings.HasSuffix(key, ")") {
			return Resource{}, fmt.Errorf("bad role in %q: missing ')'", key)
		}
		name = strings.TrimSpace(key[:open])
		role = strings.TrimSpace(key[open+1 : len(key)-1])
		if role == "" || strings.ContainsAny(role, "() \t") {
			return Resource{}, fmt.Errorf("bad role in %q", key)
		}
	}
	if name == "" || strings.ContainsAny(name, "() \t") {
		return Resource{}, fmt.Errorf("bad name %q", name)
	}
	if value == "" {
		return Resource{}, errors.New("empty value")
	}
	res := Resource{Name: name, Role: role}
	switch value[0] {
	case '[':
		rs, err := parseRanges(value)
		if err != nil {
			return Resource{}, err
		}
		res.Type, res.Ranges = ValueRanges, &Ranges{Range: rs}
	case '{':
		items, err := parseSet(value)
		if err != nil {
			return Resource{}, err
		}
		res.Type, res.Set = ValueSet, &Set{Item: items}
	default:
		if !numberRE.MatchString(value) {
			return Resource{}, fmt.Errorf("value %q is not a number, range or set", value)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return Resource{}, fmt.Errorf("value %q: %w", value, err)
		}
		if err := validateScalar(v); err != nil {
			return Resource{}, err
		}
		res.Type, res.Scalar = ValueScalar, &Scalar{Value: v}
	}
	return res, nil
}

// numberRE is the decimal number syntax Mesos accepts for scalars; it keeps
// strconv's extras ("inf", "0x1p3", "1_000") out.
var numberRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// parseRanges parses "[1-2, 5-7]". Ranges come back merged and sorted.
func parseRanges(text string) ([]Range, error) {
	if !strings.HasPrefix(text, "[") || !strings.HasSuffix(text, "]") {
		return nil, fmt.Errorf("ranges %q: want [begin-end, ...]", text)
	}
	inner := strings.TrimSpace(text[1 : len(text)-1])
	if inner == "" {
		return nil, nil
	}
	var out []Range
	for item := range strings.SplitSeq(inner, ",") {
		item = strings.TrimSpace(item)
		b, e, ok := strings.Cut(item, "-")
		if !ok {
			return nil, fmt.Errorf("range %q: want begin-end", item)
		}
		begin, err := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("range %q: bad begin: %w", item, err)
		}
		end, err := strconv.ParseUint(strings.TrimSpace(e), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("range %q: bad end: %w", item, err)
		}
		if begin > end {
			return nil, fmt.Errorf("range %q: begin after end", item)
		}
		out = append(out, Range{Begin: begin, End: end})
	}
	return mergeRanges(out), nil
}

// parseSet parses "{a, b}".
func parseSet(text string) ([]string, error) {
	if !strings.HasPrefix(text, "{") || !strings.HasSuffix(text, "}") {
		return nil, fmt.Errorf("set %q: want {item, ...}", text)
	}
	inner := strings.TrimSpace(text[1 : len(text)-1])
	if inner == "" {
		return nil, nil
	}
	var out []string
	for item := range strings.SplitSeq(inner, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("set %q: empty item", text)
		}
		out = append(out, item)
	}
	return unionItems(nil, out), nil
}

// ParseAttributes parses the agent --attributes text form,
// "rack:r1;level:2;ranges:[1-3];set:{a,b}". A value that parses as a number is
// SCALAR, "[..]" is RANGES, "{..}" is SET, anything else TEXT.
func ParseAttributes(text string) ([]Attribute, error) {
	var out []Attribute
	for part := range strings.SplitSeq(text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("parse attribute %q: want name:value", part)
		}
		attr := Attribute{Name: name}
		switch {
		case value[0] == '[':
			rs, err := parseRanges(value)
			if err != nil {
				return nil, fmt.Errorf("parse attribute %q: %w", part, err)
			}
			attr.Type, attr.Ranges = ValueRanges, &Ranges{Range: rs}
		case value[0] == '{':
			items, err := parseSet(value)
			if err != nil {
				return nil, fmt.Errorf("parse attribute %q: %w", part, err)
			}
			attr.Type, attr.Set = ValueSet, &Set{Item: items}
		case numberRE.MatchString(value):
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return nil, fmt.Errorf("parse attribute %q: %w", part, err)
			}
			attr.Type, attr.Scalar = ValueScalar, &Scalar{Value: v}
		default:
			attr.Type, attr.Text = ValueText, &Text{Value: value}
		}
		out = append(out, attr)
	}
	return out, nil
}

// milli converts a scalar to Mesos's fixed point (thousandths).
func milli(v float64) int64 { return int64(math.Round(v * 1000)) }

// fromMilli converts back from thousandths.
func fromMilli(m int64) float64 { return float64(m) / 1000 }

// roleOf is the role a resource is reserved to: Role when set, else the last
// (most refined) reservation's role, else "*".
func roleOf(res *Resource) string {
	if res.Role != "" {
		return res.Role
	}
	if n := len(res.Reservations); n > 0 {
		var rv struct {
			Role string `json:"role"`
		}
		if json.Unmarshal(res.Reservations[n-1], &rv) == nil && rv.Role != "" {
			return rv.Role
		}
	}
	return RoleUnreserved
}

type resourceKey struct {
	name string
	role string
	typ  ValueType
}

func keyOf(res *Resource) resourceKey {
	return resourceKey{name: res.Name, role: roleOf(res), typ: res.Type}
}

// clone returns a copy of res that shares no value storage with it. An
// unreserved resource without a role gets role "*".
func clone(res Resource) Resource {
	out := res
	if res.Scalar != nil {
		out.Scalar = &Scalar{Value: fromMilli(milli(res.Scalar.Value))}
	}
	if res.Ranges != nil {
		out.Ranges = &Ranges{Range: mergeRanges(res.Ranges.Range)}
	}
	if res.Set != nil {
		out.Set = &Set{Item: unionItems(nil, res.Set.Item)}
	}
	if res.AllocationInfo != nil {
		ai := *res.AllocationInfo
		out.AllocationInfo = &ai
	}
	if res.ProviderID != nil {
		p := *res.ProviderID
		out.ProviderID = &p
	}
	out.Reservations = slices.Clone(res.Reservations)
	if out.Role == "" && len(out.Reservations) == 0 {
		out.Role = RoleUnreserved
	}
	return out
}

// isEmpty reports whether res holds nothing: a scalar that rounds to zero or
// less, no ranges, no set items.
func isEmpty(res *Resource) bool {
	switch res.Type {
	case ValueScalar:
		return res.Scalar == nil || milli(res.Scalar.Value) <= 0
	case ValueRanges:
		return res.Ranges == nil || len(res.Ranges.Range) == 0
	case ValueSet:
		return res.Set == nil || len(res.Set.Item) == 0
	}
	return true
}

// Scalar returns the sum of the scalar resources called name over all roles.
func (r Resources) Scalar(name string) float64 {
	var m int64
	for i := range r {
		if r[i].Name == name && r[i].Type == ValueScalar && r[i].Scalar != nil {
			m += milli(r[i].Scalar.Value)
		}
	}
	return fromMilli(m)
}

// Ranges returns the ranges of the resources called name over all roles,
// merged and sorted.
func (r Resources) Ranges(name string) []Range {
	var all []Range
	for i := range r {
		if r[i].Name == name && r[i].Type == ValueRanges && r[i].Ranges != nil {
			all = append(all, r[i].Ranges.Range...)
		}
	}
	return mergeRanges(all)
}

// Plus returns r with o added: entries with the same name, role and type
// merge (scalars add, ranges and sets unite); other entries are appended in
// order. Empty entries are dropped. Neither r nor o is modified.
func (r Resources) Plus(o Resources) Resources {
	out := make(Resources, 0, len(r)+len(o))
	index := map[resourceKey]int{}
	add := func(res *Resource) {
		if isEmpty(res) {
			return
		}
		k := keyOf(res)
		i, ok := index[k]
		if !ok {
			index[k] = len(out)
			out = append(out, clone(*res))
			return
		}
		dst := &out[i]
		switch res.Type {
		case ValueScalar:
			dst.Scalar.Value = fromMilli(milli(dst.Scalar.Value) + milli(res.Scalar.Value))
		case ValueRanges:
			dst.Ranges.Range = mergeRanges(append(dst.Ranges.Range, res.Ranges.Range...))
		case ValueSet:
			dst.Set.Item = unionItems(dst.Set.Item, res.Set.Item)
		}
	}
	for i := range r {
		add(&r[i])
	}
	for i := range o {
		add(&o[i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Minus returns r with o taken away, matching by name, role and type:
// scalars subtract (an entry at or below zero after rounding to three
// decimals is dropped), ranges and set items are removed. Entries of o that r
// lacks are ignored. Neither r nor o is modified.
func (r Resources) Minus(o Resources) Resources {
	sub := Resources(nil).Plus(o)
	subIndex := map[resourceKey]*Resource{}
	for i := range sub {
		subIndex[keyOf(&sub[i])] = &sub[i]
	}
	merged := Resources(nil).Plus(r)
	out := merged[:0]
	for _, res := range merged {
		if s, ok := subIndex[keyOf(&res)]; ok {
			switch res.Type {
			case ValueScalar:
				res.Scalar.Value = fromMilli(milli(res.Scalar.Value) - milli(s.Scalar.Value))
			case ValueRanges:
				res.Ranges.Range = subtractRanges(res.Ranges.Range, s.Ranges.Range)
			case ValueSet:
				res.Set.Item = subtractItems(res.Set.Item, s.Set.Item)
			}
		}
		if !isEmpty(&res) {
			out = append(out, res)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Contains reports whether every scalar, range and set item of o fits in r
// under the same name and role.
func (r Resources) Contains(o Resources) bool {
	have := map[resourceKey]*Resource{}
	merged := Resources(nil).Plus(r)
	for i := range merged {
		have[keyOf(&merged[i])] = &merged[i]
	}
	for _, want := range Resources(nil).Plus(o) {
		h, ok := have[keyOf(&want)]
		if !ok {
			return false
		}
		switch want.Type {
		case ValueScalar:
			if milli(h.Scalar.Value) < milli(want.Scalar.Value) {
				return false
			}
		case ValueRanges:
			if len(subtractRanges(want.Ranges.Range, h.Ranges.Range)) > 0 {
				return false
			}
		case ValueSet:
			if len(subtractItems(want.Set.Item, h.Set.Item)) > 0 {
				return false
			}
		}
	}
	return true
}

// Empty reports whether r holds no resource quantity at all.
func (r Resources) Empty() bool {
	for i := range r {
		if !isEmpty(&r[i]) {
			return false
		}
	}
	return true
}

// String renders r in the text form Mesos logs and prints,
// "cpus(*):4; mem(*):4096; ports(*):[31000-32000]".
func (r Resources) String() string {
	parts := make([]string, 0, len(r))
	for i := range r {
		res := &r[i]
		var value string
		switch res.Type {
		case ValueScalar:
			if res.Scalar != nil {
				value = strconv.FormatFloat(fromMilli(milli(res.Scalar.Value)), 'f', -1, 64)
			}
		case ValueRanges:
			if res.Ranges != nil {
				value = FormatRanges(res.Ranges.Range)
			} else {
				value = "[]"
			}
		case ValueSet:
			if res.Set != nil {
				value = "{" + strings.Join(res.Set.Item, ", ") + "}"
			} else {
				value = "{}"
			}
		}
		parts = append(parts, res.Name+"("+roleOf(res)+"):"+value)
	}
	return strings.Join(parts, "; ")
}

// FormatRanges renders ranges as /master/state does: "[31000-31005, 31010-31010]".
func FormatRanges(rs []Range) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, rg := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(rg.Begin, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(rg.End, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// mergeRanges returns a new sorted list of rs with overlapping and adjacent
// ranges joined. Ranges with begin after end are dropped.
func mergeRanges(rs []Range) []Range {
	if len(rs) == 0 {
		return nil
	}
	sorted := make([]Range, 0, len(rs))
	for _, rg := range rs {
		if rg.Begin <= rg.End {
			sorted = append(sorted, rg)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Begin < sorted[j].Begin })
	out := sorted[:0]
	for _, rg := range sorted {
		if n := len(out); n > 0 && (out[n-1].End == math.MaxUint64 || rg.Begin <= out[n-1].End+1) {
			out[n-1].End = max(out[n-1].End, rg.End)
			continue
		}
		out = append(out, rg)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// subtractRanges returns a minus b, merged and sorted.
func subtractRanges(a, b []Range) []Range {
	cur := mergeRanges(a)
	for _, cut := range mergeRanges(b) {
		var next []Range
		for _, rg := range cur {
			if cut.End < rg.Begin || cut.Begin > rg.End {
				next = append(next, rg)
				continue
			}
			if cut.Begin > rg.Begin {
				next = append(next, Range{Begin: rg.Begin, End: cut.Begin - 1})
			}
			if cut.End < rg.End {
				next = append(next, Range{Begin: cut.End + 1, End: rg.End})
			}
		}
		cur = next
	}
	return cur
}

// unionItems returns the sorted union of a and b without duplicates.
func unionItems(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// subtractItems returns the items of a that are not in b.
func subtractItems(a, b []string) []string {
	var out []string
	for _, it := range a {
		if !slices.Contains(b, it) {
			out = append(out, it)
		}
	}
	return out
}
