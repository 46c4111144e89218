package registrator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/consul"
)

var (
	_ Registry = (*agentRegistry)(nil)
	_ Registry = (*catalogRegistry)(nil)
	_ Registry = dryRun{}
)

// ConsulConfig says how to reach Consul. Empty fields keep what
// api.DefaultConfig reads from the environment (CONSUL_HTTP_ADDR,
// CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_SSL, CONSUL_CACERT,
// CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME,
// CONSUL_HTTP_SSL_VERIFY); stadion wrap reads them the same way.
type ConsulConfig = consul.Config

// NewConsulClient returns a Consul API client for cfg.
func NewConsulClient(cfg ConsulConfig) (*api.Client, error) {
	return consul.NewClient(cfg)
}

// consulAddress is the address NewConsulClient uses for cfg, for logs.
func consulAddress(cfg ConsulConfig) string { return consul.Address(cfg) }

// agentRegistry registers with one Consul agent, which runs the checks.
type agentRegistry struct {
	c     *api.Client
	owner string
	// source is "" for the scheduler's registrations and SourceDocker for
	// the Docker source's, which are owned only with MetaHost == host
	// too: several Docker hosts may register with one agent.
	source, host string
	log          *slog.Logger
	seeds        seedMemory
}

// owns reports whether a service on the agent is this registry's.
func (a *agentRegistry) owns(meta map[string]string) bool {
	if meta[MetaOwner] != a.owner || meta[MetaSource] != a.source {
		return false
	}
	return a.source == "" || meta[MetaHost] == a.host
}

// seedMemory remembers, by check id, the checks run by the agent that
// Consul has been seen passing and those the registrator seeded: neither
// is seeded (again). Check output cannot tell a check that never ran,
// since an agent may discard it (discard_check_output). The loop calls
// List and Apply one at a time, so it needs no lock.
type seedMemory struct {
	passed, seeded map[string]bool
}

// observe records the agent's checks and returns those that may be
// seeded; it forgets checks the agent no longer has.
func (m *seedMemory) observe(checks map[string]*api.AgentCheck) map[string]bool {
	if m.passed == nil {
		m.passed, m.seeded = map[string]bool{}, map[string]bool{}
	}
	for _, known := range []map[string]bool{m.passed, m.seeded} {
		for id := range known {
			if checks[id] == nil {
				delete(known, id)
			}
		}
	}
	seedable := map[string]bool{}
	for id, c := range checks {
		if c.Type != "http" && c.Type != "tcp" {
			continue
		}
		if c.Status == api.HealthPassing {
			m.passed[id] = true
		}
		if !m.passed[id] && !m.seeded[id] {
			seedable[id] = true
		}
	}
	return seedable
}

// done records a seeded check.
func (m *seedMemory) done(id string) {
	if m.seeded == nil {
		m.passed, m.seeded = map[string]bool{}, map[string]bool{}
	}
	m.seeded[id] = true
}

func (a *agentRegistry) List(ctx context.Context) (Current, error) {
	q := (&api.QueryOptions{}).WithContext(ctx)
	services, err := a.c.Agent().ServicesWithFilterOpts("", q)
	if err != nil {
		return Current{}, fmt.Errorf("list agent services: %w", err)
	}
	checks, err := a.c.Agent().ChecksWithFilterOpts("", q)
	if err != nil {
		return Current{}, fmt.Errorf("list agent checks: %w", err)
	}
	byID := map[string]*Registered{}
	var cur Current
	for _, s := range services {
		if !a.owns(s.Meta) {
			continue
		}
		byID[s.ID] = &Registered{ID: s.ID, Name: s.Service, Meta: s.Meta, Checks: map[string]Status{}, Seedable: map[string]bool{}}
	}
	seedable := a.seeds.observe(checks)
	for _, c := range checks {
		if r := byID[c.ServiceID]; r != nil {
			r.Checks[c.CheckID] = Status(c.Status)
			r.Seedable[c.CheckID] = seedable[c.CheckID]
		}
	}
	for _, r := range byID {
		cur.Services = append(cur.Services, *r)
	}
	return cur, nil
}

