package cluster

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{name: "plain", id: "web.3f2a-11ee", want: ""},
		{name: "space is allowed as in Mesos", id: "a b", want: ""},
		{name: "255 bytes", id: strings.Repeat("x", 255), want: ""},
		{name: "empty", id: "", want: "ID must not be empty"},
		{name: "256 bytes", id: strings.Repeat("x", 256), want: "ID must not be greater than 255 characters"},
		{name: "dot", id: ".", want: "'.' is disallowed"},
		{name: "dot dot", id: "..", want: "'..' is disallowed"},
		{name: "parent path", id: "../../etc", want: "'../../etc' contains invalid characters"},
		{name: "slash", id: "a/b", want: "'a/b' contains invalid characters"},
		{name: "backslash", id: `a\b`, want: `'a\b' contains invalid characters`},
		{name: "NUL", id: "a\x00b", want: "'a\x00b' contains invalid characters"},
		{name: "newline", id: "a\nb", want: "'a\nb' contains invalid characters"},
		{name: "DEL", id: "a\x7fb", want: "'a\x7fb' contains invalid characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidateID(tc.id); got != tc.want {
				t.Errorf("ValidateID(%q) = %q, want %q", tc.id, got, tc.want)
			}
		})
	}
}

func TestAuthorized(t *testing.T) {
	tests := []struct {
		name   string
		header string
		token  string
		want   bool
	}{
		{name: "right token", header: "Bearer s3cret", token: "s3cret", want: true},
		{name: "no header", header: "", token: "s3cret", want: false},
		{name: "wrong token", header: "Bearer s3creT", token: "s3cret", want: false},
		{name: "prefix of the token", header: "Bearer s3c", token: "s3cret", want: false},
		{name: "basic scheme", header: "Basic s3cret", token: "s3cret", want: false},
		{name: "no token configured", header: "Bearer ", token: "", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/cluster/v1/run", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if got := Authorized(r, tc.token); got != tc.want {
				t.Errorf("Authorized = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewTokenIsFresh(t *testing.T) {
	a, b := NewToken(), NewToken()
	if len(a) != 64 || a == b {
		t.Errorf("tokens %q and %q: want two different 64-digit tokens", a, b)
	}
}
