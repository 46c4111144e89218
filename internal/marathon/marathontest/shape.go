package marathontest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Kind is the type of a JSON value, as RAML names it.
type Kind string

// The JSON value kinds a Shape may demand. Integer is a number without a
// fraction; Number takes any number.
const (
	String  Kind = "string"
	Number  Kind = "number"
	Integer Kind = "integer"
	Boolean Kind = "boolean"
	Object  Kind = "object"
	Array   Kind = "array"
	Null    Kind = "null"
)

// Shape is what a JSON value must look like: its kind and, for objects,
// the keys Marathon always writes with their shapes; for arrays, the shape
// of every item; for maps (RAML's /.*/ properties), the shape of every
// value. OneOf lists the alternatives of a RAML union type. Optional
// keys may be missing, but when present their values must have their
// shapes.
type Shape struct {
	Kind     Kind
	Keys     map[string]Shape
	Optional map[string]Shape
	Items    *Shape
	Values   *Shape
	OneOf    []Shape
}

// Scalar shapes, to build types from.
var (
	Str  = Shape{Kind: String}
	Num  = Shape{Kind: Number}
	Int  = Shape{Kind: Integer}
	Bool = Shape{Kind: Boolean}
	// Nil is JSON's null.
	Nil = Shape{Kind: Null}
	// AnyObject is an object whose keys are not checked.
	AnyObject = Shape{Kind: Object}
)

// Obj is an object that must carry keys.
func Obj(keys map[string]Shape) Shape { return Shape{Kind: Object, Keys: keys} }

// Arr is an array whose items all have shape item.
func Arr(item Shape) Shape { return Shape{Kind: Array, Items: &item} }

// Map is an object whose values all have shape value (RAML /.*/ keys).
func Map(value Shape) Shape { return Shape{Kind: Object, Values: &value} }

// Union is a value of one of the shapes (RAML "A | B").
func Union(alts ...Shape) Shape { return Shape{OneOf: alts} }

// With returns s with more keys; s must be an object shape.
func (s Shape) With(keys map[string]Shape) Shape {
	out := s.clone()
	for k, v := range keys {
		out.Keys[k] = v
	}
	return out
}

// Maybe returns s with more optional keys; s must be an object shape.
func (s Shape) Maybe(keys map[string]Shape) Shape {
	out := s.clone()
	for k, v := range keys {
		out.Optional[k] = v
	}
	return out
}

// clone copies s with maps of its own for Keys and Optional.
func (s Shape) clone() Shape {
	out := Shape{Kind: s.Kind, Keys: map[string]Shape{}, Optional: map[string]Shape{}, Items: s.Items, Values: s.Values}
	for k, v := range s.Keys {
		out.Keys[k] = v
	}
	for k, v := range s.Optional {
		out.Optional[k] = v
	}
	return out
}

// Check decodes data and returns one line per difference from s: a key
// missing ("missing .app.cpus") or a value of the wrong type ("type of
// .app.cpus: string, want number"). It returns nil when data conforms.
func Check(data []byte, s Shape) []string {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []string{fmt.Sprintf("not JSON: %v", err)}
	}
	var out []string
	check(&out, "", v, s)
	sort.Strings(out)
	return out
}

func check(out *[]string, path string, v any, s Shape) {
	if len(s.OneOf) > 0 {
		checkUnion(out, path, v, s.OneOf)
		return
	}
	if got := kindOf(v); !fits(got, s.Kind) {
		*out = append(*out, fmt.Sprintf("type of %s: %s, want %s", orRoot(path), got, s.Kind))
		return
	}
	switch x := v.(type) {
	case map[string]any:
		checkObject(out, path, x, s)
	case []any:
		if s.Items != nil {
			for _, item := range x {
				check(out, path+"[]", item, *s.Items)
			}
		}
	}
}

func checkObject(out *[]string, path string, x map[string]any, s Shape) {
	for k, ks := range s.Keys {
		c, ok := x[k]
		if !ok {
			*out = append(*out, "missing "+path+"."+k)
			continue
		}
		check(out, path+"."+k, c, ks)
	}
	for k, ks := range s.Optional {
		if c, ok := x[k]; ok {
			check(out, path+"."+k, c, ks)
		}
	}
	if s.Values != nil {
		for k, c := range x {
			check(out, path+"."+k, c, *s.Values)
		}
	}
}

// checkUnion accepts v when one alternative has no difference; otherwise
// it reports the differences from the first alternative of v's kind, or
// from the first alternative when none is of v's kind.
func checkUnion(out *[]string, path string, v any, alts []Shape) {
	var best []string
	matched := false
	for _, a := range alts {
		var diff []string
		check(&diff, path, v, a)
		if len(diff) == 0 {
			return
		}
		sameKind := fits(kindOf(v), a.Kind)
		if best == nil || (sameKind && !matched) {
			best, matched = diff, sameKind
		}
	}
	*out = append(*out, best...)
}

// fits reports whether a value of kind got satisfies want; an empty want
// takes anything.
func fits(got, want Kind) bool {
	switch {
	case want == "" || got == want:
		return true
	case want == Number && got == Integer:
		return true
	}
	return false
}

func kindOf(v any) Kind {
	switch x := v.(type) {
	case string:
		return String
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return Number
		}
		return Integer
	case bool:
		return Boolean
	case map[string]any:
		return Object
	case []any:
		return Array
	case nil:
		return Null
	}
	return Kind(fmt.Sprintf("%T", v))
}

func orRoot(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}
