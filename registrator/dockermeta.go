package registrator

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// containerMeta is the SERVICE_* metadata of one port of a container, as
// gliderlabs/registrator reads it: keys lowercased without the SERVICE_
// prefix ("check_http"), SERVICE_<port>_<key> only for that container
// port, and portName set when the name came from SERVICE_<port>_NAME.
type containerMeta struct {
	values   map[string]string
	portName bool
}

func (m containerMeta) get(key string) string { return m.values[key] }

// readMeta collects the metadata of the container port port (its exposed,
// container-side number) from the container's env, then its labels: a
// port-specific key beats a generic one, and at the same level the later
// source wins, so labels beat env. Empty values count as unset.
func readMeta(env []string, labels map[string]string, port string) containerMeta {
	m := containerMeta{values: map[string]string{}}
	specific := map[string]bool{}
	apply := func(k, v string) {
		rest, ok := strings.CutPrefix(k, "SERVICE_")
		if !ok || v == "" {
			return
		}
		key := strings.ToLower(rest)
		first, tail, more := strings.Cut(key, "_")
		if _, err := strconv.Atoi(first); err == nil && more && tail != "" {
			if first != port {
				return
			}
			m.values[tail], specific[tail] = v, true
			return
		}
		if !specific[key] {
			m.values[key] = v
		}
	}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			apply(k, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		apply(k, labels[k])
	}
	m.portName = specific["name"]
	return m
}

// splitTags splits a comma list: "\," is a literal comma; items are
// trimmed and blanks dropped (gliderlabs keeps the blanks and reverses
// the order, which nobody relies on).
func splitTags(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			cur.WriteByte(',')
			i++
		case s[i] == ',':
			flush()
		default:
			cur.WriteByte(s[i])
		}
	}
	flush()
	return out
}

// metaKeyPattern is what Consul accepts as a meta key.
var metaKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

// Consul's meta limits.
const (
	maxMetaPairs = 64
	maxMetaValue = 512
)

// reservedMeta are the metadata keys that are not service meta: they name,
// tag, identify or check the service, or ignore the port.
func reservedMeta(key string) bool {
	switch key {
	case "id", "name", "tags", "ignore":
		return true
	}
	return strings.HasPrefix(key, "check_")
}
