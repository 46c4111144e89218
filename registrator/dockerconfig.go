package registrator

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/docker"
)

// Defaults of DockerConfig.
const (
	DefaultRetryInterval = 2 * time.Second
	// DefaultStopGrace is how long a container asked to stop counts as
	// gone when it has no stop timeout of its own (Docker's default is
	// 10s), plus a margin.
	DefaultStopGrace = 15 * time.Second
)

// DockerConfig configures RunDocker: the containers of the local Docker
// engine registered in Consul with gliderlabs/registrator's conventions.
// The zero value of every field means its default.
type DockerConfig struct {
	// DockerHost is the engine's address, unix:///path or tcp://host:port;
	// empty is $DOCKER_HOST, else the default unix socket.
	DockerHost string
	// Consul says how to reach the Consul agent.
	Consul ConsulConfig
	// KVPrefix, when set, writes <prefix>/<name>/<id> = ip:port keys in
	// Consul's KV store instead of registering services (consulkv://).
	KVPrefix string

	// Hostname starts the service ids and marks what this host owns;
	// empty is this machine's host name.
	Hostname string
	// HostIP is the address of published ports (-ip); empty resolves
	// Hostname.
	HostIP string
	// Internal, Explicit, Tags, IPLabel and Deregister: see
	// DockerOptions.
	Internal   bool
	Explicit   bool
	Tags       []string
	IPLabel    string
	Deregister string
	// Owner marks the registrations (default "stadion").
	Owner string
	// TTL of the checks that mirror HEALTHCHECKs (default 1m); they are
	// set again every TTLRefresh (default TTL/3).
	TTL, TTLRefresh time.Duration
	// ResyncInterval is the period of the full resync (default 5m).
	ResyncInterval time.Duration
	// RetryAttempts, when not negative, makes the start fail when Consul
	// does not answer RetryAttempts+1 tries RetryInterval apart (default
	// 2s); negative starts at once and retries for ever.
	RetryAttempts int
	RetryInterval time.Duration
	// RequestTimeout bounds the Docker and Consul calls of one pass
	// (default 30s).
	RequestTimeout time.Duration
	// RetryMin and RetryMax bound the jittered wait before retrying
	// (defaults 200ms and 15s).
	RetryMin, RetryMax time.Duration
	// DryRun logs the changes instead of making them.
	DryRun bool
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
}

func (c DockerConfig) withDefaults() DockerConfig {
	if c.DockerHost == "" {
		c.DockerHost = defaultDockerHost()
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	if c.Deregister == "" {
		c.Deregister = DeregisterAlways
	}
	if c.Owner == "" {
		c.Owner = DefaultOwner
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.TTLRefresh == 0 {
		c.TTLRefresh = c.TTL / 3
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = DefaultResyncInterval
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RetryMin == 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// gliderlabsSocket is where gliderlabs/registrator's documentation mounts
// the engine's socket into its container (its default DOCKER_HOST).
const gliderlabsSocket = "/tmp/docker.sock"

// defaultDockerHost is $DOCKER_HOST, else the default socket, else, when
// only that one exists, the socket where gliderlabs's documented
// `--volume=/var/run/docker.sock:/tmp/docker.sock` puts it.
func defaultDockerHost() string {
	host := docker.HostFromEnv()
	if host != docker.DefaultHost {
		return host
	}
	if _, err := os.Stat(strings.TrimPrefix(host, "unix://")); err != nil {
		if _, err := os.Stat(gliderlabsSocket); err == nil {
			return "unix://" + gliderlabsSocket
		}
	}
	return host
}

// Validate reports the first unusable field.
func (c DockerConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case !docker.ValidHost(c.DockerHost):
		return fmt.Errorf("registrator: docker host %q: want unix:///path or tcp://host:port", c.DockerHost)
	case c.Hostname == "" || strings.ContainsAny(c.Hostname, ": /"):
		return fmt.Errorf("registrator: hostname %q: want a host name", c.Hostname)
	case c.HostIP != "" && net.ParseIP(c.HostIP) == nil:
		return fmt.Errorf("registrator: -ip %q: want an IP address", c.HostIP)
	case c.Deregister != DeregisterAlways && c.Deregister != DeregisterOnSuccess:
		return fmt.Errorf("registrator: -deregister %q: want always or on-success", c.Deregister)
	case !ownerPattern.MatchString(c.Owner):
		return fmt.Errorf("registrator: owner %q: want 1-63 letters, digits, '.', '_' or '-'", c.Owner)
	case c.TTL < time.Second:
		return errors.New("registrator: ttl must be at least 1s")
	case c.TTLRefresh <= 0 || c.TTLRefresh >= c.TTL:
		return errors.New("registrator: ttl-refresh must be positive and below ttl")
	case c.RetryInterval <= 0:
		return errors.New("registrator: -retry-interval must be positive")
	case c.ResyncInterval < 0 || c.RequestTimeout < 0 || c.RetryMin < 0 || c.RetryMax < 0 || c.RetryMin > c.RetryMax:
		return errors.New("registrator: bad durations")
	case strings.Trim(c.KVPrefix, "/") != c.KVPrefix:
		return fmt.Errorf("registrator: kv prefix %q: no leading or trailing '/'", c.KVPrefix)
	}
	return nil
}

// options are the ComputeDocker options of c with the host's address.
func (c DockerConfig) options(hostIP string) DockerOptions {
	return DockerOptions{Owner: c.Owner, Hostname: c.Hostname, IP: c.HostIP, HostIP: hostIP, Internal: c.Internal, Explicit: c.Explicit,
		Tags: c.Tags, IPLabel: c.IPLabel, Deregister: c.Deregister, TTL: c.TTL}
}

// hostIP is -ip, else the first IPv4 address (else any) Hostname
// resolves to, else "" (logged: published ports then need -ip).
func (c DockerConfig) hostIP(log *slog.Logger) string {
	if c.HostIP != "" {
		return c.HostIP
	}
	addrs, err := net.LookupHost(c.Hostname)
	if err != nil || len(addrs) == 0 {
		log.Warn("the host name does not resolve: ports published on all addresses are not registered, give -ip", "hostname", c.Hostname, "error", err)
		return ""
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			return a
		}
	}
	return addrs[0]
}
