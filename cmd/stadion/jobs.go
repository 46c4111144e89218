package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/stadionhq/stadion/jobs"
	"github.com/stadionhq/stadion/jobs/server"
)

const jobsAbout = `Run the job scheduler: Chronos's REST API (/v1/scheduler/... and the
unversioned /scheduler/... of 2.x clients) on --http_port, running ISO 8601
repeating and dependent jobs on Mesos as a framework of its own (named
chronos by default). --master local runs the built-in Mesos-compatible
cluster in this process. State lives in --data_dir/jobs.db, or in ZooKeeper
with --zk_hosts and --zk_path, where instances elect a leader and standbys
proxy to it. Flags have Chronos's names and default from CHRONOS_<FLAG>
environment variables; durations in milliseconds as Chronos's. See
docs/jobs.md.`

// jobsConfig is the parsed command line of `stadion jobs`.
type jobsConfig struct {
	master               string
	httpAddress          string
	httpPort             int
	httpCredentials      string
	httpRealm            string
	hostname             string
	frameworkName        string
	user                 string
	role                 string
	principal            string
	secretFile           string
	failoverTimeout      float64
	dataDir              string
	zkHosts              string
	zkPath               string
	zkTimeout            time.Duration
	failureRetry         time.Duration
	disableAfterFailures int
	historyLimit         int
	declineOfferDuration time.Duration
	reconcileInterval    time.Duration
	taskCPU              float64
	taskMem              float64
	taskDisk             float64
	localAgents          int
	localResources       string
	localContainerizers  string
	loggingLevel         string
}

