package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// zkResult is what the ZooKeeper-store launch measured.
type zkResult struct {
	Version    string // the server's, from srvr
	Post       time.Duration
	PostLat    latency // each POST's answer time
	ToRunning  time.Duration
	ToDeployed time.Duration
	ServeCPU   float64 // seconds of CPU during the launch: stadion serve
	ClusterCPU float64 // the cluster process
	ZKCPU      float64 // the ZooKeeper JVM
	BenchCPU   float64 // launchbench
	OthersCPU  float64 // everything else on the machine
	ServeMem   memory  // stadion serve's, when every task was running
	ZKMem      memory  // the JVM's, then
	Znodes     string  // mntr zk_znode_count after the launch
	DataSize   string  // mntr zk_approximate_data_size (bytes)
}

func (z zkResult) rate(tasks int) float64 { return float64(tasks) / z.ToRunning.Seconds() }

// failoverGroup is the failover runs of one --zk_session_timeout.
type failoverGroup struct {
	SessionTimeout time.Duration
	Runs           []failoverRun
}

// benchZK launches the same tasks with the state in ZooKeeper: a
// ZooKeeper server, a fresh cluster and `stadion serve --zk` (HA on, one
// instance). Then, with -failover, two more instances join and the leader
// is killed with -9 and timed, c.FailoverRuns times for each session
// timeout, the tasks of the launch still running.
func benchZK(ctx context.Context, c config, workDir string, res *results, step func(string, ...any)) error {
	dir := filepath.Join(workDir, "zookeeper")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	step("starting ZooKeeper (-Xmx%s, forceSync %s)", c.ZKHeap, yesNo(c.ZKForceSync))
	z, err := testenv.LaunchZooKeeper(testenv.ZooKeeperProcessConfig{Dir: dir, Heap: c.ZKHeap, NoForceSync: !c.ZKForceSync})
	if err != nil {
		return err
	}
	defer z.Stop()
	if srvr, err := fourLetter(z.Addr, "srvr"); err == nil {
		// "3.8.0-<commit>, built on <date>": the release.
		res.ZK.Version, _, _ = strings.Cut(srvr["Zookeeper version"], "-")
	}

	step("starting a fresh stadion mesos local with %d agents", c.Agents)
	cluster, master, err := startCluster(ctx, c.Stadion, workDir, "cluster-zk", c.Agents, c.Resources)
	if err != nil {
		return err
	}
	defer cluster.Stop(30 * time.Second)

	h := newHASet(c, workDir, master, z.URL("/stadion"), c.SessionTimeouts[0])
	defer func() { h.stopAll() }() // h is replaced for each session timeout
	step("starting stadion serve --zk %s", z.URL("/stadion"))
	s0, err := h.add(ctx)
	if err != nil {
		return err
	}
	if _, err := waitFor(ctx, 50*time.Millisecond, 30*time.Second, func() (bool, error) {
		ok, _ := elected(ctx, s0)
		return ok, nil
	}); err != nil {
		return fmt.Errorf("stadion serve --zk not elected: %w\n%s", err, s0.proc.Tail(20))
	}
	if err := waitSubscribed(ctx, s0.api, s0.proc); err != nil {
		return err
	}

	meter := startCPUMeter(s0.proc.Pid(), cluster.Pid(), z.Pid())
	l, err := launch(ctx, c, s0.api, s0.proc, step)
	if err != nil {
		return err
	}
	cpu, others := meter.stop()
	zr := &res.ZK
	zr.Post, zr.PostLat, zr.ToRunning = l.Post, l.PostLat, l.ToRunning
	zr.ServeCPU, zr.ClusterCPU, zr.ZKCPU, zr.BenchCPU, zr.OthersCPU = cpu[0], cpu[1], cpu[2], cpu[3], others
	if zr.ServeMem, err = readMemory(s0.proc.Pid()); err != nil {
		return err
	}
	if zr.ZKMem, err = readMemory(z.Pid()); err != nil {
		return err
	}
	step("ZooKeeper store: %d tasks running after %.2f s (%.0f tasks/s)", c.Tasks(), l.ToRunning.Seconds(), zr.rate(c.Tasks()))
	if zr.ToDeployed, err = l.waitDeployed(ctx, c, s0.api); err != nil {
		return err
	}
	if mntr, err := fourLetter(z.Addr, "mntr"); err == nil {
		zr.Znodes, zr.DataSize = mntr["zk_znode_count"], mntr["zk_approximate_data_size"]
	}
	if c.FailoverRuns == 0 {
		return nil
	}

	want := c.Tasks()
	for i, timeout := range c.SessionTimeouts {
		if i > 0 {
			step("stopping the instances; three new ones with --zk_session_timeout %d", timeout.Milliseconds())
			h.stopAll()
			h = newHASet(c, workDir, master, z.URL("/stadion"), timeout)
		}
		for len(h.serves) < 3 {
			if _, err := h.add(ctx); err != nil {
				return err
			}
		}
		g := failoverGroup{SessionTimeout: timeout}
		for r := range c.FailoverRuns {
			lead, err := h.settle(ctx, want)
			if err != nil {
				return err
			}
			appID := fmt.Sprintf("/failover/s%d-r%d", timeout.Milliseconds(), r+1)
			step("failover %d/%d, --zk_session_timeout %d: kill -9 of the leader %s", r+1, c.FailoverRuns, timeout.Milliseconds(), lead.name)
			run, err := h.failover(ctx, lead, appID, want+1)
			if err != nil {
				return fmt.Errorf("failover %d with --zk_session_timeout %d: %w", r+1, timeout.Milliseconds(), err)
			}
			want++
			step("%s leads: named %s, elected %s, first 2xx POST %s, its task running %s after the kill",
				run.NewLeader, secs(run.Named), secs(run.Elected), secs(run.Write), secs(run.Running))
			g.Runs = append(g.Runs, run)
		}
		res.Failover = append(res.Failover, g)
	}
	return nil
}

// fourLetter sends a ZooKeeper four-letter word and returns its answer's
// "key: value" (srvr) or "key<TAB>value" (mntr) lines.
func fourLetter(addr, word string) (map[string]string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte(word)); err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			k, v, ok = strings.Cut(sc.Text(), ": ")
		}
		if ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out, sc.Err()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
