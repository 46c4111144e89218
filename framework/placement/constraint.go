package placement

import (
	"math"
	"regexp"
	"strconv"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// missing is the counts key of placed instances whose agent lacks the
// field (Marathon groups them under None).
const missing = "\x00missing"

// rule is a marathon.Constraint prepared for checking.
type rule struct {
	marathon.Constraint
	re   *regexp.Regexp // LIKE and UNLIKE; nil when the value is empty or invalid
	n    int            // MAX_PER limit, GROUP_BY expected groups
	text string
}

func prepare(c marathon.Constraint, cache map[string]*regexp.Regexp) rule {
	pc := rule{Constraint: c, text: constraintText(c.Field, string(c.Operator), c.Value)}
	switch c.Operator {
	case marathon.OpLike, marathon.OpUnlike:
		if c.Value == "" {
			break
		}
		re, ok := cache[c.Value]
		if !ok {
			// Marathon uses Java's String.matches: the whole value must
			// match. RE2 syntax differs from Java's in corners
			// (backreferences, possessive quantifiers); such values never
			// match here.
			re, _ = regexp.Compile(`^(?:` + c.Value + `)$`)
			cache[c.Value] = re
		}
		pc.re = re
	case marathon.OpMaxPer:
		// Marathon's validation requires an integer; anything else allows
		// nothing.
		pc.n, _ = strconv.Atoi(c.Value)
	case marathon.OpGroupBy:
		pc.n = groupByMinimum(c.Value)
	}
	return pc
}

// groupByMinimum is GROUP_BY's expected number of values: "inf" is
// unbounded, a non-number or negative is 0.
func groupByMinimum(v string) int {
	if v == "inf" {
		return math.MaxInt
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// spread holds, for one app, how its placed instances are distributed over
// the values of each constrained field: the live instances from
// Request.Running plus those placed earlier in the same Fit call.
type spread struct {
	running []*state.Instance
	placed  []*offerState
	counts  map[string]map[string]int // field -> value (or missing) -> instances
	total   int
}

// valueOf returns the value of field for a running instance.
func valueOf(inst *state.Instance, field string) (string, bool) {
	if field == FieldHostname || field == FieldAtHostname {
		return inst.Hostname, true
	}
	v, ok := inst.Attributes[field]
	return v, ok
}

// of returns the counts of field, computing them on first use.
func (s *spread) of(field string) map[string]int {
	if c, ok := s.counts[field]; ok {
		return c
	}
	c := map[string]int{}
	for _, inst := range s.running {
		v, ok := valueOf(inst, field)
		if !ok {
			v = missing
		}
		c[v]++
	}
	for _, o := range s.placed {
		v, ok := o.field(field)
		if !ok {
			v = missing
		}
		c[v]++
	}
	if s.counts == nil {
		s.counts = map[string]map[string]int{}
	}
	s.counts[field] = c
	return c
}

// add records a placement on o.
func (s *spread) add(o *offerState) {
	s.placed = append(s.placed, o)
	s.total++
	for field, c := range s.counts {
		v, ok := o.field(field)
		if !ok {
			v = missing
		}
		c[v]++
	}
}

// allows reports whether c lets one more instance go to an agent whose
// field value is v (present false: the agent lacks the field). The rules
// are Marathon's Constraints.meetsConstraint:
//
//   - a missing field passes UNLIKE only;
//   - LIKE / UNLIKE: the whole value matches / does not match the regex
//     (an empty value passes neither);
//   - UNIQUE: no placed instance has v;
//   - CLUSTER with a value: v is the value (like IS); without one: v is the
//     value of the instances already placed, any value for the first;
//   - GROUP_BY: v is new, or at least the expected number of values is in
//     use and v has the fewest instances;
//   - MAX_PER: fewer than N instances have v;
//   - IS: v is the value.
func (s *spread) allows(c *rule, v string, present bool) bool {
	if !present {
		return c.Operator == marathon.OpUnlike
	}
	switch c.Operator {
	case marathon.OpLike:
		return c.re != nil && c.re.MatchString(v)
	case marathon.OpUnlike:
		return c.re != nil && !c.re.MatchString(v)
	case marathon.OpIs:
		return v == c.Value
	case marathon.OpUnique:
		return s.total == 0 || s.of(c.Field)[v] == 0
	case marathon.OpMaxPer:
		return s.total == 0 && c.n > 0 || s.of(c.Field)[v] < c.n
	case marathon.OpCluster:
		if c.Value != "" {
			return v == c.Value
		}
		return s.total == 0 || v == dominant(s.of(c.Field))
	case marathon.OpGroupBy:
		if s.total == 0 {
			return true
		}
		counts := s.of(c.Field)
		n := counts[v]
		if n == 0 {
			return true
		}
		least := n
		for _, m := range counts {
			least = min(least, m)
		}
		return len(counts) >= c.n && n == least
	}
	return false
}

// dominant returns the value most instances have (ties: the smallest
// value). Marathon takes the first placed instance's value; with a CLUSTER
// constraint in force all instances share it, and this choice only matters
// for instances placed before the constraint was added.
func dominant(counts map[string]int) string {
	best, bestN := "", -1
	for v, n := range counts {
		if n > bestN || n == bestN && v < best {
			best, bestN = v, n
		}
	}
	return best
}
