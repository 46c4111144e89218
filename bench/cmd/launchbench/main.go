// Command launchbench measures the targets of DESIGN.md that `make bench`
// owns: the launch rate of `stadion serve` to 10,000 tasks on 50 simulated
// agents, the raw limit of the same cluster in the same run, the latency of
// GET /v2/apps?embed=apps.tasks at that size and the RSS of `stadion serve`;
// then (-zk) the same launch with the state in a ZooKeeper it starts, and
// (-failover) the time three `stadion serve --zk` take to answer and
// schedule again after their leader is killed with -9. The cluster
// (`stadion mesos local`) and the schedulers run as separate processes of
// the stadion binary, so the scheduler's RSS is its own. It prints a
// markdown section and writes it into bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// config is the command line.
type config struct {
	Stadion      string
	Readme       string
	Apps         int
	Instances    int
	Agents       int
	Resources    string
	CPUs, Mem    float64
	PostWorkers  int
	RawWorkers   int
	RawWindow    int
	RawOnly      bool // only the raw loop: no results section
	Requests     int
	MaxPerOffer  int
	Timeout      time.Duration
	PollInterval time.Duration
	KeepWorkDir  bool
	CPUProfile   string
	ServeLog     string

	// Large, when set, is a second size launched after the phases
	// above: the scheduler and the raw loop, and with ZK the ZooKeeper
	// launch and one failover (-large).
	Large *scale

	// The ZooKeeper phases.
	ZK              bool
	ZKHeap          string
	ZKForceSync     bool
	FailoverRuns    int
	SessionTimeouts []time.Duration // parsed from -failover_session_timeouts
}

// Tasks is the number of tasks launched in each phase.
func (c config) Tasks() int { return c.Apps * c.Instances }

