// Command launchbench measures the targets of DESIGN.md that `make bench`
// owns: the launch rate of `stadion serve` to 10,000 tasks on 50 simulated
// agents, the raw limit of the same cluster in the same run, the latency of
// GET /v2/apps?embed=apps.tasks at that size and the RSS of `stadion serve`.
// The cluster (`stadion mesos local`) and the scheduler run as separate
// processes of the stadion binary, so the scheduler's RSS is its own. It
// prints a markdown table and writes it into bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
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
	Requests     int
	MaxPerOffer  int
	Timeout      time.Duration
	PollInterval time.Duration
	KeepWorkDir  bool
	CPUProfile   string
	ServeLog     string
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
	fs.IntVar(&c.RawWorkers, "raw_workers", 4, "concurrent call senders of the raw loop")
	fs.IntVar(&c.Requests, "requests", 200, "sequential GET /v2/apps?embed=apps.tasks to time")
	fs.IntVar(&c.MaxPerOffer, "max_instances_per_offer", 0, "passed to stadion serve when not 0")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Minute, "bound of each phase")
	fs.DurationVar(&c.PollInterval, "poll", 50*time.Millisecond, "period of polling /v2/apps while tasks launch")
	fs.StringVar(&c.ServeLog, "serve_logging_level", "warn", "--logging_level of stadion serve (its log is serve.log in the work directory; see -keep)")
	fs.BoolVar(&c.KeepWorkDir, "keep", false, "keep the work directory (process logs, state) after the run")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", // a prefix
		"instead of the benchmark, run the scheduler in this process and write CPU profiles of its launch and of the GET run to PREFIX-launch.pprof and PREFIX-get.pprof")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
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
		if err := os.WriteFile(c.Readme, []byte(replaceResults(string(old), section)), 0o644); err != nil {
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
	if err := benchServe(ctx, c, workDir, &res, step); err != nil {
		return res, err
	}
	if err := benchRaw(ctx, c, workDir, &res, step); err != nil {
		return res, err
	}
	return res, nil
}

// benchServe measures stadion serve: launch rate, GET latency, RSS.
func benchServe(ctx context.Context, c config, workDir string, res *results, step func(string, ...any)) error {
	step("starting stadion mesos local with %d agents", c.Agents)
	cluster, master, err := startCluster(ctx, c.Stadion, workDir, "cluster-serve", c.Agents, c.Resources)
	if err != nil {
		return err
	}
	defer cluster.stop(30 * time.Second)
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
	defer serve.stop(30 * time.Second)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHTTP(ctx, serve, base+"/ping", 30*time.Second); err != nil {
		return err
	}
	api := newMarathonClient(base)
	// Let the framework subscribe, so that the clock does not count it.
	if _, err := waitFor(ctx, 50*time.Millisecond, 30*time.Second, func() (bool, error) {
		var info struct {
			FrameworkID string `json:"frameworkId"`
		}
		err := api.getJSON(ctx, "/v2/info", &info)
		return err == nil && info.FrameworkID != "", nil
	}); err != nil {
		return fmt.Errorf("stadion serve did not subscribe: %w\n%s", err, serve.tail(20))
	}

	serveCPU0, _ := cpuSeconds(serve.pid())
	clusterCPU0, _ := cpuSeconds(cluster.pid())
	step("posting %d apps × %d instances", c.Apps, c.Instances)
	start := time.Now()
	if err := api.postApps(ctx, c.Apps, c.Instances, c.PostWorkers); err != nil {
		return err
	}
	res.Post = time.Since(start)
	lastLog := time.Now()
	at, err := waitFor(ctx, c.PollInterval, c.Timeout, func() (bool, error) {
		n, err := api.running(ctx)
		if time.Since(lastLog) > time.Second {
			step("%d of %d tasks running after %.1f s", n, c.Tasks(), time.Since(start).Seconds())
			lastLog = time.Now()
		}
		return n >= c.Tasks(), err
	})
	if err != nil {
		return fmt.Errorf("wait for %d running tasks: %w\n%s", c.Tasks(), err, serve.tail(20))
	}
	res.ToRunning = at.Sub(start)
	serveCPU1, _ := cpuSeconds(serve.pid())
	clusterCPU1, _ := cpuSeconds(cluster.pid())
	res.ServeCPU, res.ClusterCPU = serveCPU1-serveCPU0, clusterCPU1-clusterCPU0
	if res.MemAtRunning, err = readMemory(serve.pid()); err != nil {
		return err
	}
	step("%d tasks running after %.2f s (%.0f tasks/s)", c.Tasks(), res.ToRunning.Seconds(), res.rate())
	at, err = waitFor(ctx, c.PollInterval, c.Timeout, func() (bool, error) {
		n, err := api.deployments(ctx)
		return n == 0, err
	})
	if err != nil {
		return fmt.Errorf("wait for deployments to end: %w", err)
	}
	res.ToDeployed = at.Sub(start)
	if res.TaskStates, err = api.tasks(ctx); err != nil {
		return err
	}

	step("timing %d GET /v2/apps?embed=apps.tasks", c.Requests)
	if res.Embed, err = api.measureGET(ctx, "/v2/apps?embed=apps.tasks", c.Requests); err != nil {
		return err
	}
	if res.MemAfterEmbed, err = readMemory(serve.pid()); err != nil {
		return err
	}
	step("p50 %s p99 %s; serve VmRSS %s VmHWM %s", ms(res.Embed.P50), ms(res.Embed.P99), mb(res.MemAfterEmbed.RSS), mb(res.MemAfterEmbed.HWM))
	serve.stop(30 * time.Second)
	cluster.stop(30 * time.Second)
	return nil
}

// benchRaw measures the raw limit on a fresh cluster of the same size.
func benchRaw(ctx context.Context, c config, workDir string, res *results, step func(string, ...any)) error {
	step("starting a fresh stadion mesos local for the raw loop")
	cluster, master, err := startCluster(ctx, c.Stadion, workDir, "cluster-raw", c.Agents, c.Resources)
	if err != nil {
		return err
	}
	defer cluster.stop(30 * time.Second)
	cpu0, _ := cpuSeconds(cluster.pid())
	res.Raw, err = runRaw(ctx, rawConfig{
		Master: master, Tasks: c.Tasks(), CPUs: c.CPUs, Mem: c.Mem, Workers: c.RawWorkers, Timeout: c.Timeout,
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, cluster.tail(20))
	}
	cpu1, _ := cpuSeconds(cluster.pid())
	res.RawClusterCPU = cpu1 - cpu0
	step("raw loop: %d tasks running after %.2f s (%.0f tasks/s)", res.Raw.Running, res.Raw.Elapsed.Seconds(), res.rawRate())
	return nil
}
