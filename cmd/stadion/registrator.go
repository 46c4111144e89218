package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
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
followed without them) and never printed.

Docker source (--source docker, implied by a registry URI): the containers of
the local Docker engine ($DOCKER_HOST, else /var/run/docker.sock) with
gliderlabs/registrator's command line and conventions:

  stadion registrator [options] consul://host:port | consul-tls://host:port |
                      consulkv://host:port/prefix

one service per published port (per exposed port with -internal), id
<hostname>:<container>:<port>[:udp], SERVICE_* from env or labels (labels
win), a Docker HEALTHCHECK mirrored as a Consul check. Containers launched by
Mesos or Stadion (names mesos-*, label stadion.task_id) are left to the
scheduler's source. --source marathon,docker runs both in one process.`

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

// Seconds registers a duration flag that also takes a plain number in
// unit, as gliderlabs/registrator's integer flags do ("-ttl 30" is 30s,
// "-retry-interval 2000" is 2s).
func (r *registratorFlags) Seconds(p *time.Duration, name string, unit, def time.Duration, text string) {
	key := r.key(name, "")
	*p = def
	v := &unitDuration{d: p, unit: unit}
	if s, ok := os.LookupEnv(key); ok {
		if err := v.Set(s); err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s=%q: %v", key, s, err))
		}
	}
	r.fs.Var(v, name, text+" (env "+key+")")
}

func (r *registratorFlags) Int(p *int, name string, def int, text string) {
	key := r.key(name, "")
	if v, ok := os.LookupEnv(key); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s=%q: not an integer", key, v))
		} else {
			def = n
		}
	}
	r.fs.IntVar(p, name, def, text+" (env "+key+")")
}

// unitDuration is a duration written as a Go duration or a number of units.
type unitDuration struct {
	d    *time.Duration
	unit time.Duration
}

func (u *unitDuration) String() string {
	if u.d == nil {
		return ""
	}
	return u.d.String()
}

func (u *unitDuration) Set(s string) error {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
		if n < 0 || n > int64(365*24*time.Hour/u.unit) {
			return fmt.Errorf("%d out of range", n)
		}
		*u.d = time.Duration(n) * u.unit
		return nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return fmt.Errorf("want a number of %v or a duration such as 30s", u.unit)
	}
	*u.d = d
	return nil
}

// Err reports the bad environment values, if any.
func (r *registratorFlags) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("bad environment: %s", strings.Join(r.errs, "; "))
}

// registratorSettings are the parsed flags of stadion registrator.
type registratorSettings struct {
	c                             registrator.Config
	d                             registrator.DockerConfig
	marathon, hostnames, logLevel string
	credentialsFile, source, tags string
	mode, health, address         string
	ttl                           time.Duration
}

