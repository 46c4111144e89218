package placement

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Names of the constraint fields that are not agent attributes.
const (
	FieldHostname    = "hostname"
	FieldAtHostname  = "@hostname"
	FieldRegion      = "@region"
	FieldZone        = "@zone"
	resourceCpus     = "cpus"
	resourceMem      = "mem"
	resourceDisk     = "disk"
	resourceGpus     = "gpus"
	resourcePorts    = "ports"
	reservationTypeD = "DYNAMIC"
)

// kind indexes the scalar resources an instance asks for.
type kind int

const (
	kindCpus kind = iota
	kindMem
	kindDisk
	kindGpus
	numKinds
)

var kindNames = [numKinds]string{resourceCpus, resourceMem, resourceDisk, resourceGpus}
var kindReasons = [numKinds]Reason{ReasonCpus, ReasonMem, ReasonDisk, ReasonGpus}

// pool is what is left of one offered resource entry: a scalar amount in
// thousandths (Mesos's fixed point) or port ranges. src carries the
// entry's role, reservation and allocation info, copied into the
// resources a task takes.
type pool struct {
	src    *mesos.Resource
	role   string
	milli  int64
	ranges []mesos.Range
}

// offerState is an offer being filled.
type offerState struct {
	offer    *mesos.Offer
	fields   map[string]string
	roles    []string // roles of the usable entries, sorted, unique
	scalars  [numKinds][]pool
	ports    []pool
	launches []Launch
	full     bool
}

func newOfferState(o *mesos.Offer) *offerState {
	s := &offerState{offer: o, fields: Fields(*o)}
	for i := range o.Resources {
		res := &o.Resources[i]
		if !usable(res) {
			continue
		}
		role := resourceRole(res)
		switch {
		case res.Type == mesos.ValueScalar && res.Scalar != nil:
			k, ok := kindOf(res.Name)
			if !ok {
				continue
			}
			if i := samePool(s.scalars[k], res); i >= 0 {
				s.scalars[k][i].milli += toMilli(res.Scalar.Value)
				break
			}
			s.scalars[k] = append(s.scalars[k], pool{src: res, role: role, milli: toMilli(res.Scalar.Value)})
		case res.Type == mesos.ValueRanges && res.Ranges != nil && res.Name == resourcePorts:
			if i := samePool(s.ports, res); i >= 0 {
				s.ports[i].ranges = mergeRanges(append(s.ports[i].ranges, res.Ranges.Range...))
				break
			}
			s.ports = append(s.ports, pool{src: res, role: role, ranges: mergeRanges(res.Ranges.Range)})
		default:
			continue
		}
		if !slices.Contains(s.roles, role) {
			s.roles = append(s.roles, role)
		}
	}
	slices.Sort(s.roles)
	return s
}

// samePool returns the index of the pool whose entry has the same role,
// reservations and allocation as res (Mesos would merge them), or -1.
func samePool(pools []pool, res *mesos.Resource) int {
	for i := range pools {
		src := pools[i].src
		if src.Role != res.Role || allocRole(src) != allocRole(res) || len(src.Reservations) != len(res.Reservations) {
			continue
		}
		same := true
		for j := range src.Reservations {
			same = same && string(src.Reservations[j]) == string(res.Reservations[j])
		}
		if same {
			return i
		}
	}
	return -1
}

func allocRole(res *mesos.Resource) string {
	if res.AllocationInfo == nil {
		return "\x00none"
	}
	return res.AllocationInfo.Role
}

func kindOf(name string) (kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return kind(k), true
		}
	}
	return 0, false
}

// usable reports whether Fit may hand out res: not revocable, not shared,
// no disk info (persistent volumes, mount disks) and not dynamically
// reserved (those reservations belong to resident tasks, which Stadion
// does not run).
func usable(res *mesos.Resource) bool {
	if len(res.Revocable) > 0 || len(res.Shared) > 0 || len(res.Disk) > 0 || len(res.Reservation) > 0 {
		return false
	}
	for _, raw := range res.Reservations {
		var r struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &r) != nil || r.Type == reservationTypeD {
			return false
		}
	}
	return true
}

// resourceRole returns the role of res: its pre-refinement role, else the
// role of its last (static) reservation, else "*".
func resourceRole(res *mesos.Resource) string {
	if res.Role != "" {
		return res.Role
	}
	if n := len(res.Reservations); n > 0 {
		var r struct {
			Role string `json:"role"`
		}
		if json.Unmarshal(res.Reservations[n-1], &r) == nil && r.Role != "" {
			return r.Role
		}
	}
	return mesos.RoleUnreserved
}

// field returns the value of a constraint field on the offer.
func (s *offerState) field(name string) (string, bool) {
	if name == FieldHostname || name == FieldAtHostname {
		return s.offer.Hostname, true
	}
	v, ok := s.fields[name]
	return v, ok
}

// allocation is the role the offer is allocated to, "" when it has no
// allocation_info.
func (s *offerState) allocation() string {
	if s.offer.AllocationInfo == nil {
		return ""
	}
	return s.offer.AllocationInfo.Role
}

