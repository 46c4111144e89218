package server

import (
	"errors"
	"github.com/stadionhq/stadion/framework/auth"
	"log/slog"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
)

// MasterLocal is the --master value that runs the built-in cluster.
const MasterLocal = "local"

// Config is the parsed options of `stadion serve`. Zero values mean the
// defaults of the scheduler and the built-in cluster; the command sets
// Marathon's defaults through its flags.
type Config struct {
	// Master is "local", "host:port", "http://host:port" or
	// "zk://host:port[,host:port]/path"; required.
	Master string
	// HTTPAddress and HTTPPort are where the API listens; port 0 picks a
	// free port (URL reports it). An empty HTTPAddress is the loopback
	// address with Master "local" (a development cluster that runs
	// commands as this user must not be reachable from the network by
	// default) and every address otherwise, as Marathon.
	HTTPAddress string
	HTTPPort    int
	// DisableHTTP serves HTTPS only (Marathon's --disable_http); it needs
	// SSLCertFile.
	DisableHTTP bool
	// SSLCertFile and SSLKeyFile are a PEM certificate chain and its PEM
	// private key; when set, the API is served over HTTPS on
	// HTTPSAddress:HTTPSPort too (both or neither). HTTPSAddress empty is
	// HTTPAddress's default; HTTPSPort 0 picks a free port (HTTPSURL).
	SSLCertFile  string
	SSLKeyFile   string
	HTTPSAddress string
	HTTPSPort    int
	// HTTPCredentials is Marathon's --http_credentials "user:password":
	// when set, every request but /ping needs them as HTTP Basic
	// credentials (401 otherwise). HTTPRealm is the realm of the
	// challenge; empty is DefaultRealm.
	HTTPCredentials string
	HTTPRealm       string
	// HTTPCredentialsList are more principals that may authenticate, each
	// with its own secret (--http_credentials_file), so that an ACL file
	// can give each its own rights.
	HTTPCredentialsList []auth.Credential
	// AccessControlAllowOrigin lists the browser origins
	// ("https://ui.example.com", or "*") that get CORS headers and may
	// write; other origins may not write (see guard).
	AccessControlAllowOrigin []string
	// HTTPReadTimeout, HTTPWriteTimeout and HTTPIdleTimeout bound the
	// reading of a request, the writing of a response (not /v2/events,
	// whose every write is bounded by HTTPWriteTimeout instead) and the
	// wait of a keep-alive connection for its next request; the built-in
	// cluster of Master "local" takes them too. Zero values are
	// httpserver's defaults.
	HTTPReadTimeout  time.Duration
	HTTPWriteTimeout time.Duration
	HTTPIdleTimeout  time.Duration
	// HTTPMaxConnections caps the API's open connections; 0 is
	// httpserver.DefaultMaxConns(4), a quarter of the descriptor limit
	// (the built-in cluster takes another quarter).
	HTTPMaxConnections int
	// HTTPMaxConcurrentRequests is Marathon's
	// --http_max_concurrent_requests: requests beyond it are answered 503
	// at once. 0 is no limit.
	HTTPMaxConcurrentRequests int
	// EventStreamMaxOutstandingMessages and EventStreamMaxOutstandingBytes
	// bound the backlog of an event stream subscriber, in events and in
	// bytes; past either it is dropped. Zero values are the events bus's
	// defaults.
	EventStreamMaxOutstandingMessages int
	EventStreamMaxOutstandingBytes    int64
	// Hostname is advertised to Mesos and in /v2/leader and /v2/info.
	Hostname string
	// FrameworkName is registered with Mesos; default "marathon".
	FrameworkName string
	// Role is the Mesos role of the framework; default "*".
	Role string
	// FailoverTimeout is how long Mesos keeps the tasks while the scheduler
	// is away.
	FailoverTimeout time.Duration
	// TaskLaunchTimeout, ReconciliationInterval,
	// ReconciliationInitialDelay, DeclineOfferDuration and
	// MaxInstancesPerOffer are Marathon's flags of the same names.
	TaskLaunchTimeout          time.Duration
	ReconciliationInterval     time.Duration
	ReconciliationInitialDelay time.Duration
	DeclineOfferDuration       time.Duration
	MaxInstancesPerOffer       int
	// TaskUnknownTimeout is scheduler.Config's.
	TaskUnknownTimeout time.Duration
	// MaxInstancesPerApp is the most instances one app may have
	// (--max_instances_per_app); 0 is marathon.DefaultMaxInstances. Apps
	// stored with more still load (see marathon.DefaultMaxInstances).
	MaxInstancesPerApp int
	// KillRetry is how long an unanswered kill waits before it is resent
	// (scheduler.DefaultKillRetry when zero).
	KillRetry time.Duration
	// ProgressDeadline, RollbackOnFailure and QueueConflicting are the
	// deployment defaults of scheduler.Config.
	ProgressDeadline  time.Duration
	RollbackOnFailure bool
	QueueConflicting  bool
	// EnvVarsPrefix is Marathon's --env_vars_prefix.
	EnvVarsPrefix string
	// MesosUser is Marathon's --mesos_user: the framework's user and the
	// user of every task whose app names none; default the user Stadion
	// runs as.
	MesosUser string
	// SecretsDir holds the values of "file:" app secrets (--secrets_dir);
	// "" refuses them. SecretsConsulAddr is the Consul agent of "consul:"
	// secrets; default CONSUL_HTTP_ADDR, then 127.0.0.1:8500, with
	// CONSUL_HTTP_TOKEN and the other CONSUL_* variables
	// (docs/secrets.md).
	SecretsDir        string
	SecretsConsulAddr string
	// Principal and SecretFile authenticate with Mesos; the file holds
	// the secret.
	Principal  string
	SecretFile string
	// AgentFilesTokenFile holds the files token of agents started with
	// `stadion mesos agent --files_token_file`: the web UI's task files
	// proxy sends it to the agents of an external master. The built-in
	// cluster of MasterLocal needs none (docs/ui.md).
	AgentFilesTokenFile string
	// ZK, when set (zk://h1:2181,h2:2181/stadion), keeps the state in
	// ZooKeeper under that path instead of DataDir, and, unless DisableHA,
	// elects one leader among the instances sharing it (Marathon's --zk,
	// --disable_ha). ZKSessionTimeout and ZKTimeout are Marathon's
	// --zk_session_timeout and --zk_timeout (zero: 10s each);
	// ZKMaxVersions is --zk_max_versions (zero: 50), also for bbolt.
	ZK               string
	DisableHA        bool
	ZKSessionTimeout time.Duration
	ZKTimeout        time.Duration
	ZKMaxVersions    int
	// DataDir holds the state store (stadion.db) and, with Master
	// "local", the built-in cluster's work directories; required.
	DataDir string
	// Init starts with empty state where stadion.db is missing or empty
	// but state is expected (DataDir holds other files): `serve --init`.
	// Without it that is an error, so that a lost file does not silently
	// lose the framework id. A first start in an unused DataDir needs no
	// Init. It never replaces a file that holds data.
	Init bool
	// LocalContainerizers and LocalAgents shape the built-in cluster.
	// "docker" is dropped with a warning when there is no Docker socket.
	LocalContainerizers []string
	LocalAgents         int
	// LocalAgentResources is every built-in agent's resources in Mesos's
	// text form; empty derives them from the machine.
	LocalAgentResources string
	// LocalAllocationInterval is the built-in master's offer period.
	LocalAllocationInterval time.Duration
	// MesosMinBackoff and MesosMaxBackoff bound the wait before a
	// resubscription to Mesos.
	MesosMinBackoff time.Duration
	MesosMaxBackoff time.Duration
	// Version is the build version shown in /v2/info.
	Version string
	// ACL returns the authorization in force for the API (docs/acl.md);
	// nil authorizes every request.
	ACL func() *acl.ACL
	// Logger receives every component's logs; nil discards them.
	Logger *slog.Logger
}

