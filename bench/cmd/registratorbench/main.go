// Command registratorbench measures how soon `stadion registrator` makes a
// task visible in Consul: from TASK_RUNNING to the service registered, from
// healthy to its check passing, and from TASK_KILLED to the service gone.
// It runs a real Consul agent, `stadion serve` with its built-in cluster and
// `stadion registrator` as processes, scales an app of test-server tasks up
// and down, and compares the scheduler's event timestamps with the moments
// Consul's blocking queries show the change. It prints a markdown section
// and writes it into bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// config is the command line.
type config struct {
	Stadion   string
	Consul    string
	Readme    string
	Rounds    int
	Instances int
	Health    string
	Timeout   time.Duration
	Keep      bool
	LogLevel  string
	Source    string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// measure runs the bench of c.Source and returns its README section.
func measure(ctx context.Context, c config, workDir string, step func(string, ...any)) (section, title string, err error) {
	if c.Source == "docker" {
		res, err := benchDocker(ctx, c, workDir, step)
		return res.markdown(), dockerSectionTitle, err
	}
	res, err := bench(ctx, c, workDir, step)
	return res.markdown(), sectionTitle, err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("registratorbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.Stadion, "stadion", "bin/stadion", "stadion binary to run (make bench builds it)")
	fs.StringVar(&c.Consul, "consul", "bin/consul", "consul binary (make deps installs it); when missing, consul from PATH")
	fs.StringVar(&c.Readme, "readme", "", `markdown file whose "## Registrator latency" section is replaced by this run's (empty: print only)`)
	fs.StringVar(&c.Source, "source", "marathon", "marathon (tasks of stadion serve) or docker (containers of the Docker engine, own README section)")
	fs.IntVar(&c.Rounds, "rounds", 10, "scale-up and scale-down rounds")
	fs.IntVar(&c.Instances, "instances", 10, "tasks started and killed in each round")
	fs.StringVar(&c.Health, "health", "ttl", "--health of the registrator: ttl (check status from the scheduler) or checks (Consul runs the check)")
	fs.DurationVar(&c.Timeout, "timeout", 2*time.Minute, "bound of each round and of the start-up")
	fs.BoolVar(&c.Keep, "keep", false, "keep the work directory (process logs) after the run")
	fs.StringVar(&c.LogLevel, "registrator_log_level", "info", "--log-level of stadion registrator (its log is registrator.log in the work directory; see -keep)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if c.Rounds < 1 || c.Instances < 1 || (c.Health != "ttl" && c.Health != "checks") || (c.Source != "marathon" && c.Source != "docker") {
		fmt.Fprintln(stderr, "registratorbench: want -rounds and -instances at least 1, -health ttl or checks, -source marathon or docker")
		return exitUsage
	}
	var err error
	if c.Stadion, err = filepath.Abs(c.Stadion); err == nil {
		_, err = os.Stat(c.Stadion)
	}
	if err != nil {
		fmt.Fprintf(stderr, "registratorbench: %v (run make build, or pass -stadion)\n", err)
		return exitUsage
	}
	if c.Consul, err = findConsul(c.Consul); err != nil {
		fmt.Fprintf(stderr, "registratorbench: %v (run make deps, or pass -consul)\n", err)
		return exitUsage
	}
	workDir, err := os.MkdirTemp("", "registratorbench-")
	if err != nil {
		fmt.Fprintln(stderr, "registratorbench:", err)
		return exitError
	}
	step := func(format string, args ...any) { fmt.Fprintf(stderr, "registratorbench: "+format+"\n", args...) }
	section, title, err := measure(ctx, c, workDir, step)
	if err != nil {
		fmt.Fprintf(stderr, "registratorbench: %v\nregistratorbench: process logs kept in %s\n", err, workDir)
		return exitError
	}
	if c.Keep {
		step("work directory kept: %s", workDir)
	} else {
		os.RemoveAll(workDir)
	}
	fmt.Fprintln(stdout, section)
	if c.Readme != "" {
		old, err := os.ReadFile(c.Readme)
		if err != nil && !os.IsNotExist(err) {
			fmt.Fprintln(stderr, "registratorbench:", err)
			return exitError
		}
		if err := os.WriteFile(c.Readme, []byte(rig.ReplaceSection(string(old), title, section)), 0o644); err != nil {
			fmt.Fprintln(stderr, "registratorbench:", err)
			return exitError
		}
		step("results written to %s", c.Readme)
	}
	return exitOK
}