func runJobs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("jobs", "", jobsAbout, stderr)
	var c jobsConfig
	host, _ := os.Hostname()
	me := "root"
	if u, err := user.Current(); err == nil && u.Username != "" {
		me = u.Username
	}
	f := newEnvFlags(fs, "CHRONOS_")
	f.String(&c.master, "master", "", "Mesos master: local, host:port, http://host:port or zk://host:port[,host:port]/mesos (required)")
	f.String(&c.httpAddress, "http_address", "", "address to listen on (default: 127.0.0.1 with --master local, else all addresses)")
	f.Int(&c.httpPort, "http_port", 4400, "port of the API (Chronos's packages' 4400; serve has 8080)")
	f.Secret(&c.httpCredentials, "http_credentials", "", "user:password that every request but /ping must send as HTTP Basic credentials; prefer the environment (CHRONOS_HTTP_CREDENTIALS) to the command line, which ps shows (default: none)")
	f.String(&c.httpRealm, "http_realm", server.DefaultRealm, "realm of the HTTP Basic challenge")
	f.String(&c.hostname, "hostname", host, "hostname advertised to Mesos and to standbys")
	f.String(&c.frameworkName, "mesos_framework_name", "chronos", "framework name registered with Mesos")
	f.String(&c.user, "user", me, "Mesos user of the framework and of jobs without runAsUser (default: the user stadion runs as)")
	f.String(&c.role, "mesos_role", "*", "Mesos role of the framework")
	f.String(&c.principal, "mesos_authentication_principal", "", "principal for HTTP authentication with Mesos")
	f.String(&c.secretFile, "mesos_authentication_secret_file", "", "file holding the secret of --mesos_authentication_principal")
	f.Float(&c.failoverTimeout, "failover_timeout", 604800, "seconds Mesos keeps the tasks while the scheduler is away")
	f.String(&c.dataDir, "data_dir", "./data-jobs", "directory of jobs.db (without --zk_hosts) and of the built-in cluster")
	f.String(&c.zkHosts, "zk_hosts", "", "ZooKeeper host:port[,host:port]: state in ZooKeeper under --zk_path and leader election (default: state in --data_dir, no HA)")
	f.String(&c.zkPath, "zk_path", "/chronos/state", "ZooKeeper path of the state (<zk_path>/state) and the election (<zk_path>/candidate)")
	f.Millis(&c.zkTimeout, "zk_timeout", 10*time.Second, "ZooKeeper session timeout,")
	f.Millis(&c.failureRetry, "failure_retry", jobs.DefaultFailureRetry, "delay before a failed run is retried,")
	f.Int(&c.disableAfterFailures, "disable_after_failures", 0, "final failures since the last success after which a job is disabled (0: never)")
	f.Int(&c.historyLimit, "job_history_limit", jobs.DefaultHistoryLimit, "finished runs kept per job")
	f.Millis(&c.declineOfferDuration, "decline_offer_duration", jobs.DefaultDeclineOfferDuration, "how long unused offers are refused while nothing waits,")
	f.Millis(&c.reconcileInterval, "reconciliation_interval", jobs.DefaultReconcileInterval, "period of task reconciliation,")
	f.Float(&c.taskCPU, "mesos_task_cpu", jobs.DefaultDefaults.CPUs, "cpus of a job that sets none")
	f.Float(&c.taskMem, "mesos_task_mem", jobs.DefaultDefaults.Mem, "mem (MB) of a job that sets none")
	f.Float(&c.taskDisk, "mesos_task_disk", jobs.DefaultDefaults.Disk, "disk (MB) of a job that sets none")
	f.Int(&c.localAgents, "local_agents", 1, "agents of the built-in cluster with --master local")
	f.String(&c.localResources, "local_resources", "", "resources of each built-in agent, Mesos's --resources form (default: derived from the machine)")
	f.String(&c.localContainerizers, "local_containerizers", "mesos,docker", "containerizers of the built-in agents: mesos, docker")
	f.String(&c.loggingLevel, "logging_level", "info", "least severe level logged: debug, info, warn or error")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion jobs:", err)
		return exitUsage
	}
	if c.master == "" {
		fmt.Fprintln(stderr, "stadion jobs: --master is required (local, host:port or zk://.../mesos)")
		return exitUsage
	}
	if c.httpCredentials != "" {
		if _, _, err := server.ParseCredentials(c.httpCredentials); err != nil {
			fmt.Fprintln(stderr, "stadion jobs: --http_credentials:", err)
			return exitUsage
		}
	}
	if c.disableAfterFailures < 0 || c.historyLimit < 1 {
		fmt.Fprintln(stderr, "stadion jobs: --disable_after_failures must not be negative, --job_history_limit at least 1")
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.loggingLevel)); err != nil {
		fmt.Fprintf(stderr, "stadion jobs: --logging_level %q: want debug, info, warn or error\n", c.loggingLevel)
		return exitUsage
	}
	if c.httpAddress == "" && c.master == server.MasterLocal {
		c.httpAddress = "127.0.0.1"
	}
	log := newLogger(stderr, level)
	srv, err := server.Start(ctx, server.ServerConfig{
		Master: c.master, HTTPAddress: c.httpAddress, HTTPPort: c.httpPort, Hostname: c.hostname,
		HTTPCredentials: c.httpCredentials, HTTPRealm: c.httpRealm,
		FrameworkName: c.frameworkName, User: c.user, Role: c.role, Principal: c.principal, SecretFile: c.secretFile,
		FailoverTimeout: time.Duration(c.failoverTimeout * float64(time.Second)), DataDir: c.dataDir,
		ZKHosts: c.zkHosts, ZKPath: c.zkPath, ZKSessionTimeout: c.zkTimeout,
		FailureRetry: c.failureRetry, DisableAfterFailures: int64(c.disableAfterFailures), HistoryLimit: c.historyLimit,
		DeclineOfferDuration: c.declineOfferDuration, ReconcileInterval: c.reconcileInterval,
		Defaults:    jobs.Defaults{CPUs: c.taskCPU, Mem: c.taskMem, Disk: c.taskDisk, User: c.user},
		LocalAgents: c.localAgents, LocalResources: c.localResources, LocalContainerizers: strings.Split(c.localContainerizers, ","),
		Logger: log,
	})
	if err != nil {
		log.Error("stadion jobs failed to start", "error", err)
		return exitError
	}
	fmt.Fprintf(stdout, "stadion jobs: Chronos API on %s (master %s)\n", srv.URL(), c.master)
	if err := srv.Wait(); err != nil {
		log.Error("stadion jobs stopped", "error", err)
		return exitError
	}
	return exitOK
}