// allocatedTo reports whether the offer may be used for an app of role: a
// MULTI_ROLE framework's offer is allocated to one of its roles, and an
// app only takes offers allocated to its own role (Marathon 1.9+
// TaskLauncherActor). An offer without allocation_info has no say.
func (s *offerState) allocatedTo(role string) bool {
	a := s.allocation()
	return a == "" || a == role
}

// hasRole reports whether the offer holds any usable entry of an accepted
// role.
func (s *offerState) hasRole(r roles) bool {
	for _, role := range s.roles {
		if r.accepts(role) {
			return true
		}
	}
	return false
}

// avail sums the scalar k over the accepted roles.
func (s *offerState) avail(k kind, r roles) int64 {
	var n int64
	for i := range s.scalars[k] {
		if r.accepts(s.scalars[k][i].role) {
			n += s.scalars[k][i].milli
		}
	}
	return n
}

// takeScalar removes need thousandths of k, the app's own role first, and
// appends the resources taken to out.
func (s *offerState) takeScalar(k kind, need int64, r roles, out []mesos.Resource) []mesos.Resource {
	for _, pass := range r.passes {
		for i := range s.scalars[k] {
			if need == 0 {
				return out
			}
			p := &s.scalars[k][i]
			if p.role != pass || p.milli == 0 {
				continue
			}
			n := min(need, p.milli)
			p.milli -= n
			need -= n
			res := taken(p.src)
			res.Type = mesos.ValueScalar
			res.Scalar = &mesos.Scalar{Value: fromMilli(n)}
			out = append(out, res)
		}
	}
	return out
}

// taken returns an empty resource with the name, role, reservation and
// allocation info of src, for a task's resource list.
func taken(src *mesos.Resource) mesos.Resource {
	res := mesos.Resource{Name: src.Name, Role: src.Role, Reservations: src.Reservations}
	if src.AllocationInfo != nil {
		ai := *src.AllocationInfo
		res.AllocationInfo = &ai
	}
	if src.ProviderID != nil {
		id := *src.ProviderID
		res.ProviderID = &id
	}
	return res
}

// Fields returns the values constraints see on an offer's agent: every
// attribute by name, rendered by AttributeValue (the first of duplicate
// names wins, as in Marathon), and "@region" and "@zone" from the offer's
// fault domain when it has one. The hostname is not included. Launch
// carries this map so that the scheduler can store it on the instance
// (state.Instance.Attributes), where later Fit calls read it back.
func Fields(o mesos.Offer) map[string]string {
	if len(o.Attributes) == 0 && len(o.Domain) == 0 {
		return nil
	}
	m := make(map[string]string, len(o.Attributes)+2)
	for _, a := range o.Attributes {
		if _, dup := m[a.Name]; !dup {
			m[a.Name] = AttributeValue(a)
		}
	}
	if len(o.Domain) > 0 {
		var d mesos.DomainInfo
		if json.Unmarshal(o.Domain, &d) == nil && d.FaultDomain != nil {
			if n := d.FaultDomain.Region.Name; n != "" {
				m[FieldRegion] = n
			}
			if n := d.FaultDomain.Zone.Name; n != "" {
				m[FieldZone] = n
			}
		}
	}
	return m
}

// AttributeValue renders an agent attribute as constraints compare it:
// TEXT as is, SCALAR as Mesos prints it (at most three decimals, trailing
// zeros dropped: "2", "2.5"), RANGES as "[1-2,5-7]" and SET as "{a,b}",
// sorted, the formats Marathon's constraints document.
//
// Marathon renders scalars with java.text.NumberFormat, which also groups
// thousands ("1,000"); Stadion prints "1000", as Mesos does.
func AttributeValue(a mesos.Attribute) string {
	switch a.Type {
	case mesos.ValueText:
		if a.Text != nil {
			return a.Text.Value
		}
	case mesos.ValueScalar:
		if a.Scalar != nil {
			return strconv.FormatFloat(fromMilli(toMilli(a.Scalar.Value)), 'f', -1, 64)
		}
	case mesos.ValueRanges:
		if a.Ranges != nil {
			rs := slices.Clone(a.Ranges.Range)
			slices.SortFunc(rs, func(x, y mesos.Range) int { return cmpUint(x.Begin, y.Begin) })
			parts := make([]string, len(rs))
			for i, r := range rs {
				parts[i] = strconv.FormatUint(r.Begin, 10) + "-" + strconv.FormatUint(r.End, 10)
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
	case mesos.ValueSet:
		if a.Set != nil {
			items := slices.Clone(a.Set.Item)
			slices.Sort(items)
			return "{" + strings.Join(items, ",") + "}"
		}
	}
	return ""
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// toMilli converts a scalar to thousandths, Mesos's fixed point.
func toMilli(v float64) int64 { return int64(math.Round(v * 1000)) }

func fromMilli(m int64) float64 { return float64(m) / 1000 }

// mergeRanges returns a sorted copy of rs with overlapping and adjacent
// ranges joined.
func mergeRanges(rs []mesos.Range) []mesos.Range {
	out := make([]mesos.Range, 0, len(rs))
	for _, r := range rs {
		if r.Begin <= r.End {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y mesos.Range) int { return cmpUint(x.Begin, y.Begin) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && (merged[n-1].End == math.MaxUint64 || r.Begin <= merged[n-1].End+1) {
			merged[n-1].End = max(merged[n-1].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}
