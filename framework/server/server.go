package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stadionhq/stadion/framework/api"
	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/framework/secrets"
	"github.com/stadionhq/stadion/framework/ui"
	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/boltstore"
	"github.com/stadionhq/stadion/internal/state/zkstore"
	"github.com/stadionhq/stadion/internal/zk"
)

// DefaultFailoverTimeout is Marathon's --failover_timeout (one week).
const DefaultFailoverTimeout = 7 * 24 * time.Hour

// shutdownTimeout bounds the graceful end of HTTP requests on Stop.
const shutdownTimeout = 5 * time.Second

// abdicationDelay is how long a server without high availability keeps
// serving after DELETE /v2/leader, so that the answer reaches the client
// (Marathon's LeaderResource waits 500ms too).
const abdicationDelay = 500 * time.Millisecond

// ErrAbdicated is what Wait returns after DELETE /v2/leader on a server
// without high availability: as Marathon's process does, it stops, and
// its supervisor is expected to start it again.
var ErrAbdicated = errors.New("leadership abdicated")

// Server is a running `stadion serve`.
type Server struct {
	log      *slog.Logger
	url      string
	httpsURL string
	l        *leadership
	cluster  *local.Cluster
	bus      *events.Bus

	cancel context.CancelFunc
	// closing is closed when the HTTP servers start to shut down: the
	// event streams end then (api.Config.Closing).
	closing  chan struct{}
	done     chan struct{}
	err      error // set before done closes
	stopOnce sync.Once
}

