package acl

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Error is a problem of an ACL file, at a line and a field.
type Error struct {
	// File is the path given to Load; empty for Parse.
	File string
	// Line and Column are 1-based; 0 when the file did not parse at all.
	Line, Column int
	// Field is the path of the field, e.g. "principals[1].permissions[0].on".
	Field   string
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("acl file")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d column %d", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(" " + e.Field)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// Load reads and parses the ACL file at path.
func Load(path string) (*ACL, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read acl file: %w", err)
	}
	a, err := Parse(data)
	var pe *Error
	if errors.As(err, &pe) {
		pe.File = path
	}
	return a, err
}

// Parse parses an ACL file, JSON or YAML (JSON is read as YAML, whose
// superset it is, so that both report lines):
//
//	principals:
//	  - principal: alice
//	    permissions:
//	      - allowed: [view, update]
//	        on: /team-a
//
// Unknown fields, unknown actions, relative or malformed ids and a
// principal named twice are errors.
func Parse(data []byte) (*ACL, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Message: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	a := &ACL{perms: map[string][]permission{}}
	if len(doc.Content) == 0 {
		return nil, &Error{Message: `empty file: want a mapping with "principals"`}
	}
	root := doc.Content[0]
	fields, err := mapping(root, "", "principals")
	if err != nil {
		return nil, err
	}
	list := fields["principals"]
	if list == nil {
		return nil, at(root, "", `missing "principals"`)
	}
	if list.Kind != yaml.SequenceNode {
		return nil, at(list, "principals", "want a list of principals")
	}
	seen := map[string]*yaml.Node{}
	for i, n := range list.Content {
		field := fmt.Sprintf("principals[%d]", i)
		name, perms, err := parsePrincipal(n, field)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[name]; ok {
			return nil, at(n, field+".principal", fmt.Sprintf("principal %q is also named at line %d: give each principal one entry", name, prev.Line))
		}
		seen[name] = n
		a.perms[name] = perms
	}
	return a, nil
}

func parsePrincipal(n *yaml.Node, field string) (string, []permission, error) {
	fields, err := mapping(n, field, "principal", "permissions")
	if err != nil {
		return "", nil, err
	}
	pn := fields["principal"]
	if pn == nil {
		return "", nil, at(n, field, `missing "principal"`)
	}
	name, err := scalar(pn, field+".principal")
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		return "", nil, at(pn, field+".principal", "empty principal")
	}
	list := fields["permissions"]
	if list == nil {
		return "", nil, at(n, field, `missing "permissions"`)
	}
	if list.Kind != yaml.SequenceNode {
		return "", nil, at(list, field+".permissions", "want a list of permissions")
	}
	perms := make([]permission, 0, len(list.Content))
	for i, pnode := range list.Content {
		p, err := parsePermission(pnode, fmt.Sprintf("%s.permissions[%d]", field, i))
		if err != nil {
			return "", nil, err
		}
		perms = append(perms, p)
	}
	return name, perms, nil
}

func parsePermission(n *yaml.Node, field string) (permission, error) {
	fields, err := mapping(n, field, "allowed", "on")
	if err != nil {
		return permission{}, err
	}
	an, on := fields["allowed"], fields["on"]
	if an == nil {
		return permission{}, at(n, field, `missing "allowed"`)
	}
	if on == nil {
		return permission{}, at(n, field, `missing "on"`)
	}
	p := permission{actions: map[Action]bool{}}
	names := []*yaml.Node{an}
	if an.Kind == yaml.SequenceNode {
		names = an.Content
		if len(names) == 0 {
			return permission{}, at(an, field+".allowed", "no action")
		}
	}
	for _, nn := range names {
		s, err := scalar(nn, field+".allowed")
		if err != nil {
			return permission{}, err
		}
		if s == AnyAction {
			for _, act := range Actions {
				p.actions[act] = true
			}
			continue
		}
		if !known(Action(s)) {
			return permission{}, at(nn, field+".allowed", fmt.Sprintf("unknown action %q (want view, view_secrets, create, update, delete, kill or *)", s))
		}
		p.actions[Action(s)] = true
	}
	s, err := scalar(on, field+".on")
	if err != nil {
		return permission{}, err
	}
	id := marathon.PathID(s)
	switch {
	case !id.IsAbsolute():
		return permission{}, at(on, field+".on", fmt.Sprintf("%q is not an absolute app or group id (want e.g. /team-a, or / for everything)", s))
	case hasDots(id):
		return permission{}, at(on, field+".on", fmt.Sprintf("%q has a . or .. segment", s))
	}
	p.on = id.Canonical()
	return p, nil
}

func known(a Action) bool {
	for _, k := range Actions {
		if a == k {
			return true
		}
	}
	return false
}

func hasDots(id marathon.PathID) bool {
	for _, s := range id.Segments() {
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}

// mapping returns the values of a mapping node by key; a key not in
// allowed is an error.
func mapping(n *yaml.Node, field string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, at(n, field, fmt.Sprintf("want a mapping with %s", quoted(allowed)))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := join(field, k.Value)
		ok := false
		for _, a := range allowed {
			ok = ok || k.Value == a
		}
		if !ok {
			return nil, at(k, name, fmt.Sprintf("unknown field (want %s)", quoted(allowed)))
		}
		if _, dup := out[k.Value]; dup {
			return nil, at(k, name, "field given twice")
		}
		out[k.Value] = v
	}
	return out, nil
}

// scalar returns a string scalar.
func scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		return "", at(n, field, "want a string")
	}
	return n.Value, nil
}

func at(n *yaml.Node, field, msg string) *Error {
	return &Error{Line: n.Line, Column: n.Column, Field: field, Message: msg}
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}
