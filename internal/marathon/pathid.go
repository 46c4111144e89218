package marathon

import (
	"regexp"
	"strings"
)

// PathID is an app or group id such as "/prod/web". Canonical ids are
// absolute, have no trailing slash and no "." or ".." segments; the root
// group is "/". Input may be relative ("web", "../web") and is resolved
// against a base group with Resolve.
type PathID string

// RootID is the id of the root group.
const RootID PathID = "/"

// reservedSegments may not end an app id (Marathon 1.8.180, "Apps names
// restrictions"): they collide with the /v2/apps/{id}/... sub-resources.
// "." and ".." are Marathon's too (PathId.reservedKeywords): an id as sent
// may not end with them, checked before the id is resolved (Normalize).
var reservedSegments = []string{"restart", "tasks", "versions", ".", ".."}

// endsReserved reports whether the id, as sent, ends with "." or "..".
func endsReserved(p PathID) bool {
	segs := p.Segments()
	return len(segs) > 0 && (segs[len(segs)-1] == "." || segs[len(segs)-1] == "..")
}

// msgReserved is Marathon's message for an id that ends with a reserved
// keyword.
var msgReserved = "must not end with any of the following reserved keywords: " + strings.Join(reservedSegments, ", ")

// segmentPattern is the text of Marathon's id segment pattern, reported in
// validation messages.
const segmentPattern = `^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$`

var segmentRegexp = regexp.MustCompile(`^(?:(?:(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|\.|\.\.)$`)

// Segments returns the non-empty path segments, without resolving "." or "..".
func (p PathID) Segments() []string {
	var out []string
	for _, s := range strings.Split(string(p), "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// IsAbsolute reports whether p starts with "/".
func (p PathID) IsAbsolute() bool { return strings.HasPrefix(string(p), "/") }

// IsRoot reports whether p names the root group.
func (p PathID) IsRoot() bool { return len(p.Segments()) == 0 && (p == "" || p.IsAbsolute()) }

// Resolve returns the canonical absolute id of p: absolute ids are cleaned,
// relative ids ("x", "./x", "../x") are taken relative to the group base.
// ".." never climbs above the root.
func (p PathID) Resolve(base PathID) PathID {
	var segs []string
	if !p.IsAbsolute() {
		segs = append(segs, base.Canonical().Segments()...)
	}
	for _, s := range p.Segments() {
		switch s {
		case ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	return PathID("/" + strings.Join(segs, "/"))
}

// Canonical resolves p against the root group.
func (p PathID) Canonical() PathID {
	if p.IsAbsolute() && !strings.Contains(string(p), "//") && !strings.HasSuffix(string(p), "/") && !hasDotSegment(p) {
		return p
	}
	if p == RootID {
		return p
	}
	return p.Resolve(RootID)
}

func hasDotSegment(p PathID) bool {
	for _, s := range p.Segments() {
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}

// Parent returns the canonical id of the enclosing group; the parent of the
// root is the root.
func (p PathID) Parent() PathID {
	segs := p.Canonical().Segments()
	if len(segs) <= 1 {
		return RootID
	}
	return PathID("/" + strings.Join(segs[:len(segs)-1], "/"))
}

// Name returns the last segment ("web" for "/prod/web"), "" for the root.
func (p PathID) Name() string {
	segs := p.Segments()
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// IsChildOf reports whether the canonical p lies strictly below group.
func (p PathID) IsChildOf(group PathID) bool {
	c, g := p.Canonical(), group.Canonical()
	if g == RootID {
		return c != RootID
	}
	return strings.HasPrefix(string(c), string(g)+"/")
}

// TaskPrefix is the task id prefix of an app: "/a/b" becomes "a_b".
func (p PathID) TaskPrefix() string {
	return strings.Join(p.Canonical().Segments(), "_")
}

// PathIDFromTaskPrefix inverts TaskPrefix: "a_b" becomes "/a/b". Segments
// cannot contain "_", so the mapping is unambiguous.
func PathIDFromTaskPrefix(prefix string) PathID {
	return PathID("/" + strings.ReplaceAll(prefix, "_", "/"))
}

// String returns the id as written.
func (p PathID) String() string { return string(p) }

// idErrors returns Marathon's messages for an invalid id, or nil. relative
// allows "." and ".." segments (ids in request bodies before resolution);
// app ids additionally reject the reserved last segments. Absolute ids are
// held to MaxIDLength and MaxIDDepth too.
func idErrors(p PathID, relative, app bool) []string {
	var errs []string
	segs := p.Segments()
	if !relative && !p.IsAbsolute() {
		errs = append(errs, "Path needs to be absolute")
	}
	if !relative {
		errs = append(errs, idLimitErrors(p)...)
	}
	if len(segs) == 0 {
		errs = append(errs, "Path must contain at least one path element")
		return errs
	}
	for _, s := range segs {
		if !segmentRegexp.MatchString(s) || (!relative && (s == "." || s == "..")) {
			errs = append(errs, "must fully match regular expression '"+segmentPattern+"'")
			break
		}
	}
	if app {
		last := segs[len(segs)-1]
		for _, r := range reservedSegments {
			if last == r {
				errs = append(errs, msgReserved)
				break
			}
		}
	}
	return errs
}

// ValidateAppID returns a 422 *Error when id is not a valid app id: bad
// segment syntax, a reserved last segment, or no segment at all. Relative
// ids are accepted; resolve them first to check the absolute form.
func ValidateAppID(id PathID) error {
	if errs := idErrors(id, !id.IsAbsolute(), true); len(errs) > 0 {
		return &Error{Status: 422, Message: MsgNotValid, Details: []Detail{{Path: "/id", Errors: errs}}}
	}
	return nil
}
