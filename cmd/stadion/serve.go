package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/framework/reconcile"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

const serveAbout = `Run the scheduler: Marathon's /v2 REST API and event stream on
--http_port, scheduling apps on Mesos through the v1 scheduler HTTP API.
--master local runs the built-in Mesos-compatible master and --local_agents
agents in this process (development, CI, demos), each agent on a loopback
address of its own that is also its hostname (127.0.0.2, 127.0.0.3 ...);
production points it at Apache Mesos: --master zk://h1:2181,h2:2181/mesos or
--master http://host:5050.
Flags have Marathon's names and default from MARATHON_<FLAG> environment
variables; a MARATHON_ variable that names no flag is an error (MARATHON_APP_*,
which Marathon sets in tasks, and the clients' MARATHON_URL and
MARATHON_CREDENTIALS excepted). Marathon's timeouts are in milliseconds. State
lives in --data_dir. With --master local the API listens on 127.0.0.1 unless
--http_address says otherwise; see docs/security.md.`

// keystoreHelp is the error for Marathon's Java keystore flags: Stadion
// reads PEM files, and the keystore converts to them.
const keystoreHelp = `Marathon's Java keystore (%s) is not read by Stadion: convert it to PEM files and pass --ssl_cert_file and --ssl_key_file instead:
  keytool -importkeystore -srckeystore %s -destkeystore stadion.p12 -deststoretype PKCS12
  openssl pkcs12 -in stadion.p12 -nokeys -out cert.pem
  openssl pkcs12 -in stadion.p12 -nocerts -nodes -out key.pem && chmod 600 key.pem`

// ignoredEnv reports the MARATHON_ variables that serve leaves alone
// although they name no flag: MARATHON_APP_* are set by Marathon (and
// Stadion) in every task's environment, so a `stadion serve` run as a
// task inherits them; MARATHON_URL and MARATHON_CREDENTIALS are read by
// Stadion's clients (deploy, registrator, wrap), which may share a shell
// with serve.
func ignoredEnv(key string) bool {
	return strings.HasPrefix(key, "MARATHON_APP_") || key == "MARATHON_URL" || key == "MARATHON_CREDENTIALS"
}