func (a *agentRegistry) Apply(ctx context.Context, p Plan) error {
	agent := a.c.Agent()
	q := (&api.QueryOptions{}).WithContext(ctx)
	// What comes before what goes: a balancer that renders between two
	// calls never loses a backend for one that is about to replace it.
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	errs := forEach(p.Register, func(s Service) error {
		if err := agent.ServiceRegisterOpts(agentService(s), opts); err != nil {
			return fmt.Errorf("register service %s: %w", s.ID, err)
		}
		a.log.Info("registered service", serviceAttrs(s)...)
		return nil
	})
	errs = append(errs, forEach(p.Update, func(u StatusUpdate) error {
		if err := agent.UpdateTTLOpts(u.Check.ID, u.Check.Output, string(u.Check.Status), q); err != nil {
			return fmt.Errorf("update check %s: %w", u.Check.ID, err)
		}
		a.log.Info("check status changed", "service_id", u.ServiceID, "check_id", u.Check.ID, "status", u.Check.Status, "output", u.Check.Output)
		return nil
	})...)
	// The agent keeps a check's status when it is registered again, so a
	// seeded check is removed first; without checks for that instant the
	// service counts as passing, which it is about to be.
	errs = append(errs, forEach(p.Seed, func(u StatusUpdate) error {
		if err := agent.CheckDeregisterOpts(u.Check.ID, q); err != nil {
			return fmt.Errorf("seed check %s: %w", u.Check.ID, err)
		}
		reg := &api.AgentCheckRegistration{ID: u.Check.ID, Name: u.Check.Name, ServiceID: u.ServiceID, AgentServiceCheck: agentCheck(u.Check)}
		if err := agent.CheckRegisterOpts(reg, q); err != nil {
			return fmt.Errorf("seed check %s: %w", u.Check.ID, err)
		}
		a.seeds.done(u.Check.ID)
		a.log.Info("check seeded from the scheduler", "service_id", u.ServiceID, "check_id", u.Check.ID, "status", u.Check.Status)
		return nil
	})...)
	errs = append(errs, forEach(p.Deregister, func(r Registered) error {
		if err := agent.ServiceDeregisterOpts(r.ID, q); err != nil {
			return fmt.Errorf("deregister service %s: %w", r.ID, err)
		}
		a.log.Info("deregistered service", append([]any{"service_id", r.ID, "service", r.Name}, ownerAttrs(r.Meta)...)...)
		return nil
	})...)
	return errors.Join(errs...)
}

func (a *agentRegistry) Refresh(ctx context.Context, checks []StatusUpdate) error {
	q := (&api.QueryOptions{}).WithContext(ctx)
	return errors.Join(forEach(checks, func(u StatusUpdate) error {
		if err := a.c.Agent().UpdateTTLOpts(u.Check.ID, u.Check.Output, string(u.Check.Status), q); err != nil {
			return fmt.Errorf("refresh check %s: %w", u.Check.ID, err)
		}
		return nil
	})...)
}

// agentService is the agent registration of s.
func agentService(s Service) *api.AgentServiceRegistration {
	reg := &api.AgentServiceRegistration{ID: s.ID, Name: s.Name, Tags: s.Tags, Port: s.Port, Address: s.Address, Meta: s.Meta}
	for _, c := range s.Checks {
		ac := agentCheck(c)
		ac.CheckID, ac.Name = c.ID, c.Name
		reg.Checks = append(reg.Checks, &ac)
	}
	return reg
}

// agentCheck is the definition of c for an agent, with its status.
func agentCheck(c Check) api.AgentServiceCheck {
	ac := api.AgentServiceCheck{Status: string(cmp.Or(c.Status, c.InitialStatus))}
	switch c.Kind {
	case CheckHTTP:
		ac.HTTP, ac.Method, ac.TLSSkipVerify = c.HTTP, cmp.Or(c.Method, "GET"), c.TLSSkipVerify
	case CheckTCP:
		ac.TCP = c.TCP
	case CheckScript:
		ac.Args = c.Args
	case CheckGRPC:
		ac.GRPC, ac.GRPCUseTLS, ac.TLSSkipVerify = c.GRPC, c.GRPCUseTLS, c.TLSSkipVerify
	case CheckTTL:
		ac.TTL = c.TTL.String()
	case CheckStatus:
		ac.TTL = c.TTL.String()
		ac.Notes = cmp.Or(c.Notes, "set by stadion registrator from the scheduler's health check results")
	}
	if c.DeregisterAfter > 0 {
		ac.DeregisterCriticalServiceAfter = c.DeregisterAfter.String()
	}
	if c.Kind != CheckStatus && c.Kind != CheckTTL {
		ac.Interval = c.Interval.String()
		if c.Timeout > 0 {
			ac.Timeout = c.Timeout.String()
		}
	}
	return ac
}