func (c config) maxPerOffer() string {
	if c.MaxPerOffer == 0 {
		return "default"
	}
	return strconv.Itoa(c.MaxPerOffer)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("launchbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.Stadion, "stadion", "bin/stadion", "stadion binary to run (make bench builds it)")
	fs.StringVar(&c.Readme, "readme", "", `markdown file whose "## Results" section is replaced by this run's (empty: print only)`)
	fs.IntVar(&c.Apps, "apps", 100, "apps to post")
	fs.IntVar(&c.Instances, "instances", 100, "instances of each app")
	fs.IntVar(&c.Agents, "agents", 50, "simulated agents of the cluster")
	fs.StringVar(&c.Resources, "resources", "cpus:64;mem:262144;disk:100000;ports:[31000-32000]", "resources of every agent")
	fs.Float64Var(&c.CPUs, "cpus", 0.01, "cpus of each task")
	fs.Float64Var(&c.Mem, "mem", 8, "mem of each task (MB)")
	fs.IntVar(&c.PostWorkers, "post_workers", 4, "concurrent POST /v2/apps clients")
	fs.IntVar(&c.RawWorkers, "raw_workers", 16, "concurrent call senders of the raw loop (as many as the scheduler's acknowledgement senders)")
	fs.BoolVar(&c.RawOnly, "raw_only", false, "measure the raw limit alone (phase 2) and print it; writes no results")
	fs.IntVar(&c.RawWindow, "raw_window", 5000, "most tasks the raw loop keeps launched and not running, as the scheduler does (0: no bound, every task at once)")
	fs.IntVar(&c.Requests, "requests", 200, "sequential GET /v2/apps?embed=apps.tasks to time")
	fs.IntVar(&c.MaxPerOffer, "max_instances_per_offer", 0, "passed to stadion serve when not 0")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Minute, "bound of each phase")
	fs.DurationVar(&c.PollInterval, "poll", 50*time.Millisecond, "period of polling /v2/apps while tasks launch")
	fs.StringVar(&c.ServeLog, "serve_logging_level", "warn", "--logging_level of stadion serve (its log is serve.log in the work directory; see -keep)")
	fs.BoolVar(&c.KeepWorkDir, "keep", false, "keep the work directory (process logs, state) after the run")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", // a prefix
		"instead of the benchmark, run the scheduler in this process and write CPU profiles of its launch and of the GET run to PREFIX-launch.pprof and PREFIX-get.pprof, and its live heap with every task running to PREFIX-heap.pprof")
	fs.StringVar(&clusterProfile, "cluster_cpuprofile", "", "write a CPU profile of each stadion mesos local (the cluster: master and agents) to PREFIX-<phase>.pprof, written when it stops")
	fs.BoolVar(&c.ZK, "zk", true, "also launch the same tasks with the ZooKeeper store (stadion serve --zk, HA on, one instance) on a ZooKeeper started here")
	fs.StringVar(&c.ZKHeap, "zk_heap", "1g", "-Xmx of the ZooKeeper server")
	fs.BoolVar(&c.ZKForceSync, "zk_force_sync", true, "ZooKeeper fsyncs every transaction log write (its default); false sets -Dzookeeper.forceSync=no")
	fs.IntVar(&c.FailoverRuns, "failover", 3, "with -zk: leader failovers (kill -9) to time per session timeout, on three stadion serve --zk; 0: none")
	timeouts := fs.String("failover_session_timeouts", "10000,3000", "--zk_session_timeout values (ms) of the failover runs, comma-separated")
	large := fs.String("large", "", "APPSxINSTANCESxAGENTS of a second, larger launch after the first (e.g. 1000x100x500): scheduler, raw loop and, with -zk, the ZooKeeper launch and one failover; reported side by side with the first")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	sessionTimeouts, err := parseMillisList(*timeouts)
	if err != nil {
		fmt.Fprintln(stderr, "launchbench: -failover_session_timeouts:", err)
		return exitUsage
	}
	c.SessionTimeouts = sessionTimeouts
	if *large != "" {
		l, err := parseScale(*large)
		if err != nil {
			fmt.Fprintln(stderr, "launchbench: -large:", err)
			return exitUsage
		}
		c.Large = &l
	}
	if _, err := os.Stat(c.Stadion); err != nil {
		fmt.Fprintf(stderr, "launchbench: %v (run make build, or pass -stadion)\n", err)
		return exitUsage
	}
	bin, err := filepath.Abs(c.Stadion)
	if err != nil {
		fmt.Fprintln(stderr, "launchbench:", err)
		return exitError
	}
	c.Stadion = bin
	workDir, err := os.MkdirTemp("", "launchbench-")
	if err != nil {
		fmt.Fprintln(stderr, "launchbench:", err)
		return exitError
	}
	if c.CPUProfile != "" {
		step := func(format string, args ...any) { fmt.Fprintf(stderr, "launchbench: "+format+"\n", args...) }
		if err := profileServe(ctx, c, workDir, step); err != nil {
			fmt.Fprintf(stderr, "launchbench: %v\nlaunchbench: process logs kept in %s\n", err, workDir)
			return exitError
		}
		os.RemoveAll(workDir)
		return exitOK
	}
	res, err := bench(ctx, c, workDir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "launchbench: %v\nlaunchbench: process logs kept in %s\n", err, workDir)
		return exitError
	}
	if c.RawOnly {
		os.RemoveAll(workDir)
		return exitOK
	}
	if c.KeepWorkDir {
		fmt.Fprintln(stderr, "launchbench: work directory kept:", workDir)
	} else {
		os.RemoveAll(workDir)
	}
	section := res.markdown()
	fmt.Fprintln(stdout, section)
	if c.Readme != "" {
		old, err := os.ReadFile(c.Readme)
		if err != nil && !os.IsNotExist(err) {
			fmt.Fprintln(stderr, "launchbench:", err)
			return exitError
		}
		if err := os.WriteFile(c.Readme, []byte(rig.ReplaceSection(string(old), "## Results", section)), 0o644); err != nil {
			fmt.Fprintln(stderr, "launchbench:", err)
			return exitError
		}
		fmt.Fprintln(stderr, "launchbench: results written to", c.Readme)
	}
	return exitOK
}

// bench runs both phases: the scheduler, then the raw loop on a fresh
// cluster.
func bench(ctx context.Context, c config, workDir string, log io.Writer) (results, error) {
	res := results{Date: time.Now(), Machine: readMachine(), Config: c}
	step := func(format string, args ...any) {
		fmt.Fprintf(log, "launchbench: "+format+"\n", args...)
	}
	if !c.RawOnly {
		if err := benchServe(ctx, c, workDir, &res, step); err != nil {
			return res, err
		}
	}
	if err := benchRaw(ctx, c, workDir, &res, step); err != nil {
		return res, err
	}
	if c.ZK {
		if err := benchZK(ctx, c, workDir, &res, step); err != nil {
			return res, err
		}
	}
	if c.Large != nil {
		lc := c.at(*c.Large)
		step("large size: %d apps × %d instances on %d agents", lc.Apps, lc.Instances, lc.Agents)
		large := results{Date: time.Now(), Machine: res.Machine, Config: lc}
		dir := filepath.Join(workDir, "large")
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			err = benchServe(ctx, lc, dir, &large, step)
		}
		if err == nil {
			err = benchRaw(ctx, lc, dir, &large, step)
		}
		if err == nil && lc.ZK {
			err = benchZK(ctx, lc, dir, &large, step)
		}
		if err != nil {
			return res, fmt.Errorf("large size: %w", err)
		}
		res.Large = &large
	}
	return res, nil
}