// httpLimits are the API's timeouts and connection cap.
func (c Config) httpLimits() httpserver.Limits {
	return httpserver.Limits{
		ReadTimeout:  c.HTTPReadTimeout,
		WriteTimeout: c.HTTPWriteTimeout,
		IdleTimeout:  c.HTTPIdleTimeout,
		MaxConns:     c.HTTPMaxConnections,
	}.WithDefaults()
}

// clusterLimits are the timeouts of the built-in cluster's servers: the
// API's; their connection caps are local's defaults.
func (c Config) clusterLimits() httpserver.Limits {
	return httpserver.Limits{ReadTimeout: c.HTTPReadTimeout, WriteTimeout: c.HTTPWriteTimeout, IdleTimeout: c.HTTPIdleTimeout}
}

func validCredentials(s string) bool {
	_, _, err := Credentials(s)
	return err == nil
}

// httpAddress is the address the API's HTTP listener binds.
func (c Config) httpAddress() string {
	if c.HTTPAddress == "" && c.Master == MasterLocal {
		return "127.0.0.1"
	}
	return c.HTTPAddress
}

// httpsAddress is the address the API's HTTPS listener binds.
func (c Config) httpsAddress() string {
	if c.HTTPSAddress == "" {
		return c.httpAddress()
	}
	return c.HTTPSAddress
}