// Start opens the store, finds or starts the Mesos master, and runs the
// scheduler and the HTTP API until ctx ends, Stop is called, or one of
// them fails (Wait reports it). It returns once the API listens.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.FailoverTimeout == 0 {
		cfg.FailoverTimeout = DefaultFailoverTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	var cleanups []func()
	fail := func(err error) (*Server, error) {
		cancel()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		return nil, err
	}

	if cfg.ZK == "" {
		if err := createState(cfg, log); err != nil {
			return fail(err)
		}
	}

	principal, secret := cfg.Principal, ""
	if cfg.SecretFile != "" {
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return fail(fmt.Errorf("read --mesos_authentication_secret_file: %w", err))
		}
		secret = strings.TrimSpace(string(b))
	}
	if cfg.Master == MasterLocal && secret == "" {
		// The built-in master authenticates frameworks with a secret that
		// exists in this process only: no one else on the machine can
		// subscribe, nor take the framework over by its id. The principal
		// stays the same from run to run: the agents report it with the
		// tasks they kept, and the master lets only that principal
		// resubscribe as their framework.
		if principal == "" {
			principal = localPrincipal
		}
		secret = local.NewCredential("").Secret
	}

	var filesToken string
	if cfg.AgentFilesTokenFile != "" {
		b, err := os.ReadFile(cfg.AgentFilesTokenFile)
		if err != nil {
			return fail(fmt.Errorf("read --mesos_agent_files_token_file: %w", err))
		}
		filesToken = strings.TrimSpace(string(b))
	}

	det, cluster, closeDet, err := masterDetector(ctx, cfg, principal, secret, log)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, closeDet)
	resolver, err := secrets.New(secrets.Config{
		Dir:        cfg.SecretsDir,
		ConsulAddr: cfg.SecretsConsulAddr,
		Logger:     log.With("component", "secrets"),
	})
	if err != nil {
		return fail(fmt.Errorf("--secrets_dir: %w", err))
	}
	cleanups = append(cleanups, resolver.Close)

	// Listen before registering, so that the advertised address carries
	// the real port when HTTPPort is 0.
	ls, err := listen(cfg)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, ls.close)
	warnOpen(cfg, ls, log)
	// The advertised address (Mesos's web UI, the leader in ZooKeeper,
	// the target of standbys' proxies) is the HTTP listener's, or the
	// HTTPS one's with --disable_http.
	primary, scheme := ls.http, "http"
	if primary == nil {
		primary, scheme = ls.https, "https"
	}
	port := primary.Addr().(*net.TCPAddr).Port
	advertised := net.JoinHostPort(cfg.Hostname, strconv.Itoa(port))

	bus := events.NewBus(events.Config{
		MaxOutstanding:      cfg.EventStreamMaxOutstandingMessages,
		MaxOutstandingBytes: cfg.EventStreamMaxOutstandingBytes,
		Logger:              log.With("component", "events"),
	})
	failover := cfg.FailoverTimeout.Seconds()
	mesosUser := cfg.mesosUser()
	checkpoint := true
	deps := termDeps{
		newClient: func(store state.Store) (*mesos.Client, error) {
			ids := scheduler.FrameworkIDs(store)
			if cfg.ZK == "" {
				ids = frameworkIDCopy{FrameworkIDStore: ids, path: filepath.Join(cfg.DataDir, frameworkIDFile), log: log.With("component", "state")}
			}
			return mesos.New(mesos.Config{
				Detector: det,
				Framework: mesos.FrameworkInfo{
					User:            mesosUser,
					Name:            cfg.FrameworkName,
					FailoverTimeout: &failover,
					Checkpoint:      &checkpoint,
					// As Marathon 1.9+: MULTI_ROLE with --mesos_role; the
					// scheduler adds the roles of its apps with
					// UPDATE_FRAMEWORK.
					Roles:    []string{cfg.mesosRole()},
					Hostname: cfg.Hostname,
					WebUIURL: scheme + "://" + advertised,
					Capabilities: []mesos.Capability{
						{Type: mesos.CapabilityPartitionAware},
						{Type: mesos.CapabilityTaskKillingState},
						{Type: mesos.CapabilityRegionAware},
						{Type: mesos.CapabilityMultiRole},
					},
				},
				Store:      ids,
				Principal:  principal,
				Secret:     secret,
				MinBackoff: cfg.MesosMinBackoff,
				MaxBackoff: cfg.MesosMaxBackoff,
				Logger:     log.With("component", "mesos"),
			})
		},
		schedulerConfig: scheduler.Config{
			Events:                     bus,
			Role:                       cfg.mesosRole(),
			EnvVarsPrefix:              cfg.EnvVarsPrefix,
			MesosUser:                  mesosUser,
			Secrets:                    resolver,
			TaskLaunchTimeout:          cfg.TaskLaunchTimeout,
			TaskUnknownTimeout:         cfg.TaskUnknownTimeout,
			ReconciliationInterval:     cfg.ReconciliationInterval,
			ReconciliationInitialDelay: cfg.ReconciliationInitialDelay,
			DeclineOfferDuration:       cfg.DeclineOfferDuration,
			MaxInstancesPerOffer:       cfg.MaxInstancesPerOffer,
			KillRetry:                  cfg.KillRetry,
			ProgressDeadline:           cfg.ProgressDeadline,
			RollbackOnFailure:          cfg.RollbackOnFailure,
			QueueConflicting:           cfg.QueueConflicting,
			Logger:                     log.With("component", "scheduler"),
		},
	}
	l := &leadership{deps: deps, self: advertised, log: log.With("component", "leadership")}
	var first *term
	if err := openState(ctx, cfg, log, l); err != nil {
		return fail(err)
	}
	if l.elector != nil {
		cleanups = append(cleanups, func() { l.elector.Close(); l.stored.close() })
	} else {
		// No election: this instance leads from the start, and a store
		// that cannot be opened fails Start.
		if first, err = l.prepare(ctx, ""); err != nil {
			return fail(err)
		}
		l.prepared = first.sched
	}

	limits := cfg.httpLimits()
	// With an election the leader steps back and campaigns again; without
	// one there is nobody to take over, so the server stops after the
	// answer (Marathon's pseudo election ends and its process exits).
	abdicated := make(chan struct{})
	var abdicateOnce sync.Once
	abdicate := func() error {
		abdicateOnce.Do(func() { time.AfterFunc(abdicationDelay, func() { close(abdicated) }) })
		return nil
	}
	if l.elector != nil {
		abdicate = l.Abdicate
	}
	rt := infoRuntime{webUIURL: scheme + "://" + advertised, masterURL: masterURL(det)}
	closing := make(chan struct{})
	local := api.New(api.Config{
		Closing:  closing,
		Backend:  backend{l},
		Events:   bus,
		Registry: prometheus.NewRegistry(),
		Logger:   log.With("component", "api"),
		ACL:      cfg.ACL,
		// The event stream's writes are bounded as the server's responses.
		StreamWriteTimeout: limits.WriteTimeout,
		Leader:             l.Leader,
		Abdicate:           abdicate,
		NormalizeOptions: marathon.NormalizeOptions{
			DefaultRole:   cfg.mesosRole(),
			MaxInstances:  cfg.MaxInstancesPerApp,
			NoFileSecrets: cfg.SecretsDir == "",
		},
		Info: func() marathon.Info {
			leader, _ := l.Leader()
			in := info(cfg, l.Elected(), leader, ls, rt, backend{l}.View())
			if !in.Elected && l.stored != nil {
				in.FrameworkID = l.stored.get()
			}
			return in
		},
	})
	// The web UI (/ui/, and / redirected to it) sits beside the API,
	// behind the same guard and leader proxy.
	routes := http.NewServeMux()
	routes.Handle(ui.Prefix, uiHandler(cfg, backend{l}, cluster, rt.masterURL, filesToken, log.With("component", "ui")))
	// The UI's event stream is /v2/events on the leader; a standby
	// proxies it (leaderProxy) where /v2/events would redirect.
	routes.Handle("GET "+ui.EventsPath, uiEvents(local, l))
	routes.HandleFunc("GET /{$}", ui.Redirect)
	routes.Handle("/", local)
	proxy := newLeaderProxy(routes, l, scheme, advertised, ls.tls, limits.WriteTimeout, closing, log.With("component", "proxy"))
	// The guard comes first: a request without credentials takes no slot
	// of the concurrency limit and never reaches the leader.
	handler := newGuard(api.LimitRequests(proxy, cfg.HTTPMaxConcurrentRequests), cfg, log.With("component", "guard"))

	s := &Server{
		log:     log,
		url:     baseURL(scheme, primary),
		l:       l,
		cluster: cluster,
		bus:     bus,
		cancel:  cancel,
		closing: closing,
		done:    make(chan struct{}),
	}
	var servers []*http.Server
	serveErr := make(chan error, 2)
	if ls.http != nil {
		srv, capped := httpserver.Server(handler, ls.http, limits)
		servers = append(servers, srv)
		go func() { serveErr <- srv.Serve(capped) }()
	}
	if ls.https != nil {
		s.httpsURL = baseURL("https", ls.https)
		// The HTTPS listener has its own connection cap, of the same size.
		srv, capped := httpserver.Server(handler, ls.https, limits)
		srv.TLSConfig = ls.tls
		// Failed handshakes (scanners, clients without the CA) are the
		// net/http server's own lines: Debug, not stderr.
		srv.ErrorLog = slog.NewLogLogger(log.With("component", "https").Handler(), slog.LevelDebug)
		servers = append(servers, srv)
		go func() { serveErr <- srv.ServeTLS(capped, "", "") }()
	}
	schedErr := make(chan error, 1)
	go func() { schedErr <- l.run(ctx, first) }()
	go s.supervise(ctx, servers, serveErr, schedErr, abdicated, cleanups)
	log.Info("stadion serve started", "url", s.url, "https_url", s.httpsURL, "authentication", cfg.HTTPCredentials != "",
		"master", cfg.Master, "zk", cfg.ZK, "ha", l.elector != nil, "data_dir", cfg.DataDir)
	return s, nil
}

