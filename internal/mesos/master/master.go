package master

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
)

// Master is a running built-in master. All mutable cluster state sits in st
// behind mu, which is held briefly: network I/O (scheduler streams, calls to
// agents) happens outside it, through per-subscription and per-agent queues.
type Master struct {
	cfg       Config
	log       *slog.Logger
	id        string
	info      mesos.MasterInfo
	url       string
	startTime time.Time
	ln        net.Listener
	srv       *http.Server
	hc        *http.Client // calls to agents
	auth      *authenticator
	// streams maps a framework id to its subscription (framework.sub),
	// for agents' status updates to wait for room without the lock:
	// taking it twice per update doubled the contention at 100,000
	// tasks (issue 17).
	streams sync.Map

	ctx    context.Context // ends on Stop
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once

	// kick asks the allocator for an allocation pass now.
	kick chan struct{}

	// bg tracks every goroutine the master starts, so Stop can wait.
	bgMu    sync.Mutex
	bg      sync.WaitGroup
	stopped bool

	mu          sync.Mutex
	leading     bool              // this master serves
	leader      *mesos.MasterInfo // the known leader, nil when none
	electedTime time.Time
	st          *clusterState
	// Counters of the framework, agent and offer ids, "<id>-0000",
	// "<id>-S0", "<id>-O0". They outlive st: a master that loses and
	// regains leadership keeps its id, and frameworks and agents of the
	// earlier term may come back to it.
	nextFramework int
	nextAgent     int
	nextOffer     int
}

// Start starts a master that is listening and serving when it returns. It
// stops when ctx ends or Stop is called.
func Start(ctx context.Context, cfg Config) (*Master, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid master config: %w", err)
	}
	cfg = cfg.withDefaults()
	// As in Mesos, the id is fresh on every start: ids made from it
	// ("<id>-0000", "<id>-S0", "<id>-O0") cannot collide with those of an
	// earlier run whose frameworks and agents come back and are adopted.
	id := newUUID()
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ip := netip.MustParseAddr(cfg.IP)
	mctx, cancel := context.WithCancel(context.Background())
	m := &Master{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "mesos-master"),
		id:        id,
		url:       "http://" + net.JoinHostPort(cfg.IP, strconv.Itoa(port)),
		startTime: time.Now(),
		ln:        ln,
		hc:        &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}},
		ctx:       mctx,
		cancel:    cancel,
		done:      make(chan struct{}),
		kick:      make(chan struct{}, 1),
		st:        newClusterState(),
		auth:      newAuthenticator(cfg.Credentials),
	}
	m.info = mesos.MasterInfo{
		ID:       id,
		IP:       mesos.PackIP(ip),
		Port:     uint32(port),
		PID:      "master@" + net.JoinHostPort(cfg.IP, strconv.Itoa(port)),
		Hostname: cfg.Hostname,
		Version:  Version,
		Address:  &mesos.Address{Hostname: cfg.Hostname, IP: cfg.IP, Port: int32(port)},
		Domain:   cfg.Domain,
		Capabilities: []mesos.Capability{
			{Type: "AGENT_UPDATE"}, {Type: "AGENT_DRAINING"}, {Type: "QUOTA_V2"},
		},
	}
	srv, capped := httpserver.Server(m.routes(), ln, cfg.HTTP)
	srv.BaseContext = func(net.Listener) context.Context { return mctx }
	m.srv = srv

	if cfg.ZK == "" {
		m.setLeadership(true, &m.info)
	} else if err := m.startContender(); err != nil {
		cancel()
		ln.Close()
		return nil, err
	}
	m.spawn(func() {
		if err := m.srv.Serve(capped); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("serve failed", "error", err)
		}
	})
	m.spawn(m.allocateLoop)
	go func() {
		select {
		case <-ctx.Done():
			m.Stop()
		case <-m.done:
		}
	}()
	m.log.Info("master started", "master_id", id, "url", m.url, "zk", cfg.ZK,
		"authenticate_frameworks", cfg.AuthenticateFrameworks, "authenticate_agents", cfg.AuthenticateAgents, "credentials", len(cfg.Credentials))
	if !cfg.AuthenticateFrameworks {
		m.log.Warn("framework authentication is off: anyone who can reach the master can subscribe, and take over a framework by its id", "url", m.url)
	}
	return m, nil
}

// URL returns the base URL the master serves on, "http://127.0.0.1:port".
func (m *Master) URL() string { return m.url }

// ID returns the master id, a UUID.
func (m *Master) ID() string { return m.id }

// Info returns the master's MasterInfo.
func (m *Master) Info() mesos.MasterInfo { return m.info }

// Done is closed when the master has stopped.
func (m *Master) Done() <-chan struct{} { return m.done }

// Stop closes the listener and every stream and waits for the master's
// goroutines. It is idempotent.
func (m *Master) Stop() {
	m.stop.Do(func() {
		m.bgMu.Lock()
		m.stopped = true
		m.bgMu.Unlock()
		m.cancel()
		m.mu.Lock()
		m.leading = false
		st := m.st
		m.st = newClusterState()
		m.mu.Unlock()
		st.close()
		m.srv.Close()
		m.bg.Wait()
		m.hc.CloseIdleConnections()
		m.log.Info("master stopped", "master_id", m.id)
		close(m.done)
	})
}

// spawn runs f in a goroutine that Stop waits for; after Stop it does nothing.
func (m *Master) spawn(f func()) {
	m.bgMu.Lock()
	defer m.bgMu.Unlock()
	if m.stopped {
		return
	}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		f()
	}()
}

// setLeadership records who leads. Gaining leadership starts with an empty
// cluster state; losing it drops every subscription and agent so that
// schedulers and agents re-detect the leader.
func (m *Master) setLeadership(elected bool, leader *mesos.MasterInfo) {
	m.mu.Lock()
	was := m.leading
	m.leading = elected
	if leader != nil {
		l := *leader
		m.leader = &l
	} else {
		m.leader = nil
	}
	var old *clusterState
	if elected && !was {
		m.electedTime = time.Now()
		m.st = newClusterState()
	}
	if !elected && was {
		old = m.st
		m.st = newClusterState()
	}
	m.mu.Unlock()
	if old != nil {
		old.close()
		m.log.Info("lost leadership", "master_id", m.id)
	}
	if elected && !was {
		m.log.Info("elected as the leading master", "master_id", m.id)
	}
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	b := uuidBytes()
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func uuidBytes() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}
