package registrator

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/testenv"
)

// runRegistrator runs Run until the test ends; the returned func stops it
// and returns Run's error.
func runRegistrator(t *testing.T, cfg Config) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(consulTimeout):
				err = fmt.Errorf("Run did not return within %v of the cancellation", consulTimeout)
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return stop
}

// agentServices returns the services on the agent by id: "name address:port status".
func agentServices(c *api.Client) (map[string]string, error) {
	services, err := c.Agent().Services()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for id, s := range services {
		status, _, err := c.Agent().AgentHealthServiceByID(id)
		if err != nil {
			return nil, err
		}
		out[id] = fmt.Sprintf("%s %s:%d %s", s.Service, s.Address, s.Port, status)
	}
	return out, nil
}

// wantServices waits until the agent holds exactly want.
func wantServices(t *testing.T, c *api.Client, what string, want map[string]string) {
	t.Helper()
	eventually(t, consulTimeout, what, func() error {
		got, err := agentServices(c)
		if err != nil {
			return err
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("services %v, want %v", got, want)
		}
		return nil
	})
}

func statusEvent(taskID string, s marathon.TaskState) marathon.Event {
	return &marathon.StatusUpdateEvent{TaskID: taskID, TaskStatus: s, AppID: "/web", Host: "127.0.0.1",
		EventMeta: marathon.Meta(marathon.EventStatusUpdate, time.Now())}
}