func runRegistrator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
		fmt.Fprintln(stdout, "stadion", version) // gliderlabs's registrator --version
		return exitOK
	}
	fs := newFlagSet("registrator", "[<registry-uri>]", registratorAbout, stderr)
	f := &registratorFlags{fs: fs}
	var st registratorSettings
	c, d := &st.c, &st.d
	f.String(&st.source, "source", "", "", "marathon, docker, or marathon,docker (default: docker when a registry URI is given, else marathon)")
	f.URL(&st.marathon, "marathon", "", "http://127.0.0.1:8080", "scheduler URL, or a comma list of the instances of an HA cluster; user:password@ in a URL is sent as HTTP Basic credentials")
	f.String(&st.credentialsFile, "marathon-credentials-file", "", "", "file of one user:password line, the scheduler's HTTP Basic credentials (over "+clientauth.EnvCredentials+", over user:password@ in --marathon)")
	f.String(&c.Consul.Address, "consul", "CONSUL_HTTP_ADDR", "127.0.0.1:8500", "Consul HTTP address, host:port or URL (in agent mode: this host's agent); a registry URI overrides it")
	f.String(&st.mode, "mode", "", string(registrator.ModeAgent), "marathon source: agent (this host's tasks with the local agent) or catalog (every task through the catalog)")
	f.String(&st.hostnames, "hostname", "", "", "marathon source: comma list of the host names this host's tasks report (default: this machine's host name and the agent's node name and address); docker source: the first starts the service ids (default: this machine's host name)")
	f.String(&st.health, "health", "", string(registrator.HealthChecks), "marathon source, agent mode: checks (Consul runs the app's HTTP, HTTPS and TCP checks) or ttl (TTL checks set from the scheduler's results)")
	f.Seconds(&st.ttl, "ttl", time.Second, registrator.DefaultTTL, "TTL of the checks the registrator sets (the scheduler's results, Docker HEALTHCHECKs), in seconds or as a duration")
	f.Seconds(&d.TTLRefresh, "ttl-refresh", time.Second, 0, "docker source: period of setting those checks again, below -ttl (default ttl/3)")
	f.String(&st.address, "address", "", string(registrator.AddressHost), "marathon source: advertised address, host (the task's host and host port) or ip (the task's IP address; on container networks the container port)")
	f.String(&c.Owner, "owner", "", registrator.DefaultOwner, "tag (marathon source) and meta of everything registered; only services with this owner are changed or removed")
	f.Seconds(&c.ResyncInterval, "resync-interval", time.Second, registrator.DefaultResyncInterval, "period of the full resync")
	fs.Var(&unitDuration{d: &c.ResyncInterval, unit: time.Second}, "resync", "gliderlabs's name of --resync-interval, in seconds (0: the default; the resync is never off)")
	f.Duration(&c.RequestTimeout, "request-timeout", registrator.DefaultRequestTimeout, "bound of each /v2/apps request and of the Docker and Consul calls of one pass")
	f.Duration(&c.EventIdleTimeout, "event-idle-timeout", registrator.DefaultIdleTimeout, "marathon source: reconnect the event stream after this long without a byte (keep-alives come every 10s)")
	f.Duration(&c.RetryMax, "retry-max", registrator.DefaultRetryMax, "longest wait between retries after a failure")
	f.Duration(&c.MinFetchInterval, "min-fetch-interval", registrator.DefaultMinFetch, "marathon source: least time between two reads of /v2/apps?embed=apps.tasks (every registrator reads after the same events)")
	f.Bool(&c.DryRun, "dry-run", "", false, "log the changes instead of making them")
	f.String(&st.logLevel, "log-level", "", "info", "least severe level logged: debug, info, warn or error")
	f.String(&c.Consul.CAFile, "consul-cacert", "CONSUL_CACERT", "", "PEM file of the CA of Consul's certificate")
	f.String(&c.Consul.CertFile, "consul-client-cert", "CONSUL_CLIENT_CERT", "", "PEM client certificate for Consul")
	f.String(&c.Consul.KeyFile, "consul-client-key", "CONSUL_CLIENT_KEY", "", "PEM key of the client certificate")
	f.String(&c.Consul.ServerName, "consul-tls-server-name", "CONSUL_TLS_SERVER_NAME", "", "server name to verify in Consul's certificate")
	f.Bool(&c.Consul.TLSSkipVerify, "consul-tls-skip-verify", "", false, "accept any certificate from Consul")
	f.String(&c.SchedulerCAFile, "marathon-cacert", "", "", "PEM file of the CA of the schedulers' https certificates")
	f.Bool(&c.SchedulerTLSSkipVerify, "marathon-tls-skip-verify", "", false, "accept any certificate from the schedulers")
	// gliderlabs/registrator's options (docker source).
	f.String(&d.DockerHost, "docker-host", "DOCKER_HOST", "", "docker source: Docker engine, unix:///path or tcp://host:port (default unix:///var/run/docker.sock)")
	f.Bool(&d.Internal, "internal", "", false, "docker source: register the container's address and exposed ports instead of the host's address and published ports")
	f.Bool(&d.Explicit, "explicit", "", false, "docker source: register only ports with SERVICE_NAME or SERVICE_<port>_NAME")
	f.String(&d.HostIP, "ip", "", "", "docker source: address of the published ports (default: the address the host name resolves to)")
	f.String(&st.tags, "tags", "", "", "docker source: comma list of tags added to every service")
	f.Bool(new(bool), "cleanup", "", false, "docker source: accepted for gliderlabs compatibility; dangling services this registrator owns are always removed")
	f.String(&d.Deregister, "deregister", "", registrator.DeregisterAlways, "docker source: always, or on-success (keep the services of a container that exited with a failure code until it is removed)")
	f.Int(&d.RetryAttempts, "retry-attempts", -1, "docker source: exit when Consul does not answer this many retries at start (-1: start at once, retry for ever)")
	f.Seconds(&d.RetryInterval, "retry-interval", time.Millisecond, registrator.DefaultRetryInterval, "docker source: wait between those retries, in milliseconds or as a duration")
	f.String(&d.IPLabel, "useIpFromLabel", "", "", "docker source: container label whose value (a /CIDR suffix dropped) is the service address")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion registrator:", err)
		return exitUsage
	}
	if err := st.finish(fs.Args()); err != nil {
		fmt.Fprintln(stderr, "stadion registrator:", err)
		return exitUsage
	}
	c.Logger = newLogger(stderr, st.level())
	d.Logger = c.Logger
	if err := st.run(ctx); err != nil {
		c.Logger.Error("stadion registrator failed", "error", err)
		return exitError
	}
	return exitOK
}

