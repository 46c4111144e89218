package local_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/internal/zk"
)

// zkCluster is two masters contending in ZooKeeper and one agent that finds
// the leader there, as a production Mesos cluster runs.
type zkCluster struct {
	zkURL   string
	leader  *master.Master
	standby *master.Master
	agent   *agent.Agent
}

func startZKCluster(t *testing.T) *zkCluster {
	t.Helper()
	z := testenv.StartZooKeeper(t)
	base := clusterConfig(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &zkCluster{zkURL: z.URL("/mesos")}

	startMaster := func(name string) *master.Master {
		cfg := base.Master
		cfg.ZK = c.zkURL
		cfg.ZKSessionTimeout = 2 * time.Second
		cfg.WorkDir = t.TempDir()
		cfg.Logger = base.Logger.With("component", name)
		m, err := master.Start(ctx, cfg)
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		t.Cleanup(m.Stop)
		return m
	}
	// The first master to join leads: wait until it serves before the
	// second one joins.
	c.leader = startMaster("master-1")
	poll(t, "the first master to lead", func() error {
		_, err := httpGet(c.leader.URL() + "/master/state")
		return err
	})
	c.standby = startMaster("master-2")
	poll(t, "the standby to know the leader", func() error {
		_, err := httpGet(c.standby.URL() + "/master/state") // follows the 307
		return err
	})

	acfg := base.Agent
	acfg.Master = c.zkURL
	acfg.WorkDir = t.TempDir()
	a, err := agent.Start(ctx, acfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(); <-a.Done() })
	select {
	case <-a.Registered():
	case <-time.After(waitFor):
		t.Fatal("agent did not register through ZooKeeper")
	}
	c.agent = a
	return c
}

func TestStandbyRedirectsToLeader(t *testing.T) {
	c := startZKCluster(t)
	// The standby answers 307 with the leader's address, protocol-relative.
	req, _ := http.NewRequest(http.MethodPost, c.standby.URL()+"/api/v1/scheduler", nil)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	info := c.leader.Info()
	want := "//" + info.Hostname + ":" + strconv.Itoa(int(info.Port)) + "/master/api/v1/scheduler"
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("standby answered %d Location %q, want 307 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// A scheduler pointed at the standby follows the redirect and subscribes
	// with the leader.
	s := startScheduler(t, c.standby.URL(), framework(60, mesos.CapabilityPartitionAware), &memStore{})
	sub := s.subscribed()
	if sub.MasterInfo == nil || sub.MasterInfo.ID != c.leader.ID() {
		t.Fatalf("subscribed with master %+v, want the leader %s", sub.MasterInfo, c.leader.ID())
	}
	s.launch(s.offer(""), commandTask("redirected", "sleep 30"))
	s.update("redirected", mesos.TaskRunning)
}

func TestMasterFailoverThroughZooKeeper(t *testing.T) {
	c := startZKCluster(t)
	servers, path, err := zk.ParseURL(c.zkURL)
	if err != nil {
		t.Fatal(err)
	}
	det, err := zk.NewMasterDetector(zk.MasterDetectorConfig{Servers: servers, Path: path, Logger: testLogger(t).With("component", "detector")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { det.Close() })
	store := &memStore{}
	client, err := mesos.New(mesos.Config{
		Detector:   det,
		Framework:  framework(60, mesos.CapabilityPartitionAware),
		Store:      store,
		MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond,
		Logger:     testLogger(t).With("component", "client"),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := runScheduler(t, client)
	first := s.subscribed()
	if first.MasterInfo.ID != c.leader.ID() {
		t.Fatalf("subscribed with %s, want the leader %s", first.MasterInfo.ID, c.leader.ID())
	}
	offer := s.offer("")
	s.launch(offer, commandTask("survivor", "sleep 30"))
	s.update("survivor", mesos.TaskRunning)

	// The leader goes; the standby is elected, the agent reregisters with it
	// and the scheduler finds it through ZooKeeper.
	c.leader.Stop()
	again := s.subscribed()
	if again.MasterInfo.ID != c.standby.ID() || again.FrameworkID != first.FrameworkID {
		t.Fatalf("resubscribed to %s as %s, want %s as %s", again.MasterInfo.ID, again.FrameworkID.Value, c.standby.ID(), first.FrameworkID.Value)
	}
	reconcileRunning(t, s, "survivor", offer.AgentID)
	if err := s.client.Kill(context.Background(), mesos.TaskID{Value: "survivor"}, &offer.AgentID, nil); err != nil {
		t.Fatal(err)
	}
	s.update("survivor", mesos.TaskKilled)
}
