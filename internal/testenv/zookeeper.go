package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// zkJars are the jars a ZooKeeper server needs, as the Debian package
// zookeeper ships them: zookeeper.jar names its dependencies in its manifest
// Class-Path, and slf4j-simple (from libslf4j-java, a dependency) makes the
// server log to stderr, which goes to the log file. The first is required.
var zkJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/slf4j-simple.jar",
}

const zkMainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

// ZooKeeper is a standalone ZooKeeper server started for a test.
type ZooKeeper struct {
	// Addr is the client address, "127.0.0.1:port".
	Addr string

	java    string
	dir     string // data, config and log
	logPath string

	restartable
}

// StartZooKeeper starts a standalone ZooKeeper server on a random loopback
// port with its data in t.TempDir(), waits until it serves requests and stops
// it in t.Cleanup. The server's log goes to a file that is printed through
// t.Log when the test fails.
//
// The server ticks every 500ms, so session timeouts from 1s to 60s are
// granted as asked.
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	java := Binary(t, "java")
	if _, err := os.Stat(zkJars[0]); err != nil {
		unavailable(t, "ZooKeeper (Debian package zookeeper) is not installed: %v", err)
	}
	z := &ZooKeeper{java: java, dir: t.TempDir()}
	z.logPath = filepath.Join(z.dir, "zookeeper.log")
	logOnFailure(t, "zookeeper", z.logPath)
	t.Cleanup(func() { z.Stop(t) })

	// The port may be taken between FreePort and the bind: try a few.
	var err error
	for range 3 {
		z.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
		if err = z.start(z.launch); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("start zookeeper: %v", err)
	}
	return z
}

// Servers returns the client addresses, for zk.Connect.
func (z *ZooKeeper) Servers() []string {
	return []string{z.Addr}
}

// URL returns "zk://127.0.0.1:port" followed by path.
func (z *ZooKeeper) URL(path string) string {
	return "zk://" + z.Addr + path
}

// Stop stops the server (SIGTERM, then SIGKILL) and keeps its data. It does
// nothing when the server is stopped already.
func (z *ZooKeeper) Stop(t testing.TB) {
	t.Helper()
	z.stop()
}

// Start starts the server again on the same port with the same data. It does
// nothing when the server is running.
func (z *ZooKeeper) Start(t testing.TB) {
	t.Helper()
	if err := z.start(z.launch); err != nil {
		t.Fatalf("restart zookeeper: %v", err)
	}
}

// launch writes the configuration, starts the server and waits until it
// serves requests.
func (z *ZooKeeper) launch() (*process, error) {
	_, port, _ := net.SplitHostPort(z.Addr)
	cfg := filepath.Join(z.dir, "zoo.cfg")
	conf := strings.Join([]string{
		"tickTime=500",
		"minSessionTimeout=1000",
		"maxSessionTimeout=60000",
		"dataDir=" + filepath.Join(z.dir, "data"),
		"clientPort=" + port,
		"clientPortAddress=127.0.0.1",
		"maxClientCnxns=0",
		"admin.enableServer=false",
		"4lw.commands.whitelist=*",
		"",
	}, "\n")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	var cp []string
	for _, j := range zkJars {
		if _, err := os.Stat(j); err == nil {
			cp = append(cp, j)
		}
	}
	args := []string{
		"-Xmx256m",
		"-XX:+UseSerialGC",
		"-XX:TieredStopAtLevel=1", // starts faster; plenty for tests
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.forceSync=no", // tests need no durability against power loss
		"-Dzookeeper.jmx.log4j.disable=true",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
		"-cp", strings.Join(cp, ":"),
		zkMainClass,
		cfg,
	}
	return startReady(z.java, args, z.dir, z.logPath, z.serving)
}

// serving asks the server with the four-letter word srvr, which only
// reports a mode once the server accepts sessions.
func (z *ZooKeeper) serving() error {
	out, err := fourLetter(z.Addr, "srvr")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Mode: ") {
		return fmt.Errorf("not serving: %q", strings.TrimSpace(out))
	}
	return nil
}

// fourLetter sends a ZooKeeper four-letter command and returns the answer.
func fourLetter(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return "", err
	}
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var b strings.Builder
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String(), sc.Err()
}
