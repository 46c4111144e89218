package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/zk"
	"github.com/stadionhq/stadion/jobs"
	"github.com/stadionhq/stadion/jobs/jobstore"
)

// MasterLocal is --master local: the built-in cluster in this process.
const MasterLocal = "local"

// ServerConfig configures Start: the flags of `stadion jobs`.
type ServerConfig struct {
	// Master is local, host:port, http://host:port or zk://.../mesos.
	Master string
	// HTTPAddress and HTTPPort are where the API listens (port 0: any).
	HTTPAddress string
	HTTPPort    int
	// HTTPCredentials, "user:password", is required of every request but
	// /ping (HTTP Basic, realm HTTPRealm); "" requires none.
	HTTPCredentials string
	HTTPRealm       string
	// Hostname is advertised to Mesos and to standbys.
	Hostname string
	// FrameworkName, User, Role, Principal, SecretFile: FrameworkInfo.
	FrameworkName string
	User          string
	Role          string
	Principal     string
	SecretFile    string
	// FailoverTimeout is how long Mesos keeps the tasks while no
	// scheduler is subscribed.
	FailoverTimeout time.Duration
	// DataDir holds jobs.db (without ZooKeeper) and the built-in cluster.
	DataDir string
	// ZKHosts (host:port,...) and ZKPath put the state in ZooKeeper, with
	// leader election among the instances sharing them.
	ZKHosts          string
	ZKPath           string
	ZKSessionTimeout time.Duration
	// Scheduler settings (see jobs.Config).
	FailureRetry         time.Duration
	DisableAfterFailures int64
	HistoryLimit         int
	DeclineOfferDuration time.Duration
	ReconcileInterval    time.Duration
	Defaults             jobs.Defaults
	// Built-in cluster settings with Master local.
	LocalAgents             int
	LocalResources          string
	LocalContainerizers     []string
	LocalAllocationInterval time.Duration
	// MesosMinBackoff and MesosMaxBackoff bound resubscription waits.
	MesosMinBackoff, MesosMaxBackoff time.Duration
	Logger                           *slog.Logger
}

// Server is a running `stadion jobs`.
type Server struct {
	url     string
	cluster *local.Cluster
	lead    *leadership
	done    chan struct{}
	err     error
	cancel  context.CancelFunc
}

// URL is the API's base URL.
func (s *Server) URL() string { return s.url }

// Elected reports whether this instance leads.
func (s *Server) Elected() bool { return s.lead.sched.Load() != nil }

// Wait blocks until the server stops and returns why.
func (s *Server) Wait() error { <-s.done; return s.err }

// Stop stops the server and waits.
func (s *Server) Stop() { s.cancel(); <-s.done }