// mesosRole is --mesos_role, "*" when not set.
func (c Config) mesosRole() string {
	if c.Role == "" {
		return mesos.RoleUnreserved
	}
	return c.Role
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	switch {
	case c.Master == "":
		return errors.New("server: master required (local, host:port or zk://.../mesos)")
	case c.DataDir == "":
		return errors.New("server: data dir required")
	case c.HTTPPort < 0 || c.HTTPPort > 65535, c.HTTPSPort < 0 || c.HTTPSPort > 65535:
		return errors.New("server: http port out of range")
	case (c.SSLCertFile == "") != (c.SSLKeyFile == ""):
		return errors.New("server: --ssl_cert_file and --ssl_key_file go together")
	case c.DisableHTTP && c.SSLCertFile == "":
		return errors.New("server: --disable_http leaves nothing to serve without --ssl_cert_file and --ssl_key_file")
	case c.HTTPCredentials != "" && !validCredentials(c.HTTPCredentials):
		return errors.New("server: --http_credentials: want user:password, both non-empty")
	case c.FailoverTimeout < 0, c.TaskLaunchTimeout < 0, c.TaskUnknownTimeout < 0, c.ReconciliationInterval < 0,
		c.ReconciliationInitialDelay < 0, c.DeclineOfferDuration < 0, c.KillRetry < 0, c.ProgressDeadline < 0,
		c.LocalAllocationInterval < 0, c.MesosMinBackoff < 0, c.MesosMaxBackoff < 0,
		c.ZKSessionTimeout < 0, c.ZKTimeout < 0, c.HTTPReadTimeout < 0, c.HTTPWriteTimeout < 0, c.HTTPIdleTimeout < 0:
		return errors.New("server: durations must not be negative")
	case c.ZK != "" && !strings.HasPrefix(c.ZK, "zk://"):
		return errors.New("server: --zk must be a zk://host:port[,host:port]/path URL")
	case c.LocalAgents < 0, c.MaxInstancesPerOffer < 0, c.MaxInstancesPerApp < 0, c.ZKMaxVersions < 0, c.HTTPMaxConnections < 0,
		c.HTTPMaxConcurrentRequests < 0, c.EventStreamMaxOutstandingMessages < 0, c.EventStreamMaxOutstandingBytes < 0:
		return errors.New("server: counts must not be negative")
	}
	return nil
}
