package registrator

import (
	"strings"
	"time"
)

// Mode is where the registrations go.
type Mode string

// Modes.
const (
	// ModeAgent registers the tasks of this host with the local Consul
	// agent, which runs the checks: one registrator per host, as in the
	// article.
	ModeAgent Mode = "agent"
	// ModeCatalog registers every task through the catalog API, each on a
	// node named after the owner and the task's host; the checks carry the
	// scheduler's verdict.
	ModeCatalog Mode = "catalog"
)

// HealthMode is how the registrator mirrors the app's health checks (agent
// mode; the catalog always takes the scheduler's verdict).
type HealthMode string

// Health modes.
const (
	// HealthChecks gives each service Consul checks that do what the
	// app's HTTP, HTTPS and TCP checks (and their MESOS_ forms) do,
	// against the same address and port, with the same interval and
	// timeout. A check Consul cannot run (COMMAND) becomes a TTL check set
	// from the scheduler's results.
	HealthChecks HealthMode = "checks"
	// HealthTTL gives each service of an app with health checks one TTL
	// check set from the scheduler's results and its
	// health_status_changed_event.
	HealthTTL HealthMode = "ttl"
)

// AddressMode is which address the services advertise.
type AddressMode string

// Address modes.
const (
	// AddressHost advertises the task's host and host port.
	AddressHost AddressMode = "host"
	// AddressIP advertises the task's first IP address (the container's
	// on container networks) and, on container networks, the container
	// port.
	AddressIP AddressMode = "ip"
)

// Options shape Compute.
type Options struct {
	// Owner marks every registration (tag and MetaOwner); only services
	// with this owner are ever changed or removed.
	Owner string
	// Mode is where registrations go.
	Mode Mode
	// Hosts, in agent mode, are the names this host's tasks report as
	// their host; tasks of other hosts are left to their own
	// registrator. Ignored in catalog mode.
	Hosts []string
	// Health is how health checks are mirrored in agent mode.
	Health HealthMode
	// TTL is the TTL of status checks on an agent.
	TTL time.Duration
	// Address is which address and port the services advertise.
	Address AddressMode
}

// local reports whether a task of host is ours to register.
func (o Options) local(host string) bool {
	if o.Mode == ModeCatalog {
		return true
	}
	for _, h := range o.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// nodeName is the catalog node of a host's services: owner and host, so
// that it never collides with the node of a real agent on that host (whose
// anti-entropy would remove our services).
func (o Options) nodeName(host string) string {
	return o.Owner + "-" + host
}