// TestRunAgent drives Run against a fake scheduler and a real Consul agent
// in TTL mode, with no periodic resync: every change comes from an event,
// a reconnection of the stream or Consul's return.
func TestRunAgent(t *testing.T) {
	consul, client := startConsul(t)
	if err := client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "hand-made", Name: "other", Port: 1}); err != nil {
		t.Fatal(err)
	}
	f := newFakeMarathon(t)
	health := checks(healthCheck(marathon.ProtocolHTTP, 0, "/health"))
	web := func(ts ...marathon.Task) marathon.AppInfo {
		a := app(id("/web"), portDefs(10000), health, tasks(ts...))
		a.App, _ = marathon.Normalize(a.App, marathon.NormalizeOptions{})
		return a
	}
	ok := func(id string, ports ...uint32) marathon.Task {
		return with(task(id, "127.0.0.1", ports...), results(true))
	}
	snapshotOf := func(ts ...marathon.Task) { f.setApps(web(ts...)) }
	// far.1 runs on another host: not ours to register.
	snapshotOf(ok("web.1", 31001), ok("web.2", 31002), with(task("far.1", "10.9.9.9", 31003), results(true)))

	stop := runRegistrator(t, Config{
		Schedulers:     []string{f.url()},
		Consul:         ConsulConfig{Address: consul.HTTPAddr},
		Hostnames:      []string{"127.0.0.1"},
		Health:         HealthTTL,
		ResyncInterval: time.Hour,
		RetryMin:       50 * time.Millisecond,
		RetryMax:       500 * time.Millisecond,
		Logger:         testLogger(t),
	})
	base := map[string]string{"hand-made": "other :1 passing"}
	ours := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	wantServices(t, client, "initial sync", ours(
		"web.1:10000", "web 127.0.0.1:31001 passing",
		"web.2:10000", "web 127.0.0.1:31002 passing",
	))

	t.Run("a task that starts is registered", func(t *testing.T) {
		snapshotOf(ok("web.1", 31001), ok("web.2", 31002), ok("web.3", 31004))
		f.publish(statusEvent("web.3", marathon.TaskRunning))
		wantServices(t, client, "web.3 registered", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.2:10000", "web 127.0.0.1:31002 passing",
			"web.3:10000", "web 127.0.0.1:31004 passing",
		))
	})

	t.Run("an event the API does not show yet is read again until it does", func(t *testing.T) {
		f.publish(statusEvent("web.4", marathon.TaskRunning))
		time.Sleep(300 * time.Millisecond)
		snapshotOf(ok("web.1", 31001), ok("web.2", 31002), ok("web.3", 31004), ok("web.4", 31005))
		wantServices(t, client, "web.4 registered", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.2:10000", "web 127.0.0.1:31002 passing",
			"web.3:10000", "web 127.0.0.1:31004 passing",
			"web.4:10000", "web 127.0.0.1:31005 passing",
		))
	})

	t.Run("a task that turns unhealthy turns critical", func(t *testing.T) {
		snapshotOf(ok("web.1", 31001), ok("web.2", 31002), with(task("web.3", "127.0.0.1", 31004), results(false)), ok("web.4", 31005))
		f.publish(&marathon.HealthStatusChangedEvent{AppID: "/web", InstanceID: "web.instance-3", TaskID: "web.3", Alive: false,
			EventMeta: marathon.Meta(marathon.EventHealthStatusChanged, time.Now())})
		wantServices(t, client, "web.3 critical", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.2:10000", "web 127.0.0.1:31002 passing",
			"web.3:10000", "web 127.0.0.1:31004 critical",
			"web.4:10000", "web 127.0.0.1:31005 passing",
		))
	})

	t.Run("a failed read keeps the last view and deregisters nothing", func(t *testing.T) {
		f.failApps(http.StatusBadGateway)
		snapshotOf(ok("web.1", 31001))
		before := f.appsCalls.Load()
		f.publish(statusEvent("web.2", marathon.TaskKilled))
		eventually(t, consulTimeout, "retries", func() error {
			if n := f.appsCalls.Load() - before; n < 4 {
				return fmt.Errorf("%d reads", n)
			}
			return nil
		})
		got, err := agentServices(client)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("services while the scheduler fails: %v, want all 4 of ours kept", got)
		}
		f.failApps(0)
		wantServices(t, client, "only web.1 once the scheduler answers", ours("web.1:10000", "web 127.0.0.1:31001 passing"))
	})

	t.Run("a bad task keeps its registration", func(t *testing.T) {
		snapshotOf(ok("web.1", 31001), ok("web.5", 31006))
		f.publish(statusEvent("web.5", marathon.TaskRunning))
		wantServices(t, client, "web.5 registered", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.5:10000", "web 127.0.0.1:31006 passing",
		))
		// web.5 now reports two ports for the app's one; web.6 is new.
		snapshotOf(ok("web.1", 31001), ok("web.5", 31006, 31007), ok("web.6", 31008))
		f.publish(statusEvent("web.6", marathon.TaskRunning))
		wantServices(t, client, "web.6 registered, web.5 kept", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.5:10000", "web 127.0.0.1:31006 passing",
			"web.6:10000", "web 127.0.0.1:31008 passing",
		))
	})

	t.Run("a reconnection of the stream reads a snapshot", func(t *testing.T) {
		// A change without its event (as if it were lost), then the
		// stream breaks.
		snapshotOf(ok("web.1", 31001))
		time.Sleep(200 * time.Millisecond)
		if got, _ := agentServices(client); len(got) != 4 {
			t.Fatalf("services %v changed without an event", got)
		}
		f.closeStreams()
		wantServices(t, client, "after the reconnection", ours("web.1:10000", "web 127.0.0.1:31001 passing"))
	})

	t.Run("consul down for a while loses nothing", func(t *testing.T) {
		consul.Stop(t)
		snapshotOf(ok("web.1", 31001), ok("web.7", 31009))
		f.publish(statusEvent("web.7", marathon.TaskRunning)) // while Consul is down
		time.Sleep(time.Second)
		consul.Start(t)
		// The agent keeps its services in its data dir, but its TTL
		// checks come back critical; web.7 started meanwhile.
		wantServices(t, client, "services back", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.7:10000", "web 127.0.0.1:31009 passing",
		))
	})

	t.Run("a service removed by hand comes back", func(t *testing.T) {
		if err := client.Agent().ServiceDeregister("web.7:10000"); err != nil {
			t.Fatal(err)
		}
		wantServices(t, client, "web.7 back", ours(
			"web.1:10000", "web 127.0.0.1:31001 passing",
			"web.7:10000", "web 127.0.0.1:31009 passing",
		))
	})

	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestRunCatalogResync: in catalog mode with no events, the periodic resync
