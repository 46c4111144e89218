package zk

import (
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// nextElection waits for an Election on ch that satisfies ok.
func nextElection(t *testing.T, what string, ch <-chan Election[LeaderInfo], ok func(Election[LeaderInfo]) bool) Election[LeaderInfo] {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, open := <-ch:
			if !open {
				t.Fatalf("%s: changes closed", what)
			}
			if ok(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: not within 20s", what)
		}
	}
}

func startElector(t *testing.T, servers []string, hostPort string) *Elector {
	t.Helper()
	e, err := NewElector(ElectorConfig{
		Servers: servers, Path: "/stadion/leader", SessionTimeout: 4 * time.Second,
		Info: LeaderInfo{HostPort: hostPort}, Logger: testLogger(t).With("member", hostPort),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestElector elects the first of three schedulers, moves leadership to
// the next when the leader leaves, and to the back of the line when the
// leader abdicates.
func TestElector(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	a := startElector(t, z.Servers(), "a:8080")
	nextElection(t, "a elected", a.Changes(), func(e Election[LeaderInfo]) bool { return e.Elected && e.Leader.HostPort == "a:8080" })
	b := startElector(t, z.Servers(), "b:8080")
	c := startElector(t, z.Servers(), "c:8080")
	for name, el := range map[string]*Elector{"b": b, "c": c} {
		got := nextElection(t, name+" follows a", el.Changes(), func(e Election[LeaderInfo]) bool { return e.Leader.HostPort != "" })
		if got.Elected || got.Leader.URL() != "http://a:8080" {
			t.Fatalf("%s sees %+v, want a leading", name, got)
		}
	}

	if err := a.Abdicate(); err != nil {
		t.Fatal(err)
	}
	// b and c joined concurrently: the one with the lower node is next.
	next, last := b, c
	if c.Node() < b.Node() {
		next, last = c, b
	}
	nextHost := next.info.HostPort
	nextElection(t, nextHost+" elected after a abdicated", next.Changes(), func(e Election[LeaderInfo]) bool { return e.Elected })
	nextElection(t, "the other follows "+nextHost, last.Changes(), func(e Election[LeaderInfo]) bool { return e.Leader.HostPort == nextHost })
	nextElection(t, "a follows "+nextHost, a.Changes(), func(e Election[LeaderInfo]) bool { return !e.Elected && e.Leader.HostPort == nextHost })

	if err := next.Close(); err != nil {
		t.Fatal(err)
	}
	// a rejoined behind both, so the other one is next.
	nextElection(t, last.info.HostPort+" elected after "+nextHost+" left", last.Changes(), func(e Election[LeaderInfo]) bool { return e.Elected })
	nextElection(t, "a follows "+last.info.HostPort, a.Changes(), func(e Election[LeaderInfo]) bool { return e.Leader.HostPort == last.info.HostPort })
}

func TestElectorConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  ElectorConfig
		ok   bool
	}{
		{name: "ok", cfg: ElectorConfig{Servers: []string{"127.0.0.1:2181"}, Path: "/stadion/leader", Info: LeaderInfo{HostPort: "h:8080"}}, ok: true},
		{name: "no host:port", cfg: ElectorConfig{Servers: []string{"127.0.0.1:2181"}, Path: "/stadion/leader"}},
		{name: "no servers", cfg: ElectorConfig{Path: "/stadion/leader", Info: LeaderInfo{HostPort: "h:8080"}}},
		{name: "relative path", cfg: ElectorConfig{Servers: []string{"127.0.0.1:2181"}, Path: "stadion", Info: LeaderInfo{HostPort: "h:8080"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