// serviceAttrs are the log attributes of a registration.
func serviceAttrs(s Service) []any {
	attrs := []any{"service_id", s.ID, "service", s.Name, "address", s.Address, "port", s.Port}
	attrs = append(attrs, ownerAttrs(s.Meta)...)
	if s.Node != "" {
		attrs = append(attrs, "node", s.Node)
	}
	return attrs
}

// ownerAttrs are the log attributes of what a registration stands for:
// the task and app of the scheduler's, the container of the Docker
// source's.
func ownerAttrs(meta map[string]string) []any {
	if name := meta[MetaContainerName]; name != "" {
		return []any{"container_name", name}
	}
	return []any{"task_id", meta[MetaTaskID], "app_id", meta[MetaAppID]}
}

// localHosts returns the names the tasks of the agent's host may report as
// their host: this machine's host name, and the agent's node name and
// address.
func localHosts(ctx context.Context, c *api.Client) ([]string, error) {
	var self struct {
		Config struct{ NodeName string }
		Member struct{ Addr string }
	}
	if _, err := c.Raw().Query("/v1/agent/self", &self, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("read consul agent: %w", err)
	}
	var hosts []string
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	for _, h := range []string{self.Config.NodeName, self.Member.Addr} {
		if h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// catalogRegistry registers every task through the catalog, on one node
// per host that it owns.
type catalogRegistry struct {
	c     *api.Client
	owner string
	log   *slog.Logger
}

// nodeMeta marks the owned nodes; the external-* keys tell consul-esm and
// people that no agent runs there.
func (r *catalogRegistry) nodeMeta() map[string]string {
	return map[string]string{MetaOwner: r.owner, "external-node": "true", "external-probe": "false"}
}

func (r *catalogRegistry) List(ctx context.Context) (Current, error) {
	q := (&api.QueryOptions{NodeMeta: map[string]string{MetaOwner: r.owner}}).WithContext(ctx)
	nodes, _, err := r.c.Catalog().Nodes(q)
	if err != nil {
		return Current{}, fmt.Errorf("list catalog nodes: %w", err)
	}
	var cur Current
	for _, n := range nodes {
		nq := (&api.QueryOptions{}).WithContext(ctx)
		list, _, err := r.c.Catalog().NodeServiceList(n.Node, nq)
		if err != nil {
			return Current{}, fmt.Errorf("list services of node %s: %w", n.Node, err)
		}
		checks, _, err := r.c.Health().Node(n.Node, nq)
		if err != nil {
			return Current{}, fmt.Errorf("list checks of node %s: %w", n.Node, err)
		}
		node := Node{Name: n.Node}
		byID := map[string]*Registered{}
		if list != nil {
			for _, s := range list.Services {
				if s.Meta[MetaOwner] != r.owner {
					node.Foreign++
					continue
				}
				byID[s.ID] = &Registered{ID: s.ID, Node: n.Node, Name: s.Service, Meta: s.Meta, Checks: map[string]Status{}}
			}
		}
		for _, c := range checks {
			if reg := byID[c.ServiceID]; reg != nil {
				reg.Checks[c.CheckID] = Status(c.Status)
			}
		}
		for _, reg := range byID {
			cur.Services = append(cur.Services, *reg)
		}
		cur.Nodes = append(cur.Nodes, node)
	}
	return cur, nil
}

func (r *catalogRegistry) Apply(ctx context.Context, p Plan) error {
	cat := r.c.Catalog()
	w := (&api.WriteOptions{}).WithContext(ctx)
	// What comes before what goes, as on an agent.
	errs := forEach(p.Register, func(s Service) error {
		if _, err := cat.Register(r.registration(s), w); err != nil {
			return fmt.Errorf("register service %s on %s: %w", s.ID, s.Node, err)
		}
		r.log.Info("registered service", serviceAttrs(s)...)
		return nil
	})
	errs = append(errs, forEach(p.Update, func(u StatusUpdate) error {
		reg := &api.CatalogRegistration{Node: u.Node, Address: u.NodeAddress, SkipNodeUpdate: true,
			Check: &api.AgentCheck{Node: u.Node, CheckID: u.Check.ID, Name: u.Check.Name, Status: string(u.Check.Status), Output: u.Check.Output, ServiceID: u.ServiceID}}
		if _, err := cat.Register(reg, w); err != nil {
			return fmt.Errorf("update check %s on %s: %w", u.Check.ID, u.Node, err)
		}
		r.log.Info("check status changed", "service_id", u.ServiceID, "node", u.Node, "check_id", u.Check.ID, "status", u.Check.Status, "output", u.Check.Output)
		return nil
	})...)
	errs = append(errs, forEach(p.Deregister, func(s Registered) error {
		if _, err := cat.Deregister(&api.CatalogDeregistration{Node: s.Node, ServiceID: s.ID}, w); err != nil {
			return fmt.Errorf("deregister service %s on %s: %w", s.ID, s.Node, err)
		}
		r.log.Info("deregistered service", "service_id", s.ID, "service", s.Name, "node", s.Node, "task_id", s.Meta[MetaTaskID])
		return nil
	})...)
	errs = append(errs, forEach(p.StaleChecks, func(c CheckRef) error {
		if _, err := cat.Deregister(&api.CatalogDeregistration{Node: c.Node, CheckID: c.CheckID}, w); err != nil {
			return fmt.Errorf("deregister check %s on %s: %w", c.CheckID, c.Node, err)
		}
		return nil
	})...)
	// Nodes last: a node goes once its services have.
	errs = append(errs, forEach(p.DeregisterNodes, func(n string) error {
		if _, err := cat.Deregister(&api.CatalogDeregistration{Node: n}, w); err != nil {
			return fmt.Errorf("deregister node %s: %w", n, err)
		}
		r.log.Info("deregistered node", "node", n)
		return nil
	})...)
	return errors.Join(errs...)
}

// Refresh does nothing: catalog checks have no TTL.
func (r *catalogRegistry) Refresh(context.Context, []StatusUpdate) error { return nil }

func (r *catalogRegistry) registration(s Service) *api.CatalogRegistration {
	reg := &api.CatalogRegistration{
		Node:     s.Node,
		Address:  s.NodeAddress,
		NodeMeta: r.nodeMeta(),
		Service:  &api.AgentService{ID: s.ID, Service: s.Name, Tags: s.Tags, Address: s.Address, Port: s.Port, Meta: s.Meta},
	}
	for _, c := range s.Checks {
		reg.Checks = append(reg.Checks, catalogCheck(s.Node, s.ID, c))
	}
	return reg
}

func catalogCheck(node, serviceID string, c Check) *api.HealthCheck {
	return &api.HealthCheck{Node: node, CheckID: c.ID, Name: c.Name, Status: string(c.Status), Output: c.Output, ServiceID: serviceID}
}

// applyConcurrency bounds the Consul calls of one phase of a plan that run
// at once: a burst of new tasks is registered together, not one by one.
const applyConcurrency = 8

// forEach calls f on every item, at most applyConcurrency at once, and
// returns the errors.
func forEach[T any](items []T, f func(T) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, applyConcurrency)
	)
	for _, item := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(item); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}