// level is the parsed --log-level (checked by finish).
func (st *registratorSettings) level() slog.Level {
	var level slog.Level
	_ = level.UnmarshalText([]byte(st.logLevel))
	return level
}

// finish checks the flags and the registry URI and completes both
// configurations.
func (st *registratorSettings) finish(rest []string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(st.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", st.logLevel)
	}
	if len(rest) > 1 {
		return fmt.Errorf("unexpected arguments %q: one registry URI at most, after the options", rest[1:])
	}
	if len(rest) == 1 {
		if err := st.registry(rest[0]); err != nil {
			return err
		}
		if st.source == "" {
			st.source = "docker"
		}
	}
	if st.source == "" {
		st.source = "marathon"
	}
	for _, src := range splitList(st.source) {
		if src != "marathon" && src != "docker" {
			return fmt.Errorf("--source %q: want marathon, docker or marathon,docker", st.source)
		}
	}
	c, d := &st.c, &st.d
	c.TTL = st.ttl
	c.Hostnames = splitList(st.hostnames)
	c.Mode, c.Health, c.Address = registrator.Mode(st.mode), registrator.HealthMode(st.health), registrator.AddressMode(st.address)
	d.Consul, d.Owner, d.TTL, d.ResyncInterval, d.DryRun = c.Consul, c.Owner, st.ttl, c.ResyncInterval, c.DryRun
	d.RequestTimeout, d.RetryMax = c.RequestTimeout, c.RetryMax
	if len(c.Hostnames) > 0 {
		d.Hostname = c.Hostnames[0]
	}
	d.Tags = splitList(st.tags)
	if st.has("docker") {
		if d.KVPrefix != "" && st.has("marathon") {
			return errors.New("consulkv:// serves the docker source only")
		}
		if err := d.Validate(); err != nil {
			return err
		}
	}
	if st.has("marathon") {
		c.Schedulers = splitList(st.marathon)
		creds, err := schedulerCredentials(st.credentialsFile, c.Schedulers)
		if err != nil {
			return fmt.Errorf("scheduler credentials: %w", err)
		}
		c.SchedulerCredentials = creds
		if err := c.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// has reports whether src is one of the sources.
func (st *registratorSettings) has(src string) bool {
	return slices.Contains(splitList(st.source), src)
}

// registry reads gliderlabs/registrator's registry URI: consul://,
// consul-tls://, consul-unix://, consulkv:// (and consulkv-unix://)
// host:port[/prefix]; an empty host keeps the Consul address.
func (st *registratorSettings) registry(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("registry URI %q: want consul://host:port, consul-tls://host:port or consulkv://host:port/prefix", clientauth.Redact(uri))
	}
	c := &st.c
	switch u.Scheme {
	case "consul", "consulkv":
		if u.Host != "" {
			c.Consul.Address = u.Host
		}
	case "consul-tls":
		c.Consul.Address = "https://" + cmp.Or(u.Host, "127.0.0.1:8501")
	case "consul-unix", "consulkv-unix":
		sock, prefix, _ := strings.Cut(u.Path, ":")
		c.Consul.Address, u.Path = "unix://"+sock, prefix
	default:
		return fmt.Errorf("registry URI scheme %q: want consul, consul-tls, consul-unix or consulkv (stadion registers in Consul only)", u.Scheme)
	}
	if strings.HasPrefix(u.Scheme, "consulkv") {
		st.d.KVPrefix = strings.Trim(u.Path, "/")
		if st.d.KVPrefix == "" {
			return fmt.Errorf("registry URI %q: consulkv needs a prefix, consulkv://host:port/prefix", clientauth.Redact(uri))
		}
	}
	return nil
}

// run runs the sources until ctx ends; the first to fail stops the other.
func (st *registratorSettings) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	if st.has("marathon") {
		wg.Go(func() { errs[0] = registrator.Run(ctx, st.c); cancel() })
	}
	if st.has("docker") {
		wg.Go(func() { errs[1] = registrator.RunDocker(ctx, st.d); cancel() })
	}
	wg.Wait()
	return errors.Join(errs...)
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