// listeners are the API's bound sockets: http is nil with DisableHTTP,
// https without a certificate.
type listeners struct {
	http, https net.Listener
	tls         *tls.Config
}

func (ls listeners) close() {
	for _, ln := range []net.Listener{ls.http, ls.https} {
		if ln != nil {
			ln.Close()
		}
	}
}

// listen binds the HTTP and HTTPS listeners of cfg.
func listen(cfg Config) (listeners, error) {
	var ls listeners
	if cfg.SSLCertFile != "" {
		tc, err := httpserver.TLSConfig(cfg.SSLCertFile, cfg.SSLKeyFile)
		if err != nil {
			return ls, err
		}
		ls.tls = tc
	}
	if !cfg.DisableHTTP {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.httpAddress(), strconv.Itoa(cfg.HTTPPort)))
		if err != nil {
			return ls, fmt.Errorf("listen for HTTP: %w", err)
		}
		ls.http = ln
	}
	if ls.tls != nil {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.httpsAddress(), strconv.Itoa(cfg.HTTPSPort)))
		if err != nil {
			ls.close()
			return listeners{}, fmt.Errorf("listen for HTTPS: %w", err)
		}
		ls.https = ln
	}
	return ls, nil
}

// warnOpen warns when the API is reachable from the network without
// credentials: anyone who can connect can run commands on the agents.
func warnOpen(cfg Config, ls listeners, log *slog.Logger) {
	if cfg.HTTPCredentials != "" || len(cfg.HTTPCredentialsList) > 0 {
		return
	}
	for _, ln := range []net.Listener{ls.http, ls.https} {
		if ln == nil {
			continue
		}
		if ip := ln.Addr().(*net.TCPAddr).IP; ip.IsUnspecified() || !ip.IsLoopback() {
			log.Warn("api listens on a non-loopback address without credentials", "address", ln.Addr().String(),
				"hint", "anyone who reaches it can run commands on the cluster: set --http_credentials, or --http_address 127.0.0.1")
		}
	}
}

