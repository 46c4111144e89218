package marathon

import "testing"

func TestValidURISyntax(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		want bool
	}{
		{name: "http", uri: "http://download.me/file.tgz", want: true},
		{name: "query and fragment", uri: "https://h:8080/a/b?x=1&y=%20z#frag", want: true},
		{name: "userinfo", uri: "https://u:p@h/x", want: true},
		{name: "relative path", uri: "file.tgz", want: true},
		{name: "absolute path", uri: "/opt/file.tgz", want: true},
		{name: "file with empty authority", uri: "file:///opt/x", want: true},
		{name: "opaque", uri: "mailto:a@b", want: true},
		{name: "ipv6 host", uri: "http://[::1]:80/x", want: true},
		{name: "non-ASCII", uri: "http://h/ünïcode", want: true},
		{name: "space", uri: "http://h/a b", want: false},
		{name: "space in host", uri: "http://a b/", want: false},
		{name: "bad escape", uri: "http://h/%zz", want: false},
		{name: "short escape", uri: "http://h/%2", want: false},
		{name: "second fragment", uri: "http://h/x#a#b", want: false},
		{name: "illegal character", uri: "http://h/<x>", want: false},
		{name: "backslash", uri: `http://h\x`, want: false},
		{name: "empty scheme", uri: ":x", want: false},
		{name: "bad scheme", uri: "1http://h/", want: false},
		{name: "scheme only", uri: "http:", want: false},
		{name: "no authority", uri: "http://", want: false},
		{name: "unclosed bracket", uri: "http://[::1/x", want: false},
		{name: "bracket in path", uri: "http://h/[x]", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := validURISyntax(tc.uri); got != tc.want {
				t.Errorf("validURISyntax(%q) = %v, want %v", tc.uri, got, tc.want)
			}
		})
	}
}
