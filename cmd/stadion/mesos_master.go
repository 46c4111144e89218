package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/mesos/master"
)

const mesosMasterAbout = `Run the built-in Mesos-compatible master: the v1 scheduler API on
/api/v1/scheduler, /master/state and the private protocol of the built-in
agents. For development and tests; production points Stadion at Apache Mesos.
Flags have Mesos's names and default from MESOS_<FLAG> environment variables;
durations take Mesos's form ("15secs", "100ms", "1mins") or Go's ("1m30s").
Prints the URL it serves on; logs go to stderr.`

// runMesosMaster runs the built-in master until ctx ends.
func runMesosMaster(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("mesos master", "", mesosMasterAbout, stderr)
	var (
		cfg     master.Config
		envErrs []string
		level   string
	)
	env := func(name, def string) string { return envDefault("MESOS_"+strings.ToUpper(name), def) }
	usage := func(name, text string) string {
		return text + " (env MESOS_" + strings.ToUpper(name) + ")"
	}
	fs.StringVar(&cfg.IP, "ip", env("ip", master.DefaultIP), usage("ip", "IPv4 address to listen on and advertise"))
	portText := env("port", strconv.Itoa(master.DefaultPort))
	port, err := strconv.Atoi(portText)
	if err != nil {
		envErrs = append(envErrs, fmt.Sprintf("MESOS_PORT=%q: not a port number", portText))
	}
	fs.IntVar(&cfg.Port, "port", port, usage("port", "port to listen on; 0 picks a free one"))
	fs.StringVar(&cfg.Hostname, "hostname", env("hostname", ""), usage("hostname", "hostname to advertise in MasterInfo and redirects (default: the IP)"))
	fs.StringVar(&cfg.WorkDir, "work_dir", env("work_dir", ""), usage("work_dir", "work directory; accepted for compatibility, the built-in master keeps no registry (optional)"))
	fs.StringVar(&cfg.ZK, "zk", env("zk", ""), usage("zk", "ZooKeeper URL zk://host:port[,host:port]/path for leader election; empty runs standalone"))
	durations := []struct {
		name, text string
		dst        *time.Duration
		def        time.Duration
	}{
		{"zk_session_timeout", "ZooKeeper session timeout", &cfg.ZKSessionTimeout, master.DefaultZKSessionTimeout},
		{"agent_ping_timeout", "how long an agent has to answer a ping, and the ping period", &cfg.AgentPingTimeout, master.DefaultAgentPingTimeout},
		{"allocation_interval", "period of batch allocation of offers", &cfg.AllocationInterval, master.DefaultAllocationInterval},
	}
	for _, d := range durations {
		*d.dst = d.def
		if text, ok := lookupMasterEnv(d.name); ok {
			v, err := master.ParseDuration(text)
			if err != nil {
				envErrs = append(envErrs, fmt.Sprintf("MESOS_%s: %v", strings.ToUpper(d.name), err))
			}
			*d.dst = v
		}
		fs.Var(masterDurationFlag{d.dst}, d.name, usage(d.name, d.text))
	}
	maxText := env("max_agent_ping_timeouts", strconv.Itoa(master.DefaultMaxAgentPingTimeouts))
	maxPings, err := strconv.Atoi(maxText)
	if err != nil {
		envErrs = append(envErrs, fmt.Sprintf("MESOS_MAX_AGENT_PING_TIMEOUTS=%q: not a number", maxText))
	}
	fs.IntVar(&cfg.MaxAgentPingTimeouts, "max_agent_ping_timeouts", maxPings, usage("max_agent_ping_timeouts", "consecutive failed pings after which an agent is unreachable"))
	fs.StringVar(&level, "logging_level", env("logging_level", "INFO"), usage("logging_level", "least severe level logged: DEBUG, INFO, WARNING or ERROR"))

	if code, done := parse(fs, args); done {
		return code
	}
	if len(envErrs) > 0 {
		fmt.Fprintln(stderr, "stadion mesos master: bad environment:", strings.Join(envErrs, "; "))
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
	cfg.Logger = newLogger(stderr, lvl)
	m, err := master.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos master: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, m.URL())
	<-m.Done()
	return exitOK
}

// lookupMasterEnv reads the MESOS_<NAME> environment variable of a flag.
func lookupMasterEnv(name string) (string, bool) {
	return os.LookupEnv("MESOS_" + strings.ToUpper(name))
}

// masterDurationFlag is a flag.Value for durations in Mesos's or Go's form.
type masterDurationFlag struct{ d *time.Duration }

var _ flag.Value = masterDurationFlag{}

func (f masterDurationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f masterDurationFlag) Set(s string) error {
	d, err := master.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}