// baseURL is "scheme://host:port" of ln, a loopback host when it listens
// on every address.
func baseURL(scheme string, ln net.Listener) string {
	a := ln.Addr().(*net.TCPAddr)
	return scheme + "://" + net.JoinHostPort(loopbackIfAny(a.IP), strconv.Itoa(a.Port))
}

// statePath is the bbolt file in DataDir.
func statePath(cfg Config) string { return filepath.Join(cfg.DataDir, "stadion.db") }

// createState creates the bbolt file on a first start (DataDir unused) or
// with Init, before anything else (the built-in cluster) writes to
// DataDir: otherwise a first start that failed after the cluster started
// would leave a DataDir that the next start takes for lost state.
func createState(cfg Config, log *slog.Logger) error {
	unused, err := boltstore.Unused(cfg.DataDir)
	if err != nil {
		return err
	}
	if !unused && !cfg.Init {
		return nil
	}
	s, err := boltstore.Open(boltstore.Config{Path: statePath(cfg), Init: true})
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	log.Info("state store created", "path", statePath(cfg), "init", cfg.Init)
	return nil
}

// openState decides where the state lives: bbolt in DataDir without --zk,
// else ZooKeeper; with --zk and HA it also joins the leader election.
func openState(ctx context.Context, cfg Config, log *slog.Logger, l *leadership) error {
	if cfg.ZK == "" {
		l.deps.openStore = func(context.Context, string) (state.Store, error) {
			return boltstore.Open(boltstore.Config{
				Path: statePath(cfg), MaxVersions: cfg.ZKMaxVersions, Logger: log.With("component", "state"),
			})
		}
		return nil
	}
	servers, root, err := zk.ParseURL(cfg.ZK)
	if err != nil {
		return fmt.Errorf("--zk: %w", err)
	}
	l.deps.openStore = func(ctx context.Context, fence string) (state.Store, error) {
		return zkstore.Open(ctx, zkstore.Config{
			Servers: servers, Root: root, SessionTimeout: cfg.ZKSessionTimeout, OperationTimeout: cfg.ZKTimeout,
			MaxVersions: cfg.ZKMaxVersions, Fence: fence, Logger: log.With("component", "state"),
		})
	}
	if cfg.DisableHA {
		return nil
	}
	elector, err := zk.NewElector(zk.ElectorConfig{
		Servers: servers, Path: root + "/leader", SessionTimeout: cfg.ZKSessionTimeout,
		Info: zk.LeaderInfo{HostPort: l.self}, Logger: log.With("component", "election"),
	})
	if err != nil {
		return err
	}
	l.elector = elector
	// A standby has no store open: its /v2/info reads the framework id
	// from ZooKeeper, on a session of its own.
	conn, _, err := zk.Connect(servers, cfg.ZKSessionTimeout, log.With("component", "zk"))
	if err != nil {
		elector.Close()
		return err
	}
	l.stored = &storedFrameworkID{
		read:    func() (string, error) { return zkstore.ReadFrameworkID(conn, root) },
		close:   conn.Close,
		timeout: cmp.Or(cfg.ZKTimeout, storedIDTimeout),
		log:     log.With("component", "state"),
	}
	return nil
}

