package marathon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// DecodeApp decodes a POST /v2/apps body. It is strict on types, as
// Marathon's Play-JSON readers are: a value of the wrong type gives an
// "Invalid JSON" *Error whose details carry the JSON path
// ("/container/docker/image") and Play's error code
// ("error.expected.jsstring"); a missing id gives "error.path.missing".
// Unknown fields are ignored, as Marathon does. Absent fields get
// Marathon's defaults. Malformed JSON gives a 400 *Error.
func DecodeApp(data []byte) (App, error) {
	var app App
	err := decodeStrict(data, &app, func(v any, r *reporter) {
		requireKey(v, "", "id", r)
		checkAppCmd(v, "", r)
	})
	return app, err
}

// DecodeAppUpdate decodes a PUT /v2/apps/{id} body with partialUpdate=false,
// where the id comes from the URL and may be absent from the body.
func DecodeAppUpdate(data []byte) (App, error) {
	var app App
	err := decodeStrict(data, &app, func(v any, r *reporter) { checkAppCmd(v, "", r) })
	return app, err
}

// DecodeApps decodes the array body of PUT and PATCH /v2/apps; every
// element needs an id.
func DecodeApps(data []byte) ([]App, error) {
	var apps []App
	err := decodeStrict(data, &apps, func(v any, r *reporter) {
		if a, ok := v.([]any); ok {
			for i, e := range a {
				requireKey(e, fmt.Sprintf("(%d)", i), "id", r)
			}
		}
		checkAppsCmd(v, "", r)
	})
	return apps, err
}

// DecodeGroup decodes a POST /v2/groups body (a group tree). A body that
// nests groups more than MaxIDDepth levels deep or holds more than
// MaxGroupsPerRequest groups gives a 422 *Error before any type check.
func DecodeGroup(data []byte) (Group, error) {
	var g Group
	err := decodeStrict(data, &g, func(v any, r *reporter) { checkGroupCmd(v, "", r) })
	return g, err
}

// DecodeGroupUpdate decodes a PUT or PATCH /v2/groups/{id} body, including
// the special forms {"version": v} and {"scaleBy": f}. Its groups are
// bounded as DecodeGroup's.
func DecodeGroupUpdate(data []byte) (GroupUpdate, error) {
	var g GroupUpdate
	err := decodeStrict(data, &g, func(v any, r *reporter) { checkGroupCmd(v, "", r) })
	return g, err
}

// Decode decodes any wire type of this package with the same strictness
// as DecodeApp (client side: tasks, deployments, queue, info, events).
func Decode[T any](data []byte) (T, error) {
	var v T
	err := decodeStrict(data, &v, nil)
	return v, err
}

func requireKey(v any, path, key string, r *reporter) {
	if m, ok := v.(map[string]any); ok {
		switch e, ok := m[key]; {
		case !ok:
			r.add(path+"/"+key, codeMissing)
		case e == nil:
			r.add(path+"/"+key, codeString) // a null id is no id
		}
	}
}

// decodeStrict parses data, type-checks it against dst's Go type, drops
// unknown keys (so encoding/json's case-insensitive matching cannot pick
// them up) and decodes the cleaned value into dst.
func decodeStrict[T any](data []byte, dst *T, extra func(any, *reporter)) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return NoJSON()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return MalformedJSON(err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return MalformedJSON(fmt.Sprintf("unexpected data after the top-level value at offset %d", dec.InputOffset()))
	}
	switch any(dst).(type) {
	case *Group, *GroupUpdate:
		if err := checkGroupShape(v); err != nil {
			return err
		}
	}
	var r reporter
	clean := checkValue(reflect.TypeFor[T](), v, "", &r)
	if extra != nil {
		extra(v, &r)
	}
	if !r.empty() {
		return InvalidJSON(r.details()...)
	}
	b, err := json.Marshal(clean)
	if err != nil {
		return InvalidJSON(Detail{Path: "/", Errors: []string{codeNotValid}})
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return InvalidJSON(Detail{Path: "/", Errors: []string{codeNotValid}})
	}
	return nil
}

// checker is implemented by types with a custom wire form; checkJSON is
// called with a non-null value and reports what is wrong with it.
type checker interface {
	checkJSON(v any, path string, r *reporter)
}

var (
	checkerType = reflect.TypeFor[checker]()
	enumType    = reflect.TypeFor[enum]()
	rawType     = reflect.TypeFor[json.RawMessage]()
)

// checkValueOf type-checks v against T (for custom checkers of objects).
func checkValueOf[T any](v any, path string, r *reporter) {
	checkValue(reflect.TypeFor[T](), v, path, r)
}

