package zkstore

import (
	"fmt"
	"log/slog"
	"path"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/zk"
)

// rawConn opens a plain ZooKeeper session for reading and writing nodes by
// hand, and waits until it is established.
func rawConn(t testing.TB, servers []string) *gozk.Conn {
	t.Helper()
	conn, events, err := zk.Connect(servers, 10*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(conn.Close)
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev := <-events:
			if ev.State == gozk.StateHasSession {
				return conn
			}
		case <-deadline:
			t.Fatal("no zookeeper session")
		}
	}
}

// walk reads every node under p into path → data.
func walk(t testing.TB, conn *gozk.Conn, p string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var visit func(p string)
	visit = func(p string) {
		data, _, err := conn.Get(p)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		out[p] = data
		children, _, err := conn.Children(p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		for _, c := range children {
			visit(path.Join(p, c))
		}
	}
	visit(p)
	return out
}

// epoch is the time of version 0.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ts returns version n.
func ts(n int) marathon.Timestamp {
	return marathon.NewTimestamp(epoch.Add(time.Duration(n) * time.Second))
}

// testApp returns an app at a version.
func testApp(id marathon.PathID, version marathon.Timestamp) marathon.App {
	a := marathon.NewApp(id)
	a.Cmd = "serve"
	a.Instances = 1
	a.Version = version
	return a
}

// testInstance returns a running instance of appID; name tells them apart.
func testInstance(appID marathon.PathID, version marathon.Timestamp, name string) state.Instance {
	id := appID.TaskPrefix() + ".instance-" + name
	return state.Instance{
		ID:          id,
		AppID:       appID,
		AppVersion:  version,
		Goal:        state.GoalRunning,
		Incarnation: 1,
		TaskID:      id + "._app.1",
		State:       mesos.TaskRunning,
		AgentID:     "agent-1",
		Hostname:    "host-1",
		HostPorts:   []uint32{31000},
		StartedAt:   epoch,
	}
}

// testInstances returns count instances named prefix-0 ... prefix-<count-1>.
func testInstances(appID marathon.PathID, version marathon.Timestamp, prefix string, count int) []state.Instance {
	out := make([]state.Instance, count)
	for i := range out {
		out[i] = testInstance(appID, version, fmt.Sprintf("%s-%05d", prefix, i))
	}
	return out
}

// waitUntil polls cond every 20ms until it holds, failing the test after
// waitTimeout.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %s", what, waitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
