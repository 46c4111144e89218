package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
	"github.com/stadionhq/stadion/internal/loadgen"
)

// Targets of DESIGN.md.
const (
	targetRate     = 2000.0                 // tasks/s to RUNNING
	targetRawRatio = 2.0                    // at most this much slower than the raw limit
	targetP99      = 100 * time.Millisecond // GET /v2/apps?embed=apps.tasks
	targetRSS      = 200 << 10              // kB
)

// machine describes where the run happened.
type machine struct {
	rig.Machine
	// JSON is jsonRate at the start of the run (MB/s): the same machine
	// runs slower at times (a shared host), and this shows it.
	JSON float64
}

func readMachine() machine {
	return machine{Machine: rig.ReadMachine(), JSON: jsonRate()}
}

// calibrationRecord is one record of the calibration document, shaped
// like a task.
type calibrationRecord struct {
	ID, Host, State, Version string
	Ports                    []int
	CPUs                     float64
}

// jsonRate encodes and decodes a fixed document of 10,000 records 20 times
// on one goroutine and returns MB/s. JSON, allocation and GC are most of
// the scheduler's CPU (see "Where the time goes"), so this tells a slower
// moment of a shared machine from a slower Stadion between runs.
func jsonRate() float64 {
	doc := make([]calibrationRecord, 10000)
	for i := range doc {
		doc[i] = calibrationRecord{ID: fmt.Sprintf("bench_app-%03d.%08d", i/100, i), Host: "127.0.0.1", State: "TASK_RUNNING",
			Version: "2026-11-22T00:00:00.000Z", Ports: []int{31000 + i%1000}, CPUs: 0.01}
	}
	start, n := time.Now(), 0
	for range 20 {
		b, _ := json.Marshal(doc)
		var out []calibrationRecord
		_ = json.Unmarshal(b, &out)
		n += len(b)
	}
	return float64(n) / 1e6 / time.Since(start).Seconds()
}

// results is everything one run measured.
type results struct {
	Date    time.Time
	Machine machine
	Config  config

	// The scheduler (stadion serve) phase.
	Post          time.Duration // all POST /v2/apps answered
	PostLat       latency       // each POST's answer time
	AppGet        latency       // GET /v2/apps/{id} of one app
	ToRunning     time.Duration // first POST to every task TASK_RUNNING in /v2/apps
	ToDeployed    time.Duration // first POST to /v2/deployments empty
	TaskStates    map[string]int
	ServeCPU      float64 // seconds of CPU used by serve during the launch
	ClusterCPU    float64 // and by the cluster process
	BenchCPU      float64 // and by launchbench
	OthersCPU     float64 // and by everything else on the machine
	Embed         latency
	MemAtRunning  memory // serve's, when every task was running
	MemAfterEmbed memory // after the GET run

	// The raw-limit phase.
	Raw           rawResult
	RawClusterCPU float64
	RawBenchCPU   float64 // launchbench, which runs the raw loop
	RawOthersCPU  float64

	// The ZooKeeper phases (-zk, -failover).
	ZK       zkResult
	Failover []failoverGroup

	// Large is the second size (-large), nil when none was run.
	Large *results
}

func (r results) rate() float64 { return float64(r.Config.Tasks()) / r.ToRunning.Seconds() }
func (r results) rawRate() float64 {
	return float64(r.Raw.Running) / r.Raw.Elapsed.Seconds()
}

