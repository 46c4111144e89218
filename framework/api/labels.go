package api

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
)

// labelSelector is the label= filter of GET /v2/apps: a conjunction of
// terms separated by commas outside parentheses.
//
//	k             the label exists
//	k==v   k!=v   the label exists and its value is equal / not equal
//	k in (a,b)    the label exists and its value is one of a, b
//	k notin (a,b) the label exists and its value is none of a, b
//
// Every term requires the label, as Marathon's LabelSelector does.
//
// A backslash escapes the next character, so keys and values may contain
// ",", "(", ")", "=" and "!".
type labelSelector []labelTerm

type labelOp int

const (
	opExists labelOp = iota
	opEq
	opNe
	opIn
	opNotIn
)

type labelTerm struct {
	key    string
	op     labelOp
	values []string
}

var setTerm = regexp.MustCompile(`^(.+?)\s+(in|notin)\s*\((.*)\)$`)

// parseLabelSelector parses one label= value; a bad one is Marathon's 422
// (its parser throws IllegalArgumentException).
func parseLabelSelector(s string) (labelSelector, error) {
	var sel labelSelector
	for _, raw := range splitTop(s, ',') {
		t, err := parseLabelTerm(strings.TrimSpace(raw))
		if err != nil {
			return nil, marathon.Unprocessable(fmt.Sprintf("Can not parse label selector %s. Reason: %v", s, err))
		}
		sel = append(sel, t)
	}
	return sel, nil
}

func parseLabelTerm(s string) (labelTerm, error) {
	if s == "" {
		return labelTerm{}, fmt.Errorf("empty term")
	}
	if m := setTerm.FindStringSubmatch(s); m != nil && !escapedAt(s, len(s)-1) {
		t := labelTerm{key: unescape(strings.TrimSpace(m[1])), op: opIn}
		if m[2] == "notin" {
			t.op = opNotIn
		}
		for _, v := range splitTop(m[3], ',') {
			t.values = append(t.values, unescape(strings.TrimSpace(v)))
		}
		return t, validKey(t.key)
	}
	if i := indexUnescaped(s, "=="); i >= 0 {
		t := labelTerm{key: unescape(strings.TrimSpace(s[:i])), op: opEq, values: []string{unescape(strings.TrimSpace(s[i+2:]))}}
		return t, validKey(t.key)
	}
	if i := indexUnescaped(s, "!="); i >= 0 {
		t := labelTerm{key: unescape(strings.TrimSpace(s[:i])), op: opNe, values: []string{unescape(strings.TrimSpace(s[i+2:]))}}
		return t, validKey(t.key)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.IndexByte(" \t()=!", s[i]) >= 0 {
			return labelTerm{}, fmt.Errorf("cannot parse %q", s)
		}
	}
	t := labelTerm{key: unescape(s), op: opExists}
	return t, validKey(t.key)
}

func validKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty label key")
	}
	return nil
}

// matches reports whether labels satisfy every term.
func (sel labelSelector) matches(labels map[string]string) bool {
	for _, t := range sel {
		v, ok := labels[t.key]
		switch t.op {
		case opExists:
			if !ok {
				return false
			}
		case opEq:
			if !ok || v != t.values[0] {
				return false
			}
		case opNe:
			if !ok || v == t.values[0] {
				return false
			}
		case opIn:
			if !ok || !contains(t.values, v) {
				return false
			}
		case opNotIn:
			if !ok || contains(t.values, v) {
				return false
			}
		}
	}
	return true
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// splitTop splits s at sep outside parentheses, honouring backslashes.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// indexUnescaped finds sub in s where its first byte is not escaped.
func indexUnescaped(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// escapedAt reports whether the byte at i is preceded by an escape.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
