package zk

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Node data exactly as Mesos 1.12 masters write it (compact JSON, keys
// sorted), from the reference's capture of two masters on one ZooKeeper.
const (
	master5060 = `{"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":5060},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}],"hostname":"127.0.0.1","id":"d663d45e-332c-4e52-a912-04436c1c3d94","ip":16777343,"pid":"master@127.0.0.1:5060","port":5060,"version":"1.12.0"}`
	master5061 = `{"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":5061},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}],"hostname":"127.0.0.1","id":"0b5c3bb7-8f2e-4d0c-9d51-5b9f3c2d7e11","ip":16777343,"pid":"master@127.0.0.1:5061","port":5061,"version":"1.12.0"}`
	master5062 = `{"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":5062},"hostname":"127.0.0.1","id":"5d1f0f5e-1111-4c1e-8a8e-0a3b2c1d0e0f","ip":16777343,"pid":"master@127.0.0.1:5062","port":5062,"version":"1.12.0"}`
)

func newDetector(t *testing.T, servers []string, path string) *MasterDetector {
	t.Helper()
	d, err := NewMasterDetector(MasterDetectorConfig{Servers: servers, Path: path, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("NewMasterDetector: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func leaderInfo(t *testing.T, d *MasterDetector) mesos.MasterInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	info, err := d.LeaderInfo(ctx)
	if err != nil {
		t.Fatalf("LeaderInfo: %v", err)
	}
	return info
}

func hasPort(port int32) func(mesos.MasterInfo) bool {
	return func(m mesos.MasterInfo) bool { return m.Address != nil && m.Address.Port == port }
}

func isNone(m mesos.MasterInfo) bool { return cmp.Equal(m, mesos.MasterInfo{}) }

func TestDetectorFollowsLowestSequence(t *testing.T) {
	z := startZK(t)
	conn := rawConn(t, z.Servers())

	// The group as two Mesos masters leave it, plus a third: the replicated
	// log's persistent child with a sequence node of binary data, and
	// non-contiguous sequence numbers.
	mustCreate(t, conn, "/mesos", nil, zk.FlagPersistent)
	mustCreate(t, conn, "/mesos/log_replicas", nil, zk.FlagPersistent)
	mustCreate(t, conn, "/mesos/log_replicas/0000000007", []byte{0x08, 0x96, 0x01}, zk.FlagPersistent)
	mustCreate(t, conn, "/mesos/json.info_0000000012", []byte(master5062), zk.FlagEphemeral)
	mustCreate(t, conn, "/mesos/json.info_0000000002", []byte(master5060), zk.FlagEphemeral)
	mustCreate(t, conn, "/mesos/json.info_0000000009", []byte(master5061), zk.FlagEphemeral)

	d := newDetector(t, z.Servers(), "/mesos")
	info := leaderInfo(t, d)
	if diff := cmp.Diff(mustMasterInfo(t, master5060), info); diff != "" {
		t.Fatalf("leader (-want +got):\n%s", diff)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if got, err := d.Leader(ctx); err != nil || got != "http://127.0.0.1:5060" {
		t.Fatalf("Leader = %q, %v; want http://127.0.0.1:5060", got, err)
	}
	waitFor(t, d.Changes(), "leader 5060 on Changes", hasPort(5060))

	if err := conn.Delete("/mesos/json.info_0000000002", -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d.Changes(), "leader 5061 after 5060's node is deleted", hasPort(5061))
	if got := leaderInfo(t, d); !hasPort(5061)(got) {
		t.Fatalf("LeaderInfo after the change = %+v, want port 5061", got)
	}

	for _, n := range []string{"json.info_0000000009", "json.info_0000000012"} {
		if err := conn.Delete("/mesos/"+n, -1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, d.Changes(), "no leader", isNone)
}

func TestDetectorWaitsForALeader(t *testing.T) {
	z := startZK(t)
	d := newDetector(t, z.Servers(), "/a/mesos") // does not exist yet

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if info, err := d.LeaderInfo(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LeaderInfo without masters = %+v, %v; want context.DeadlineExceeded", info, err)
	}
	waitFor(t, d.Changes(), "no leader", isNone)

	conn := rawConn(t, z.Servers())
	mustCreate(t, conn, "/a", nil, zk.FlagPersistent)
	mustCreate(t, conn, "/a/mesos", nil, zk.FlagPersistent)
	mustCreate(t, conn, "/a/mesos/json.info_", []byte(master5061), zk.FlagEphemeralSequential)
	if got := leaderInfo(t, d); !hasPort(5061)(got) {
		t.Fatalf("LeaderInfo = %+v, want port 5061", got)
	}
}

func TestDetectorClose(t *testing.T) {
	z := startZK(t)
	d := newDetector(t, z.Servers(), "/mesos")
	waitFor(t, d.Changes(), "no leader", isNone)
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, open := <-d.Changes(); open {
		t.Fatal("Changes still open after Close")
	}
	if _, err := d.LeaderInfo(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("LeaderInfo after Close: %v, want ErrClosed", err)
	}
}

func TestDetectorConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  MasterDetectorConfig
		ok   bool
	}{
		{name: "ok", cfg: MasterDetectorConfig{Servers: []string{"h:2181"}, Path: "/mesos"}, ok: true},
		{name: "no servers", cfg: MasterDetectorConfig{Path: "/mesos"}},
		{name: "relative path", cfg: MasterDetectorConfig{Servers: []string{"h:2181"}, Path: "mesos"}},
		{name: "root path", cfg: MasterDetectorConfig{Servers: []string{"h:2181"}, Path: "/"}},
		{name: "negative timeout", cfg: MasterDetectorConfig{Servers: []string{"h:2181"}, Path: "/mesos", SessionTimeout: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func mustMasterInfo(t *testing.T, s string) mesos.MasterInfo {
	t.Helper()
	var m mesos.MasterInfo
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}
