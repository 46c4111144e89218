package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

const mesosMasterAbout = `Run the built-in Mesos-compatible master: the v1 scheduler API on
/api/v1/scheduler, /master/state and the private protocol of the built-in
agents. For development and tests; production points Stadion at Apache Mesos.
Flags have Mesos's names and default from MESOS_<FLAG> environment variables;
durations take Mesos's form ("15secs", "100ms", "1mins") or Go's ("1m30s").
Frameworks authenticate with HTTP Basic when --authenticate_frameworks (or
Mesos's --authenticate_http_frameworks) is set, agents when
--authenticate_agents is; both against --credentials (docs/mesos-auth.md).
Prints the URL it serves on; logs go to stderr.`

// runMesosMaster runs the built-in master until ctx ends.
func runMesosMaster(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("mesos master", "", mesosMasterAbout, stderr)
	var (
		cfg   master.Config
		level string
	)
	f := newEnvFlags(fs, "MESOS_")
	f.String(&cfg.IP, "ip", master.DefaultIP, "IPv4 address to listen on and advertise")
	f.Int(&cfg.Port, "port", master.DefaultPort, "port to listen on; 0 picks a free one")
	f.String(&cfg.Hostname, "hostname", "", "hostname to advertise in MasterInfo and redirects (default: the IP)")
	f.String(&cfg.WorkDir, "work_dir", "", "work directory; accepted for compatibility, the built-in master keeps no registry (optional)")
	f.String(&cfg.ZK, "zk", "", "ZooKeeper URL zk://host:port[,host:port]/path for leader election; empty runs standalone")
	f.Duration(&cfg.ZKSessionTimeout, "zk_session_timeout", master.DefaultZKSessionTimeout, "ZooKeeper session timeout", master.ParseDuration)
	f.Duration(&cfg.AgentPingTimeout, "agent_ping_timeout", master.DefaultAgentPingTimeout, "how long an agent has to answer a ping, and the ping period", master.ParseDuration)
	f.Duration(&cfg.AllocationInterval, "allocation_interval", master.DefaultAllocationInterval, "period of batch allocation of offers", master.ParseDuration)
	f.Int(&cfg.MaxAgentPingTimeouts, "max_agent_ping_timeouts", master.DefaultMaxAgentPingTimeouts, "consecutive failed pings after which an agent is unreachable")
	f.Duration(&cfg.HTTP.ReadTimeout, "http_read_timeout", httpserver.DefaultReadTimeout, "time a client may take to send a request, header and body", master.ParseDuration)
	f.Duration(&cfg.HTTP.WriteTimeout, "http_write_timeout", httpserver.DefaultWriteTimeout, "time a response may take from the end of the request header; scheduler streams bound each record instead", master.ParseDuration)
	f.Duration(&cfg.HTTP.IdleTimeout, "http_idle_timeout", httpserver.DefaultIdleTimeout, "time a keep-alive connection may wait for its next request", master.ParseDuration)
	f.Int(&cfg.HTTP.MaxConns, "http_max_connections", httpserver.DefaultMaxConns(4), "most open connections; idle keep-alive connections are closed to make room, others wait; the default is a quarter of the descriptor limit, 16 to 4096")
	f.String(&level, "logging_level", "INFO", "least severe level logged: DEBUG, INFO, WARNING or ERROR")
	var domain string
	f.String(&domain, "domain", "", `fault domain of the master, {"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}; agents in other regions are offered only to REGION_AWARE frameworks`)
	auth := addMasterAuthFlags(f)

	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion mesos master:", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stadion mesos master: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	lvl, ok := map[string]slog.Level{"DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo, "WARNING": slog.LevelWarn, "ERROR": slog.LevelError}[strings.ToUpper(level)]
	if !ok {
		fmt.Fprintf(stderr, "stadion mesos master: --logging_level %q: want DEBUG, INFO, WARNING or ERROR\n", level)
		return exitUsage
	}
	raw, err := mesos.ParseDomain(domain)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos master: --domain: %v\n", err)
		return exitUsage
	}
	cfg.Domain = raw
	cfg.Logger = newLogger(stderr, lvl)
	if err := auth.apply(&cfg, cfg.Logger); err != nil {
		fmt.Fprintf(stderr, "stadion mesos master: %v\n", err)
		return exitUsage
	}
	m, err := master.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos master: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, m.URL())
	<-m.Done()
	return exitOK
}
