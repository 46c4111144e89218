package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/clientauth"
	"github.com/stadionhq/stadion/wrapper"
	"github.com/stadionhq/stadion/wrapper/child"
)

const wrapAbout = `Run a command as a container entrypoint with its configuration from Consul
KV: every key under <prefix> (recursively, relative to it) becomes an
environment variable of the command. The command runs as a child; signals
(TERM, INT, HUP, USR1, USR2) are forwarded to it, TERM and INT escalate to
KILL after --kill-timeout, and the wrapper exits with the command's status
(128+n when signal n killed it). As PID 1 it also reaps orphans.

When the KV under the prefix changes, the wrapper asks the scheduler at
<marathon-host:port> for a rolling restart of the app (POST
/v2/apps/<app>/restart, app = /<prefix> unless --app): once per change,
however many instances run, one of them elected through a Consul session
lock. --restart-mode=local restarts the command in place instead.

The scheduler's HTTP Basic credentials come from --marathon-credentials-file,
else MARATHON_CREDENTIALS (user:password), else user:password@ in
<marathon-host:port> given as a URL; they go to those addresses only (a
redirect elsewhere is followed without them) and are never printed. An
https:// address with a private CA needs --marathon-cacert.

Flags default from STADION_WRAP_<FLAG> (dashes as underscores); the Consul
token and TLS settings come from CONSUL_HTTP_TOKEN (or
CONSUL_HTTP_TOKEN_FILE), CONSUL_HTTP_SSL, CONSUL_CACERT, CONSUL_CLIENT_CERT,
CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME and CONSUL_HTTP_SSL_VERIFY, read as
stadion registrator reads them. KV values and tokens are never logged.`

// Exit codes of wrap besides the command's own status.
const (
	exitCannotExecute   = 126 // the command exists but cannot run
	exitCommandNotFound = 127
)

// wrapConfig is the parsed command line of `stadion wrap`.
type wrapConfig struct {
	app         string
	upcase      bool
	sanitize    bool
	restartMode string
	killTimeout time.Duration
	wait        string
	splay       time.Duration
	allowStale  bool
	cacheFile   string
	lockKey     string
	retryMax    time.Duration
	subreaper   bool
	logLevel    string
	// credentialsFile and caFile are the scheduler's credentials file and
	// CA file.
	credentialsFile string
	caFile          string
}

func runWrap(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("wrap", "<marathon-host:port> <consul-host:port> <prefix> <command> [args...]", wrapAbout, stderr)
	var c wrapConfig
	f := &wrapFlags{fs: fs}
	f.String(&c.app, "app", "", "app id to restart (default: /<prefix>)")
	f.Bool(&c.upcase, "upcase", false, "upper-case the variable names")
	f.Bool(&c.sanitize, "sanitize", false, "replace every character but letters, digits and _ in the names with _")
	f.String(&c.restartMode, "restart-mode", string(wrapper.RestartScheduler), "what a KV change does: scheduler (one rolling restart of the app), local (restart the command in place) or none (read the KV once)")
	f.Duration(&c.killTimeout, "kill-timeout", wrapper.DefaultKillTimeout, "time the command gets to exit after TERM or INT before KILL")
	f.String(&c.wait, "wait", "2s:10s", "quiescence min[:max]: act once the KV has been still for min, or max after the first change (a single value means max = 4×min; 0 acts at once)")
	f.Duration(&c.splay, "splay", 0, "random delay up to this before acting on a change")
	f.Bool(&c.allowStale, "allow-stale", false, "keep the last environment read in --cache-file and start with it when Consul is unreachable at start")
	f.String(&c.cacheFile, "cache-file", "", "cache of the last environment read, mode 0600 (default: "+filepath.Join(os.TempDir(), "stadion-wrap", "<prefix>.json")+")")
	f.String(&c.lockKey, "lock-key", "", "Consul key through which the instances elect the one that asks for the restart (default: "+wrapper.DefaultLockKeyPrefix+"/<app>/restart)")
	f.Duration(&c.retryMax, "retry-max", wrapper.DefaultRetryMax, "longest wait between retries of Consul and the scheduler")
	f.Bool(&c.subreaper, "subreaper", false, "become a child subreaper and reap orphans (always done as PID 1)")
	f.String(&c.logLevel, "log-level", "info", "least severe level logged: debug, info, warn or error")
	f.String(&c.credentialsFile, "marathon-credentials-file", "", "file of one user:password line, the scheduler's HTTP Basic credentials (over "+clientauth.EnvCredentials+", over user:password@ in <marathon-host:port>)")
	f.String(&c.caFile, "marathon-cacert", "", "PEM file of the CA of the scheduler's https certificate (default: the system's CAs)")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion wrap:", err)
		return exitUsage
	}
	if fs.NArg() < 4 {
		fs.Usage()
		return exitUsage
	}
	waitMin, waitMax, err := parseWait(c.wait)
	if err != nil {
		fmt.Fprintln(stderr, "stadion wrap: --wait:", err)
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		fmt.Fprintf(stderr, "stadion wrap: --log-level %q: want debug, info, warn or error\n", c.logLevel)
		return exitUsage
	}
	log := newLogger(stderr, level)

	pos := fs.Args()
	scheduler := pos[0]
	if scheduler == "-" {
		scheduler = ""
	}
	creds, err := schedulerCredentials(c.credentialsFile, splitList(scheduler))
	if err != nil {
		fmt.Fprintln(stderr, "stadion wrap: scheduler credentials:", err)
		return exitUsage
	}
	reap := os.Getpid() == 1
	if c.subreaper && !reap {
		if err := child.BecomeSubreaper(); err != nil {
			fmt.Fprintln(stderr, "stadion wrap: --subreaper:", err)
			return exitError
		}
		reap = true
	}
	// The wrapper forwards these signals instead of dying of them. TERM
	// and INT also cancel ctx (main's NotifyContext): Run gets a context
	// without that cancellation, so a TERM is forwarded once and the
	// wrapper ends when the command does.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	cfg := wrapper.Config{
		Scheduler:            scheduler,
		SchedulerCredentials: creds,
		SchedulerCAFile:      c.caFile,
		Consul:               pos[1],
		Prefix:               pos[2],
		App:                  c.app,
		Command:              pos[3:],
		Env:                  wrapper.EnvOptions{Upcase: c.upcase, Sanitize: c.sanitize},
		RestartMode:          wrapper.RestartMode(c.restartMode),
		KillTimeout:          c.killTimeout,
		WaitMin:              waitMin,
		WaitMax:              waitMax,
		Splay:                c.splay,
		AllowStale:           c.allowStale,
		CacheFile:            c.cacheFile,
		LockKey:              c.lockKey,
		RetryMax:             c.retryMax,
		Reap:                 reap,
		Signals:              sigs,
		Stdout:               fileOf(stdout),
		Stderr:               fileOf(stderr),
		Logger:               log,
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "stadion wrap:", err)
		return exitUsage
	}
	return wrapExitCode(wrapper.Run(context.WithoutCancel(ctx), cfg), log)
}

