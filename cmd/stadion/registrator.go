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

	"github.com/stadionhq/stadion/internal/clientauth"
	"github.com/stadionhq/stadion/registrator"
)

const registratorAbout = `Register every running task of a Marathon-compatible scheduler (Stadion or
Marathon) in Consul, one service per task port, with checks that mirror the
app's health checks, and deregister it when it goes. It follows /v2/events
of the scheduler (several URLs for an HA cluster: it follows the leader and
reconnects with backoff) and reads /v2/apps?embed=apps.tasks in full at start,
after every reconnection and every --resync-interval.

Service names and tags come from the app's env or labels: SERVICE_NAME,
SERVICE_TAGS (a comma list), SERVICE_<port>_NAME, SERVICE_<port>_TAGS,
SERVICE_IGNORE; the default name is the last segment of the app id, with
"-<port>" when the app has several ports (<port>: the container port, or the
port definition's port). See docs/registrator.md.

--mode agent (default) registers the tasks of this host (--hostname) with the
local Consul agent, one registrator per host; --mode catalog registers every
task through the catalog. Everything registered carries the --owner tag and
meta; nothing else is ever changed or removed.

Flags default from STADION_REGISTRATOR_<FLAG> (dashes as underscores), the
Consul ones from Consul's own variables. The ACL token comes from
CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE only, and is never logged.

The scheduler's HTTP Basic credentials come from --marathon-credentials-file,
else MARATHON_CREDENTIALS (user:password), else user:password@ in the
--marathon URLs; they are sent to those URLs only (a redirect elsewhere is
followed without them) and never printed.`

// registratorFlags registers flags whose defaults come from an environment
// variable: STADION_REGISTRATOR_<NAME> (dashes as underscores) unless the
// flag names Consul's own. The precedence is default < environment < flag;
// a bad environment value is collected and reported by Err.
type registratorFlags struct {
	fs   *flag.FlagSet
	errs []string
}

func (r *registratorFlags) key(name, env string) string {
	if env != "" {
		return env
	}
	return "STADION_REGISTRATOR_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (r *registratorFlags) String(p *string, name, env, def, text string) {
	key := r.key(name, env)
	if v, ok := os.LookupEnv(key); ok {
		def = v
	}
	r.fs.StringVar(p, name, def, text+" (env "+key+")")
}

// URL registers a flag of URLs whose default, in --help, hides passwords.
func (r *registratorFlags) URL(p *string, name, env, def, text string) {
	key := r.key(name, env)
	if v, ok := os.LookupEnv(key); ok {
		def = v
	}
	urlVar(r.fs, p, name, def, text+" (env "+key+")")
}

func (r *registratorFlags) Bool(p *bool, name, env string, def bool, text string) {
	key := r.key(name, env)
	if v, ok := os.LookupEnv(key); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s=%q: not a boolean", key, v))
		} else {
			def = b
		}
	}
	r.fs.BoolVar(p, name, def, text+" (env "+key+")")
}

func (r *registratorFlags) Duration(p *time.Duration, name string, def time.Duration, text string) {
	key := r.key(name, "")
	if v, ok := os.LookupEnv(key); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s=%q: not a duration", key, v))
		} else {
			def = d
		}
	}
	r.fs.DurationVar(p, name, def, text+" (env "+key+")")
}

// Err reports the bad environment values, if any.
func (r *registratorFlags) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("bad environment: %s", strings.Join(r.errs, "; "))
}

