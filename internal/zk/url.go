package zk

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// defaultPort is ZooKeeper's client port, used for hosts given without one.
const defaultPort = "2181"

// ErrCredentials is returned by ParseURL for a URL with user:pass@, which
// Stadion does not support yet.
var ErrCredentials = errors.New("credentials in zk:// URLs are not supported yet")

// ParseURL parses "zk://h1:2181,h2:2181/path" into the servers (host:port;
// port 2181 when omitted) and the path ("/path", no trailing slash). A URL
// with credentials (zk://user:pass@h1:2181/path) is refused with
// ErrCredentials.
func ParseURL(s string) (servers []string, path string, err error) {
	rest, ok := strings.CutPrefix(s, "zk://")
	if !ok {
		return nil, "", fmt.Errorf("parse %q: want zk://host:port[,host:port...]/path", s)
	}
	hosts, path, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, "", fmt.Errorf("parse %q: missing path, as in zk://host:2181/mesos", s)
	}
	if strings.Contains(hosts, "@") {
		return nil, "", fmt.Errorf("parse %q: %w", s, ErrCredentials)
	}
	if hosts == "" {
		return nil, "", fmt.Errorf("parse %q: missing hosts", s)
	}
	for _, h := range strings.Split(hosts, ",") {
		server, err := parseServer(h)
		if err != nil {
			return nil, "", fmt.Errorf("parse %q: %w", s, err)
		}
		servers = append(servers, server)
	}
	path = "/" + strings.TrimSuffix(path, "/")
	if err := validPath(path); err != nil {
		return nil, "", fmt.Errorf("parse %q: %w", s, err)
	}
	return servers, path, nil
}

// parseServer checks a host[:port] and returns it as host:port.
func parseServer(h string) (string, error) {
	if h == "" {
		return "", errors.New("empty host")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port (a bare IPv6 address needs brackets either way).
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			return "", fmt.Errorf("bad host %q: %w", h, err)
		}
		host, port = strings.Trim(h, "[]"), defaultPort
	}
	if host == "" {
		return "", fmt.Errorf("bad host %q: empty host name", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad host %q: port must be 1-65535", h)
	}
	return net.JoinHostPort(host, port), nil
}

// validPath checks a ZooKeeper node path: absolute, not the root, no empty,
// "." or ".." segments, no query.
func validPath(p string) error {
	if p == "/" {
		return errors.New("missing path, as in zk://host:2181/mesos")
	}
	if strings.ContainsAny(p, "?#") {
		return fmt.Errorf("bad path %q: no query or fragment allowed", p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("bad path %q: empty, . or .. segment", p)
		}
	}
	return nil
}

// RedactURL drops the credentials of a zk://user:secret@host/path URL, for
// logs and answers; other strings come back as they are.
func RedactURL(u string) string {
	rest, ok := strings.CutPrefix(u, "zk://")
	if !ok {
		return u
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		return "zk://" + rest[at+1:]
	}
	return u
}
