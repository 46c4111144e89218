package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	// exitAbdicated ends `serve` after DELETE /v2/leader without HA:
	// Marathon's code for a leadership that ended gracefully.
	exitAbdicated = 105
)

// command is one subcommand: its words ("mesos agent"), a one-line summary
// and its entry point, which parses its own flags.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand in the order --help shows them.
var commands = []command{
	{name: "serve", summary: "run the scheduler: Marathon's /v2 API on Mesos", run: runServe},
	{name: "deploy", summary: "render a service template, deploy it, wait, roll back on failure (deploy gen: CI definitions)", run: runDeploy},
	{name: "registrator", summary: "register every running task in Consul (services, health checks), deregister what is gone", run: runRegistrator},
	{name: "jobs", summary: "run the job scheduler: Chronos's API for scheduled and chained jobs on Mesos", run: runJobs},
	{name: "wrap", summary: "container entrypoint: Consul KV as environment, signals forwarded, one rolling restart per change", run: runWrap},
	{name: "mesos master", summary: "run the built-in Mesos-compatible master (development and tests)", run: runMesosMaster},
	{name: "mesos agent", summary: "run the built-in Mesos-compatible agent (development and tests)", run: runMesosAgent},
	{name: "mesos local", summary: "run the built-in master and N agents in one process (development, benchmarks)", run: runMesosLocal},
	{name: "state check", summary: "verify a state store offline: file consistency, every record decodes, references hold", run: runStateCheck},
	{name: "state export", summary: "dump the whole state as JSON on stdout, for recovery", run: runStateExport},
	{name: "version", summary: "print the version", run: runVersion},
}

// version is set at link time by the Makefile.
var version = "dev"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	// Longest match first, so "mesos agent" wins over a bare "mesos".
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c.run(ctx, args[len(words):], stdout, stderr)
		}
	}
	if args[0] == "mesos" {
		fmt.Fprintln(stderr, "stadion mesos: expected \"master\", \"agent\" or \"local\"")
		return exitUsage
	}
	if args[0] == "state" {
		fmt.Fprintln(stderr, "stadion state: expected \"check\" or \"export\"")
		return exitUsage
	}
	fmt.Fprintf(stderr, "stadion: unknown command %q; see stadion --help\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Stadion: a Marathon-compatible scheduler for Apache Mesos, and its tools.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: stadion <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run stadion <command> --help for a command's flags.")
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "Print the version of this binary.", stderr)
	if code, done := parse(fs, args); done {
		return code
	}
	fmt.Fprintln(stdout, "stadion", version)
	return exitOK
}

// newFlagSet returns a FlagSet whose usage names the command, its arguments
// and what it does, then lists the flags with their environment variables.
func newFlagSet(name, argsUsage, about string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("stadion "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: stadion %s [flags] %s\n\n%s\n\nFlags:\n", name, argsUsage, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; done is true when the command must return code at once
// (--help, or a bad flag).
func parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return exitOK, false
}

// envDefault returns the environment variable's value, or def when unset: the
// precedence is default < environment < flag.
func envDefault(env, def string) string {
	if v, ok := os.LookupEnv(env); ok {
		return v
	}
	return def
}

// newLogger returns the command's logger, text on stderr.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