// scale is a launch size.
type scale struct{ Apps, Instances, Agents int }

// parseScale parses "1000x100x500".
func parseScale(s string) (scale, error) {
	parts := strings.Split(s, "x")
	if len(parts) != 3 {
		return scale{}, fmt.Errorf("%q is not APPSxINSTANCESxAGENTS", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 || v > 1000000 {
			return scale{}, fmt.Errorf("%q: %q is not a positive number up to 1000000", s, p)
		}
		n[i] = v
	}
	return scale{Apps: n[0], Instances: n[1], Agents: n[2]}, nil
}

// at returns c for the large size: its apps, instances and agents, one
// failover run at the first session timeout, a timeout that grows with the
// tasks, and fewer GETs of the large body.
func (c config) at(l scale) config {
	lc := c
	lc.Large = nil
	lc.Apps, lc.Instances, lc.Agents = l.Apps, l.Instances, l.Agents
	grow := max(1, float64(lc.Tasks())/float64(max(c.Tasks(), 1)))
	lc.Timeout = time.Duration(float64(c.Timeout) * grow)
	lc.Requests = max(20, c.Requests/4)
	if lc.FailoverRuns > 0 {
		lc.FailoverRuns, lc.SessionTimeouts = 1, c.SessionTimeouts[:1]
	}
	return lc
}

// parseMillisList parses "10000,3000" into durations.
func parseMillisList(s string) ([]time.Duration, error) {
	var out []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number of milliseconds", f)
		}
		out = append(out, time.Duration(n)*time.Millisecond)
	}
	if len(out) == 0 {
		return nil, errors.New("no value")
	}
	return out, nil
}

// benchServe measures stadion serve: launch rate, GET latency, RSS.
func benchServe(ctx context.Context, c config, workDir string, res *results, step func(string, ...any)) error {
	step("starting stadion mesos local with %d agents", c.Agents)
	cluster, master, err := startCluster(ctx, c.Stadion, workDir, "cluster-serve", c.Agents, c.Resources)
	if err != nil {
		return err
	}
	defer cluster.Stop(30 * time.Second)
	port, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"serve", "--master", master, "--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port),
		"--hostname", "127.0.0.1", "--data_dir", filepath.Join(workDir, "serve-data"), "--logging_level", c.ServeLog}
	if c.MaxPerOffer > 0 {
		args = append(args, "--max_instances_per_offer", strconv.Itoa(c.MaxPerOffer))
	}
	step("starting stadion serve --master %s on port %d", master, port)
	serve, err := startProcess(c.Stadion, workDir, "serve", args, nil)
	if err != nil {
		return err
	}
	defer serve.Stop(30 * time.Second)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHTTP(ctx, serve, base+"/ping", 30*time.Second); err != nil {
		return err
	}
	api := newMarathonClient(base)
	if err := waitSubscribed(ctx, api, serve); err != nil {
		return err
	}

	meter := startCPUMeter(serve.Pid(), cluster.Pid())
	l, err := launch(ctx, c, api, serve, step)
	if err != nil {
		return err
	}
	res.Post, res.PostLat, res.ToRunning = l.Post, l.PostLat, l.ToRunning
	cpu, others := meter.stop()
	res.ServeCPU, res.ClusterCPU, res.BenchCPU, res.OthersCPU = cpu[0], cpu[1], cpu[2], others
	if res.MemAtRunning, err = readMemory(serve.Pid()); err != nil {
		return err
	}
	step("%d tasks running after %.2f s (%.0f tasks/s)", c.Tasks(), res.ToRunning.Seconds(), res.rate())
	if res.ToDeployed, err = l.waitDeployed(ctx, c, api); err != nil {
		return err
	}
	if res.TaskStates, err = api.tasks(ctx); err != nil {
		return err
	}

	step("timing %d GET /v2/apps?embed=apps.tasks", c.Requests)
	if res.Embed, err = api.measureGET(ctx, "/v2/apps?embed=apps.tasks", c.Requests); err != nil {
		return err
	}
	if res.MemAfterEmbed, err = readMemory(serve.Pid()); err != nil {
		return err
	}
	step("p50 %s p99 %s; serve VmRSS %s VmHWM %s", ms(res.Embed.P50), ms(res.Embed.P99), mb(res.MemAfterEmbed.RSS), mb(res.MemAfterEmbed.HWM))
	step("timing %d GET /v2/apps/%s", appGets, appPath(0)[1:])
	if res.AppGet, err = api.measureGET(ctx, "/v2/apps"+appPath(0), appGets); err != nil {
		return err
	}
	step("p50 %s p99 %s", ms(res.AppGet.P50), ms(res.AppGet.P99))
	serve.Stop(30 * time.Second)
	cluster.Stop(30 * time.Second)
	return nil
}

