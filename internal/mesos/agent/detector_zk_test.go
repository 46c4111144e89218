package agent

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/testenv"
)

// announce writes a master's json.info_ node into the group, as a Mesos
// master does, and returns the node's path.
func announce(t *testing.T, conn *gozk.Conn, m *fakeMaster, id string) string {
	t.Helper()
	u, err := url.Parse(m.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	data, err := json.Marshal(mesos.MasterInfo{ID: id, Port: uint32(port), Hostname: "127.0.0.1",
		Address: &mesos.Address{IP: "127.0.0.1", Port: int32(port)}})
	if err != nil {
		t.Fatal(err)
	}
	path, err := conn.Create("/mesos/json.info_", data, gozk.FlagEphemeral|gozk.FlagSequence, gozk.WorldACL(gozk.PermAll))
	if err != nil {
		t.Fatalf("announce master: %v", err)
	}
	return path
}

func TestFollowsLeaderInZooKeeper(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper")
	}
	z := testenv.StartZooKeeper(t)
	conn, _, err := gozk.Connect([]string{z.Addr}, 5*time.Second, gozk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/mesos", nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	first, second := newFakeMaster(t), newFakeMaster(t)
	node := announce(t, conn, first, "master-1")

	a := startAgent(t, first, func(c *Config) { c.Master = "zk://" + z.Addr + "/mesos" })
	if reg := first.nextRegister(t); reg.AgentID != "" {
		t.Fatalf("first registration with agent id %q", reg.AgentID)
	}
	run(t, a, shellTask("t1", "sleep 30"))
	first.expectAck(t, a, "t1", mesos.TaskStarting)
	first.expectAck(t, a, "t1", mesos.TaskRunning)

	// The leader changes: the agent reregisters with the new one, with its
	// task.
	announce(t, conn, second, "master-2")
	if err := conn.Delete(node, -1); err != nil {
		t.Fatal(err)
	}
	reg := second.nextRegister(t)
	if reg.AgentID != "agent-1" || len(reg.Tasks) != 1 || reg.Tasks[0].Status.State != mesos.TaskRunning {
		t.Fatalf("reregistration with the new leader = %+v", reg)
	}
	kill(t, a, "t1", 0)
	second.expectAck(t, a, "t1", mesos.TaskKilling)
	second.expectAck(t, a, "t1", mesos.TaskKilled)
}
