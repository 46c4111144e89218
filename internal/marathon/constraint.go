package marathon

import (
	"encoding/json"
	"fmt"
)

// Operator is a placement constraint operator.
type Operator string

// Constraint operators (constraint.raml).
const (
	OpUnique  Operator = "UNIQUE"
	OpCluster Operator = "CLUSTER"
	OpGroupBy Operator = "GROUP_BY"
	OpLike    Operator = "LIKE"
	OpUnlike  Operator = "UNLIKE"
	OpMaxPer  Operator = "MAX_PER"
	OpIs      Operator = "IS"
)

// Constraint is a placement rule, on the wire [field, OPERATOR] or
// [field, OPERATOR, value]. Field is "hostname" (or "@hostname"),
// "@region", "@zone" or an agent attribute name. An empty Value is written
// as the two-element form.
type Constraint struct {
	Field    string
	Operator Operator
	Value    string
	// Arity is the number of elements read from the wire (0 when built in
	// Go); Validate rejects anything but 2 or 3.
	Arity int
}

// MarshalJSON writes the array form.
func (c Constraint) MarshalJSON() ([]byte, error) {
	a := []string{c.Field, string(c.Operator)}
	if c.Value != "" {
		a = append(a, c.Value)
	}
	return json.Marshal(a)
}

// UnmarshalJSON reads the array form.
func (c *Constraint) UnmarshalJSON(b []byte) error {
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*c = Constraint{Arity: len(a)}
	if len(a) > 0 {
		c.Field = a[0]
	}
	if len(a) > 1 {
		c.Operator = Operator(a[1])
	}
	if len(a) > 2 {
		c.Value = a[2]
	}
	return nil
}

// String renders the constraint as Marathon's text form "field:OP:value".
func (c Constraint) String() string {
	if c.Value == "" {
		return fmt.Sprintf("%s:%s", c.Field, c.Operator)
	}
	return fmt.Sprintf("%s:%s:%s", c.Field, c.Operator, c.Value)
}

func (Constraint) checkJSON(v any, path string, r *reporter) {
	a, ok := v.([]any)
	if !ok {
		r.add(path, codeArray)
		return
	}
	for i, e := range a {
		if _, ok := e.(string); !ok {
			r.add(fmt.Sprintf("%s(%d)", path, i), codeString)
		}
	}
}