// serveConfig is the parsed command line of `stadion serve`.
type serveConfig struct {
	master               string
	httpAddress          string
	httpPort             int
	disableHTTP          bool
	httpsAddress         string
	httpsPort            int
	sslCertFile          string
	sslKeyFile           string
	sslKeystorePath      string
	sslKeystorePassword  string
	httpCredentials      string
	httpCredentialsFile  string
	credentials          []auth.Credential // read from httpCredentialsFile
	httpRealm            string
	allowOrigin          string
	httpReadTimeout      time.Duration
	httpWriteTimeout     time.Duration
	httpIdleTimeout      time.Duration
	httpMaxConns         int
	httpMaxRequests      int
	eventMaxMessages     int
	eventMaxBytes        int
	hostname             string
	frameworkName        string
	role                 string
	failoverTimeout      float64
	taskLaunchTimeout    time.Duration
	taskUnknownTimeout   time.Duration
	reconcileInterval    time.Duration
	reconcileDelay       time.Duration
	declineOfferDuration time.Duration
	maxInstancesPerOffer int
	maxInstancesPerApp   int
	progressDeadline     int
	rollbackOnFailure    bool
	queueConflicting     bool
	envVarsPrefix        string
	mesosUser            string
	secretsDir           string
	principal            string
	secretFile           string
	agentFilesTokenFile  string
	dataDir              string
	init                 bool
	zk                   string
	disableHA            bool
	zkSessionTimeout     time.Duration
	zkTimeout            time.Duration
	zkMaxVersions        int
	localContainerizers  string
	localAgents          int
	localResources       string
	loggingLevel         string
	aclFile              string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "", serveAbout, stderr)
	var c serveConfig
	host, _ := os.Hostname()
	f := newEnvFlags(fs, "MARATHON_")
	f.String(&c.master, "master", "", "Mesos master: local, host:port, http://host:port or zk://host:port[,host:port]/path (required)")
	f.String(&c.httpAddress, "http_address", "", "address to listen on for HTTP (default: 127.0.0.1 with --master local, else all addresses)")
	f.Int(&c.httpPort, "http_port", 8080, "port to listen on for HTTP")
	f.Bool(&c.disableHTTP, "disable_http", false, "serve HTTPS only (needs --ssl_cert_file and --ssl_key_file)")
	f.String(&c.httpsAddress, "https_address", "", "address to listen on for HTTPS (default: that of HTTP)")
	f.Int(&c.httpsPort, "https_port", 8443, "port to listen on for HTTPS, served when --ssl_cert_file and --ssl_key_file are given")
	f.String(&c.sslCertFile, "ssl_cert_file", "", "PEM certificate (chain) of the HTTPS listener")
	f.String(&c.sslKeyFile, "ssl_key_file", "", "PEM private key of --ssl_cert_file")
	f.String(&c.sslKeystorePath, "ssl_keystore_path", envDefault("MESOSPHERE_KEYSTORE_PATH", ""), "Marathon's Java keystore: not read, an error that shows how to convert it to --ssl_cert_file and --ssl_key_file (also MESOSPHERE_KEYSTORE_PATH)")
	f.Secret(&c.sslKeystorePassword, "ssl_keystore_password", envDefault("MESOSPHERE_KEYSTORE_PASS", ""), "password of --ssl_keystore_path: not read, an error (also MESOSPHERE_KEYSTORE_PASS)")
	f.Secret(&c.httpCredentials, "http_credentials", envDefault("MESOSPHERE_HTTP_CREDENTIALS", ""), "user:password that every request but /ping must send as HTTP Basic credentials (401 otherwise); the user may not contain ':'; prefer the environment to the command line, which ps shows (also MESOSPHERE_HTTP_CREDENTIALS) (default: none, anyone may call the API)")
	f.String(&c.httpCredentialsFile, "http_credentials_file", "", "file of more principals that may authenticate, each with its own secret, in Mesos's --credentials format (JSON {\"credentials\": [{\"principal\": ..., \"secret\": ...}]} or one \"principal secret\" a line), for --acl_file to tell them apart")
	f.String(&c.httpRealm, "http_realm", server.DefaultRealm, "realm of the HTTP Basic challenge")
	f.String(&c.allowOrigin, "access_control_allow_origin", "", "comma-separated browser origins (https://ui.example.com, or *) that get CORS headers and may write to the API; other sites' pages may not")
	f.Millis(&c.httpReadTimeout, "http_read_timeout", httpserver.DefaultReadTimeout, "time a client may take to send a request, header and body,")
	f.Millis(&c.httpWriteTimeout, "http_write_timeout", httpserver.DefaultWriteTimeout, "time a response may take, from the end of the request header; for /v2/events the bound of each write,")
	f.Millis(&c.httpIdleTimeout, "http_idle_timeout", httpserver.DefaultIdleTimeout, "time a keep-alive connection may wait for its next request,")
	f.Int(&c.httpMaxConns, "http_max_connections", httpserver.DefaultMaxConns(4), "most open API connections; idle keep-alive connections are closed to make room, others wait; the default is a quarter of the descriptor limit, 16 to 4096")
	f.Int(&c.httpMaxRequests, "http_max_concurrent_requests", 0, "most requests served at once; beyond it requests are answered 503 at once (0: no limit)")
	f.Int(&c.eventMaxMessages, "event_stream_max_outstanding_messages", events.DefaultMaxOutstanding, "events an event stream subscriber may have waiting before it is dropped")
	f.Int(&c.eventMaxBytes, "event_stream_max_outstanding_bytes", events.DefaultMaxOutstandingBytes, "bytes of events an event stream subscriber may have waiting or being written before it is dropped")
	f.String(&c.hostname, "hostname", host, "hostname advertised to Mesos and in /v2/leader")
	f.String(&c.frameworkName, "framework_name", "marathon", "framework name registered with Mesos")
	f.String(&c.role, "mesos_role", "*", "Mesos role of the framework (MULTI_ROLE) and the default role of apps")
	f.Float(&c.failoverTimeout, "failover_timeout", 604800, "seconds Mesos keeps the tasks while the scheduler is away")
	f.Millis(&c.taskLaunchTimeout, "task_launch_timeout", 5*time.Minute, "time a task may take from launch to TASK_RUNNING before it is killed,")
	f.Millis(&c.taskUnknownTimeout, "task_unknown_timeout", reconcile.DefaultTaskUnknownTimeout, "time a task that Mesos answers TASK_UNKNOWN for (its agent has not re-registered with the master yet) stays listed with its last state before it is replaced; Mesos's --agent_ping_timeout × --max_agent_ping_timeouts,")
	f.Millis(&c.reconcileInterval, "reconciliation_interval", 10*time.Minute, "period of task reconciliation,")
	f.Millis(&c.reconcileDelay, "reconciliation_initial_delay", 15*time.Second, "delay of the first periodic reconciliation,")
	f.Millis(&c.declineOfferDuration, "decline_offer_duration", scheduler.DefaultDeclineOfferDuration, "how long unused offers are refused when nothing waits,")
	f.Int(&c.maxInstancesPerOffer, "max_instances_per_offer", scheduler.DefaultMaxInstancesPerOffer, "most instances launched from one offer")
	f.Int(&c.maxInstancesPerApp, "max_instances_per_app", marathon.DefaultMaxInstances, "most instances of one app; larger counts are refused with 422 (apps stored with more keep their count)")
	f.Int(&c.progressDeadline, "deployment_progress_deadline", 0, "seconds a deployment may go without progress before it fails (0: never; an app's upgradeStrategy.progressDeadlineSeconds overrides)")
	f.Bool(&c.rollbackOnFailure, "deployment_rollback_on_failure", false, "roll a deployment that missed its progress deadline back to the versions it replaced (an app's upgradeStrategy.rollbackOnFailure overrides)")
	f.Bool(&c.queueConflicting, "queue_conflicting_deployments", false, "queue a deployment behind the running ones it conflicts with instead of answering 409 (a request's ?queue= overrides)")
	f.String(&c.envVarsPrefix, "env_vars_prefix", "", "prefix of the port and host variables in task environments")
	f.String(&c.mesosUser, "mesos_user", "", "Mesos user of the framework and of every task whose app has no \"user\" (default: the user stadion runs as)")
	f.String(&c.secretsDir, "secrets_dir", "", "directory of the values of app secrets with source file:<path> (consul:<key> secrets come from Consul KV at CONSUL_HTTP_ADDR with CONSUL_HTTP_TOKEN)")
	f.String(&c.principal, "mesos_authentication_principal", "", "principal for HTTP authentication with Mesos")
	f.String(&c.secretFile, "mesos_authentication_secret_file", "", "file holding the secret for --mesos_authentication_principal")
	f.String(&c.agentFilesTokenFile, "mesos_agent_files_token_file", "", "file holding the files token of agents started with stadion mesos agent --files_token_file, with which the web UI reads task sandboxes (not needed with --master local)")
	f.String(&c.zk, "zk", "", "ZooKeeper URL zk://host:port[,host:port]/path: state in ZooKeeper and, unless --disable_ha, leader election among the instances sharing it (default: state in --data_dir, no HA)")
	f.Bool(&c.disableHA, "disable_ha", false, "with --zk: run without leader election (a single instance)")
	f.Millis(&c.zkSessionTimeout, "zk_session_timeout", 10*time.Second, "ZooKeeper session timeout,")
	f.Millis(&c.zkTimeout, "zk_timeout", 10*time.Second, "timeout of ZooKeeper operations,")
	f.Int(&c.zkMaxVersions, "zk_max_versions", 50, "app and group versions kept per id")
	f.String(&c.dataDir, "data_dir", "./data", "directory of the state store (and of the built-in cluster with --master local)")
	f.Bool(&c.init, "init", false, "start with empty state when --data_dir/stadion.db is missing or empty but --data_dir holds other files (the state was lost: a new framework id, the old framework's tasks orphaned); a first start in an unused --data_dir needs no --init")
	f.String(&c.localContainerizers, "local_containerizers", "mesos,docker", "containerizers of the built-in agent with --master local: mesos, docker, simulated")
	f.Int(&c.localAgents, "local_agents", 1, "agents of the built-in cluster with --master local")
	f.String(&c.localResources, "local_resources", "", `resources of the built-in cluster with --master local, in Mesos's --resources form, "cpus:4;mem:4096;disk:10000;ports:[31000-32000]": every agent gets the scalars, the port ranges are cut into --local_agents disjoint shares; those not given are derived from the machine, ports [31000-32000]. Two --master local on one machine need disjoint ports here`)
	f.String(&c.loggingLevel, "logging_level", "info", "least severe level logged: debug, info, warn or error")
	f.String(&c.aclFile, "acl_file", "", "authorization file, JSON or YAML (docs/acl.md): which principal may view, create, update, delete and kill what; SIGHUP reloads it (default: no authorization)")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion serve:", err)
		return exitUsage
	}
	if unknown := f.Unknown(ignoredEnv); len(unknown) > 0 {
		fmt.Fprintf(stderr, "stadion serve: unknown environment variables %s: no flag of that name (see stadion serve --help)\n", strings.Join(unknown, ", "))
		return exitUsage
	}
	switch {
	case c.sslKeystorePath != "" || c.sslKeystorePassword != "":
		keystore := c.sslKeystorePath
		if keystore == "" {
			keystore = "KEYSTORE"
		}
		fmt.Fprintf(stderr, "stadion serve: --ssl_keystore_path, --ssl_keystore_password: "+keystoreHelp+"\n", keystore, keystore)
		return exitUsage
	case (c.sslCertFile == "") != (c.sslKeyFile == ""):
		fmt.Fprintln(stderr, "stadion serve: --ssl_cert_file and --ssl_key_file go together")
		return exitUsage
	case c.disableHTTP && c.sslCertFile == "":
		fmt.Fprintln(stderr, "stadion serve: --disable_http needs --ssl_cert_file and --ssl_key_file (nothing would listen)")
		return exitUsage
	}
	if c.httpCredentials != "" {
		if _, _, err := server.Credentials(c.httpCredentials); err != nil {
			// Never the value: it is a secret.
			fmt.Fprintln(stderr, "stadion serve: --http_credentials:", err)
			return exitUsage
		}
	}
	if c.httpCredentialsFile != "" {
		list, err := auth.LoadCredentials(c.httpCredentialsFile)
		if err != nil {
			fmt.Fprintln(stderr, "stadion serve: --http_credentials_file:", err)
			return exitUsage
		}
		c.credentials = list
	}
	if c.maxInstancesPerApp < 1 {
		fmt.Fprintln(stderr, "stadion serve: --max_instances_per_app must be at least 1")
		return exitUsage
	}
	if c.progressDeadline < 0 {
		fmt.Fprintln(stderr, "stadion serve: --deployment_progress_deadline must not be negative")
		return exitUsage
	}
	if c.master == "" {
		fmt.Fprintln(stderr, "stadion serve: --master is required (local, host:port or zk://.../mesos)")
		return exitUsage
	}
	if c.localResources != "" {
		if _, err := mesos.ParseResources(c.localResources); err != nil {
			fmt.Fprintln(stderr, "stadion serve: --local_resources:", err)
			return exitUsage
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(strings.TrimPrefix(strings.ToLower(c.loggingLevel), "warning")))); err != nil {
		fmt.Fprintf(stderr, "stadion serve: --logging_level %q: want debug, info, warn or error\n", c.loggingLevel)
		return exitUsage
	}
	var holder *acl.Holder
	if c.aclFile != "" {
		a, err := acl.Load(c.aclFile)
		if err != nil {
			fmt.Fprintln(stderr, "stadion serve: --acl_file:", err)
			return exitUsage
		}
		holder = acl.NewHolder(a)
	}
	log := newLogger(stderr, level)
	if holder != nil {
		log.Info("acl loaded", "acl_file", c.aclFile, "principals", holder.Load().Principals())
		defer watchSIGHUP(holder, c.aclFile, log)()
	}
	if err := serve(ctx, c, holder, stdout, log); err != nil {
		if errors.Is(err, server.ErrAbdicated) {
			// DELETE /v2/leader without HA: stop as Marathon does, with
			// its exit code, for the supervisor to start us again.
			log.Info("stadion serve stopped after abdicating")
			return exitAbdicated
		}
		log.Error("stadion serve stopped", "error", err)
		return exitError
	}
	return exitOK
}