// wrapExitCode maps Run's result to the wrapper's exit status.
func wrapExitCode(err error, log *slog.Logger) int {
	var (
		exit    *child.ExitError
		start   *wrapper.StartError
		stopped *wrapper.StoppedError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit):
		return exit.Status()
	case errors.As(err, &stopped):
		log.Info("stadion wrap stopped", "reason", err)
		return 128 + int(stopped.Signal)
	case errors.As(err, &start):
		log.Error("stadion wrap cannot start the command", "error", err)
		if start.NotFound {
			return exitCommandNotFound
		}
		return exitCannotExecute
	default:
		log.Error("stadion wrap failed", "error", err)
		return exitError
	}
}

// fileOf returns w when it is a file the command can share, else nil (the
// command then writes to the wrapper's own stdout or stderr).
func fileOf(w io.Writer) *os.File {
	f, _ := w.(*os.File)
	return f
}

// parseWait reads "min[:max]"; a single value means max = 4×min, as
// consul-template has it.
func parseWait(s string) (time.Duration, time.Duration, error) {
	lo, hi, two := strings.Cut(s, ":")
	min, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return 0, 0, err
	}
	max := 4 * min
	if two {
		if max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return 0, 0, err
		}
	}
	if min < 0 || max < min {
		return 0, 0, fmt.Errorf("%q: want 0 <= min <= max", s)
	}
	return min, max, nil
}

// wrapFlags registers flags whose defaults come from STADION_WRAP_<NAME>,
// the name upper-cased with dashes as underscores (envFlags keeps the
// dashes, which no shell can set): default < environment < flag. A bad
// environment value is collected and reported by Err.
type wrapFlags struct {
	fs   *flag.FlagSet
	errs []string
}

func (w *wrapFlags) env(name string) (key, value string, ok bool) {
	key = "STADION_WRAP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	value, ok = os.LookupEnv(key)
	return key, value, ok
}

func (w *wrapFlags) usage(name, text string) string {
	key, _, _ := w.env(name)
	return text + " (env " + key + ")"
}

func (w *wrapFlags) String(p *string, name, def, text string) {
	if _, v, ok := w.env(name); ok {
		def = v
	}
	w.fs.StringVar(p, name, def, w.usage(name, text))
}

func (w *wrapFlags) Bool(p *bool, name string, def bool, text string) {
	if key, v, ok := w.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			w.errs = append(w.errs, fmt.Sprintf("%s=%q: not a boolean", key, v))
		} else {
			def = b
		}
	}
	w.fs.BoolVar(p, name, def, w.usage(name, text))
}

func (w *wrapFlags) Duration(p *time.Duration, name string, def time.Duration, text string) {
	if key, v, ok := w.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			w.errs = append(w.errs, fmt.Sprintf("%s=%q: not a duration", key, v))
		} else {
			def = d
		}
	}
	w.fs.DurationVar(p, name, def, w.usage(name, text))
}

// Err reports the bad environment values, if any.
func (w *wrapFlags) Err() error {
	if len(w.errs) == 0 {
		return nil
	}
	return fmt.Errorf("bad environment: %s", strings.Join(w.errs, "; "))
}
