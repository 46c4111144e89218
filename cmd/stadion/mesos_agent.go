package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos/agent"
)

const mesosAgentAbout = `Run the built-in Mesos-compatible agent: it registers with a master (the
built-in one) and runs command tasks as processes, DOCKER tasks through the
Docker Engine API, or simulated tasks for benchmarks. For development and
tests. Flags have Mesos's names and default from MESOS_<FLAG> environment
variables. Stopping the agent (SIGTERM, Ctrl-C) kills its tasks. Prints the
URL it serves on; logs go to stderr.`

// defaultDockerSocket is Mesos's --docker_socket default.
const defaultDockerSocket = "/var/run/docker.sock"

// runMesosAgent runs the built-in agent until ctx ends.
func runMesosAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("mesos agent", "", mesosAgentAbout, stderr)
	var (
		cfg            agent.Config
		containerizers string
		dockerSocket   string
		level          string
	)
	env := func(name, def string) string { return envDefault("MESOS_"+strings.ToUpper(name), def) }
	usage := func(name, text string) string {
		return text + " (env MESOS_" + strings.ToUpper(name) + ")"
	}
	fs.StringVar(&cfg.Master, "master", env("master", ""), usage("master", "master to register with: host:port, http://host:port or zk://host:port[,host:port]/path (required)"))
	fs.StringVar(&cfg.IP, "ip", env("ip", agent.DefaultIP), usage("ip", "IP address to listen on and advertise"))
	portText := env("port", "5051")
	port, err := strconv.Atoi(portText)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos agent: bad environment: MESOS_PORT=%q: not a port number\n", portText)
		return exitUsage
	}
	fs.IntVar(&cfg.Port, "port", port, usage("port", "port to listen on; 0 picks a free one"))
	fs.StringVar(&cfg.Hostname, "hostname", env("hostname", ""), usage("hostname", "hostname to advertise (default: the IP)"))
	fs.StringVar(&cfg.WorkDir, "work_dir", env("work_dir", ""), usage("work_dir", "directory of the task sandboxes (required)"))
	fs.StringVar(&cfg.Resources, "resources", env("resources", ""), usage("resources",
		`resources, "cpus:4;mem:4096;disk:10000;ports:[31000-32000]" or a JSON array; cpus, mem, disk and ports not given are derived from the machine`))
	fs.StringVar(&cfg.Attributes, "attributes", env("attributes", ""), usage("attributes", `attributes, "rack:r1;zone:a"`))
	fs.StringVar(&containerizers, "containerizers", env("containerizers", agent.ContainerizerMesos), usage("containerizers",
		"comma-separated containerizers: mesos (command tasks as processes), docker (DOCKER tasks), simulated (benchmarks: tasks without processes; excludes mesos)"))
	dockerDefault := env("docker_socket", "")
	if dockerDefault == "" {
		dockerDefault = envDefault("DOCKER_HOST", defaultDockerSocket)
	}
	fs.StringVar(&dockerSocket, "docker_socket", dockerDefault, usage("docker_socket",
		"Docker Engine socket path, or unix:// or tcp:// URL (default also from DOCKER_HOST)"))
	fs.StringVar(&level, "logging_level", env("logging_level", "INFO"), usage("logging_level", "least severe level logged: DEBUG, INFO, WARNING or ERROR"))

	if code, done := parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stadion mesos agent: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	lvl, ok := map[string]slog.Level{"DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo, "WARNING": slog.LevelWarn, "ERROR": slog.LevelError}[strings.ToUpper(level)]
	if !ok {
		fmt.Fprintf(stderr, "stadion mesos agent: --logging_level %q: want DEBUG, INFO, WARNING or ERROR\n", level)
		return exitUsage
	}
	for c := range strings.SplitSeq(containerizers, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.Containerizers = append(cfg.Containerizers, c)
		}
	}
	cfg.DockerHost = dockerSocket
	if !strings.Contains(dockerSocket, "://") {
		cfg.DockerHost = "unix://" + dockerSocket
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "stadion mesos agent: %v\n", err)
		return exitUsage
	}
	cfg.Logger = newLogger(stderr, lvl)
	a, err := agent.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos agent: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, a.URL())
	<-a.Done()
	return exitOK
}
