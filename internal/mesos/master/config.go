package master

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
)

// Defaults of Config, as Apache Mesos has them.
const (
	DefaultIP                   = "127.0.0.1"
	DefaultPort                 = 5050
	DefaultZKSessionTimeout     = 10 * time.Second
	DefaultAgentPingTimeout     = 15 * time.Second
	DefaultMaxAgentPingTimeouts = 5
	DefaultAllocationInterval   = time.Second
	DefaultHeartbeatInterval    = 15 * time.Second
)

// Version is the Mesos version the master reports (in MasterInfo and
// /master/state): the last Apache Mesos release.
const Version = "1.11.0"

// Config configures a Master. The zero value of every field means its default.
type Config struct {
	// IP is the IPv4 address to listen on and to advertise; default 127.0.0.1.
	IP string
	// Port is the port to listen on. 0 picks a free port (tests); the
	// command's --port flag defaults to DefaultPort.
	Port int
	// Hostname is advertised in MasterInfo, redirects and offers of
	// leadership; default IP.
	Hostname string
	// Domain is the master's fault domain (Mesos's --domain, read with
	// mesos.ParseDomain), shown in MasterInfo. Agents in another region
	// are remote: only REGION_AWARE frameworks get their offers. Agents
	// with a domain are refused when the master has none.
	Domain json.RawMessage
	// WorkDir is Mesos's --work_dir. It is accepted and shown in the flags
	// of /master/state but holds nothing yet: Mesos keeps its registry
	// there, which this master does not implement. The master id is fresh on
	// every start, as in Mesos, whatever WorkDir is.
	WorkDir string
	// ZK, such as "zk://127.0.0.1:2181/mesos", makes the master a contender
	// for leadership in ZooKeeper (json.info_ nodes). Only the elected master
	// serves; the others answer 307 to the leader, or 503 when none is known.
	ZK string
	// ZKSessionTimeout is the ZooKeeper session timeout; default 10s.
	ZKSessionTimeout time.Duration
	// AgentPingTimeout is how long an agent has to answer a ping, and how
	// often agents are pinged (Mesos --agent_ping_timeout); default 15s.
	AgentPingTimeout time.Duration
	// MaxAgentPingTimeouts is the number of consecutive failed pings after
	// which an agent is unreachable (Mesos --max_agent_ping_timeouts);
	// default 5.
	MaxAgentPingTimeouts int
	// AllocationInterval is the period of batch allocation (Mesos
	// --allocation_interval); default 1s. Offers are also made at once when
	// resources appear.
	AllocationInterval time.Duration
	// HeartbeatInterval is the period of HEARTBEAT events on scheduler
	// streams; default 15s, as Mesos hard-codes it.
	HeartbeatInterval time.Duration
	// HTTP holds the read, write and idle timeouts and the connection cap
	// of the master's HTTP server (httpserver.Limits defaults). The
	// scheduler streams are exempt from the write timeout: each record is
	// bounded by its own deadline instead.
	HTTP httpserver.Limits
	// AuthenticateFrameworks requires HTTP Basic credentials from
	// Credentials on /api/v1/scheduler (Mesos's
	// --authenticate_http_frameworks with --http_framework_authenticators
	// basic): a request without them, or with wrong ones, gets 401. A
	// framework's principal is the one it authenticated as, and every call
	// on it must authenticate as that principal.
	AuthenticateFrameworks bool
	// AuthenticateAgents requires agents to register with HTTP Basic
	// credentials from Credentials (Mesos's --authenticate_agents).
	AuthenticateAgents bool
	// Credentials are the principals and secrets accepted (Mesos's
	// --credentials file, ReadCredentials). Secrets are never logged.
	Credentials []Credential
	// Logger receives the master's logs; nil discards them.
	Logger *slog.Logger

	// Test knobs (export_test.go): the most events queued for one
	// scheduler stream (default defaultStreamQueueLimit), the backlog at
	// which agents' updates wait (default defaultStreamBackpressure; -1
	// is never) and the bound on writing one record of it (default
	// writeTimeout's).
	streamQueueLimit   int
	streamBackpressure int
	streamWriteTimeout time.Duration
}

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.IP == "" {
		c.IP = DefaultIP
	}
	if c.Hostname == "" {
		c.Hostname = c.IP
	}
	if c.ZKSessionTimeout == 0 {
		c.ZKSessionTimeout = DefaultZKSessionTimeout
	}
	if c.AgentPingTimeout == 0 {
		c.AgentPingTimeout = DefaultAgentPingTimeout
	}
	if c.MaxAgentPingTimeouts == 0 {
		c.MaxAgentPingTimeouts = DefaultMaxAgentPingTimeouts
	}
	if c.AllocationInterval == 0 {
		c.AllocationInterval = DefaultAllocationInterval
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.streamQueueLimit == 0 {
		c.streamQueueLimit = defaultStreamQueueLimit
	}
	if c.streamBackpressure == 0 {
		c.streamBackpressure = defaultStreamBackpressure
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.IP != "" {
		ip, err := netip.ParseAddr(c.IP)
		if err != nil {
			return fmt.Errorf("ip %q: %w", c.IP, err)
		}
		if !ip.Is4() {
			return fmt.Errorf("ip %q: not an IPv4 address", c.IP)
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("port %d out of range", c.Port)
	}
	if len(c.Domain) > 0 {
		if _, err := mesos.ParseDomain(string(c.Domain)); err != nil {
			return err
		}
	}
	if c.ZK != "" && !strings.HasPrefix(c.ZK, "zk://") {
		return fmt.Errorf("zk %q: want zk://host:port[,host:port]/path", c.ZK)
	}
	for name, d := range map[string]time.Duration{
		"zk_session_timeout":  c.ZKSessionTimeout,
		"agent_ping_timeout":  c.AgentPingTimeout,
		"allocation_interval": c.AllocationInterval,
		"heartbeat_interval":  c.HeartbeatInterval,
	} {
		if d < 0 {
			return fmt.Errorf("%s %v is negative", name, d)
		}
	}
	if (c.AuthenticateFrameworks || c.AuthenticateAgents) && len(c.Credentials) == 0 {
		return errors.New("authentication needs credentials: no principal could authenticate")
	}
	for _, cr := range c.Credentials {
		if cr.Principal == "" || cr.Secret == "" {
			return errors.New("every credential needs a principal and a secret")
		}
	}
	if c.MaxAgentPingTimeouts < 0 {
		return errors.New("max_agent_ping_timeouts is negative")
	}
	return c.HTTP.Validate()
}

// ParseDuration parses a duration as Mesos flags write them, a number
// followed by one of ns, us, ms, secs, mins, hrs, days, weeks ("15secs",
// "100ms", "1mins", "0.5hrs"), or as Go does ("1m30s").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	i := 0
	for i < len(s) && (s[i] == '.' || s[i] == '-' || s[i] == '+' || (s[i] >= '0' && s[i] <= '9')) {
		i++
	}
	num, unit := s[:i], s[i:]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("parse duration %q: not a number followed by a unit", s)
	}
	units := map[string]time.Duration{
		"ns": time.Nanosecond, "us": time.Microsecond, "ms": time.Millisecond,
		"secs": time.Second, "mins": time.Minute, "hrs": time.Hour,
		"days": 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	}
	u, ok := units[unit]
	if !ok {
		return 0, fmt.Errorf("parse duration %q: unknown unit %q", s, unit)
	}
	return time.Duration(v * float64(u)), nil
}