// appGets is how many sequential GET /v2/apps/{id} are timed.
const appGets = 500

// waitSubscribed waits until serve has subscribed to Mesos (/v2/info has a
// frameworkId), so that a launch's clock does not count the subscription.
func waitSubscribed(ctx context.Context, api *marathonClient, serve *process) error {
	_, err := waitFor(ctx, 50*time.Millisecond, 30*time.Second, func() (bool, error) {
		var info struct {
			FrameworkID string `json:"frameworkId"`
		}
		err := api.getJSON(ctx, "/v2/info", &info)
		return err == nil && info.FrameworkID != "", nil
	})
	if err != nil {
		return fmt.Errorf("stadion serve did not subscribe: %w\n%s", err, serve.Tail(20))
	}
	return nil
}

// launchTimes is when a launch's steps were done.
type launchTimes struct {
	Start     time.Time     // the first POST
	Post      time.Duration // every POST answered, from Start
	PostLat   latency       // each POST's answer time
	ToRunning time.Duration // every task TASK_RUNNING in /v2/apps, from Start
}

// launch posts c.Apps apps of c.Instances instances and waits until the
// sum of tasksRunning over /v2/apps reaches c.Tasks().
func launch(ctx context.Context, c config, api *marathonClient, serve *process, step func(string, ...any)) (launchTimes, error) {
	step("posting %d apps × %d instances", c.Apps, c.Instances)
	l := launchTimes{Start: time.Now()}
	var err error
	if l.PostLat, err = api.postApps(ctx, c.Apps, c.Instances, c.PostWorkers); err != nil {
		return l, err
	}
	l.Post = time.Since(l.Start)
	step("%d POSTs answered in %.2f s (each: p99 %s, max %s)", c.Apps, l.Post.Seconds(), ms(l.PostLat.P99), ms(l.PostLat.Max))
	lastLog := time.Now()
	at, err := waitFor(ctx, c.PollInterval, c.Timeout, func() (bool, error) {
		n, err := api.running(ctx)
		if time.Since(lastLog) > time.Second {
			step("%d of %d tasks running after %.1f s", n, c.Tasks(), time.Since(l.Start).Seconds())
			lastLog = time.Now()
		}
		return n >= c.Tasks(), err
	})
	if err != nil {
		return l, fmt.Errorf("wait for %d running tasks: %w\n%s", c.Tasks(), err, serve.Tail(20))
	}
	l.ToRunning = at.Sub(l.Start)
	return l, nil
}

// waitDeployed waits until /v2/deployments is empty and returns when that
// was, from the launch's first POST.
func (l launchTimes) waitDeployed(ctx context.Context, c config, api *marathonClient) (time.Duration, error) {
	at, err := waitFor(ctx, c.PollInterval, c.Timeout, func() (bool, error) {
		n, err := api.deployments(ctx)
		return n == 0, err
	})
	if err != nil {
		return 0, fmt.Errorf("wait for deployments to end: %w", err)
	}
	return at.Sub(l.Start), nil
}

// benchRaw measures the raw limit on a fresh cluster of the same size.
func benchRaw(ctx context.Context, c config, workDir string, res *results, step func(string, ...any)) error {
	step("starting a fresh stadion mesos local for the raw loop")
	cluster, master, err := startCluster(ctx, c.Stadion, workDir, "cluster-raw", c.Agents, c.Resources)
	if err != nil {
		return err
	}
	defer cluster.Stop(30 * time.Second)
	meter := startCPUMeter(cluster.Pid())
	res.Raw, err = runRaw(ctx, rawConfig{
		Master: master, Tasks: c.Tasks(), CPUs: c.CPUs, Mem: c.Mem, Workers: c.RawWorkers, Timeout: c.Timeout, Window: c.RawWindow,
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, cluster.Tail(20))
	}
	cpu, others := meter.stop()
	res.RawClusterCPU, res.RawBenchCPU, res.RawOthersCPU = cpu[0], cpu[1], others
	step("raw loop: %d tasks running after %.2f s (%.0f tasks/s)", res.Raw.Running, res.Raw.Elapsed.Seconds(), res.rawRate())
	return nil
}
