package marathon

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// msgURISyntax is Marathon's message for a fetch URI that java.net.URI
// refuses (api/v2/Validation.scala uriIsValid).
const msgURISyntax = "URI has invalid syntax."

// validURISyntax reports whether s parses as a java.net.URI (RFC 2396 with
// IPv6 hosts), the check Marathon applies to fetch URIs: only legal
// characters or %-escapes, a well-formed scheme followed by something, an
// authority after "//" unless a path follows, brackets only around a host
// and at most one "#".
func validURISyntax(s string) bool {
	rest, frag, hasFrag := strings.Cut(s, "#")
	if hasFrag && !validURIChars(frag) {
		return false
	}
	if i := strings.IndexAny(rest, ":/?"); i >= 0 && rest[i] == ':' {
		if !validScheme(rest[:i]) || i == len(rest)-1 {
			return false
		}
		rest = rest[i+1:]
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		end := strings.IndexAny(after, "/?")
		if end < 0 {
			end = len(after)
		}
		auth := after[:end]
		if auth == "" && end == len(after) && !hasFrag {
			return false // "http://": an authority is expected
		}
		host := auth
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			host = auth[at+1:]
		}
		if strings.HasPrefix(host, "[") {
			closing := strings.IndexByte(host, ']')
			if closing < 0 || !validIPv6Literal(host[1:closing]) {
				return false
			}
			if tail := host[closing+1:]; tail != "" && !strings.HasPrefix(tail, ":") {
				return false
			}
			rest = "//" + auth[:len(auth)-len(host)] + host[closing+1:] + after[end:]
		}
	}
	return validURIChars(rest)
}

// validScheme: a letter, then letters, digits, "+", "-" or ".".
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func validIPv6Literal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isHex(c) && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

// validURIChars: unreserved and reserved characters, %-escapes, and
// non-ASCII characters that are neither spaces nor controls ("other" in
// java.net.URI).
func validURIChars(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
				return false
			}
			i += size
			continue
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 3
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'();/?:@&=+$,", c) >= 0:
		default:
			return false
		}
		i++
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