// Start starts the built-in cluster (with Master local), the election
// (with ZooKeeper) and the API; it returns once the API listens.
func Start(ctx context.Context, cfg ServerConfig) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fail(fmt.Errorf("create --data_dir: %w", err))
	}
	principal, secret := cfg.Principal, ""
	if cfg.SecretFile != "" {
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return fail(fmt.Errorf("read --mesos_authentication_secret_file: %w", err))
		}
		secret = strings.TrimSpace(string(b))
	}
	var cluster *local.Cluster
	var det mesos.Detector
	switch {
	case cfg.Master == MasterLocal:
		if principal == "" {
			principal = "stadion-jobs"
		}
		if secret == "" {
			secret = local.NewCredential("").Secret
		}
		c, err := startCluster(ctx, cfg, principal, secret, log)
		if err != nil {
			return fail(err)
		}
		cluster = c
		cleanups = append(cleanups, c.Stop)
		if det, err = mesos.StaticDetector(c.URL()); err != nil {
			return fail(err)
		}
	case strings.HasPrefix(cfg.Master, "zk://"):
		servers, p, err := zk.ParseURL(cfg.Master)
		if err != nil {
			return fail(fmt.Errorf("--master: %w", err))
		}
		d, err := zk.NewMasterDetector(zk.MasterDetectorConfig{Servers: servers, Path: p, Logger: log.With("component", "zk")})
		if err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, func() { d.Close() })
		det = d
	default:
		d, err := mesos.StaticDetector(cfg.Master)
		if err != nil {
			return fail(fmt.Errorf("--master: %w", err))
		}
		det = d
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.HTTPAddress, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return fail(fmt.Errorf("listen for HTTP: %w", err))
	}
	cleanups = append(cleanups, func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	self := net.JoinHostPort(cfg.Hostname, strconv.Itoa(port))
	failover := cfg.FailoverTimeout.Seconds()
	checkpoint := true
	l := &leadership{self: self, log: log.With("component", "leadership")}
	l.newClient = func(store jobs.Store) (*mesos.Client, error) {
		return mesos.New(mesos.Config{
			Detector: det,
			Framework: mesos.FrameworkInfo{User: cfg.User, Name: cfg.FrameworkName, FailoverTimeout: &failover, Checkpoint: &checkpoint,
				Role: cfg.Role, Hostname: cfg.Hostname, WebUIURL: "http://" + self},
			Store: store, Principal: principal, Secret: secret,
			MinBackoff: cfg.MesosMinBackoff, MaxBackoff: cfg.MesosMaxBackoff,
			Logger: log.With("component", "mesos"),
		})
	}
	l.schedConfig = jobs.Config{
		Role: cmp.Or(cfg.Role, "*"), FailureRetry: cfg.FailureRetry, DisableAfterFailures: cfg.DisableAfterFailures,
		HistoryLimit: cfg.HistoryLimit, DeclineOfferDuration: cfg.DeclineOfferDuration, ReconcileInterval: cfg.ReconcileInterval,
		Logger: log.With("component", "scheduler"),
	}
	if cluster != nil {
		l.schedConfig.Sandbox = localSandbox(cluster, filepath.Join(cfg.DataDir, "mesos"))
	}
	if err := l.openState(ctx, cfg, log); err != nil {
		return fail(err)
	}
	if l.elector != nil {
		cleanups = append(cleanups, func() { l.elector.Close() })
	}
	handler := &leaderProxy{l: l, local: jobs.NewAPI(jobs.APIConfig{Backend: l, Defaults: cfg.Defaults, Logger: log.With("component", "api")}),
		proxy: &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(&url.URL{Scheme: "http", Host: r.In.Context().Value(leaderKey{}).(string)})
				r.Out.Host = r.In.Host
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				log.Warn("proxy to the leader failed", "path", r.URL.Path, "error", err)
				writeError(w, http.StatusInternalServerError, "Internal Server Error", "Error proxying request to leader: "+err.Error())
			},
		}}
	warnOpen(ln, cfg.HTTPCredentials, log)
	srv, capped := httpserver.Server(newGuard(handler, cfg.HTTPCredentials, cfg.HTTPRealm, log.With("component", "guard")), ln, httpserver.Limits{})
	s := &Server{url: "http://" + net.JoinHostPort(loopbackIfAny(ln.Addr().(*net.TCPAddr).IP), strconv.Itoa(port)), cluster: cluster, lead: l,
		done: make(chan struct{}), cancel: cancel}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(capped) }()
	runErr := make(chan error, 1)
	go func() { runErr <- l.run(ctx) }()
	go func() {
		var err error
		select {
		case <-ctx.Done():
		case err = <-serveErr:
		case err = <-runErr:
		}
		cancel()
		sctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		done()
		if err == nil || errors.Is(err, http.ErrServerClosed) {
			select {
			case err = <-runErr:
			case <-time.After(10 * time.Second):
			}
		}
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.err = err
		close(s.done)
	}()
	log.Info("stadion jobs started", "url", s.url, "master", cfg.Master, "zk_hosts", cfg.ZKHosts, "data_dir", cfg.DataDir)
	return s, nil
}

// warnOpen warns when the API is reachable from the network without
// credentials: anyone who can connect can run commands on the agents.
func warnOpen(ln net.Listener, credentials string, log *slog.Logger) {
	if ip := ln.Addr().(*net.TCPAddr).IP; credentials == "" && (ip.IsUnspecified() || !ip.IsLoopback()) {
		log.Warn("api listens on a non-loopback address without credentials", "address", ln.Addr().String(),
			"hint", "anyone who reaches it can run commands on the cluster: set --http_credentials, or --http_address 127.0.0.1")
	}
}

func loopbackIfAny(ip net.IP) string {
	if ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return ip.String()
}

// startCluster starts the built-in master and agents under DataDir/mesos.
func startCluster(ctx context.Context, cfg ServerConfig, principal, secret string, log *slog.Logger) (*local.Cluster, error) {
	var containerizers []string
	for _, name := range cfg.LocalContainerizers {
		name = strings.TrimSpace(name)
		if name == agent.ContainerizerDocker {
			if _, err := os.Stat("/var/run/docker.sock"); err != nil {
				log.Warn("docker containerizer disabled: no docker socket")
				continue
			}
		}
		if name != "" {
			containerizers = append(containerizers, name)
		}
	}
	c, err := local.Start(ctx, local.Config{
		Agents:  cmp.Or(cfg.LocalAgents, 1),
		WorkDir: filepath.Join(cfg.DataDir, "mesos"),
		Master: master.Config{
			AllocationInterval:     cfg.LocalAllocationInterval,
			AuthenticateFrameworks: true,
			Credentials:            []master.Credential{{Principal: principal, Secret: secret}},
		},
		Agent:  agent.Config{Containerizers: containerizers, Resources: cfg.LocalResources},
		Logger: log.With("component", "local-mesos"),
	})
	if err != nil {
		return nil, fmt.Errorf("start the built-in cluster: %w", err)
	}
	log.Info("built-in mesos cluster started", "master", c.URL(), "agents", len(c.Agents))
	return c, nil
}

// localSandbox finds a task's sandbox in the built-in cluster's agents'
// work dirs.
func localSandbox(c *local.Cluster, workDir string) func(agentID, fw, task, container string) string {
	return func(agentID, fw, task, container string) string {
		for i, a := range c.Agents {
			if a.State().ID == agentID {
				return filepath.Join(workDir, "agent-"+strconv.Itoa(i), "slaves", agentID, "frameworks", fw, "executors", task, "runs", container)
			}
		}
		return filepath.Join("slaves", agentID, "frameworks", fw, "executors", task, "runs", container)
	}
}

