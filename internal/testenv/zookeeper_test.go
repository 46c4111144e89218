package testenv

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func TestZooKeeperRestartKeepsPortAndData(t *testing.T) {
	z := StartZooKeeper(t)
	if got, want := z.URL("/mesos"), "zk://"+z.Addr+"/mesos"; got != want {
		t.Fatalf("URL = %q, want %q", got, want)
	}
	if out, err := fourLetter(z.Addr, "ruok"); err != nil || out != "imok\n" {
		t.Fatalf("ruok = %q, %v", out, err)
	}

	conn := connect(t, z.Servers())
	if _, err := conn.Create("/kept", []byte("data"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	conn.Close()

	z.Stop(t)
	z.Stop(t) // idempotent
	if _, err := fourLetter(z.Addr, "ruok"); err == nil {
		t.Fatal("zookeeper still answers after Stop")
	}

	z.Start(t)
	conn = connect(t, z.Servers())
	defer conn.Close()
	data, _, err := conn.Get("/kept")
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if string(data) != "data" {
		t.Fatalf("data after restart = %q, want %q", data, "data")
	}
}

// connect opens a ZooKeeper session and waits until it is established.
func connect(t *testing.T, servers []string) *zk.Conn {
	t.Helper()
	conn, events, err := zk.Connect(servers, 5*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn
			}
		case <-deadline:
			conn.Close()
			t.Fatal("no zookeeper session after 10s")
		}
	}
}

// quiet drops the client's logs: they can come after the test has ended,
// when t.Log would panic.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
