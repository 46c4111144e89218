package agent

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// Agent is a running agent. Its methods are safe for concurrent use.
type Agent struct {
	cfg        Config
	log        *slog.Logger
	resources  mesos.Resources
	attributes []mesos.Attribute
	domain     json.RawMessage
	url        string
	port       int
	endpoint   string // ip:port, for MESOS_AGENT_ENDPOINT
	advertIP   string // the IP tasks sharing the agent's network report
	bootID     string // the kernel's boot id, checkpointed with each process
	// token is this run's secret, sent to the master at registration: the
	// agent refuses calls on its cluster endpoints that do not carry it,
	// and carries it on its status updates.
	token string

	ln     net.Listener
	srv    *http.Server
	hc     *http.Client
	det    detector
	docker *dockerContainerizer // nil unless enabled

	// ctx lives until Stop, independent of Start's context, so that
	// stopping can kill tasks before cancelling their helpers.
	ctx    context.Context
	cancel context.CancelFunc

	registered chan struct{}
	done       chan struct{}
	stopOnce   sync.Once
	stopHook   func() bool

	pinged chan struct{} // a ping arrived
	lost   chan struct{} // the master answered 404 to a status update

	outbox outbox
	bg     sync.WaitGroup // registration loop and senders
	// running counts launches and live containers: Stop waits for it.
	running sync.WaitGroup
	// saving counts checkpoint writes made in the background.
	saving sync.WaitGroup

	mu         sync.Mutex // guards the fields below and every task
	id         string
	savedID    string // the id in the checkpoint
	masterURL  string
	connected  bool   // registered with masterURL and not lost since
	regGen     uint64 // counts registrations
	pingPeriod time.Duration
	stopping   bool
	tasks      map[taskKey]*task
	// groups are the DEFAULT executors of task groups (LAUNCH_GROUP).
	groups map[groupKey]*taskGroup
	// shutdown holds the frameworks the master removed: nobody will
	// acknowledge their updates, so their tasks are forgotten as soon as
	// they end, as a Mesos agent cleans up a shut-down framework.
	shutdown map[string]bool
}

// Start validates cfg, starts listening, and registers with the master in the
// background, retrying with backoff. It returns once the agent serves. The
// agent stops, killing its tasks, when ctx ends or Stop is called.
func Start(ctx context.Context, cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid agent config: %w", err)
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	res, err := agentResources(cfg.Resources, cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("agent resources: %w", err)
	}
	attrs, err := mesos.ParseAttributes(cfg.Attributes)
	if err != nil {
		return nil, err
	}
	domain, err := mesos.ParseDomain(cfg.Domain)
	if err != nil {
		return nil, err
	}
	master, _ := parseMaster(cfg.Master)
	det, err := newDetector(master, cfg.Logger)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.Port)))
	if err != nil {
		det.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	advert := cfg.IP
	if ip := net.ParseIP(advert); ip.IsUnspecified() {
		advert = "127.0.0.1"
	}
	urlHost := advert
	if net.ParseIP(cfg.IP).IsUnspecified() && cfg.Hostname != cfg.IP {
		urlHost = cfg.Hostname
	}
	a := &Agent{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "agent"),
		resources:  res,
		attributes: attrs,
		domain:     domain,
		url:        "http://" + net.JoinHostPort(urlHost, strconv.Itoa(port)),
		port:       port,
		endpoint:   net.JoinHostPort(advert, strconv.Itoa(port)),
		advertIP:   advert,
		ln:         ln,
		det:        det,
		registered: make(chan struct{}),
		done:       make(chan struct{}),
		pinged:     make(chan struct{}, 1),
		lost:       make(chan struct{}, 1),
		tasks:      make(map[taskKey]*task),
		groups:     make(map[groupKey]*taskGroup),
		shutdown:   make(map[string]bool),
		bootID:     bootID(),
		token:      cluster.NewToken(),
	}
	a.hc = &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        64,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	if cfg.enabled(ContainerizerDocker) {
		a.docker = newDockerContainerizer(cfg.DockerHost, a.log)
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := a.docker.ping(pingCtx)
		cancel()
		if err != nil {
			ln.Close()
			det.Close()
			return nil, fmt.Errorf("docker containerizer: engine at %s: %w", cfg.DockerHost, err)
		}
	}
	a.ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.outbox.init()
	if err := a.recoverTasks(); err != nil {
		a.cancel()
		ln.Close()
		det.Close()
		return nil, fmt.Errorf("recover: %w", err)
	}
	srv, capped := httpserver.Server(a.routes(), ln, cfg.HTTP)
	a.srv = srv
	a.bg.Go(func() {
		if err := a.srv.Serve(capped); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("agent server failed", "error", err)
		}
	})
	for range a.cfg.StatusSenders {
		a.bg.Go(a.sendLoop)
	}
	a.bg.Go(a.registerLoop)
	a.mu.Lock()
	a.stopHook = context.AfterFunc(ctx, a.Stop)
	a.mu.Unlock()
	a.log.Info("agent started", "url", a.url, "master", cfg.Master, "resources", res.String(), "containerizers", cfg.Containerizers)
	return a, nil
}

