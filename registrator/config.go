package registrator

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/stadionhq/stadion/internal/clientauth"
)

// Defaults of Config.
const (
	DefaultOwner          = "stadion"
	DefaultResyncInterval = 5 * time.Minute
	DefaultTTL            = time.Minute
	DefaultRetryMin       = 200 * time.Millisecond
	DefaultRetryMax       = 15 * time.Second
	DefaultMinFetch       = 20 * time.Millisecond
	DefaultRequestTimeout = 30 * time.Second
	DefaultIdleTimeout    = time.Minute
)

// Config configures Run. The zero value of every field but Schedulers
// means its default.
type Config struct {
	// Schedulers are the base URLs of the scheduler's instances, Marathon
	// or Stadion ("http://m1:8080"); several for an HA cluster.
	Schedulers []string
	// SchedulerCAFile and SchedulerTLSSkipVerify configure https to the
	// schedulers.
	SchedulerCAFile        string
	SchedulerTLSSkipVerify bool
	// SchedulerCredentials are sent as HTTP Basic authentication to the
	// Schedulers (only to them); zero uses the user info of their URLs.
	SchedulerCredentials clientauth.Credentials
	// Consul says how to reach Consul: in agent mode the local agent.
	Consul ConsulConfig

	// Mode is ModeAgent (default) or ModeCatalog.
	Mode Mode
	// Hostnames, in agent mode, are the host names of this host's tasks;
	// empty means this machine's host name and the Consul agent's node
	// name and address.
	Hostnames []string
	// Health is HealthChecks (default) or HealthTTL.
	Health HealthMode
	// TTL of the status checks on an agent (default 1m); they are set
	// again every TTL/3.
	TTL time.Duration
	// Address is AddressHost (default) or AddressIP.
	Address AddressMode
	// Owner marks the registrations (default "stadion"): the tag, and the
	// MetaOwner meta and node meta. Registrators that share a Consul
	// datacenter but not a scheduler need different owners.
	Owner string

	// ResyncInterval is the period of the full resync (default 5m).
	ResyncInterval time.Duration
	// RequestTimeout bounds each /v2/apps request, and the Consul calls of
	// one pass (default 30s).
	RequestTimeout time.Duration
	// EventIdleTimeout ends a silent event stream (default 60s).
	EventIdleTimeout time.Duration
	// RetryMin and RetryMax bound the jittered wait before retrying a
	// failed pass or reconnecting (defaults 200ms and 15s).
	RetryMin, RetryMax time.Duration
	// MinFetchInterval is the least time between two reads of
	// /v2/apps?embed=apps.tasks (default 20ms; negative: none). Every
	// registrator of a cluster reads after the same events.
	MinFetchInterval time.Duration
	// DryRun logs the changes instead of making them.
	DryRun bool
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
}

// ownerPattern keeps the owner usable as a tag, a meta value and part of a
// node name.
var ownerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeAgent
	}
	if c.Health == "" {
		c.Health = HealthChecks
	}
	if c.Address == "" {
		c.Address = AddressHost
	}
	if c.Owner == "" {
		c.Owner = DefaultOwner
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = DefaultResyncInterval
	}
	if c.RetryMin == 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.EventIdleTimeout == 0 {
		c.EventIdleTimeout = DefaultIdleTimeout
	}
	if c.MinFetchInterval == 0 {
		c.MinFetchInterval = DefaultMinFetch
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := c.clientConfig().Validate(); err != nil {
		return err
	}
	switch {
	case c.Mode != ModeAgent && c.Mode != ModeCatalog:
		return fmt.Errorf("registrator: mode %q: want agent or catalog", c.Mode)
	case c.Health != HealthChecks && c.Health != HealthTTL:
		return fmt.Errorf("registrator: health %q: want checks or ttl", c.Health)
	case c.Address != AddressHost && c.Address != AddressIP:
		return fmt.Errorf("registrator: address %q: want host or ip", c.Address)
	case !ownerPattern.MatchString(c.Owner):
		return fmt.Errorf("registrator: owner %q: want 1-63 letters, digits, '.', '_' or '-'", c.Owner)
	case c.TTL < time.Second:
		return errors.New("registrator: ttl must be at least 1s")
	case c.ResyncInterval < 0 || c.RequestTimeout < 0 || c.EventIdleTimeout < 0 || c.RetryMin < 0 || c.RetryMax < 0:
		return errors.New("registrator: durations must not be negative")
	case c.RetryMin > c.RetryMax:
		return errors.New("registrator: retry min above retry max")
	}
	return nil
}

func (c Config) clientConfig() ClientConfig {
	return ClientConfig{
		URLs:           c.Schedulers,
		Credentials:    c.SchedulerCredentials,
		CAFile:         c.SchedulerCAFile,
		TLSSkipVerify:  c.SchedulerTLSSkipVerify,
		RequestTimeout: c.RequestTimeout,
		IdleTimeout:    c.EventIdleTimeout,
		RetryMin:       c.RetryMin,
		RetryMax:       c.RetryMax,
		Logger:         c.Logger,
	}
}

// options are the Compute options of c, with the hosts of this host.
func (c Config) options(hosts []string) Options {
	return Options{Owner: c.Owner, Mode: c.Mode, Hosts: hosts, Health: c.Health, TTL: c.TTL, Address: c.Address}
}
