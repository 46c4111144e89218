package testenv

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Consul is a Consul agent in dev mode (a single server) started for a
// test. Dev mode keeps the catalog and KV in memory: after Stop and Start
// the agent comes back on the same ports, empty.
type Consul struct {
	// HTTPAddr is the HTTP API address, "127.0.0.1:port".
	HTTPAddr string
	// DNSAddr is the DNS address (UDP and TCP), "127.0.0.1:port".
	DNSAddr string
	// Token is the management token of an agent started with ACLs
	// (ConsulConfig.ManagementToken); empty without ACLs.
	Token string

	bin     string
	dir     string
	logPath string
	ports   consulPorts

	restartable
}

type consulPorts struct {
	http, dns, serfLAN, serfWAN, server int
}

// ConsulConfig configures StartConsulWith; the zero value is StartConsul's
// agent.
type ConsulConfig struct {
	// ManagementToken, when set, enables ACLs with the default policy
	// deny: every request needs a token, and this one (the initial
	// management token, also the agent's own) may do everything.
	ManagementToken string
}

// StartConsul starts `consul agent -dev` bound to 127.0.0.1 with every port
// random, its data directory in t.TempDir(), waits until it has elected
// itself leader and stops it in t.Cleanup. The agent's log goes to a file
// that is printed through t.Log when the test fails.
func StartConsul(t testing.TB) *Consul {
	t.Helper()
	return StartConsulWith(t, ConsulConfig{})
}

// StartConsulWith starts an agent as StartConsul does, configured by cfg.
func StartConsulWith(t testing.TB, cfg ConsulConfig) *Consul {
	t.Helper()
	c := &Consul{bin: Binary(t, "consul"), dir: t.TempDir(), Token: cfg.ManagementToken}
	c.logPath = filepath.Join(c.dir, "consul.log")
	logOnFailure(t, "consul", c.logPath)
	t.Cleanup(func() { c.Stop(t) })

	// A port may be taken between FreePort and the bind: try a few.
	var err error
	for range 3 {
		c.ports = consulPorts{
			http:    FreePort(t),
			dns:     FreePort(t),
			serfLAN: FreePort(t),
			serfWAN: FreePort(t),
			server:  FreePort(t),
		}
		c.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.http))
		c.DNSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.ports.dns))
		if err = c.start(c.launch); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("start consul: %v", err)
	}
	return c
}

// Stop stops the agent (SIGTERM, then SIGKILL). It does nothing when the
// agent is stopped already.
func (c *Consul) Stop(t testing.TB) {
	t.Helper()
	c.stop()
}

// Start starts the agent again on the same ports. It does nothing when the
// agent is running.
func (c *Consul) Start(t testing.TB) {
	t.Helper()
	if err := c.start(c.launch); err != nil {
		t.Fatalf("restart consul: %v", err)
	}
}

// launch starts the agent and waits until it has a leader.
func (c *Consul) launch() (*process, error) {
	args := []string{
		"agent", "-dev",
		"-node", "testenv",
		"-bind", "127.0.0.1",
		"-client", "127.0.0.1",
		"-data-dir", filepath.Join(c.dir, "data"),
		"-http-port", strconv.Itoa(c.ports.http),
		"-dns-port", strconv.Itoa(c.ports.dns),
		"-serf-lan-port", strconv.Itoa(c.ports.serfLAN),
		"-serf-wan-port", strconv.Itoa(c.ports.serfWAN),
		"-server-port", strconv.Itoa(c.ports.server),
		// gRPC serves Connect/Envoy only; dev mode would otherwise bind
		// fixed ports that collide between agents.
		"-grpc-port", "-1",
		"-grpc-tls-port", "-1",
		"-log-level", "info",
	}
	if c.Token != "" {
		// The agent's own token lets it sync what is registered with it
		// to the catalog.
		args = append(args, "-hcl", fmt.Sprintf(`acl { enabled = true, default_policy = "deny", tokens { initial_management = %q, agent = %q } }`, c.Token, c.Token))
	}
	return startReady(c.bin, args, c.dir, c.logPath, c.hasLeader)
}

var consulClient = &http.Client{Timeout: 2 * time.Second}

// hasLeader asks /v1/status/leader, which answers "" until raft has a leader.
func (c *Consul) hasLeader() error {
	resp, err := consulClient.Get("http://" + c.HTTPAddr + "/v1/status/leader")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status/leader: %s: %s", resp.Status, b)
	}
	if leader := strings.Trim(strings.TrimSpace(string(b)), `"`); leader == "" {
		return errors.New("no leader yet")
	}
	if c.Token != "" {
		return c.tokenWorks()
	}
	return nil
}

// tokenWorks asks /v1/acl/token/self with the management token, which
// works once the leader has bootstrapped the ACL system with it.
func (c *Consul) tokenWorks() error {
	req, err := http.NewRequest(http.MethodGet, "http://"+c.HTTPAddr+"/v1/acl/token/self", nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Consul-Token", c.Token)
	resp, err := consulClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("acl/token/self: %s: %s", resp.Status, b)
	}
	return nil
}