// supervise waits for the end (ctx, a failed scheduler or HTTP server),
// then stops everything in order: HTTP, scheduler, cluster, store.
func (s *Server) supervise(ctx context.Context, servers []*http.Server, serveErr, schedErr <-chan error, abdicated <-chan struct{}, cleanups []func()) {
	var runErr error
	schedDone := false
	select {
	case <-ctx.Done():
	case <-abdicated:
		runErr = ErrAbdicated
	case runErr = <-schedErr:
		schedDone = true
	case runErr = <-serveErr:
	}
	s.cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), shutdownTimeout)
	// The event streams end when closing closes, with the final chunk of
	// their responses, so that clients read a clean end; Close cuts what
	// Shutdown could not finish in time.
	close(s.closing)
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			srv.Close()
		}
	}
	done()
	if !schedDone {
		<-schedErr // the store stays open until the loop is gone
	}
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	if errors.Is(runErr, context.Canceled) || errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	s.err = runErr
	close(s.done)
}

// URL is the API's base URL, "http://host:port", with the port actually
// bound (a loopback host when listening on every address); with
// DisableHTTP it is the HTTPS one.
func (s *Server) URL() string { return s.url }

// HTTPSURL is the API's "https://host:port", or "" without TLS.
func (s *Server) HTTPSURL() string { return s.httpsURL }

// Scheduler is the scheduler loop of the current term; nil while this
// instance does not lead.
func (s *Server) Scheduler() *scheduler.Scheduler { return s.l.Scheduler() }

// Elected reports whether this instance leads and serves.
func (s *Server) Elected() bool { return s.l.Elected() }

// Cluster is the built-in cluster with Master "local", else nil.
func (s *Server) Cluster() *local.Cluster { return s.cluster }

// Events is the bus behind /v2/events.
func (s *Server) Events() *events.Bus { return s.bus }

// Done is closed once the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Wait blocks until the server has stopped and returns why: nil after
// Stop or the end of Start's context, else the scheduler's or the HTTP
// server's error.
func (s *Server) Wait() error {
	<-s.done
	return s.err
}

// Stop stops the server and waits for it.
func (s *Server) Stop() {
	s.stopOnce.Do(s.cancel)
	<-s.done
}

// masterDetector finds the Mesos master of cfg.Master; "local" starts the
// built-in cluster, returned too, which authenticates frameworks with
// principal and secret. The returned func releases what it started.
func masterDetector(ctx context.Context, cfg Config, principal, secret string, log *slog.Logger) (mesos.Detector, *local.Cluster, func(), error) {
	switch {
	case cfg.Master == MasterLocal:
		var containerizers []string
		for _, name := range cfg.LocalContainerizers {
			if name = strings.TrimSpace(name); name == agent.ContainerizerDocker && !dockerAvailable() {
				log.Warn("docker containerizer disabled: no docker socket", "socket", dockerSocket)
				continue
			} else if name != "" {
				containerizers = append(containerizers, name)
			}
		}
		cluster, err := local.Start(ctx, local.Config{
			Agents:  cfg.LocalAgents,
			WorkDir: filepath.Join(cfg.DataDir, "mesos"),
			Master: master.Config{
				AllocationInterval:     cfg.LocalAllocationInterval,
				HTTP:                   cfg.clusterLimits(),
				AuthenticateFrameworks: true,
				Credentials:            []master.Credential{{Principal: principal, Secret: secret}},
			},
			Agent:  agent.Config{Containerizers: containerizers, Resources: cfg.LocalAgentResources, HTTP: cfg.clusterLimits()},
			Logger: log.With("component", "local-mesos"),
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("start the built-in cluster: %w", err)
		}
		det, err := mesos.StaticDetector(cluster.URL())
		if err != nil {
			cluster.Stop()
			return nil, nil, nil, err
		}
		log.Info("built-in mesos cluster started", "master", cluster.URL(), "agents", len(cluster.Agents))
		return det, cluster, cluster.Stop, nil
	case strings.HasPrefix(cfg.Master, "zk://"):
		servers, path, err := zk.ParseURL(cfg.Master)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--master: %w", err)
		}
		det, err := zk.NewMasterDetector(zk.MasterDetectorConfig{Servers: servers, Path: path, Logger: log.With("component", "zk")})
		if err != nil {
			return nil, nil, nil, err
		}
		return det, nil, func() { det.Close() }, nil
	default:
		det, err := mesos.StaticDetector(cfg.Master)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--master: %w", err)
		}
		return det, nil, func() {}, nil
	}
}

