package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

// Config configures a local cluster.
type Config struct {
	// Agents is the number of agents; default 1.
	Agents int
	// WorkDir holds the master's and the agents' work directories
	// (master/, agent-0/, agent-1/ ...). Required.
	WorkDir string
	// Master configures the master; its Port 0 picks a free port. Agents
	// always authenticate: Start adds a credential made up in memory for
	// them to Master.Credentials and sets Master.AuthenticateAgents.
	// Framework authentication is the caller's: set
	// Master.AuthenticateFrameworks and Master.Credentials (NewCredential).
	Master master.Config
	// Agent is the template of every agent's configuration. Master and
	// WorkDir are set per agent; Port 0 picks a free port. An empty IP
	// gives each agent a loopback address of its own, 127.0.0.2,
	// 127.0.0.3 ..., on which it listens and which it reports as its
	// hostname (unless Hostname is set), so that the agents look like
	// distinct machines; where the host answers on 127.0.0.1 only
	// (macOS without aliases), every agent gets 127.0.0.1. The port
	// ranges of Resources are cut into Agents disjoint shares (agentPorts).
	Agent agent.Config
	// RegisterTimeout bounds the wait for every agent to register; default 30s.
	RegisterTimeout time.Duration
	// Logger receives the cluster's logs; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running local cluster.
type Cluster struct {
	Master *master.Master
	Agents []*agent.Agent
	// FilesToken is what every agent's files API asks for (agent.Config
	// FilesToken), made up at Start, in memory only: the scheduler's web
	// UI reads sandboxes through it.
	FilesToken string
}

// Start starts the master and the agents and returns once every agent has
// registered. The cluster stops when ctx ends or Stop is called.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.WorkDir == "" {
		return nil, errors.New("local cluster: work dir required")
	}
	if cfg.Agents == 0 {
		cfg.Agents = 1
	}
	if cfg.RegisterTimeout == 0 {
		cfg.RegisterTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	mcfg := cfg.Master
	// Only the agents started here can register: their credential exists
	// in this process's memory only. Each agent makes its own token at
	// registration, so that only this master can run tasks on it.
	agentCred := NewCredential("local-agent-")
	mcfg.Credentials = append(append([]master.Credential(nil), mcfg.Credentials...), agentCred)
	mcfg.AuthenticateAgents = true
	// The cluster's servers share an eighth of the process's descriptors
	// by default each side, so that the process (with `stadion serve`'s
	// API beside them) keeps descriptors for tasks and files.
	if mcfg.HTTP.MaxConns == 0 {
		mcfg.HTTP.MaxConns = httpserver.DefaultMaxConns(8)
	}
	if mcfg.WorkDir == "" {
		mcfg.WorkDir = filepath.Join(cfg.WorkDir, "master")
	}
	if mcfg.Logger == nil {
		mcfg.Logger = cfg.Logger.With("component", "master")
	}
	m, err := master.Start(ctx, mcfg)
	if err != nil {
		return nil, fmt.Errorf("start master: %w", err)
	}
	c := &Cluster{Master: m, FilesToken: cfg.Agent.FilesToken}
	if c.FilesToken == "" {
		c.FilesToken = cluster.NewToken()
	}
	spread := cfg.Agent.IP == "" && loopbackSpread()
	if cfg.Agent.IP == "" && !spread && cfg.Agents > 1 {
		cfg.Logger.Warn("agents share 127.0.0.1: this host answers on no other loopback address", "agents", cfg.Agents)
	}
	for i := range cfg.Agents {
		acfg := cfg.Agent
		if spread {
			ip, err := agentIP(i)
			if err != nil {
				c.Stop()
				return nil, err
			}
			acfg.IP = ip
		}
		resources, err := agentPorts(acfg.Resources, i, cfg.Agents)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("agent %d resources: %w", i, err)
		}
		acfg.Resources = resources
		acfg.Master = m.URL()
		acfg.Principal, acfg.Secret = agentCred.Principal, agentCred.Secret
		acfg.FilesToken = c.FilesToken
		if acfg.HTTP.MaxConns == 0 {
			acfg.HTTP.MaxConns = httpserver.DefaultMaxConns(8 * cfg.Agents)
		}
		acfg.WorkDir = filepath.Join(cfg.WorkDir, "agent-"+strconv.Itoa(i))
		if acfg.Logger == nil {
			acfg.Logger = cfg.Logger.With("component", "agent", "agent", i)
		}
		a, err := agent.Start(ctx, acfg)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("start agent %d: %w", i, err)
		}
		c.Agents = append(c.Agents, a)
	}
	timeout := time.NewTimer(cfg.RegisterTimeout)
	defer timeout.Stop()
	for i, a := range c.Agents {
		select {
		case <-a.Registered():
		case <-timeout.C:
			c.Stop()
			return nil, fmt.Errorf("agent %d did not register within %v", i, cfg.RegisterTimeout)
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		}
	}
	return c, nil
}

// NewCredential returns a credential made up now: principal is prefix and
// eight random hex digits, the secret 32 random bytes in hex. It is meant
// to live in memory only.
func NewCredential(prefix string) master.Credential {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return master.Credential{Principal: prefix + hex.EncodeToString(b), Secret: cluster.NewToken()}
}

// URL is the master's URL, for schedulers.
func (c *Cluster) URL() string { return c.Master.URL() }

// Stop stops the agents (killing their tasks) and then the master.
func (c *Cluster) Stop() {
	for _, a := range c.Agents {
		a.Stop()
	}
	for _, a := range c.Agents {
		<-a.Done()
	}
	c.Master.Stop()
	<-c.Master.Done()
}
