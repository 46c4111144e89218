package zk

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/testenv"
)

func masterInfo(id string, port int32) mesos.MasterInfo {
	return mesos.MasterInfo{
		ID:       id,
		IP:       16777343,
		Port:     uint32(port),
		PID:      "master@127.0.0.1:" + strconv.Itoa(int(port)),
		Hostname: "127.0.0.1",
		Version:  "1.12.0",
		Address:  &mesos.Address{Hostname: "127.0.0.1", IP: "127.0.0.1", Port: port},
	}
}

func startContender(t *testing.T, servers []string, info mesos.MasterInfo, timeout time.Duration) *MasterContender {
	t.Helper()
	c, err := NewMasterContender(MasterContenderConfig{
		Servers:        servers,
		Path:           "/stadion/mesos",
		SessionTimeout: timeout,
		Info:           info,
		Logger:         testLogger(t).With("master_id", info.ID),
	})
	if err != nil {
		t.Fatalf("NewMasterContender: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func elected(l Leadership) bool { return l.Elected }

func following(info mesos.MasterInfo) func(Leadership) bool {
	return func(l Leadership) bool { return !l.Elected && cmp.Equal(l.Leader, info) }
}

// infoNodes lists the group's json.info_ children, lowest sequence first.
func infoNodes(t *testing.T, conn *zk.Conn, path string) []string {
	t.Helper()
	children, _, err := conn.Children(path)
	if err != nil {
		t.Fatalf("list %s: %v", path, err)
	}
	var nodes []string
	for _, c := range children {
		if _, ok := sequence(c, infoPrefix); ok {
			nodes = append(nodes, c)
		}
	}
	slices.SortFunc(nodes, func(a, b string) int {
		x, _ := sequence(a, infoPrefix)
		y, _ := sequence(b, infoPrefix)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return nodes
}

func TestContendersElectInOrder(t *testing.T) {
	z := startZK(t)
	a, b := masterInfo("master-a", 5050), masterInfo("master-b", 5051)

	ca := startContender(t, z.Servers(), a, 0)
	if got := waitFor(t, ca.Changes(), "a elected", elected); !cmp.Equal(got.Leader, a) {
		t.Fatalf("elected a reports leader %+v", got.Leader)
	}
	cb := startContender(t, z.Servers(), b, 0)
	waitFor(t, cb.Changes(), "b following a", following(a))

	// The nodes are what a Mesos master writes, so a detector (ours or
	// a Mesos-aware tool) finds a.
	conn := rawConn(t, z.Servers())
	nodes := infoNodes(t, conn, "/stadion/mesos")
	if len(nodes) != 2 {
		t.Fatalf("group holds %q, want two json.info_ nodes", nodes)
	}
	data, _, err := conn.Get("/stadion/mesos/" + nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(a)
	if string(data) != string(want) {
		t.Fatalf("leader's node holds %s, want %s", data, want)
	}
	d := newDetector(t, z.Servers(), "/stadion/mesos")
	if got := leaderInfo(t, d); !cmp.Equal(got, a) {
		t.Fatalf("detector sees %+v, want a", got)
	}

	if err := ca.Close(); err != nil {
		t.Fatalf("close a: %v", err)
	}
	if got := waitFor(t, cb.Changes(), "b elected after a leaves", elected); !cmp.Equal(got.Leader, b) {
		t.Fatalf("elected b reports leader %+v", got.Leader)
	}
	waitFor(t, d.Changes(), "detector sees b", func(m mesos.MasterInfo) bool { return cmp.Equal(m, b) })

	if err := cb.Close(); err != nil {
		t.Fatalf("close b: %v", err)
	}
	if nodes := infoNodes(t, conn, "/stadion/mesos"); len(nodes) != 0 {
		t.Fatalf("group holds %q after both closed, want nothing", nodes)
	}
	if _, open := <-cb.Changes(); open {
		t.Fatal("Changes still open after Close")
	}
}

func TestContenderRejoinsAfterSessionExpiry(t *testing.T) {
	z := startZK(t)
	px := testenv.StartProxy(t, z.Addr)
	a, b := masterInfo("master-a", 5050), masterInfo("master-b", 5051)

	// a reaches ZooKeeper through the proxy, with a short session.
	ca := startContender(t, []string{px.Addr}, a, 2*time.Second)
	waitFor(t, ca.Changes(), "a elected", elected)
	cb := startContender(t, z.Servers(), b, 0)
	waitFor(t, cb.Changes(), "b following a", following(a))

	conn := rawConn(t, z.Servers())
	before := infoNodes(t, conn, "/stadion/mesos")

	// Cut a off: ZooKeeper expires its session and drops its node, b
	// takes over, and a stops claiming leadership on its own.
	px.Cut()
	waitFor(t, cb.Changes(), "b elected once a's session expired", elected)
	waitFor(t, ca.Changes(), "a no longer elected", func(l Leadership) bool { return !l.Elected })

	// Back online, a learns its session expired and rejoins at the back.
	px.Heal()
	waitFor(t, ca.Changes(), "a following b", following(b))
	after := infoNodes(t, conn, "/stadion/mesos")
	if len(after) != 2 || after[0] != before[1] {
		t.Fatalf("group %q after a rejoined, want b's %s first and a new node for a", after, before[1])
	}
	if slices.Contains(before, after[1]) {
		t.Fatalf("a's node %s is not new (before: %q)", after[1], before)
	}
	data, _, err := conn.Get("/stadion/mesos/" + after[1])
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(a); string(data) != string(want) {
		t.Fatalf("a's new node holds %s, want %s", data, want)
	}
}