const dockerSocket = "/var/run/docker.sock"

// localPrincipal is the principal of the scheduler with --master local when
// --mesos_authentication_principal is not given.
const localPrincipal = "stadion"

func dockerAvailable() bool {
	_, err := os.Stat(dockerSocket)
	return err == nil
}

// mesosUser is --mesos_user, by default the user Stadion runs as, as
// Marathon's default is its JVM's user.name.
func (c Config) mesosUser() string {
	if c.MesosUser != "" {
		return c.MesosUser
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}

// loopbackIfAny turns the unspecified address into a loopback one that
// clients can dial.
func loopbackIfAny(ip net.IP) string {
	if ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return ip.String()
}

// infoRuntime is what /v2/info shows that the flags alone do not say.
type infoRuntime struct {
	// webUIURL is the URL registered with Mesos as the framework's web UI.
	webUIURL string
	// masterURL is the current Mesos master's URL, "" while unknown.
	masterURL func() string
}

// Service ports come from the range Marathon's defaults of --local_port_min
// and --local_port_max give (framework/scheduler assignServicePorts).
const (
	localPortMin = 10000
	localPortMax = 20000
)

// info is GET /v2/info: marathon_config carries the flags clients read
// (Marathon's names, its timeouts in milliseconds), null for the settings
// Stadion has no counterpart of, as Marathon writes an unset option. URLs
// are shown without their credentials.
func info(cfg Config, elected bool, leader string, ls listeners, rt infoRuntime, view *scheduler.View) marathon.Info {
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	var store *marathon.StoreInfo
	if elected {
		h := view.Store
		store = &marathon.StoreInfo{Writable: !h.Failing, Error: h.Error, WriteFailures: h.Failures}
		if h.Failing {
			store.FailingSince = marathon.NewTimestamp(h.Since)
		}
	}
	return marathon.Info{
		Name:            "marathon",
		Version:         "1.10.0-stadion-" + version,
		Buildref:        version + " " + runtime.Version(),
		Elected:         elected,
		Leader:          leader,
		FrameworkID:     view.FrameworkID,
		Store:           store,
		MarathonConfig:  marathonConfig(cfg, rt),
		ZookeeperConfig: zookeeperConfig(cfg),
		HTTPConfig:      httpConfig(ls),
	}
}

// marathonConfig is /v2/info's marathon_config: every key Marathon 1.10
// writes, then Stadion's own flags.
func marathonConfig(cfg Config, rt infoRuntime) map[string]any {
	c := map[string]any{
		"access_control_allow_origin":        nil,
		"checkpoint":                         true,
		"decline_offer_duration":             cfg.DeclineOfferDuration.Milliseconds(),
		"default_network_name":               nil,
		"env_vars_prefix":                    nil,
		"executor":                           "//cmd",
		"failover_timeout":                   int64(cfg.FailoverTimeout.Seconds()),
		"features":                           features(cfg),
		"framework_name":                     cfg.FrameworkName,
		"ha":                                 cfg.ZK != "" && !cfg.DisableHA,
		"hostname":                           cfg.Hostname,
		"launch_token":                       nil,
		"launch_token_refresh_interval":      nil,
		"leader_proxy_connection_timeout_ms": leaderProxyConnectTimeout.Milliseconds(),
		"leader_proxy_read_timeout_ms":       leaderProxyReadTimeout.Milliseconds(),
		"local_port_max":                     localPortMax,
		"local_port_min":                     localPortMin,
		"maintenance_mode":                   nil,
		"master":                             redactURL(cfg.Master),
		"max_instances_per_offer":            cfg.MaxInstancesPerOffer,
		"mesos_bridge_name":                  nil,
		"mesos_heartbeat_failure_threshold":  nil,
		"mesos_heartbeat_interval":           nil,
		"mesos_leader_ui_url":                nil,
		"mesos_role":                         cfg.Role,
		"mesos_user":                         cfg.mesosUser(),
		"min_revive_offers_interval":         nil,
		"offer_matching_timeout":             nil,
		"on_elected_prepare_timeout":         nil,
		"reconciliation_initial_delay":       cfg.ReconciliationInitialDelay.Milliseconds(),
		"reconciliation_interval":            cfg.ReconciliationInterval.Milliseconds(),
		"scale_apps_initial_delay":           nil,
		"scale_apps_interval":                nil,
		// The whole state is held in memory, as Marathon's store cache.
		"store_cache":                 true,
		"task_launch_confirm_timeout": nil,
		"task_launch_timeout":         cfg.TaskLaunchTimeout.Milliseconds(),
		// Unreachable instances are expunged at their own deadline, by
		// the scheduler's next pass, not by a periodic sweep.
		"task_lost_expunge_initial_delay": 0,
		"task_lost_expunge_interval":      0,
		"task_reservation_timeout":        nil,
		"webui_url":                       rt.webUIURL,

		"task_unknown_timeout":           cfg.TaskUnknownTimeout.Milliseconds(),
		"max_instances_per_app":          maxInstancesPerApp(cfg),
		"secrets_dir":                    cfg.SecretsDir,
		"mesos_authentication_principal": cfg.Principal,
	}
	if len(cfg.AccessControlAllowOrigin) > 0 {
		c["access_control_allow_origin"] = cfg.AccessControlAllowOrigin
	}
	if cfg.EnvVarsPrefix != "" {
		c["env_vars_prefix"] = cfg.EnvVarsPrefix
	}
	if rt.masterURL != nil {
		if u := rt.masterURL(); u != "" {
			c["mesos_leader_ui_url"] = strings.TrimSuffix(redactURL(u), "/") + "/"
		}
	}
	return c
}

// features are the --enable_features Marathon would need for what Stadion
// does: task_killing (the TASK_KILLING_STATE capability is always
// registered) and secrets when a secrets source is configured.
func features(cfg Config) []string {
	f := []string{"task_killing"}
	if cfg.SecretsDir != "" || cfg.SecretsConsulAddr != "" {
		f = append(f, "secrets")
	}
	return f
}

// httpConfig is /v2/info's http_config: the bound ports, 0 for a
// listener that is off.
func httpConfig(ls listeners) marathon.HTTPConfig {
	var c marathon.HTTPConfig
	if ls.http != nil {
		c.HTTPPort = ls.http.Addr().(*net.TCPAddr).Port
	}
	if ls.https != nil {
		c.HTTPSPort = ls.https.Addr().(*net.TCPAddr).Port
	}
	return c
}

// zookeeperConfig is /v2/info's zookeeper_config, with Marathon's keys;
// zk is null without --zk (the state is in the data dir), and
// zk_max_versions holds for either store.
func zookeeperConfig(cfg Config) map[string]any {
	orDefault := func(d, def time.Duration) int64 {
		if d == 0 {
			d = def
		}
		return d.Milliseconds()
	}
	maxVersions := cfg.ZKMaxVersions
	if maxVersions == 0 {
		maxVersions = state.DefaultMaxVersions
	}
	var url any
	if cfg.ZK != "" {
		url = zk.RedactURL(cfg.ZK)
	}
	return map[string]any{
		"zk":                       url,
		"zk_timeout":               orDefault(cfg.ZKTimeout, 10*time.Second),
		"zk_session_timeout":       orDefault(cfg.ZKSessionTimeout, 10*time.Second),
		"zk_max_versions":          maxVersions,
		"zk_compression":           false,
		"zk_compression_threshold": nil,
		"zk_max_node_size":         1024000,
		"zk_connection_timeout":    orDefault(cfg.ZKSessionTimeout, 10*time.Second),
	}
}

// masterURL returns the current Mesos master's URL as det knows it now,
// "" when no master is known within a short wait.
func masterURL(det mesos.Detector) func() string {
	return func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		u, err := det.Leader(ctx)
		if err != nil {
			return ""
		}
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		return u
	}
}

// redactURL drops the credentials of a zk:// or http(s):// URL.
func redactURL(s string) string {
	if strings.HasPrefix(s, "zk://") {
		return zk.RedactURL(s)
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}

// maxInstancesPerApp is the effective --max_instances_per_app.
func maxInstancesPerApp(cfg Config) int {
	if cfg.MaxInstancesPerApp == 0 {
		return marathon.DefaultMaxInstances
	}
	return cfg.MaxInstancesPerApp
}
