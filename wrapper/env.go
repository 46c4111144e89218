package wrapper

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
)

// Pair is one KV entry under the prefix.
type Pair struct {
	// Key is relative to the prefix: "db/host" for "<prefix>/db/host".
	Key   string `json:"key"`
	Value []byte `json:"value"`
	// ModifyIndex is Consul's index of the entry's last write.
	ModifyIndex uint64 `json:"modifyIndex"`
}

// Snapshot is the KV under the prefix as Consul answered it at Index.
type Snapshot struct {
	// Index is the X-Consul-Index of the answer.
	Index uint64 `json:"index"`
	// Pairs are sorted by key.
	Pairs []Pair `json:"pairs"`
}

// relativePairs turns Consul's full keys into keys relative to prefix,
// dropping the folder entries (keys ending in "/") and anything outside
// prefix, sorted by key.
func relativePairs(prefix string, full []Pair) []Pair {
	out := make([]Pair, 0, len(full))
	for _, p := range full {
		rel, ok := strings.CutPrefix(p.Key, prefix+"/")
		if !ok || rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		p.Key = rel
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Pair) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Digest identifies the content (keys and values) of the snapshot. It
// decides whether the configuration changed; it stays in this process (and
// in the cache file, which holds the values anyway).
func (s Snapshot) Digest() string {
	h := sha256.New()
	for _, p := range s.Pairs {
		writeField(h, []byte(p.Key))
		writeField(h, p.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// StateID identifies the snapshot by its keys and their modify indexes,
// without the values: every instance computes the same id for the same KV
// state, and it may be stored in Consul without revealing any value.
func (s Snapshot) StateID() string {
	h := sha256.New()
	var n [8]byte
	for _, p := range s.Pairs {
		writeField(h, []byte(p.Key))
		binary.BigEndian.PutUint64(n[:], p.ModifyIndex)
		h.Write(n[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes b with its length, so that fields cannot run together.
func writeField(h interface{ Write([]byte) (int, error) }, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// invalidEnvChars are the characters --sanitize replaces by "_", as
// envconsul's -sanitize does.
var invalidEnvChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// EnvOptions shape environment variable names from KV keys.
type EnvOptions struct {
	// Sanitize replaces every character other than letters, digits and
	// "_" with "_" ("db/host-name" becomes "db_host_name").
	Sanitize bool
	// Upcase upper-cases the name, after Sanitize.
	Upcase bool
}

// EnvName is the environment variable name of a relative key, and whether
// it is usable: a name cannot be empty or hold "=" or NUL.
func (o EnvOptions) EnvName(key string) (string, bool) {
	name := key
	if o.Sanitize {
		name = invalidEnvChars.ReplaceAllString(name, "_")
	}
	if o.Upcase {
		name = strings.ToUpper(name)
	}
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "=\x00") {
		return "", false
	}
	return name, true
}

// Environment maps the snapshot to variables. Keys that give no usable
// name are returned in skipped; values holding NUL cannot be passed either
// and are skipped too. Later keys win when two map to one name.
func (o EnvOptions) Environment(s Snapshot) (env map[string]string, skipped []string) {
	env = make(map[string]string, len(s.Pairs))
	for _, p := range s.Pairs {
		name, ok := o.EnvName(p.Key)
		if !ok || slices.Contains(p.Value, 0) {
			skipped = append(skipped, p.Key)
			continue
		}
		env[name] = string(p.Value)
	}
	return env, skipped
}

// mergeEnv returns base ("KEY=value" entries) with vars set on top: a KV
// variable replaces an inherited one of the same name, as the original
// service-wrapper's `export` did. Each name appears once, since C
// programs read the first of duplicates and Go the last.
func mergeEnv(base []string, vars map[string]string) []string {
	out := make([]string, 0, len(base)+len(vars))
	seen := make(map[string]bool, len(base)+len(vars))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, replaced := vars[name]; replaced || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, kv)
	}
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, name+"="+vars[name])
	}
	return out
}
