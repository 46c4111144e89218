package zk

import (
	"errors"
	"log/slog"
	"time"
)

// memberPrefix starts the names of the Stadion schedulers' election nodes.
const memberPrefix = "member_"

// LeaderInfo is what a Stadion scheduler publishes in its election node:
// where its API answers, so that standbys can proxy to it.
type LeaderInfo struct {
	// HostPort is the host:port of the scheduler's HTTP API.
	HostPort string `json:"hostPort"`
	// Scheme is "http" or "https".
	Scheme string `json:"scheme"`
}

// URL is the leader's API base URL.
func (i LeaderInfo) URL() string {
	if i.HostPort == "" {
		return ""
	}
	scheme := i.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + i.HostPort
}

// ElectorConfig configures an Elector.
type ElectorConfig struct {
	// Servers are the ZooKeeper servers, host:port.
	Servers []string
	// Path is the election group's node, such as "/stadion/leader"; it
	// is created, with its parents, when missing.
	Path string
	// SessionTimeout is the ZooKeeper session timeout (zero: 10s). A
	// leader cut off from ZooKeeper for this long stops leading.
	SessionTimeout time.Duration
	// Info is what this scheduler publishes.
	Info LeaderInfo
	// Logger receives the elector's logs; nil discards them.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c ElectorConfig) Validate() error {
	if c.Info.HostPort == "" {
		return errors.New("invalid elector config: no host:port to publish")
	}
	return c.group().validate("elector")
}

func (c ElectorConfig) group() groupConfig {
	return groupConfig{Servers: c.Servers, Path: c.Path, SessionTimeout: c.SessionTimeout, Logger: c.Logger}
}

// Elector elects one leader among the Stadion schedulers that share a
// ZooKeeper path: each joins with an ephemeral sequential member_ node
// holding its LeaderInfo, and the lowest sequence leads, as Mesos masters
// do. Changes reports whether this one leads and who does; Abdicate steps
// down (DELETE /v2/leader).
type Elector struct {
	*contender[LeaderInfo]
}

// NewElector connects to ZooKeeper and joins the election in the
// background; Changes reports the outcome.
func NewElector(cfg ElectorConfig) (*Elector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newContender(cfg.group(), memberPrefix, "stadion schedulers", "zk_elector", cfg.Info)
	if err != nil {
		return nil, err
	}
	return &Elector{c}, nil
}