// serve runs the server until ctx ends; holder, when not nil, holds the
// ACL of the API.
func serve(ctx context.Context, c serveConfig, holder *acl.Holder, stdout io.Writer, log *slog.Logger) error {
	var aclFunc func() *acl.ACL
	if holder != nil {
		aclFunc = holder.Load
	}
	srv, err := server.Start(ctx, server.Config{
		Master:                            c.master,
		HTTPAddress:                       c.httpAddress,
		HTTPPort:                          c.httpPort,
		DisableHTTP:                       c.disableHTTP,
		HTTPSAddress:                      c.httpsAddress,
		HTTPSPort:                         c.httpsPort,
		SSLCertFile:                       c.sslCertFile,
		SSLKeyFile:                        c.sslKeyFile,
		HTTPCredentials:                   c.httpCredentials,
		HTTPCredentialsList:               c.credentials,
		HTTPRealm:                         c.httpRealm,
		AccessControlAllowOrigin:          origins(c.allowOrigin),
		HTTPReadTimeout:                   c.httpReadTimeout,
		HTTPWriteTimeout:                  c.httpWriteTimeout,
		HTTPIdleTimeout:                   c.httpIdleTimeout,
		HTTPMaxConnections:                c.httpMaxConns,
		HTTPMaxConcurrentRequests:         c.httpMaxRequests,
		EventStreamMaxOutstandingMessages: c.eventMaxMessages,
		EventStreamMaxOutstandingBytes:    int64(c.eventMaxBytes),
		Hostname:                          c.hostname,
		FrameworkName:                     c.frameworkName,
		Role:                              c.role,
		FailoverTimeout:                   time.Duration(c.failoverTimeout * float64(time.Second)),
		TaskLaunchTimeout:                 c.taskLaunchTimeout,
		TaskUnknownTimeout:                c.taskUnknownTimeout,
		ReconciliationInterval:            c.reconcileInterval,
		ReconciliationInitialDelay:        c.reconcileDelay,
		DeclineOfferDuration:              c.declineOfferDuration,
		MaxInstancesPerOffer:              c.maxInstancesPerOffer,
		MaxInstancesPerApp:                c.maxInstancesPerApp,
		ProgressDeadline:                  time.Duration(c.progressDeadline) * time.Second,
		RollbackOnFailure:                 c.rollbackOnFailure,
		QueueConflicting:                  c.queueConflicting,
		EnvVarsPrefix:                     c.envVarsPrefix,
		MesosUser:                         c.mesosUser,
		SecretsDir:                        c.secretsDir,
		Principal:                         c.principal,
		SecretFile:                        c.secretFile,
		AgentFilesTokenFile:               c.agentFilesTokenFile,
		DataDir:                           c.dataDir,
		Init:                              c.init,
		ZK:                                c.zk,
		DisableHA:                         c.disableHA,
		ZKSessionTimeout:                  c.zkSessionTimeout,
		ZKTimeout:                         c.zkTimeout,
		ZKMaxVersions:                     c.zkMaxVersions,
		LocalContainerizers:               strings.Split(c.localContainerizers, ","),
		LocalAgents:                       c.localAgents,
		LocalAgentResources:               c.localResources,
		Version:                           version,
		ACL:                               aclFunc,
		Logger:                            log,
	})
	if err != nil {
		return err
	}
	api := srv.URL()
	if u := srv.HTTPSURL(); u != "" && u != api {
		api += " and " + u
	}
	fmt.Fprintf(stdout, "stadion serve: Marathon API on %s (master %s, state in %s)\n", api, c.master, c.dataDir)
	return srv.Wait()
}

// origins splits --access_control_allow_origin as Marathon does: at
// commas, trimmed.
func origins(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
