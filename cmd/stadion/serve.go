package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stadionhq/stadion/framework/api"
	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/state/boltstore"
	"github.com/stadionhq/stadion/internal/zk"
)

const serveAbout = `Run the scheduler: Marathon's /v2 REST API and event stream on
--http_port, scheduling apps on Mesos through the v1 scheduler HTTP API.
--master local runs the built-in Mesos-compatible master and one agent in this
process (development, CI, demos); production points it at Apache Mesos:
--master zk://h1:2181,h2:2181/mesos or --master http://host:5050.
Flags have Marathon's names and default from MARATHON_<FLAG> environment
variables; Marathon's timeouts are in milliseconds. State lives in --data_dir.`

// serveConfig is the parsed command line of `stadion serve`.
type serveConfig struct {
	master               string
	httpAddress          string
	httpPort             int
	hostname             string
	frameworkName        string
	role                 string
	failoverTimeout      float64
	taskLaunchTimeout    time.Duration
	reconcileInterval    time.Duration
	reconcileDelay       time.Duration
	declineOfferDuration time.Duration
	maxInstancesPerOffer int
	envVarsPrefix        string
	principal            string
	secretFile           string
	dataDir              string
	localContainerizers  string
	localAgents          int
	loggingLevel         string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "", serveAbout, stderr)
	var c serveConfig
	host, _ := os.Hostname()
	f := newEnvFlags(fs, "MARATHON_")
	f.String(&c.master, "master", "", "Mesos master: local, host:port, http://host:port or zk://host:port[,host:port]/path (required)")
	f.String(&c.httpAddress, "http_address", "", "address to listen on for HTTP (default: all)")
	f.Int(&c.httpPort, "http_port", 8080, "port to listen on for HTTP")
	f.String(&c.hostname, "hostname", host, "hostname advertised to Mesos and in /v2/leader")
	f.String(&c.frameworkName, "framework_name", "marathon", "framework name registered with Mesos")
	f.String(&c.role, "mesos_role", "*", "Mesos role of the framework")
	f.Float(&c.failoverTimeout, "failover_timeout", 604800, "seconds Mesos keeps the tasks while the scheduler is away")
	f.Millis(&c.taskLaunchTimeout, "task_launch_timeout", 5*time.Minute, "time a task may take from launch to TASK_RUNNING before it is killed,")
	f.Millis(&c.reconcileInterval, "reconciliation_interval", 10*time.Minute, "period of task reconciliation,")
	f.Millis(&c.reconcileDelay, "reconciliation_initial_delay", 15*time.Second, "delay of the first periodic reconciliation,")
	f.Millis(&c.declineOfferDuration, "decline_offer_duration", scheduler.DefaultDeclineOfferDuration, "how long unused offers are refused when nothing waits,")
	f.Int(&c.maxInstancesPerOffer, "max_instances_per_offer", scheduler.DefaultMaxInstancesPerOffer, "most instances launched from one offer")
	f.String(&c.envVarsPrefix, "env_vars_prefix", "", "prefix of the port and host variables in task environments")
	f.String(&c.principal, "mesos_authentication_principal", "", "principal for HTTP authentication with Mesos")
	f.String(&c.secretFile, "mesos_authentication_secret_file", "", "file holding the secret for --mesos_authentication_principal")
	f.String(&c.dataDir, "data_dir", "./data", "directory of the state store (and of the built-in cluster with --master local)")
	f.String(&c.localContainerizers, "local_containerizers", "mesos,docker", "containerizers of the built-in agent with --master local: mesos, docker, simulated")
	f.Int(&c.localAgents, "local_agents", 1, "agents of the built-in cluster with --master local")
	f.String(&c.loggingLevel, "logging_level", "info", "least severe level logged: debug, info, warn or error")
	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion serve:", err)
		return exitUsage
	}
	if c.master == "" {
		fmt.Fprintln(stderr, "stadion serve: --master is required (local, host:port or zk://.../mesos)")
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(strings.TrimPrefix(strings.ToLower(c.loggingLevel), "warning")))); err != nil {
		fmt.Fprintf(stderr, "stadion serve: --logging_level %q: want debug, info, warn or error\n", c.loggingLevel)
		return exitUsage
	}
	log := newLogger(stderr, level)
	if err := serve(ctx, c, stdout, log); err != nil {
		log.Error("stadion serve stopped", "error", err)
		return exitError
	}
	return exitOK
}

