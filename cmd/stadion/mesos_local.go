package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

const mesosLocalAbout = `Run the built-in Mesos-compatible cluster in one process: a master and
--agents agents, each with --resources. For development, tests and
benchmarks (bench/), where the cluster must live in a process of its own,
apart from the scheduler. Flags default from MESOS_<FLAG> environment
variables. Prints the master's URL once every agent has registered; logs go
to stderr. Stopping it (SIGTERM, Ctrl-C) kills every task. The agents always
authenticate with a credential made up in memory; schedulers do with
--authenticate_frameworks and --credentials (docs/mesos-auth.md).`

// runMesosLocal runs a master and its agents until ctx ends.
func runMesosLocal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("mesos local", "", mesosLocalAbout, stderr)
	var (
		cfg            local.Config
		containerizers string
		level          string
		cpuProfile     string
	)
	f := newEnvFlags(fs, "MESOS_")
	f.Int(&cfg.Master.Port, "port", master.DefaultPort, "port of the master; 0 picks a free one (agents always pick free ports)")
	f.Int(&cfg.Agents, "agents", 1, "number of agents")
	f.String(&cfg.Master.IP, "ip", master.DefaultIP, "IPv4 address of the master and the agents")
	f.String(&cfg.WorkDir, "work_dir", "", "directory of the master's and agents' work directories (default: a temporary directory, removed on exit)")
	f.String(&cfg.Agent.Resources, "resources", "",
		`resources of every agent, "cpus:4;mem:4096;disk:10000;ports:[31000-32000]"; those not given are derived from the machine`)
	f.String(&containerizers, "containerizers", agent.ContainerizerMesos,
		"comma-separated containerizers of every agent: mesos, docker, simulated (benchmarks: tasks without processes; excludes mesos)")
	var switchUser bool
	f.Bool(&switchUser, "switch_user", true, "run each command task as its user (CommandInfo.user, else the framework's), which must exist on the agent; needs root. false: every task runs as the agent's user")
	f.String(&level, "logging_level", "WARNING", "least severe level logged: DEBUG, INFO, WARNING or ERROR")
	f.String(&cpuProfile, "cpuprofile", "", "write a CPU profile of the cluster (master and agents) to this file until it stops (benchmarks: go tool pprof)")
	auth := addMasterAuthFlags(f)

	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion mesos local:", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stadion mesos local: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	lvl, ok := map[string]slog.Level{"DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo, "WARNING": slog.LevelWarn, "ERROR": slog.LevelError}[strings.ToUpper(level)]
	if !ok {
		fmt.Fprintf(stderr, "stadion mesos local: --logging_level %q: want DEBUG, INFO, WARNING or ERROR\n", level)
		return exitUsage
	}
	if cfg.Agents < 1 {
		fmt.Fprintf(stderr, "stadion mesos local: --agents %d: want at least 1\n", cfg.Agents)
		return exitUsage
	}
	for c := range strings.SplitSeq(containerizers, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.Agent.Containerizers = append(cfg.Agent.Containerizers, c)
		}
	}
	cfg.Agent.IP = cfg.Master.IP
	cfg.Agent.DisableSwitchUser = !switchUser
	if err := cfg.Master.Validate(); err != nil {
		fmt.Fprintf(stderr, "stadion mesos local: %v\n", err)
		return exitUsage
	}
	// The agent template lacks Master and WorkDir, which local.Start sets
	// per agent; check the rest with placeholders.
	check := cfg.Agent
	check.Master, check.WorkDir = "127.0.0.1:5050", "agent"
	if err := check.Validate(); err != nil {
		fmt.Fprintf(stderr, "stadion mesos local: %v\n", err)
		return exitUsage
	}
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "stadion-mesos-local-")
		if err != nil {
			fmt.Fprintf(stderr, "stadion mesos local: %v\n", err)
			return exitError
		}
		defer os.RemoveAll(dir)
		cfg.WorkDir = dir
	}
	cfg.Logger = newLogger(stderr, lvl)
	if err := auth.apply(&cfg.Master, cfg.Logger); err != nil {
		fmt.Fprintf(stderr, "stadion mesos local: %v\n", err)
		return exitUsage
	}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "stadion mesos local: --cpuprofile: %v\n", err)
			return exitError
		}
		defer stop()
	}
	cluster, err := local.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos local: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, cluster.URL())
	select {
	case <-ctx.Done():
	case <-cluster.Master.Done():
	}
	cluster.Stop()
	return exitOK
}

// startCPUProfile starts a CPU profile written to path; stop ends it and
// closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
