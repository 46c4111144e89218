package marathon

import (
	"errors"
	"path/filepath"
	"strings"
)

// SecretKind names where a secret's value is kept.
type SecretKind string

// The secret sources Stadion resolves (docs/secrets.md).
const (
	// SecretConsul is a key in Consul KV: "consul:path/in/kv".
	SecretConsul SecretKind = "consul"
	// SecretFile is a file under serve's --secrets_dir: "file:name".
	SecretFile SecretKind = "file"
)

// SecretSource is a parsed Secret.Source.
type SecretSource struct {
	Kind SecretKind
	// Ref is the Consul key (without a leading slash) or the file's path
	// relative to the secrets directory.
	Ref string
}

// errSecretSource explains the forms a source may take.
var errSecretSource = errors.New("must be consul:<key in Consul KV> or file:<path under --secrets_dir>")

// ParseSecretSource parses "consul:<key>" or "file:<name>". A file name
// must stay inside the secrets directory: relative, without "..".
func ParseSecretSource(s string) (SecretSource, error) {
	kind, ref, ok := strings.Cut(s, ":")
	if !ok {
		return SecretSource{}, errSecretSource
	}
	switch SecretKind(kind) {
	case SecretConsul:
		ref = strings.TrimPrefix(ref, "/")
		if ref == "" || strings.HasSuffix(ref, "/") {
			return SecretSource{}, errors.New("consul: needs a key, not a folder")
		}
	case SecretFile:
		if ref == "" || !filepath.IsLocal(ref) {
			return SecretSource{}, errors.New("file: needs a relative path that stays under --secrets_dir")
		}
		ref = filepath.Clean(ref)
	default:
		return SecretSource{}, errSecretSource
	}
	return SecretSource{Kind: SecretKind(kind), Ref: ref}, nil
}

// String is the source in its canonical form.
func (s SecretSource) String() string { return string(s.Kind) + ":" + s.Ref }

// msgNoFileSecrets refuses a file: source where the scheduler has no
// secrets directory.
const msgNoFileSecrets = "file: secrets need stadion serve --secrets_dir, which is not set"

// validateSecretSources checks what the scheduler's configuration allows
// of the (well-formed) secret sources of a.
func validateSecretSources(a App, p string, opts NormalizeOptions, r *reporter) {
	if !opts.NoFileSecrets {
		return
	}
	for name, sec := range a.Secrets {
		if src, err := ParseSecretSource(sec.Source); err == nil && src.Kind == SecretFile {
			r.add(p+"/secrets/"+name+"/source", msgNoFileSecrets)
		}
	}
}