// dryRun logs what a plan would change instead of changing it. Listing
// still reads Consul.
type dryRun struct {
	Registry
	log *slog.Logger
}

func (d dryRun) Apply(_ context.Context, p Plan) error {
	for _, s := range p.Register {
		d.log.Info("dry run: would register service", serviceAttrs(s)...)
	}
	for _, u := range p.Update {
		d.log.Info("dry run: would set check status", "service_id", u.ServiceID, "check_id", u.Check.ID, "status", u.Check.Status)
	}
	for _, u := range p.Seed {
		d.log.Info("dry run: would seed check", "service_id", u.ServiceID, "check_id", u.Check.ID, "status", u.Check.Status)
	}
	for _, r := range p.Deregister {
		d.log.Info("dry run: would deregister service", "service_id", r.ID, "service", r.Name, "node", r.Node, "task_id", r.Meta[MetaTaskID])
	}
	for _, c := range p.StaleChecks {
		d.log.Info("dry run: would deregister check", "service_id", c.ServiceID, "check_id", c.CheckID, "node", c.Node)
	}
	for _, n := range p.DeregisterNodes {
		d.log.Info("dry run: would deregister node", "node", n)
	}
	return nil
}

func (dryRun) Refresh(context.Context, []StatusUpdate) error { return nil }
