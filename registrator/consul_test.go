package registrator

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/testenv"
)

// consulTimeout bounds every wait on Consul.
const consulTimeout = 30 * time.Second

func startConsul(t *testing.T) (*testenv.Consul, *api.Client) {
	t.Helper()
	c := testenv.StartConsul(t)
	client, err := NewConsulClient(ConsulConfig{Address: "http://" + c.HTTPAddr})
	if err != nil {
		t.Fatal(err)
	}
	return c, client
}

// healthServer is a task stand-in whose /health answers 200 or 503.
type healthServer struct {
	port int
	sick atomic.Bool
}

func startHealthServer(t *testing.T) *healthServer {
	h := &healthServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.sick.Load() {
			http.Error(w, "FAILING", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("OK"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	h.port, _ = strconv.Atoi(port)
	return h
}

// converge lists, diffs and applies until the plan is empty, and returns
// the number of applies it took.
func converge(t *testing.T, r Registry, want Desired) int {
	t.Helper()
	ctx := context.Background()
	for i := range 3 {
		cur, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := Diff(want, cur)
		if p.Empty() {
			return i
		}
		if err := r.Apply(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no empty plan after 3 applies")
	return 0
}

// statusOf returns the aggregated status of a service on the agent.
func statusOf(t *testing.T, c *api.Client, serviceID string) string {
	t.Helper()
	status, _, err := c.Agent().AgentHealthServiceByID(serviceID)
	if err != nil {
		return "error: " + err.Error()
	}
	return status
}

func TestAgentRegistry(t *testing.T) {
	_, client := startConsul(t)
	reg := &agentRegistry{c: client, owner: "stadion", log: testLogger(t)}
	ctx := context.Background()

	// Someone else's services on the same agent.
	for _, s := range []*api.AgentServiceRegistration{
		{ID: "hand-made", Name: "web", Port: 1},
		{ID: "web.9:10000", Name: "web", Port: 2, Meta: map[string]string{MetaOwner: "team-b"}},
	} {
		if err := client.Agent().ServiceRegister(s); err != nil {
			t.Fatal(err)
		}
	}

	h := startHealthServer(t)
	snap := func(port int) Snapshot {
		return snapshot(
			app(id("/web"), portDefs(10000, 10001), checks(healthCheck(marathon.ProtocolHTTP, 0, "/health")),
				tasks(with(task("web.1", "127.0.0.1", uint32(h.port), uint32(port)), results(true)))),
		)
	}
	opts := agentOpts()
	opts.Hosts = []string{"127.0.0.1"}
	want := Compute(snap(h.port+1), opts)
	if n := converge(t, reg, want); n != 1 {
		t.Errorf("converged in %d applies, want 1", n)
	}
	services, err := client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"hand-made", "web.9:10000", "web.1:10000", "web.1:10001"} {
		if services[id] == nil {
			t.Errorf("service %s missing; have %v", id, slices.Sorted(maps.Keys(services)))
		}
	}
	got := services["web.1:10001"]
	if got.Service != "web-10001" || got.Port != h.port+1 || got.Address != "127.0.0.1" || !slices.Equal(got.Tags, []string{"stadion"}) ||
		got.Meta[MetaTaskID] != "web.1" {
		t.Errorf("web.1:10001 registered as %+v", got)
	}

	// Consul runs the mirrored check: passing, then critical when the task
	// answers 503, on both ports' services.
	eventually(t, consulTimeout, "both services passing", func() error {
		for _, id := range []string{"web.1:10000", "web.1:10001"} {
			if s := statusOf(t, client, id); s != api.HealthPassing {
				return fmt.Errorf("%s is %s", id, s)
			}
		}
		return nil
	})
	h.sick.Store(true)
	eventually(t, consulTimeout, "both services critical", func() error {
		for _, id := range []string{"web.1:10000", "web.1:10001"} {
			if s := statusOf(t, client, id); s != api.HealthCritical {
				return fmt.Errorf("%s is %s", id, s)
			}
		}
		return nil
	})

	// TTL mode: the same service again, now with a status check set from
	// the scheduler's results; the HTTP check is dropped.
	ttl := opts
	ttl.Health = HealthTTL
	want = Compute(snap(h.port+1), ttl)
	converge(t, reg, want)
	checks, err := client.Agent().Checks()
	if err != nil {
		t.Fatal(err)
	}
	if checks["web.1:10000:check0"] != nil || checks["web.1:10000:health"] == nil || checks["web.1:10000:health"].Status != api.HealthPassing {
		t.Errorf("checks after the switch to ttl: %v", checkStatuses(checks))
	}
	sick := Compute(snapshot(app(id("/web"), portDefs(10000, 10001), checks2(), tasks(with(task("web.1", "127.0.0.1", uint32(h.port), uint32(h.port+1)), results(false))))), ttl)
	cur, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := Diff(sick, cur)
	if len(p.Update) != 2 || len(p.Register) != 0 {
		t.Fatalf("plan %+v, want 2 status updates only", planOf(p))
	}
	if err := reg.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	if s := statusOf(t, client, "web.1:10001"); s != api.HealthCritical {
		t.Errorf("after the update web.1:10001 is %s, want critical", s)
	}
	if err := reg.Refresh(ctx, p.Update); err != nil {
		t.Errorf("refresh: %v", err)
	}

	// The task goes: our services go, the others stay.
	converge(t, reg, Desired{})
	services, err = client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if ids := slices.Sorted(maps.Keys(services)); !slices.Equal(ids, []string{"hand-made", "web.9:10000"}) {
		t.Errorf("services left %v, want only the ones we do not own", ids)
	}
}

// checks2 is the app's health check of TestAgentRegistry.
func checks2() appOpt { return checks(healthCheck(marathon.ProtocolHTTP, 0, "/health")) }

func checkStatuses(m map[string]*api.AgentCheck) map[string]string {
	out := map[string]string{}
	for id, c := range m {
		out[id] = c.Status
	}
	return out
}

func TestCatalogRegistry(t *testing.T) {
	_, client := startConsul(t)
	reg := &catalogRegistry{c: client, owner: "stadion", log: testLogger(t)}
	ctx := context.Background()
	health := checks(healthCheck(marathon.ProtocolHTTP, 0, "/health"))

	two := Compute(snapshot(app(id("/web"), portDefs(10000), health, tasks(
		with(task("web.1", "h1", 31000), results(true)),
		with(task("web.2", "h2", 31000), results(false)),
	))), catalogOpts())
	if n := converge(t, reg, two); n != 1 {
		t.Errorf("converged in %d applies, want 1", n)
	}
	entries, _, err := client.Health().Service("web", "stadion", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Node.Node+" "+e.Service.ID+" "+e.Service.Address+":"+strconv.Itoa(e.Service.Port)] = e.Checks.AggregatedStatus()
		if e.Node.Meta[MetaOwner] != "stadion" || e.Node.Address == "" {
			t.Errorf("node %s: meta %v address %q", e.Node.Node, e.Node.Meta, e.Node.Address)
		}
	}
	want := map[string]string{
		"stadion-h1 web.1:10000 h1:31000": api.HealthPassing,
		"stadion-h2 web.2:10000 h2:31000": api.HealthCritical,
	}
	if !maps.Equal(got, want) {
		t.Errorf("catalog %v, want %v", got, want)
	}

	// web.2 turns healthy: one check update, no registration.
	well := Compute(snapshot(app(id("/web"), portDefs(10000), health, tasks(
		with(task("web.1", "h1", 31000), results(true)),
		with(task("web.2", "h2", 31000), results(true)),
	))), catalogOpts())
	cur, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := Diff(well, cur); len(p.Update) != 1 || len(p.Register) != 0 || len(p.Deregister) != 0 {
		t.Errorf("plan %+v, want one update", planOf(p))
	}
	converge(t, reg, well)
	if e, _, _ := client.Health().Service("web", "", true, nil); len(e) != 2 {
		t.Errorf("%d passing instances of web, want 2", len(e))
	}

	// Someone else's service on our node h1 keeps the node; h2 goes.
	if _, err := client.Catalog().Register(&api.CatalogRegistration{Node: "stadion-h1", Address: "h1", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "hand-made", Service: "other", Port: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	converge(t, reg, Desired{})
	nodes, _, err := client.Catalog().Nodes(nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Node)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"stadion-h1", "testenv"}) {
		t.Errorf("nodes %v, want stadion-h1 (it has someone else's service) and the agent's", names)
	}
	if e, _, _ := client.Catalog().Service("other", "", nil); len(e) != 1 {
		t.Errorf("someone else's service: %d instances, want 1", len(e))
	}
}
