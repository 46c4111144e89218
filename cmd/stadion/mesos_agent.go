package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

const mesosAgentAbout = `Run the built-in Mesos-compatible agent: it registers with a master (the
built-in one) and runs command tasks as processes, DOCKER tasks through the
Docker Engine API, or simulated tasks for benchmarks. For development and
tests. Flags have Mesos's names and default from MESOS_<FLAG> environment
variables. Stopping the agent (SIGTERM, Ctrl-C) kills its tasks. It
checkpoints its tasks under --work_dir/meta: restarted on the same work dir
after a crash, it reconnects to the tasks still running under its old agent
id (--recover=reconnect), or kills them and registers anew
(--recover=cleanup). Only the master it registered with can run or kill
tasks: the agent gives it a token at registration and refuses cluster calls
without it; --credential authenticates the registration to a master with
--authenticate_agents (docs/mesos-auth.md). Prints the URL it serves on; logs
go to stderr.`

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
	f := newEnvFlags(fs, "MESOS_")
	f.String(&cfg.Master, "master", "", "master to register with: host:port, http://host:port or zk://host:port[,host:port]/path (required)")
	f.String(&cfg.IP, "ip", agent.DefaultIP, "IP address to listen on and advertise")
	f.Int(&cfg.Port, "port", 5051, "port to listen on; 0 picks a free one")
	f.String(&cfg.Hostname, "hostname", "", "hostname to advertise (default: the IP)")
	f.String(&cfg.WorkDir, "work_dir", "", "directory of the task sandboxes (required)")
	f.String(&cfg.Resources, "resources", "",
		`resources, "cpus:4;mem:4096;disk:10000;ports:[31000-32000]" or a JSON array; cpus, mem, disk and ports not given are derived from the machine`)
	f.String(&cfg.Attributes, "attributes", "", `attributes, "rack:r1;zone:a"`)
	f.String(&cfg.Domain, "domain", "", `fault domain of the agent, {"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}; the master needs one too`)
	f.String(&containerizers, "containerizers", agent.ContainerizerMesos,
		"comma-separated containerizers: mesos (command tasks as processes), docker (DOCKER tasks), simulated (benchmarks: tasks without processes; excludes mesos)")
	// An empty MESOS_DOCKER_SOCKET falls back to DOCKER_HOST as an unset
	// one does, so this flag bypasses f.String.
	dockerDefault := envDefault("DOCKER_HOST", defaultDockerSocket)
	if _, v, _ := f.env("docker_socket"); v != "" {
		dockerDefault = v
	}
	fs.StringVar(&dockerSocket, "docker_socket", dockerDefault, f.usage("docker_socket",
		"Docker Engine socket path, or unix:// or tcp:// URL (default also from DOCKER_HOST)"))
	f.Duration(&cfg.HTTP.ReadTimeout, "http_read_timeout", httpserver.DefaultReadTimeout, "time a client may take to send a request, header and body", master.ParseDuration)
	f.Duration(&cfg.HTTP.WriteTimeout, "http_write_timeout", httpserver.DefaultWriteTimeout, "time a response may take from the end of the request header", master.ParseDuration)
	f.Duration(&cfg.HTTP.IdleTimeout, "http_idle_timeout", httpserver.DefaultIdleTimeout, "time a keep-alive connection may wait for its next request", master.ParseDuration)
	f.Int(&cfg.HTTP.MaxConns, "http_max_connections", httpserver.DefaultMaxConns(4), "most open connections; idle keep-alive connections are closed to make room, others wait; the default is a quarter of the descriptor limit, 16 to 4096")
	f.String(&cfg.Recover, "recover", agent.RecoverReconnect,
		"what to do with the tasks a previous run checkpointed in --work_dir: reconnect (re-attach to them under the old agent id) or cleanup (kill them, register as a new agent)")
	var switchUser bool
	f.Bool(&switchUser, "switch_user", true, "run each command task as its user (CommandInfo.user, else the framework's), which must exist on the agent; needs root. false: every task runs as the agent's user")
	f.String(&level, "logging_level", "INFO", "least severe level logged: DEBUG, INFO, WARNING or ERROR")
	var filesTokenFile string
	f.String(&filesTokenFile, "files_token_file", "", "file holding the bearer token the files API (/files/browse, /files/read, /files/download) asks for; without one the agent serves no files (give the same file to stadion serve --mesos_agent_files_token_file)")
	var credential string
	f.String(&credential, "credential", "", `path (or file:///path) of the JSON credential the agent registers with, {"principal": "...", "secret": "..."}, for a master with --authenticate_agents`)

	if code, done := parse(fs, args); done {
		return code
	}
	if err := f.Err(); err != nil {
		fmt.Fprintln(stderr, "stadion mesos agent:", err)
		return exitUsage
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
	cfg.DisableSwitchUser = !switchUser
	cfg.DockerHost = dockerSocket
	if !strings.Contains(dockerSocket, "://") {
		cfg.DockerHost = "unix://" + dockerSocket
	}
	cfg.Logger = newLogger(stderr, lvl)
	if credential != "" {
		cred, warning, err := master.ReadCredential(credential)
		if err != nil {
			fmt.Fprintf(stderr, "stadion mesos agent: %v\n", err)
			return exitUsage
		}
		if warning != "" {
			cfg.Logger.Warn("credential file accessible by others", "path", credential)
		}
		cfg.Principal, cfg.Secret = cred.Principal, cred.Secret
	}
	if filesTokenFile != "" {
		b, err := os.ReadFile(strings.TrimPrefix(filesTokenFile, "file://"))
		if err != nil || strings.TrimSpace(string(b)) == "" {
			fmt.Fprintf(stderr, "stadion mesos agent: --files_token_file: %v\n", cmp.Or(err, errors.New("empty")))
			return exitUsage
		}
		cfg.FilesToken = strings.TrimSpace(string(b))
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "stadion mesos agent: %v\n", err)
		return exitUsage
	}
	a, err := agent.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "stadion mesos agent: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, a.URL())
	<-a.Done()
	return exitOK
}