// expectedCode is the Play code for a value that is not of type t.
func expectedCode(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[Timestamp]():
		return codeString
	case t == reflect.TypeFor[UnreachableStrategy]():
		return codeObject
	case t == reflect.TypeFor[Constraint]():
		return codeArray
	case t == reflect.TypeFor[EnvVar]():
		return codeString
	}
	switch t.Kind() {
	case reflect.String:
		return codeString
	case reflect.Bool:
		return codeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return codeNumber
	case reflect.Slice, reflect.Array:
		return codeArray
	}
	return codeObject
}

// checkValue reports type errors of v against t under path and returns v
// with unknown object keys removed and integral numbers normalised.
func checkValue(t reflect.Type, v any, path string, r *reporter) any {
	if v == nil {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		return checkValue(t.Elem(), v, path, r)
	}
	if t.Implements(checkerType) {
		reflect.Zero(t).Interface().(checker).checkJSON(v, path, r)
		return v
	}
	if t == rawType || t.Kind() == reflect.Interface {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			r.add(path, codeString)
			return v
		}
		if t.Implements(enumType) {
			if _, ok := canonicalEnum(s, reflect.Zero(t).Interface().(enum).enumValues()); !ok {
				r.add(path, codeEnum)
			}
		}
		return v
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			r.add(path, codeBool)
		}
		return v
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return checkInt(t, v, path, r)
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			r.add(path, codeNumber)
			return v
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) {
			r.add(path, codeNumber)
		}
		return v
	case reflect.Slice, reflect.Array:
		a, ok := v.([]any)
		if !ok {
			r.add(path, codeArray)
			return v
		}
		out := make([]any, len(a))
		for i, e := range a {
			out[i] = checkValue(t.Elem(), e, fmt.Sprintf("%s(%d)", path, i), r)
		}
		return out
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			r.add(path, codeObject)
			return v
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = checkValue(t.Elem(), e, path+"/"+k, r)
		}
		return out
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			r.add(path, codeObject)
			return v
		}
		out := make(map[string]any, len(m))
		for _, f := range fieldsOf(t) {
			e, present := m[f.name]
			switch {
			case !present:
				if f.required {
					r.add(path+"/"+f.name, codeMissing)
				}
			case e == nil && f.required:
				r.add(path+"/"+f.name, expectedCode(f.typ))
			case e == nil:
				// An explicit null reads as absent, as Marathon's
				// readers do (readNullable, or read.orElse(default)):
				// go-marathon sends "ports": null on every scale.
			default:
				out[f.name] = checkValue(f.typ, e, path+"/"+f.name, r)
			}
		}
		return out
	}
	return v
}

// int32 is the range of Marathon's integer fields (format: int32).
func checkInt(t reflect.Type, v any, path string, r *reporter) any {
	n, ok := v.(json.Number)
	if !ok {
		r.add(path, codeNumber)
		return v
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if !intFits(t, i) {
			r.add(path, codeInt)
		}
		return v
	}
	// Integral values written with a fraction or exponent (1.0, 1e3) are
	// integers for Play; rewrite them so encoding/json accepts them.
	// strconv.ParseFloat stays fast on huge exponents (math/big does not).
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		r.add(path, codeInt)
		return v
	}
	i := int64(f)
	if !intFits(t, i) {
		r.add(path, codeInt)
		return v
	}
	return json.Number(strconv.FormatInt(i, 10))
}

func intFits(t reflect.Type, i int64) bool {
	switch t.Kind() {
	case reflect.Int64:
		return true
	case reflect.Int8, reflect.Int16:
		lim := int64(1) << (t.Bits() - 1)
		return i >= -lim && i < lim
	case reflect.Int, reflect.Int32:
		return i >= math.MinInt32 && i <= math.MaxInt32
	case reflect.Uint64, reflect.Uint:
		return i >= 0
	default: // Uint8, Uint16, Uint32
		return i >= 0 && i < int64(1)<<t.Bits()
	}
}

type fieldInfo struct {
	name     string
	typ      reflect.Type
	required bool
}

var fieldCache sync.Map // reflect.Type -> []fieldInfo

// fieldsOf lists the JSON fields of a struct type, flattening embedded
// structs without a JSON name as encoding/json does.
func fieldsOf(t reflect.Type) []fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]fieldInfo)
	}
	var out []fieldInfo
	seen := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && !ft.Implements(checkerType) {
					walk(ft)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, fieldInfo{name: name, typ: sf.Type, required: sf.Tag.Get("required") == "true"})
		}
	}
	walk(t)
	fieldCache.Store(t, out)
	return out
}