func check(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func mb(kb int64) string { return fmt.Sprintf("%.0f MB", float64(kb)/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// markdown renders the results section of bench/README.md.
func (r results) markdown() string {
	var b strings.Builder
	c := r.Config
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Results\n\n")
	w("Written by `make bench` (`go run ./bench/cmd/launchbench`) on %s.\n\n", r.Date.UTC().Format("2006-01-02 15:04 MST"))
	w("Machine: %s, %d cores, %s RAM, %s, %s; calibration at the start of the run (encoding/json round trip of a fixed document on one core): %.1f MB/s.\n\n",
		r.Machine.CPU, r.Machine.Cores, r.Machine.RAM, r.Machine.Kernel, r.Machine.Go, r.Machine.JSON)
	w("Workload: %d apps × %d instances = %d tasks, each cpus %g mem %g, no host ports (`portDefinitions: []`), "+
		"posted as %d separate `POST /v2/apps` by %d concurrent clients; `stadion serve` with its default flags "+
		"(`--max_instances_per_offer` %s); `stadion mesos local --agents %d --containerizers simulated --resources \"%s\"` "+
		"in its own process.\n\n",
		c.Apps, c.Instances, c.Tasks(), c.CPUs, c.Mem, c.Apps, c.PostWorkers, c.maxPerOffer(), c.Agents, c.Resources)
	rate, raw := r.rate(), r.rawRate()
	w("| figure | measured | target | met |\n|---|---|---|---|\n")
	w("| launch rate, bbolt store (`--data_dir`): first POST → %d tasks TASK_RUNNING (`/v2/apps` tasksRunning) | **%.0f tasks/s** (%.2f s) | ≥ %.0f tasks/s | %s |\n",
		c.Tasks(), rate, r.ToRunning.Seconds(), targetRate, check(rate >= targetRate))
	if c.ZK {
		zkRate := r.ZK.rate(c.Tasks())
		w("| launch rate, ZooKeeper store (`--zk`, HA on, one instance), same workload on a fresh cluster | **%.0f tasks/s** (%.2f s) | ≥ %.0f tasks/s | %s |\n",
			zkRate, r.ZK.ToRunning.Seconds(), targetRate, check(zkRate >= targetRate))
	}
	w("| raw limit of the built-in cluster, same run: minimal loop on internal/mesos, fresh cluster | %.0f tasks/s (%.2f s) | — | — |\n",
		raw, r.Raw.Elapsed.Seconds())
	w("| scheduler (bbolt) vs raw limit | %.2f× slower | within %.0f× | %s |\n", raw/rate, targetRawRatio, check(raw/rate <= targetRawRatio))
	if c.ZK {
		zkRate := r.ZK.rate(c.Tasks())
		w("| scheduler (ZooKeeper) vs raw limit | %.2f× slower | within %.0f× | %s |\n", raw/zkRate, targetRawRatio, check(raw/zkRate <= targetRawRatio))
	}
	w("| `GET /v2/apps?embed=apps.tasks`, %d apps / %d tasks, %d sequential requests | p50 %s, **p99 %s** (max %s, body %.1f MB) | p99 < %s | %s |\n",
		c.Apps, c.Tasks(), r.Embed.N, ms(r.Embed.P50), ms(r.Embed.P99), ms(r.Embed.Max), float64(r.Embed.Bytes)/(1<<20),
		ms(targetP99), check(r.Embed.P99 < targetP99))
	w("| RSS of `stadion serve` at %d tasks (VmRSS after the GETs; at the moment all were running: %s) | **%s** | < %s | %s |\n",
		c.Tasks(), mb(r.MemAtRunning.RSS), mb(r.MemAfterEmbed.RSS), mb(targetRSS), check(r.MemAfterEmbed.RSS < targetRSS))
	w("| peak RSS of `stadion serve` over the run (VmHWM) | %s | < %s | %s |\n",
		mb(r.MemAfterEmbed.HWM), mb(targetRSS), check(r.MemAfterEmbed.HWM < targetRSS))
	w("\nDetails of the run:\n\n")
	w("- %d POSTs answered in %.2f s; `/v2/deployments` empty %.2f s after the first POST; `/v2/tasks` then: %s.\n",
		c.Apps, r.Post.Seconds(), r.ToDeployed.Seconds(), formatStates(r.TaskStates))
	w("- CPU time during the launch: `stadion serve` %.2f s, cluster process %.2f s, launchbench %.2f s, other processes on the machine %.2f s (%.2f s of wall time × %d cores = %.2f core-seconds available).\n",
		r.ServeCPU, r.ClusterCPU, r.BenchCPU, r.OthersCPU, r.ToRunning.Seconds(), r.Machine.Cores, r.ToRunning.Seconds()*float64(r.Machine.Cores))
	w("- Raw loop: %d ACCEPT calls, %d ACKNOWLEDGE calls over %d concurrent senders, at most %s tasks launched and not running; CPU: cluster process %.2f s, launchbench (the loop) %.2f s, other processes %.2f s.\n",
		r.Raw.Accepts, r.Raw.Acks, c.RawWorkers, windowText(c.RawWindow), r.RawClusterCPU, r.RawBenchCPU, r.RawOthersCPU)
	if c.ZK {
		r.zkMarkdown(w)
	}
	if len(r.Failover) > 0 {
		r.failoverMarkdown(w)
	}
	if r.Large != nil {
		r.largeMarkdown(w)
	}
	return b.String()
}

// Targets of DESIGN.md at the large size (100,000 instances on 500
// agents), and at any size for the POSTs and GET /v2/apps/{id}.
const (
	targetLargeRate     = 1500.0
	targetLargeRawRatio = 1.5
	targetLargeP99      = 400 * time.Millisecond
	targetLargeRSS      = 800 << 10 // kB
	targetPost          = 50 * time.Millisecond
	targetAppGet        = 5 * time.Millisecond
	targetLargeFailover = 5 * time.Second // beyond the session timeout
)

// largeMarkdown renders the two sizes side by side (-large).
func (r results) largeMarkdown(w func(string, ...any)) {
	l := r.Large
	c, lc := r.Config, l.Config
	w("\n### %d and %d tasks side by side\n\n", c.Tasks(), lc.Tasks())
	w("The same run, then a second size on fresh processes: %d apps × %d instances on %d simulated agents "+
		"(same task shape, same %d POST clients, same flags); the raw loop on a fresh cluster of %d agents. "+
		"\"Per task\" divides by the tasks, so a figure that grows no faster than the work keeps its value.\n\n",
		lc.Apps, lc.Instances, lc.Agents, lc.PostWorkers, lc.Agents)
	small, large := fmt.Sprintf("%d tasks, %d agents", c.Tasks(), c.Agents), fmt.Sprintf("%d tasks, %d agents", lc.Tasks(), lc.Agents)
	w("| figure | %s | %s | target at %d | met |\n|---|---|---|---|---|\n", small, large, lc.Tasks())
	rate, lrate := r.rate(), l.rate()
	w("| launch rate, bbolt store | %.0f tasks/s (%.2f s) | **%.0f tasks/s** (%.2f s) | ≥ %.0f tasks/s | %s |\n",
		rate, r.ToRunning.Seconds(), lrate, l.ToRunning.Seconds(), targetLargeRate, check(lrate >= targetLargeRate))
	w("| raw limit of the built-in cluster | %.0f tasks/s | %.0f tasks/s | — | — |\n", r.rawRate(), l.rawRate())
	w("| scheduler vs raw limit | %.2f× slower | **%.2f× slower** | within %.1f× | %s |\n",
		r.rawRate()/rate, l.rawRate()/lrate, targetLargeRawRatio, check(l.rawRate()/lrate <= targetLargeRawRatio))
	w("| CPU of `stadion serve` during the launch, per 1,000 tasks | %.2f s | %.2f s | — | — |\n",
		perThousand(r.ServeCPU, c.Tasks()), perThousand(l.ServeCPU, lc.Tasks()))
	w("| each `POST /v2/apps` (%d and %d POSTs, %d clients): p50 / p99 / max | %s / %s / %s | %s / %s / **%s** | < %s each | %s |\n",
		c.Apps, lc.Apps, lc.PostWorkers, ms(r.PostLat.P50), ms(r.PostLat.P99), ms(r.PostLat.Max), ms(l.PostLat.P50), ms(l.PostLat.P99), ms(l.PostLat.Max),
		ms(targetPost), check(r.PostLat.Max < targetPost && l.PostLat.Max < targetPost))
	w("| `GET /v2/apps?embed=apps.tasks` p50 / p99 (body) | %s / %s (%.1f MB) | %s / **%s** (%.1f MB) | p99 < %s | %s |\n",
		ms(r.Embed.P50), ms(r.Embed.P99), float64(r.Embed.Bytes)/(1<<20), ms(l.Embed.P50), ms(l.Embed.P99), float64(l.Embed.Bytes)/(1<<20),
		ms(targetLargeP99), check(l.Embed.P99 < targetLargeP99))
	w("| `GET /v2/apps/{id}` (%d instances, %d sequential) p50 / p99 | %s / %s | %s / **%s** | p99 < %s at any size | %s |\n",
		lc.Instances, l.AppGet.N, ms(r.AppGet.P50), ms(r.AppGet.P99), ms(l.AppGet.P50), ms(l.AppGet.P99),
		ms(targetAppGet), check(r.AppGet.P99 < targetAppGet && l.AppGet.P99 < targetAppGet))
	w("| RSS of `stadion serve` after the GETs (peak VmHWM) | %s (%s) | **%s** (%s) | < %s | %s |\n",
		mb(r.MemAfterEmbed.RSS), mb(r.MemAfterEmbed.HWM), mb(l.MemAfterEmbed.RSS), mb(l.MemAfterEmbed.HWM), mb(targetLargeRSS),
		check(l.MemAfterEmbed.RSS < targetLargeRSS))
	w("| RSS per task | %s | %s | — | — |\n", perTask(r.MemAfterEmbed.RSS<<10, c.Tasks()), perTask(l.MemAfterEmbed.RSS<<10, lc.Tasks()))
	if c.ZK && lc.ZK {
		zr, lzr := r.ZK.rate(c.Tasks()), l.ZK.rate(lc.Tasks())
		w("| launch rate, ZooKeeper store | %.0f tasks/s | %.0f tasks/s (%.2f× the raw limit) | — | — |\n", zr, lzr, l.rawRate()/lzr)
		w("| ZooKeeper data (`mntr`): znodes, bytes, bytes per task | %s, %s, %s | %s, %s, %s | — | — |\n",
			orUnknown(r.ZK.Znodes), orUnknown(r.ZK.DataSize), perTaskString(r.ZK.DataSize, c.Tasks()),
			orUnknown(l.ZK.Znodes), orUnknown(l.ZK.DataSize), perTaskString(l.ZK.DataSize, lc.Tasks()))
	}
	for _, g := range l.Failover {
		target := g.SessionTimeout + targetLargeFailover
		write := stats(g.Runs, func(f failoverRun) time.Duration { return f.Write })
		running := stats(g.Runs, func(f failoverRun) time.Duration { return f.Running })
		var small string
		for _, sg := range r.Failover {
			if sg.SessionTimeout == g.SessionTimeout {
				small = fmt.Sprintf("%s / %s (max)", secs(stats(sg.Runs, func(f failoverRun) time.Duration { return f.Write }).max),
					secs(stats(sg.Runs, func(f failoverRun) time.Duration { return f.Running }).max))
			}
		}
		w("| failover (kill -9, `--zk_session_timeout %d`): first 2xx POST / its task running | %s | **%s / %s** (%d run) | < %s (session timeout + %s) | %s |\n",
			g.SessionTimeout.Milliseconds(), orUnknown(small), secs(write.max), secs(running.max), len(g.Runs), secs(target), secs(targetLargeFailover),
			check(write.max < target && running.max < target))
	}
	w("\nDetails of the %d-task run:\n\n", lc.Tasks())
	w("- %d POSTs answered in %.2f s; `/v2/deployments` empty %.2f s after the first POST; `/v2/tasks` then: %s.\n",
		lc.Apps, l.Post.Seconds(), l.ToDeployed.Seconds(), formatStates(l.TaskStates))
	w("- CPU time during the launch: `stadion serve` %.2f s, cluster process %.2f s, launchbench %.2f s, other processes on the machine %.2f s (%.2f s of wall time × %d cores = %.2f core-seconds available).\n",
		l.ServeCPU, l.ClusterCPU, l.BenchCPU, l.OthersCPU, l.ToRunning.Seconds(), l.Machine.Cores, l.ToRunning.Seconds()*float64(l.Machine.Cores))
	w("- Raw loop: %d ACCEPT calls, %d ACKNOWLEDGE calls over %d concurrent senders, %.2f s; CPU: cluster process %.2f s, launchbench (the loop) %.2f s, other processes %.2f s.\n",
		l.Raw.Accepts, l.Raw.Acks, lc.RawWorkers, l.Raw.Elapsed.Seconds(), l.RawClusterCPU, l.RawBenchCPU, l.RawOthersCPU)
	if lc.ZK {
		l.zkMarkdown(w)
	}
	for _, g := range l.Failover {
		for i, f := range g.Runs {
			w("- Failover, %d ms, run %d: killed %s; new leader %s; POSTs through %s. Named %s, elected %s, POST 2xx %s (attempt %d; before it: %s), task running %s. Log of %s: elected %s, state loaded %s (ready_in %s), subscribed %s. Then %d tasks running in Stadion and in Mesos.\n",
				g.SessionTimeout.Milliseconds(), i+1, f.Killed, f.NewLeader, f.Via,
				secs(f.Named), secs(f.Elected), secs(f.Write), f.Attempts, formatCounts(f.Failures), secs(f.Running),
				f.NewLeader, secs(f.Log.Elected), secs(f.Log.Ready), secs(f.Log.ReadyIn), secs(f.Log.Subscribed), f.TasksAfter)
		}
	}
}

// windowText renders the raw loop's window.
func windowText(n int) string {
	if n <= 0 {
		return "any number of"
	}
	return strconv.Itoa(n)
}

// perThousand is seconds per 1,000 tasks.
func perThousand(seconds float64, tasks int) float64 { return seconds * 1000 / float64(max(tasks, 1)) }

// perTask renders bytes per task.
func perTask(bytes int64, tasks int) string {
	return fmt.Sprintf("%.1f kB", float64(bytes)/float64(max(tasks, 1))/1024)
}

// perTaskString is perTask of a byte count as mntr prints it.
func perTaskString(bytes string, tasks int) string {
	n, err := strconv.ParseInt(bytes, 10, 64)
	if err != nil {
		return "unknown"
	}
	return perTask(n, tasks)
}

// zkMarkdown renders the details of the ZooKeeper-store launch.
func (r results) zkMarkdown(w func(string, ...any)) {
	c, z := r.Config, r.ZK
	w("- ZooKeeper store: ZooKeeper %s, standalone, started by launchbench (`internal/testenv.LaunchZooKeeper`): "+
		"tickTime 500 ms, `-Xmx%s`, %s, data in the work directory (under $TMPDIR); "+
		"`stadion serve --zk zk://127.0.0.1:<port>/stadion --zk_session_timeout %d`, HA on (it is the only instance during the launch), "+
		"otherwise default flags, the same %d POSTs by %d clients.\n",
		orUnknown(z.Version), c.ZKHeap, forceSyncText(c.ZKForceSync), c.SessionTimeouts[0].Milliseconds(), c.Apps, c.PostWorkers)
	w("- ZooKeeper store: %d POSTs answered in %.2f s; `/v2/deployments` empty %.2f s after the first POST; "+
		"CPU time during the launch: `stadion serve` %.2f s, cluster process %.2f s, ZooKeeper JVM %.2f s, launchbench %.2f s, other processes %.2f s; "+
		"at %d tasks `stadion serve` VmRSS %s (VmHWM %s), ZooKeeper VmRSS %s; %s znodes, %s bytes of data (`mntr`).\n",
		c.Apps, z.Post.Seconds(), z.ToDeployed.Seconds(), z.ServeCPU, z.ClusterCPU, z.ZKCPU, z.BenchCPU, z.OthersCPU,
		c.Tasks(), mb(z.ServeMem.RSS), mb(z.ServeMem.HWM), mb(z.ZKMem.RSS), orUnknown(z.Znodes), orUnknown(z.DataSize))
}

// failoverMarkdown renders the failover runs.
func (r results) failoverMarkdown(w func(string, ...any)) {
	c := r.Config
	w("\n### Failover (kill -9 of the leader)\n\n")
	w("Three `stadion serve --zk` (HA on, one `--http_port` each, `--logging_level info`, default flags otherwise) sharing the ZooKeeper and the cluster "+
		"of the ZooKeeper launch above, its %d tasks running (%d apps × %d instances, state in ZooKeeper). Before each run every "+
		"instance names the same leader, it shows every task running and no deployment, and the Mesos master has the framework "+
		"active with as many running tasks. Clock from the SIGKILL of the leader; the survivors are polled every %d ms. The POST "+
		"is a new app of 1 instance sent, then retried every %d ms until it answers 2xx, through the first surviving instance "+
		"(the new leader itself or a standby that proxies). The killed instance is started again as a standby before the next "+
		"run, which kills the new leader. %d runs per session timeout.\n\n",
		c.Tasks(), c.Apps, c.Instances, c.PollInterval.Milliseconds(), c.PollInterval.Milliseconds(), c.FailoverRuns)
	w("| `--zk_session_timeout` | new leader named (`/v2/leader`) | state loaded (`/v2/info` elected) | first 2xx `POST /v2/apps` | its task TASK_RUNNING | target: API and scheduling back | met |\n")
	w("|---|---|---|---|---|---|---|\n")
	for _, g := range r.Failover {
		target := g.SessionTimeout + targetFailoverSlack
		running := stats(g.Runs, func(f failoverRun) time.Duration { return f.Running })
		write := stats(g.Runs, func(f failoverRun) time.Duration { return f.Write })
		w("| %d ms | %s | %s | %s | **%s** | < %s (session timeout + %s) | %s |\n",
			g.SessionTimeout.Milliseconds(),
			stats(g.Runs, func(f failoverRun) time.Duration { return f.Named }),
			stats(g.Runs, func(f failoverRun) time.Duration { return f.Elected }),
			write, running, secs(target), secs(targetFailoverSlack),
			check(write.max < target && running.max < target))
	}
	w("\nEach cell: median / max of the runs, seconds from the kill; \"met\" when the maximum of both the first 2xx and the " +
		"task's TASK_RUNNING is under the target. Per run (the new leader's log gives its own times: " +
		"elected in ZooKeeper, state loaded with `ready_in` from the election, SUBSCRIBED from Mesos handled):\n\n")
	for _, g := range r.Failover {
		for i, f := range g.Runs {
			role := "a standby, which proxied to " + f.NewLeader
			if f.Via == f.NewLeader {
				role = "the new leader"
			}
			w("- %d ms, run %d: killed %s; new leader %s; POSTs through %s (%s). Named %s, elected %s, POST 2xx %s (attempt %d; before it: %s), task running %s. Log of %s: elected %s, state loaded %s (ready_in %s), subscribed %s. Then %d tasks running in Stadion and in Mesos.\n",
				g.SessionTimeout.Milliseconds(), i+1, f.Killed, f.NewLeader, f.Via, role,
				secs(f.Named), secs(f.Elected), secs(f.Write), f.Attempts, formatCounts(f.Failures), secs(f.Running),
				f.NewLeader, secs(f.Log.Elected), secs(f.Log.Ready), secs(f.Log.ReadyIn), secs(f.Log.Subscribed), f.TasksAfter)
		}
	}
}

// targetFailoverSlack is DESIGN.md's failover target beyond the session
// timeout.
const targetFailoverSlack = 2 * time.Second

// durationStats is the median (nearest rank) and the maximum of a figure
// over runs.
type durationStats struct{ median, max time.Duration }

func (d durationStats) String() string {
	return fmt.Sprintf("%.2f / %.2f s", d.median.Seconds(), d.max.Seconds())
}

func stats(runs []failoverRun, figure func(failoverRun) time.Duration) durationStats {
	var ds []time.Duration
	for _, f := range runs {
		ds = append(ds, figure(f))
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return durationStats{}
	}
	return durationStats{median: loadgen.Percentile(ds, 50), max: ds[len(ds)-1]}
}

// formatCounts renders {"502": 3, "503": 1} as "3 × 502, 1 × 503", most
// frequent first.
func formatCounts(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}

func forceSyncText(on bool) string {
	if on {
		return "forceSync yes (ZooKeeper's default: every transaction log write is fsynced)"
	}
	return "**forceSync no** (`-Dzookeeper.forceSync=no`: transaction log writes are not fsynced, unlike ZooKeeper's default)"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func formatStates(states map[string]int) string {
	if len(states) == 0 {
		return "none"
	}
	var parts []string
	for s, n := range states {
		parts = append(parts, fmt.Sprintf("%d %s", n, s))
	}
	return strings.Join(parts, ", ")
}