// registers and removes.
func TestRunCatalogResync(t *testing.T) {
	consul, client := startConsul(t)
	f := newFakeMarathon(t)
	f.setApps(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000), task("web.2", "h2", 31000))))
	runRegistrator(t, Config{
		Schedulers:     []string{f.url()},
		Consul:         ConsulConfig{Address: consul.HTTPAddr},
		Mode:           ModeCatalog,
		ResyncInterval: 300 * time.Millisecond,
		RetryMin:       50 * time.Millisecond,
		RetryMax:       500 * time.Millisecond,
		Logger:         testLogger(t),
	})
	nodes := func() ([]string, error) {
		entries, _, err := client.Catalog().Service("web", "stadion", nil)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Node+"/"+e.ServiceID)
		}
		slices.Sort(out)
		return out, nil
	}
	wantNodes := func(what string, want ...string) {
		t.Helper()
		eventually(t, consulTimeout, what, func() error {
			got, err := nodes()
			if err != nil {
				return err
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("%v, want %v", got, want)
			}
			return nil
		})
	}
	wantNodes("both tasks", "stadion-h1/web.1:10000", "stadion-h2/web.2:10000")
	f.setApps(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000))))
	wantNodes("web.2 gone", "stadion-h1/web.1:10000")
	eventually(t, consulTimeout, "node stadion-h2 gone", func() error {
		n, _, err := client.Catalog().Node("stadion-h2", nil)
		if err != nil {
			return err
		}
		if n != nil {
			return fmt.Errorf("node still there with %d services", len(n.Services))
		}
		return nil
	})
}