// leadership runs a scheduler while this instance leads: always without
// ZooKeeper, else while the election says so.
type leadership struct {
	self        string
	log         *slog.Logger
	elector     *zk.Elector
	openStore   func(ctx context.Context, fence string) (jobs.Store, error)
	newClient   func(jobs.Store) (*mesos.Client, error)
	schedConfig jobs.Config
	sched       atomic.Pointer[jobs.Scheduler]
	leader      atomic.Pointer[string]
}

var _ jobs.Backend = (*leadership)(nil)

// View is the leader's view; empty between terms.
func (l *leadership) View() *jobs.View {
	if s := l.sched.Load(); s != nil {
		return s.View()
	}
	return &jobs.View{}
}

// Do runs fn on the leader's loop.
func (l *leadership) Do(ctx context.Context, fn func(*jobs.Tx) error) error {
	s := l.sched.Load()
	if s == nil {
		return jobs.ErrNotLeader
	}
	return s.Do(ctx, fn)
}

// Leader is the leader's host:port.
func (l *leadership) Leader() string {
	if p := l.leader.Load(); p != nil {
		return *p
	}
	return ""
}

// openState sets up the store: bbolt in DataDir, or ZooKeeper with an
// election.
func (l *leadership) openState(ctx context.Context, cfg ServerConfig, log *slog.Logger) error {
	if cfg.ZKHosts == "" {
		path := filepath.Join(cfg.DataDir, "jobs.db")
		l.openStore = func(context.Context, string) (jobs.Store, error) { return jobstore.OpenBolt(path) }
		return nil
	}
	servers := strings.Split(strings.TrimSuffix(strings.TrimPrefix(cfg.ZKHosts, "zk://"), "/"), ",")
	if i := strings.Index(servers[len(servers)-1], "/"); i >= 0 {
		// Chronos ignores a path in --zk_hosts; so do we.
		servers[len(servers)-1] = servers[len(servers)-1][:i]
	}
	root := cmp.Or(cfg.ZKPath, "/chronos/state")
	if err := zk.ValidatePath(root); err != nil {
		return fmt.Errorf("--zk_path: %w", err)
	}
	l.openStore = func(ctx context.Context, fence string) (jobs.Store, error) {
		return jobstore.OpenZK(ctx, jobstore.ZKConfig{Servers: servers, Root: root + "/state", Fence: fence,
			SessionTimeout: cfg.ZKSessionTimeout, Logger: log.With("component", "state")})
	}
	e, err := zk.NewElector(zk.ElectorConfig{Servers: servers, Path: root + "/candidate", SessionTimeout: cfg.ZKSessionTimeout,
		Info: zk.LeaderInfo{HostPort: l.self, Scheme: "http"}, Logger: log.With("component", "election")})
	if err != nil {
		return err
	}
	l.elector = e
	return nil
}

// run follows the election (or leads at once without one) until ctx
// ends.
func (l *leadership) run(ctx context.Context) error {
	if l.elector == nil {
		l.leader.Store(&l.self)
		return l.term(ctx, "")
	}
	return l.elector.Follow(ctx, func(hostPort string) { l.leader.Store(&hostPort) }, func(ctx context.Context, fence string) error {
		l.log.Info("elected leader")
		return l.term(ctx, fence)
	}, l.log)
}

// term runs one period of leadership: store, client, scheduler.
func (l *leadership) term(ctx context.Context, fence string) error {
	store, err := l.openStore(ctx, fence)
	if err != nil {
		return fmt.Errorf("open the jobs store: %w", err)
	}
	defer store.Close()
	client, err := l.newClient(store)
	if err != nil {
		return err
	}
	cfg := l.schedConfig
	cfg.Mesos, cfg.Store = client, store
	s, err := jobs.New(cfg)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	select {
	case <-s.Ready():
		l.sched.Store(s)
	case err := <-errc:
		return err
	}
	err = <-errc
	l.sched.Store(nil)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// leaderProxy serves on the leader and proxies to it elsewhere, as
// Chronos's RedirectFilter; /ping and /leader are answered locally.
type leaderProxy struct {
	l     *leadership
	local http.Handler
	proxy *httputil.ReverseProxy
}

type leaderKey struct{}

func (p *leaderProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.l.sched.Load() != nil || r.URL.Path == "/ping" || strings.HasSuffix(r.URL.Path, "/scheduler/leader") {
		p.local.ServeHTTP(w, r)
		return
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for {
		if p.l.sched.Load() != nil {
			p.local.ServeHTTP(w, r)
			return
		}
		if leader := p.l.Leader(); leader != "" && leader != p.l.self && r.Header.Get("X-Stadion-Jobs-Via") == "" {
			r.Header.Set("X-Stadion-Jobs-Via", p.l.self)
			p.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), leaderKey{}, leader)))
			return
		}
		if time.Now().After(deadline) {
			writeError(w, http.StatusServiceUnavailable, "Service Unavailable", "no leader is known; retry")
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
