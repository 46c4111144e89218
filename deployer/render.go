package deployer

import (
	"bytes"
	"fmt"
	"slices"
)

// Placeholders of service templates, as the article's service.json uses
// them: gen renders $tag at build time, deploy renders $environment and
// $instances (and $tag when given).
const (
	PlaceholderTag         = "tag"
	PlaceholderEnvironment = "environment"
	PlaceholderInstances   = "instances"
)

// Placeholders lists every placeholder a template may use.
var Placeholders = []string{PlaceholderTag, PlaceholderEnvironment, PlaceholderInstances}

// Render substitutes the placeholders named in vars, written $name or
// ${name}, by their values, as text: a template is not JSON before this
// ("instances": $instances). $name is a placeholder only as a whole word
// ($tagline is not $tag), which is where this differs from the original
// sed script. Other $words ($PORT0, $HOST in a cmd) are left alone.
func Render(tmpl []byte, vars map[string]string) []byte {
	var out bytes.Buffer
	out.Grow(len(tmpl))
	rest := tmpl
	for {
		i := bytes.IndexByte(rest, '$')
		if i < 0 {
			out.Write(rest)
			return out.Bytes()
		}
		out.Write(rest[:i])
		name, n := placeholderAt(rest[i:])
		if v, ok := vars[name]; ok && n > 0 {
			out.WriteString(v)
			rest = rest[i+n:]
			continue
		}
		out.WriteByte('$')
		rest = rest[i+1:]
	}
}

// Unrendered reports every placeholder of names still in text, with its
// line and column.
func Unrendered(text []byte, names []string) []Problem {
	var out []Problem
	for i := 0; i < len(text); i++ {
		if text[i] != '$' {
			continue
		}
		name, n := placeholderAt(text[i:])
		if n == 0 || !slices.Contains(names, name) {
			continue
		}
		line, col := lineCol(text, i)
		out = append(out, Problem{Line: line, Column: col, Message: fmt.Sprintf("placeholder $%s has no value", name)})
		i += n - 1
	}
	return out
}

// placeholderAt reads the placeholder that s starts with ("$name" or
// "${name}") and returns its name and length; n is 0 when s does not start
// with one.
func placeholderAt(s []byte) (name string, n int) {
	if len(s) < 2 || s[0] != '$' {
		return "", 0
	}
	if s[1] == '{' {
		end := bytes.IndexByte(s, '}')
		if end < 0 || !isIdent(s[2:end]) {
			return "", 0
		}
		return string(s[2:end]), end + 1
	}
	j := 1
	for j < len(s) && isIdentByte(s[j], j == 1) {
		j++
	}
	if j == 1 {
		return "", 0
	}
	return string(s[1:j]), j
}

func isIdent(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i, c := range b {
		if !isIdentByte(c, i == 0) {
			return false
		}
	}
	return true
}

func isIdentByte(c byte, first bool) bool {
	switch {
	case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}