// URL is the agent's base URL, such as http://127.0.0.1:5051.
func (a *Agent) URL() string { return a.url }

// ID is the agent id the master assigned; "" until registered.
func (a *Agent) ID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

// Registered is closed on the first registration.
func (a *Agent) Registered() <-chan struct{} { return a.registered }

// Done is closed when the agent has stopped.
func (a *Agent) Done() <-chan struct{} { return a.done }

// Stop kills every task (SIGTERM, then SIGKILL after its grace period),
// waits for them to end, and stops serving. It is safe to call more than
// once.
func (a *Agent) Stop() {
	a.stopOnce.Do(a.stop)
	<-a.done
}

func (a *Agent) stop() {
	a.mu.Lock()
	a.stopHook()
	a.stopping = true
	var kills []func()
	longest := time.Duration(0)
	for _, t := range a.tasks {
		if kill := a.killLocked(t, t.grace, ""); kill != nil {
			kills = append(kills, kill)
			longest = max(longest, t.grace)
		}
	}
	a.mu.Unlock()
	for _, kill := range kills {
		kill()
	}
	ended := make(chan struct{})
	go func() {
		a.running.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(longest + 20*time.Second):
		a.log.Error("tasks did not end in time; leaving them")
	}
	a.cancel()
	a.outbox.close()
	a.mu.Lock()
	left := make([]*task, 0, len(a.tasks))
	for _, t := range a.tasks {
		if t.retry != nil {
			t.retry.Stop()
			t.retry = nil
		}
		left = append(left, t)
	}
	a.mu.Unlock()
	// What was not acknowledged is sent again by the next run.
	for _, t := range left {
		a.saveTask(t)
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 2*time.Second)
	_ = a.srv.Shutdown(shutdownCtx)
	done()
	a.bg.Wait()
	a.saving.Wait()
	a.det.Close()
	a.hc.CloseIdleConnections()
	a.log.Info("agent stopped", "agent_id", a.ID())
	close(a.done)
}

// routes is the agent's HTTP API: the cluster protocol, which only the
// master the agent registered with may call, GET /state, and the files
// API, which needs Config.FilesToken.
func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+cluster.PathPing, a.fromMaster(a.handlePing))
	mux.HandleFunc("POST "+cluster.PathRun, a.fromMaster(a.handleRun))
	mux.HandleFunc("POST "+cluster.PathKill, a.fromMaster(a.handleKill))
	mux.HandleFunc("POST "+cluster.PathAck, a.fromMaster(a.handleAck))
	mux.HandleFunc("POST "+cluster.PathAcks, a.fromMaster(a.handleAcks))
	mux.HandleFunc("POST "+cluster.PathShutdown, a.fromMaster(a.handleShutdown))
	mux.HandleFunc("GET /state", a.handleState)
	a.filesRoutes(mux)
	return mux
}

// fromMaster refuses, with 401, a request that does not carry the token the
// agent gave its master at registration.
func (a *Agent) fromMaster(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !cluster.Authorized(r, a.token) {
			a.log.Warn("cluster call refused: not from the master", "path", r.URL.Path, "remote_addr", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="stadion-agent"`)
			http.Error(w, "not from this agent's master", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (a *Agent) handlePing(w http.ResponseWriter, r *http.Request) {
	var p cluster.Ping
	if !cluster.Decode(w, r, &p) {
		return
	}
	id := a.ID()
	if p.AgentID != "" && p.AgentID != id {
		a.log.Debug("ping for another agent", "agent_id", id, "ping_agent_id", p.AgentID)
		http.Error(w, "unknown agent "+p.AgentID, http.StatusNotFound)
		return
	}
	select {
	case a.pinged <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
}

// newUUID returns 16 random bytes, as Mesos's status update uuids.
func newUUID() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

// newUUIDString returns a random version 4 UUID in its text form.
func newUUIDString() string {
	b := newUUID()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// now is the current time as Mesos's float seconds.
func now() float64 { return float64(time.Now().UnixNano()) / 1e9 }