func serve(ctx context.Context, c serveConfig, stdout io.Writer, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	store, err := boltstore.Open(boltstore.Config{Path: filepath.Join(c.dataDir, "stadion.db"), Logger: log.With("component", "state")})
	if err != nil {
		return err
	}
	defer store.Close()

	detector, cleanup, err := masterDetector(ctx, c, log)
	if err != nil {
		return err
	}
	defer cleanup()

	secret := ""
	if c.secretFile != "" {
		b, err := os.ReadFile(c.secretFile)
		if err != nil {
			return fmt.Errorf("read --mesos_authentication_secret_file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	failover := c.failoverTimeout
	checkpoint := true
	advertised := net.JoinHostPort(c.hostname, strconv.Itoa(c.httpPort))
	client, err := mesos.New(mesos.Config{
		Detector: detector,
		Framework: mesos.FrameworkInfo{
			User:            currentUser(),
			Name:            c.frameworkName,
			FailoverTimeout: &failover,
			Checkpoint:      &checkpoint,
			Role:            c.role,
			Hostname:        c.hostname,
			WebUIURL:        "http://" + advertised,
			Capabilities: []mesos.Capability{
				{Type: mesos.CapabilityPartitionAware},
				{Type: mesos.CapabilityTaskKillingState},
			},
		},
		Store:     scheduler.FrameworkIDs(store),
		Principal: c.principal,
		Secret:    secret,
		Logger:    log.With("component", "mesos"),
	})
	if err != nil {
		return err
	}
	bus := events.NewBus(events.Config{Logger: log.With("component", "events")})
	sched, err := scheduler.New(scheduler.Config{
		Mesos:                      client,
		Store:                      store,
		Events:                     bus,
		Role:                       c.role,
		EnvVarsPrefix:              c.envVarsPrefix,
		TaskLaunchTimeout:          c.taskLaunchTimeout,
		ReconciliationInterval:     c.reconcileInterval,
		ReconciliationInitialDelay: c.reconcileDelay,
		DeclineOfferDuration:       c.declineOfferDuration,
		MaxInstancesPerOffer:       c.maxInstancesPerOffer,
		Logger:                     log.With("component", "scheduler"),
	})
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	handler := api.New(api.Config{
		Backend:  sched,
		Events:   bus,
		Registry: registry,
		Logger:   log.With("component", "api"),
		Leader:   func() (string, bool) { return advertised, true },
		Info: func() marathon.Info {
			return serveInfo(c, sched.View().FrameworkID)
		},
	})

	ln, err := net.Listen("tcp", net.JoinHostPort(c.httpAddress, strconv.Itoa(c.httpPort)))
	if err != nil {
		return fmt.Errorf("listen for HTTP: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	schedErr := make(chan error, 1)
	go func() { schedErr <- sched.Run(ctx) }()
	fmt.Fprintf(stdout, "stadion serve: Marathon API on http://%s (master %s, state in %s)\n", ln.Addr(), c.master, c.dataDir)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-schedErr:
	case runErr = <-serveErr:
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	srv.Shutdown(shutdownCtx)
	if errors.Is(runErr, context.Canceled) || errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

// masterDetector finds the Mesos master of --master; "local" starts the
// built-in cluster in this process, stopped by the returned cleanup.
func masterDetector(ctx context.Context, c serveConfig, log *slog.Logger) (mesos.Detector, func(), error) {
	switch {
	case c.master == "local":
		var containerizers []string
		for _, name := range strings.Split(c.localContainerizers, ",") {
			if name = strings.TrimSpace(name); name == agent.ContainerizerDocker && !dockerAvailable() {
				log.Warn("docker containerizer disabled: no docker socket", "socket", "/var/run/docker.sock")
				continue
			} else if name != "" {
				containerizers = append(containerizers, name)
			}
		}
		cluster, err := local.Start(ctx, local.Config{
			Agents:  c.localAgents,
			WorkDir: filepath.Join(c.dataDir, "mesos"),
			Agent:   agent.Config{Containerizers: containerizers},
			Logger:  log.With("component", "local-mesos"),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("start the built-in cluster: %w", err)
		}
		det, err := mesos.StaticDetector(cluster.URL())
		if err != nil {
			cluster.Stop()
			return nil, nil, err
		}
		log.Info("built-in mesos cluster started", "master", cluster.URL(), "agents", len(cluster.Agents))
		return det, cluster.Stop, nil
	case strings.HasPrefix(c.master, "zk://"):
		servers, path, err := zk.ParseURL(c.master)
		if err != nil {
			return nil, nil, fmt.Errorf("--master: %w", err)
		}
		det, err := zk.NewMasterDetector(zk.MasterDetectorConfig{Servers: servers, Path: path, Logger: log.With("component", "zk")})
		if err != nil {
			return nil, nil, err
		}
		return det, func() { det.Close() }, nil
	default:
		det, err := mesos.StaticDetector(c.master)
		if err != nil {
			return nil, nil, fmt.Errorf("--master: %w", err)
		}
		return det, func() {}, nil
	}
}

func dockerAvailable() bool {
	_, err := os.Stat("/var/run/docker.sock")
	return err == nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}

// serveInfo is GET /v2/info.
func serveInfo(c serveConfig, frameworkID string) marathon.Info {
	return marathon.Info{
		Name:        "marathon",
		Version:     "1.10.0-stadion-" + version,
		Buildref:    version + " " + runtime.Version(),
		Elected:     true,
		Leader:      net.JoinHostPort(c.hostname, strconv.Itoa(c.httpPort)),
		FrameworkID: frameworkID,
	}
}
