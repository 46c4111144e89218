package zk

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		servers []string
		path    string
		err     bool
		errIs   error
	}{
		{name: "one host", url: "zk://127.0.0.1:2181/mesos", servers: []string{"127.0.0.1:2181"}, path: "/mesos"},
		{name: "several hosts", url: "zk://h1:2181,h2:2182,h3:2183/mesos", servers: []string{"h1:2181", "h2:2182", "h3:2183"}, path: "/mesos"},
		{name: "default port", url: "zk://h1,h2:2182/mesos", servers: []string{"h1:2181", "h2:2182"}, path: "/mesos"},
		{name: "ipv6", url: "zk://[::1]:2181,[fe80::1]/mesos", servers: []string{"[::1]:2181", "[fe80::1]:2181"}, path: "/mesos"},
		{name: "nested path", url: "zk://h1:2181/prod/mesos", servers: []string{"h1:2181"}, path: "/prod/mesos"},
		{name: "trailing slash", url: "zk://h1:2181/mesos/", servers: []string{"h1:2181"}, path: "/mesos"},
		{name: "no scheme", url: "h1:2181/mesos", err: true},
		{name: "http scheme", url: "http://h1:2181/mesos", err: true},
		{name: "no path", url: "zk://h1:2181", err: true},
		{name: "root path", url: "zk://h1:2181/", err: true},
		{name: "no hosts", url: "zk:///mesos", err: true},
		{name: "empty host in list", url: "zk://h1:2181,,h2:2181/mesos", err: true},
		{name: "bad port", url: "zk://h1:http/mesos", err: true},
		{name: "port out of range", url: "zk://h1:70000/mesos", err: true},
		{name: "empty segment", url: "zk://h1:2181/a//b", err: true},
		{name: "dot dot segment", url: "zk://h1:2181/a/../b", err: true},
		{name: "credentials refused", url: "zk://user:pass@h1:2181/mesos", err: true, errIs: ErrCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			servers, path, err := ParseURL(tc.url)
			if tc.err {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %q, %q; want an error", tc.url, servers, path)
				}
				if tc.errIs != nil && !errors.Is(err, tc.errIs) {
					t.Fatalf("ParseURL(%q) error %v, want %v", tc.url, err, tc.errIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.url, err)
			}
			if diff := cmp.Diff(tc.servers, servers); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
			if path != tc.path {
				t.Errorf("path = %q, want %q", path, tc.path)
			}
		})
	}
}