func TestRunDryRun(t *testing.T) {
	consul, client := startConsul(t)
	f := newFakeMarathon(t)
	f.setApps(app(id("/web"), portDefs(10000), tasks(task("web.1", "127.0.0.1", 31000))))
	var logs testenv.Buffer
	stop := runRegistrator(t, Config{
		Schedulers: []string{f.url()},
		Consul:     ConsulConfig{Address: consul.HTTPAddr, Token: "secret-token-value"},
		Hostnames:  []string{"127.0.0.1"},
		DryRun:     true,
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	eventually(t, consulTimeout, "the dry run's intent", func() error {
		if !strings.Contains(logs.String(), "dry run: would register service") {
			return fmt.Errorf("logs:\n%s", logs.String())
		}
		return nil
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got, err := agentServices(client)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("the dry run registered %v", got)
	}
	if strings.Contains(logs.String(), "secret-token-value") {
		t.Error("the token appears in the logs")
	}
}

// TestRunMinFetchInterval: a burst of events, and the reads again that
// their expectations ask for, come no closer than MinFetchInterval.
func TestRunMinFetchInterval(t *testing.T) {
	consul, _ := startConsul(t)
	f := newFakeMarathon(t)
	f.setApps(app(id("/web"), portDefs(10000), tasks(task("web.1", "127.0.0.1", 31000))))
	runRegistrator(t, Config{
		Schedulers:       []string{f.url()},
		Consul:           ConsulConfig{Address: consul.HTTPAddr},
		Hostnames:        []string{"127.0.0.1"},
		MinFetchInterval: 300 * time.Millisecond,
		Logger:           testLogger(t),
	})
	eventually(t, consulTimeout, "the stream", func() error {
		if f.openStreams() == 0 {
			return fmt.Errorf("no stream")
		}
		return nil
	})
	time.Sleep(400 * time.Millisecond) // past the start-up reads
	before := f.appsCalls.Load()
	start := time.Now()
	// Tasks the snapshot never shows: every event is an expectation
	// that asks for reads again and again.
	for i := range 20 {
		f.publish(statusEvent(fmt.Sprintf("web.new%d", i), marathon.TaskRunning))
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	reads := f.appsCalls.Load() - before
	// At most one read per 300ms over the time elapsed, plus the first.
	if limit := int64(time.Since(start)/(300*time.Millisecond)) + 1; reads > limit || reads < 2 {
		t.Errorf("%d reads in %v, want 2 to %d", reads, time.Since(start), limit)
	}
}

// TestRunBadConfig: Run refuses a bad config at once.
func TestRunBadConfig(t *testing.T) {
	err := Run(context.Background(), Config{Schedulers: []string{"http://m1:8080"}, Mode: "dns"})
	if err == nil || !strings.Contains(err.Error(), "mode") {
		t.Errorf("Run = %v, want the mode error", err)
	}
}

// TestRunSchedulerDownAtStart: with no snapshot ever read, nothing is
// registered or removed, and Run keeps trying.
func TestRunSchedulerDownAtStart(t *testing.T) {
	consul, client := startConsul(t)
	if err := client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web.1:10000", Name: "web", Port: 1,
		Meta: map[string]string{MetaOwner: "stadion"}}); err != nil {
		t.Fatal(err)
	}
	f := newFakeMarathon(t)
	f.failApps(http.StatusServiceUnavailable)
	runRegistrator(t, Config{
		Schedulers: []string{f.url()},
		Consul:     ConsulConfig{Address: consul.HTTPAddr},
		Hostnames:  []string{"127.0.0.1"},
		RetryMin:   20 * time.Millisecond,
		RetryMax:   100 * time.Millisecond,
		Logger:     testLogger(t),
	})
	eventually(t, consulTimeout, "retries", func() error {
		if n := f.appsCalls.Load(); n < 5 {
			return fmt.Errorf("%d reads", n)
		}
		return nil
	})
	if got, _ := agentServices(client); len(got) != 1 {
		t.Errorf("services %v, want the owned one untouched", got)
	}
	f.failApps(0) // an empty scheduler: now it goes
	wantServices(t, client, "owned service removed", map[string]string{})
}

// TestRunSeedsChecks: with --health checks the Consul agent runs the
// app's HTTP check, but staggers its first run over up to one interval
// (an hour here). A task the scheduler already counts healthy must not
// wait for it: its check is seeded passing, so a rolling upgrade that
// kills old tasks for it never leaves the balancer without a backend.
func TestRunSeedsChecks(t *testing.T) {
	consul, client := startConsul(t)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	port := uint32(srv.Listener.Addr().(*net.TCPAddr).Port)
	f := newFakeMarathon(t)
	hc := healthCheck(marathon.ProtocolHTTP, 0, "/health")
	hc.IntervalSeconds = 3600
	web := func(ts ...marathon.Task) marathon.AppInfo {
		a := app(id("/web"), portDefs(10000), checks(hc), tasks(ts...))
		a.App, _ = marathon.Normalize(a.App, marathon.NormalizeOptions{})
		return a
	}
	f.setApps(web(task("web.1", "127.0.0.1", port))) // running, no result yet

	runRegistrator(t, Config{
		Schedulers:     []string{f.url()},
		Consul:         ConsulConfig{Address: consul.HTTPAddr},
		Hostnames:      []string{"127.0.0.1"},
		Health:         HealthChecks,
		ResyncInterval: time.Hour,
		RetryMin:       50 * time.Millisecond,
		RetryMax:       500 * time.Millisecond,
		Logger:         testLogger(t),
	})
	check := func() (*api.AgentCheck, error) {
		checks, err := client.Agent().Checks()
		if err != nil {
			return nil, err
		}
		c := checks["web.1:10000:check0"]
		if c == nil {
			return nil, fmt.Errorf("no check web.1:10000:check0 in %v", slices.Collect(maps.Keys(checks)))
		}
		return c, nil
	}
	eventually(t, consulTimeout, "registered, critical, not run", func() error {
		c, err := check()
		if err != nil {
			return err
		}
		if c.Status != api.HealthCritical || c.Output != "" {
			return fmt.Errorf("check %s %q, want critical and not run", c.Status, c.Output)
		}
		return nil
	})

	f.setApps(web(with(task("web.1", "127.0.0.1", port), results(true))))
	f.publish(&marathon.HealthStatusChangedEvent{AppID: "/web", InstanceID: "web.1", TaskID: "web.1", Alive: true,
		EventMeta: marathon.Meta(marathon.EventHealthStatusChanged, time.Now())})
	eventually(t, consulTimeout, "seeded passing", func() error {
		c, err := check()
		if err != nil {
			return err
		}
		if c.Status != api.HealthPassing {
			return fmt.Errorf("check %s %q, want passing", c.Status, c.Output)
		}
		// Still the app's check, which Consul goes on running.
		if c.Type != "http" {
			return fmt.Errorf("seeded check of type %q, want the app's http check", c.Type)
		}
		return nil
	})
}
