package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ZooKeeperProcessConfig configures LaunchZooKeeper.
type ZooKeeperProcessConfig struct {
	// Dir holds the server's configuration, data and log
	// (zookeeper.log); it must exist. Required.
	Dir string
	// Heap is the JVM's -Xmx; "" means 1g, ZooKeeper's own default
	// (zkEnv.sh, ZK_SERVER_HEAP). StartZooKeeper's 256m is too small for
	// large requests: the server keeps its last 500 committed requests in
	// memory.
	Heap string
	// NoForceSync turns off the fsync of every transaction log write
	// (-Dzookeeper.forceSync=no), as StartZooKeeper does. The zero value
	// keeps ZooKeeper's default, forceSync=yes.
	NoForceSync bool
}

// Validate checks the configuration.
func (c ZooKeeperProcessConfig) Validate() error {
	if c.Dir == "" {
		return errors.New("testenv: ZooKeeperProcessConfig.Dir is required")
	}
	return nil
}

// ZooKeeperProcess is a standalone ZooKeeper server started outside a test,
// by a benchmark command; tests use StartZooKeeper. The server has
// StartZooKeeper's zoo.cfg (tickTime 500 ms, session timeouts from 1 s to
// 60 s granted as asked) and runs in a process group of its own that dies
// with the process that started it.
type ZooKeeperProcess struct {
	// Addr is the client address, "127.0.0.1:port".
	Addr string
	// LogPath is the server's log file.
	LogPath string

	proc *process
}

// LaunchZooKeeper starts a standalone ZooKeeper server on a free loopback
// port with its data in cfg.Dir and returns once it serves requests (the
// four-letter word srvr reports a mode). Stop stops it. A missing java or
// ZooKeeper package is an error naming `make deps`.
func LaunchZooKeeper(cfg ZooKeeperProcessConfig) (*ZooKeeperProcess, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("java not found (run `make deps`): %w", err)
	}
	if _, err := os.Stat(zkJars[0]); err != nil {
		return nil, fmt.Errorf("ZooKeeper (Debian package zookeeper) is not installed (run `make deps`): %w", err)
	}
	heap := cfg.Heap
	if heap == "" {
		heap = "1g"
	}
	// A ZooKeeper value gives the server StartZooKeeper's zoo.cfg and
	// readiness check (serving).
	z := &ZooKeeper{java: java, dir: cfg.Dir, logPath: filepath.Join(cfg.Dir, "zookeeper.log")}
	forceSync := "yes"
	if cfg.NoForceSync {
		forceSync = "no"
	}
	// The port may be taken between the probe and the bind: try a few.
	for range 3 {
		port, perr := freeLoopbackPort()
		if perr != nil {
			return nil, perr
		}
		z.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		var p *process
		p, err = z.launchProcess(heap, forceSync)
		if err == nil {
			return &ZooKeeperProcess{Addr: z.Addr, LogPath: z.logPath, proc: p}, nil
		}
		if !errors.Is(err, errExited) {
			break
		}
	}
	return nil, fmt.Errorf("start zookeeper: %w\n%s", err, logTail(z.logPath, 4<<10))
}

// launchProcess writes zoo.cfg as launch does and starts the server with
// the benchmark's JVM flags: the given heap and forceSync, and the JIT's
// full tiers (launch stops at C1 to start faster).
func (z *ZooKeeper) launchProcess(heap, forceSync string) (*process, error) {
	if err := z.writeConfig(); err != nil {
		return nil, err
	}
	var cp []string
	for _, j := range zkJars {
		if _, err := os.Stat(j); err == nil {
			cp = append(cp, j)
		}
	}
	args := []string{
		"-Xmx" + heap,
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.forceSync=" + forceSync,
		"-Dzookeeper.jmx.log4j.disable=true",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
		"-cp", strings.Join(cp, ":"),
		zkMainClass,
		filepath.Join(z.dir, "zoo.cfg"),
	}
	return startReady(z.java, args, z.dir, z.logPath, z.serving)
}

// writeConfig writes zoo.cfg with the settings of launch.
func (z *ZooKeeper) writeConfig() error {
	_, port, _ := net.SplitHostPort(z.Addr)
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
	if err := os.WriteFile(filepath.Join(z.dir, "zoo.cfg"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Pid is the server's process id, for /proc.
func (z *ZooKeeperProcess) Pid() int { return z.proc.cmd.Process.Pid }

// URL returns "zk://127.0.0.1:port" followed by path.
func (z *ZooKeeperProcess) URL(path string) string { return "zk://" + z.Addr + path }

// Stop stops the server (SIGTERM to its process group, then SIGKILL) and
// waits for it; it does nothing when the server is stopped already.
func (z *ZooKeeperProcess) Stop() { z.proc.stop() }

// freeLoopbackPort is FreePort without a testing.TB.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