func runRegistrator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("registrator", "", registratorAbout, stderr)
	f := &registratorFlags{fs: fs}
	var (
		c                             registrator.Config
		marathon, hostnames, logLevel string
		credentialsFile               string
		mode, health, address         string
	)
	f.URL(&marathon, "marathon", "", "http://127.0.0.1:8080", "scheduler URL, or a comma list of the instances of an HA cluster; user:password@ in a URL is sent as HTTP Basic credentials")
	f.String(&credentialsFile, "marathon-credentials-file", "", "", "file of one user:password line, the scheduler's HTTP Basic credentials (over "+clientauth.EnvCredentials+", over user:password@ in --marathon)")
	f.String(&c.Consul.Address, "consul", "CONSUL_HTTP_ADDR", "127.0.0.1:8500", "Consul HTTP address, host:port or URL (in agent mode: this host's agent)")
	f.String(&mode, "mode", "", string(registrator.ModeAgent), "agent: this host's tasks with the local agent; catalog: every task through the catalog")
	f.String(&hostnames, "hostname", "", "", "agent mode: comma list of the host names this host's tasks report (default: this machine's host name and the agent's node name and address)")
	f.String(&health, "health", "", string(registrator.HealthChecks), "agent mode: checks (Consul runs the app's HTTP, HTTPS and TCP checks) or ttl (TTL checks set from the scheduler's results)")
	f.Duration(&c.TTL, "ttl", registrator.DefaultTTL, "TTL of the checks set from the scheduler's results (agent mode), set again every ttl/3")
	f.String(&address, "address", "", string(registrator.AddressHost), "advertised address: host (the task's host and host port) or ip (the task's IP address; on container networks the container port)")
	f.String(&c.Owner, "owner", "", registrator.DefaultOwner, "tag and meta of everything registered; only services with this owner are changed or removed")
	f.Duration(&c.ResyncInterval, "resync-interval", registrator.DefaultResyncInterval, "period of the full resync")
	f.Duration(&c.RequestTimeout, "request-timeout", registrator.DefaultRequestTimeout, "bound of each /v2/apps request and of the Consul calls of one pass")
	f.Duration(&c.EventIdleTimeout, "event-idle-timeout", registrator.DefaultIdleTimeout, "reconnect the event stream after this long without a byte (keep-alives come every 10s)")
	f.Duration(&c.RetryMax, "retry-max", registrator.DefaultRetryMax, "longest wait between retries after a failure")
	f.Duration(&c.MinFetchInterval, "min-fetch-interval", registrator.DefaultMinFetch, "least time between two reads of /v2/apps?embed=apps.tasks (every registrator reads after the same events)")
	f.Bool(&c.DryRun, "dry-run", "", false, "log the changes instead of making them")
	f.String(&logLevel, "log-level", "", "info", "least severe level logged: debug, info, warn or error")
	f.String(&c.Consul.CAFile, "consul-cacert", "CONSUL_CACERT", "", "PEM file of the CA of Consul's certificate")
	f.String(&c.Consul.CertFile, "consul-client-cert", "CONSUL_CLIENT_CERT", "", "PEM client certificate for Consul")
	f.String(&c.Consul.KeyFile, "consul-client-key", "CONSUL_CLIENT_KEY", "", "PEM key of the client certificate")
	f.String(&c.Consul.ServerName, "consul-tls-server-name", "CONSUL_TLS_SERVER_NAME", "", "server name to verify in Consul's certificate")
	f.Bool(&c.Consul.TLSSkipVerify, "consul-tls-skip-verify", "", false, "accept any certificate from Consul")
	f.String(&c.SchedulerCAFile, "marathon-cacert", "", "", "PEM file of the CA of the schedulers' https certificates")
	f.Bool(&c.SchedulerTLSSkipVerify, "marathon-tls-skip-verify", "", false, "accept any certificate from the schedulers")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion registrator:", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stadion registrator: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(stderr, "stadion registrator: --log-level %q: want debug, info, warn or error\n", logLevel)
		return exitUsage
	}
	c.Schedulers = splitList(marathon)
	creds, err := schedulerCredentials(credentialsFile, c.Schedulers)
	if err != nil {
		fmt.Fprintln(stderr, "stadion registrator: scheduler credentials:", err)
		return exitUsage
	}
	c.SchedulerCredentials = creds
	c.Hostnames = splitList(hostnames)
	c.Mode, c.Health, c.Address = registrator.Mode(mode), registrator.HealthMode(health), registrator.AddressMode(address)
	c.Logger = newLogger(stderr, level)
	if err := c.Validate(); err != nil {
		fmt.Fprintln(stderr, "stadion registrator:", err)
		return exitUsage
	}
	if err := registrator.Run(ctx, c); err != nil {
		c.Logger.Error("stadion registrator failed", "error", err)
		return exitError
	}
	return exitOK
}

// splitList splits a comma list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
