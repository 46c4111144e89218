package mesos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultMasterPort is the port a Mesos master listens on unless told otherwise.
const DefaultMasterPort = "5050"

// Detector finds the leading master. Leader returns its base URL, such as
// "http://10.0.0.1:5050", and may block until a leader is known or ctx ends.
type Detector interface {
	Leader(ctx context.Context) (string, error)
}

// staticDetector is a Detector with a fixed answer.
type staticDetector string

var _ Detector = staticDetector("")

func (d staticDetector) Leader(context.Context) (string, error) { return string(d), nil }

// StaticDetector returns a Detector that always answers master, normalised
// to a base URL: "host:port" becomes "http://host:port", a bare "host" gets
// the default port 5050, and a URL ("http://host:port", "https://host")
// keeps its scheme and port and loses a trailing slash. A non-leading master
// redirects the client to the leader, so any master of the cluster will do.
func StaticDetector(master string) (Detector, error) {
	base, err := normaliseMaster(master)
	if err != nil {
		return nil, err
	}
	return staticDetector(base), nil
}

func normaliseMaster(master string) (string, error) {
	master = strings.TrimSpace(master)
	if master == "" {
		return "", errors.New("mesos: empty master address")
	}
	if strings.HasPrefix(master, "zk://") {
		return "", fmt.Errorf("mesos: master %q is a ZooKeeper URL; use the ZooKeeper detector", master)
	}
	if !strings.Contains(master, "://") {
		host := master
		if _, _, err := net.SplitHostPort(master); err != nil {
			host = net.JoinHostPort(strings.Trim(master, "[]"), DefaultMasterPort)
		}
		master = "http://" + host
	}
	u, err := url.Parse(master)
	if err != nil {
		return "", fmt.Errorf("mesos: parse master address: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("mesos: master %q: scheme must be http or https", master)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("mesos: master %q has no host", master)
	case u.User != nil:
		return "", fmt.Errorf("mesos: master address must not carry credentials; use Config.Principal and Config.Secret")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return "", fmt.Errorf("mesos: master %q must not have a path, query or fragment", master)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return "", fmt.Errorf("mesos: master %q: bad port %q", master, p)
		}
	}
	return u.Scheme + "://" + u.Host, nil
}
