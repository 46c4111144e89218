package local_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/testenv"
)

// waitFor bounds every wait of these tests; nothing here should take long.
const waitFor = 20 * time.Second

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// clusterConfig is a fast-paced cluster: short pings and retries so that
// failures show within a second.
func clusterConfig(t testing.TB, agents int) local.Config {
	log := testLogger(t)
	// Task ports of this test alone: a DOCKER task binds its host port,
	// which another test's task may hold.
	lo, hi := testenv.TaskPorts(t, 101)
	return local.Config{
		Agents:  agents,
		WorkDir: t.TempDir(),
		Master: master.Config{
			AgentPingTimeout:     100 * time.Millisecond,
			MaxAgentPingTimeouts: 3,
			AllocationInterval:   50 * time.Millisecond,
			HeartbeatInterval:    200 * time.Millisecond,
			Logger:               log.With("component", "master"),
		},
		Agent: agent.Config{
			Resources:      fmt.Sprintf("cpus:2;mem:1024;disk:1024;ports:[%d-%d]", lo, hi),
			StatusRetryMin: 200 * time.Millisecond,
			StatusRetryMax: time.Second,
			Logger:         log.With("component", "agent"),
		},
		Logger: log,
	}
}

func startCluster(t *testing.T, cfg local.Config) *local.Cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := local.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		c.Stop()
		cancel()
	})
	return c
}

// memStore keeps a framework id in memory, as a scheduler's state store would.
type memStore struct {
	mu sync.Mutex
	id string
}

func (s *memStore) LoadFrameworkID(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, nil
}

func (s *memStore) SaveFrameworkID(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.id = id
	return nil
}

func framework(failover float64, capabilities ...string) mesos.FrameworkInfo {
	fw := mesos.FrameworkInfo{User: "root", Name: "stadion-test", FailoverTimeout: &failover}
	for _, c := range capabilities {
		fw.Capabilities = append(fw.Capabilities, mesos.Capability{Type: c})
	}
	return fw
}

// scheduler drives a mesos.Client the way a framework does and lets the test
// wait for the events it expects.
type scheduler struct {
	t       *testing.T
	client  *mesos.Client
	events  chan mesos.Event
	cancel  context.CancelFunc
	done    chan error
	autoAck bool
}

func startScheduler(t *testing.T, masterURL string, fw mesos.FrameworkInfo, store mesos.FrameworkIDStore) *scheduler {
	t.Helper()
	det, err := mesos.StaticDetector(masterURL)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mesos.New(mesos.Config{
		Detector:   det,
		Framework:  fw,
		Store:      store,
		MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond,
		Logger:     testLogger(t).With("component", "client"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return runScheduler(t, client)
}

// runScheduler runs client until the test ends.
func runScheduler(t *testing.T, client *mesos.Client) *scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &scheduler{t: t, client: client, events: make(chan mesos.Event, 1024), cancel: cancel, done: make(chan error, 1), autoAck: true}
	go func() { s.done <- client.Run(ctx, s.events) }()
	t.Cleanup(s.stop)
	return s
}

// stop ends the scheduler's subscription, as a scheduler process that exits.
func (s *scheduler) stop() {
	s.cancel()
	<-s.done
	s.done <- context.Canceled // keep stop idempotent
}

// next returns the first event that match accepts, acknowledging every update
// with a uuid on the way when autoAck is set.
func (s *scheduler) next(what string, match func(mesos.Event) bool) mesos.Event {
	s.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		select {
		case ev := <-s.events:
			if s.autoAck && ev.Type == mesos.EventUpdate && len(ev.Update.Status.UUID) > 0 {
				if err := s.client.Acknowledge(context.Background(), ev.Update.Status); err != nil {
					s.t.Fatalf("acknowledge %s: %v", ev.Update.Status.State, err)
				}
			}
			if match(ev) {
				return ev
			}
		case err := <-s.done:
			s.done <- err
			s.t.Fatalf("waiting for %s: client stopped: %v", what, err)
		case <-deadline.C:
			s.t.Fatalf("no %s within %v", what, waitFor)
		}
	}
}

func (s *scheduler) subscribed() mesos.Subscribed {
	s.t.Helper()
	return *s.next("SUBSCRIBED", func(ev mesos.Event) bool { return ev.Type == mesos.EventSubscribed }).Subscribed
}

func (s *scheduler) offer(agentID string) mesos.Offer {
	s.t.Helper()
	var found mesos.Offer
	s.next("an offer", func(ev mesos.Event) bool {
		if ev.Type != mesos.EventOffers {
			return false
		}
		for _, o := range ev.Offers.Offers {
			if agentID == "" || o.AgentID.Value == agentID {
				found = o
				return true
			}
		}
		return false
	})
	return found
}

func (s *scheduler) update(taskID string, state mesos.TaskState) mesos.TaskStatus {
	s.t.Helper()
	ev := s.next(fmt.Sprintf("%s for %s", state, taskID), func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == taskID && ev.Update.Status.State == state
	})
	return ev.Update.Status
}

func (s *scheduler) launch(offer mesos.Offer, tasks ...mesos.TaskInfo) {
	s.t.Helper()
	for i := range tasks {
		tasks[i].AgentID = offer.AgentID
	}
	if err := s.client.Launch(context.Background(), []mesos.OfferID{offer.ID}, tasks, nil); err != nil {
		s.t.Fatalf("launch: %v", err)
	}
}

func commandTask(id, command string) mesos.TaskInfo {
	return mesos.TaskInfo{
		Name:    id,
		TaskID:  mesos.TaskID{Value: id},
		Command: &mesos.CommandInfo{Value: &command},
		Resources: mesos.Resources{
			{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.1}},
			{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 32}},
		},
	}
}

// proxy is a TCP forwarder whose connections the test can cut, to drop a
// scheduler's subscription without touching the master.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { io.Copy(out, in); out.Close() }()
		go func() { io.Copy(in, out); in.Close() }()
	}
}

// cut closes every connection through the proxy.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// poll calls check until it returns nil or the deadline passes.
func poll(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

var errNotYet = errors.New("not yet")

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}
