package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/mesos"
)

// Containerizer names accepted in Config.Containerizers.
const (
	// ContainerizerMesos runs command tasks as child processes.
	ContainerizerMesos = "mesos"
	// ContainerizerDocker runs DOCKER tasks through the Docker Engine API.
	ContainerizerDocker = "docker"
	// ContainerizerSimulated runs nothing: tasks only report states. It is
	// meant for scale benchmarks and is used only when chosen explicitly.
	ContainerizerSimulated = "simulated"
)

// Recovery modes accepted in Config.Recover, as Mesos's --recover.
const (
	// RecoverReconnect re-attaches to the tasks a previous run of the agent
	// left running in the same work dir and reregisters with its agent id.
	RecoverReconnect = "reconnect"
	// RecoverCleanup kills the tasks a previous run left and registers as a
	// new agent.
	RecoverCleanup = "cleanup"
)

// Defaults.
const (
	DefaultIP             = "127.0.0.1"
	DefaultDockerHost     = "unix:///var/run/docker.sock"
	DefaultStatusRetryMin = 10 * time.Second
	DefaultStatusRetryMax = 10 * time.Minute
	// DefaultStatusSenders is the default of Config.StatusSenders.
	DefaultStatusSenders = 8
	// DefaultKillGracePeriod is the time between SIGTERM and SIGKILL when
	// neither the kill nor the task names a kill policy, as Mesos's command
	// executor has it.
	DefaultKillGracePeriod = 3 * time.Second
	// DefaultPingTimeout is used when the master does not tell its ping
	// interval.
	DefaultPingTimeout = 15 * time.Second
)

// Config configures an agent. The zero value of every field but Master and
// WorkDir means its default.
type Config struct {
	// Master locates the master: "host:port", "http://host:port", or
	// "zk://host1:2181,host2:2181/mesos" to detect the leading master in
	// ZooKeeper and follow its changes.
	Master string
	// IP is the address the agent listens on and advertises; default
	// 127.0.0.1.
	IP string
	// Port is the listen port; 0 picks a free one (the command's --port
	// flag defaults to 5051).
	Port int
	// Hostname is the advertised host name; default IP.
	Hostname string
	// WorkDir holds the sandboxes, under
	// slaves/<agent_id>/frameworks/<framework_id>/executors/<task_id>/runs/<container_id>,
	// and the checkpoint of the agent's id and tasks under meta/.
	// Required; created when missing.
	WorkDir string
	// Resources is the agent's resources in Mesos's text form
	// ("cpus:4;mem:4096;ports:[31000-32000]") or as a JSON array. cpus,
	// mem, disk and ports that are not given are derived from the machine:
	// cpus = number of CPUs, mem = total RAM in MB minus 1 GB (at least
	// 256), disk = size of WorkDir's file system in MB minus 5 GB (half of
	// it when smaller), ports = [31000-32000].
	Resources string
	// Attributes is the agent's attributes, "rack:r1;zone:a".
	Attributes string
	// Domain is the agent's fault domain in Mesos's --domain JSON form,
	// {"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}; ""
	// is none. The master must have a domain too.
	Domain string
	// Containerizers lists the enabled containerizers: "mesos" (the
	// default), "docker", "simulated". A DOCKER task on an agent without
	// "docker" fails; "simulated" runs command tasks without processes.
	Containerizers []string
	// DockerHost is the Docker Engine address, unix:///path or
	// tcp://host:port; default unix:///var/run/docker.sock.
	DockerHost string
	// StatusRetryMin and StatusRetryMax bound the resending of
	// unacknowledged status updates: the first resend comes after
	// StatusRetryMin (default 10s), the delay doubles up to StatusRetryMax
	// (default 10m).
	StatusRetryMin time.Duration
	StatusRetryMax time.Duration
	// StatusSenders is how many status updates the agent posts at once
	// (default DefaultStatusSenders). A cluster of many agents in one
	// process gives each fewer, so that the master does not serve
	// thousands at once (local.Start).
	StatusSenders int
	// HTTP holds the read, write and idle timeouts and the connection cap
	// of the agent's HTTP server (httpserver.Limits defaults).
	HTTP httpserver.Limits
	// Recover is what the agent does with the tasks a previous run
	// checkpointed under WorkDir/meta: RecoverReconnect (the default)
	// re-attaches to them under the old agent id, RecoverCleanup kills them
	// and registers as a new agent.
	Recover string
	// DisableSwitchUser runs every task as the agent's own user (Mesos's
	// --switch_user=false). By default a command task runs as its user
	// (CommandInfo.user, else FrameworkInfo.user): the agent, as root,
	// switches to its uid, gid and groups from the user database and gives
	// it the sandbox; a user that does not exist fails the task. A DOCKER
	// task with CommandInfo.user gets it as the container's user.
	DisableSwitchUser bool
	// Principal and Secret authenticate the agent's registration with
	// HTTP Basic, for a master started with --authenticate_agents
	// (Mesos's --credential). Secret is never logged.
	Principal string
	Secret    string
	// FilesToken is the bearer token the files API (/files/browse,
	// /files/read, /files/download) asks for; empty serves no files.
	// It gives read access to every sandbox and nothing else: the
	// cluster endpoints need the master's own token.
	FilesToken string
	// Logger receives the agent's logs; default discards them.
	Logger *slog.Logger
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if c.Master == "" {
		errs = append(errs, errors.New("master is required"))
	} else if _, err := parseMaster(c.Master); err != nil {
		errs = append(errs, err)
	}
	if c.WorkDir == "" {
		errs = append(errs, errors.New("work_dir is required"))
	}
	if c.IP != "" && net.ParseIP(c.IP) == nil {
		errs = append(errs, fmt.Errorf("ip %q is not an IP address", c.IP))
	}
	if c.StatusSenders < 0 {
		errs = append(errs, errors.New("status senders must not be negative"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is out of range", c.Port))
	}
	if _, err := mesos.ParseResources(c.Resources); err != nil {
		errs = append(errs, err)
	}
	if _, err := mesos.ParseAttributes(c.Attributes); err != nil {
		errs = append(errs, err)
	}
	if _, err := mesos.ParseDomain(c.Domain); err != nil {
		errs = append(errs, err)
	}
	for _, name := range c.Containerizers {
		switch name {
		case ContainerizerMesos, ContainerizerDocker, ContainerizerSimulated:
		default:
			errs = append(errs, fmt.Errorf("unknown containerizer %q (want mesos, docker or simulated)", name))
		}
	}
	if slices.Contains(c.Containerizers, ContainerizerMesos) && slices.Contains(c.Containerizers, ContainerizerSimulated) {
		errs = append(errs, errors.New("containerizers mesos and simulated exclude each other: both run command tasks"))
	}
	if c.DockerHost != "" && !strings.HasPrefix(c.DockerHost, "unix://") && !strings.HasPrefix(c.DockerHost, "tcp://") {
		errs = append(errs, fmt.Errorf("docker host %q: want unix:///path or tcp://host:port", c.DockerHost))
	}
	switch c.Recover {
	case "", RecoverReconnect, RecoverCleanup:
	default:
		errs = append(errs, fmt.Errorf("recover %q: want reconnect or cleanup", c.Recover))
	}
	if c.StatusRetryMin < 0 || c.StatusRetryMax < 0 {
		errs = append(errs, errors.New("status retry durations must not be negative"))
	}
	if c.Secret != "" && c.Principal == "" {
		errs = append(errs, errors.New("secret given without principal"))
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.IP == "" {
		c.IP = DefaultIP
	}
	if c.Hostname == "" {
		c.Hostname = c.IP
	}
	if len(c.Containerizers) == 0 {
		c.Containerizers = []string{ContainerizerMesos}
	}
	if c.DockerHost == "" {
		c.DockerHost = DefaultDockerHost
	}
	if c.StatusRetryMin == 0 {
		c.StatusRetryMin = DefaultStatusRetryMin
	}
	if c.StatusRetryMax == 0 {
		c.StatusRetryMax = DefaultStatusRetryMax
	}
	if c.StatusSenders == 0 {
		c.StatusSenders = DefaultStatusSenders
	}
	if c.StatusRetryMax < c.StatusRetryMin {
		c.StatusRetryMax = c.StatusRetryMin
	}
	if c.Recover == "" {
		c.Recover = RecoverReconnect
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) enabled(containerizer string) bool {
	return slices.Contains(c.Containerizers, containerizer)
}

// agentResources parses text and adds what it lacks of cpus, mem, disk and
// ports from the machine.
func agentResources(text, workDir string) (mesos.Resources, error) {
	res, err := mesos.ParseResources(text)
	if err != nil {
		return nil, err
	}
	has := func(name string) bool {
		return slices.ContainsFunc(res, func(r mesos.Resource) bool { return r.Name == name })
	}
	var add []string
	if !has("cpus") {
		add = append(add, fmt.Sprintf("cpus:%d", runtime.NumCPU()))
	}
	if !has("mem") {
		add = append(add, fmt.Sprintf("mem:%d", machineMemMB()))
	}
	if !has("disk") {
		add = append(add, fmt.Sprintf("disk:%d", machineDiskMB(workDir)))
	}
	if !has("ports") {
		add = append(add, "ports:[31000-32000]")
	}
	if len(add) == 0 {
		return res, nil
	}
	more, err := mesos.ParseResources(strings.Join(add, ";"))
	if err != nil {
		return nil, fmt.Errorf("derive resources: %w", err)
	}
	return res.Plus(more), nil
}

func machineMemMB() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 256
	}
	total := int64(si.Totalram) * int64(si.Unit) >> 20
	return max(total-1024, 256)
}

func machineDiskMB(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 1024
	}
	total := int64(st.Blocks) * st.Bsize >> 20
	if total > 2*5120 {
		return total - 5120
	}
	return max(total/2, 1)
}

// parseMaster turns Config.Master into a detector spec: a base URL for a
// static master, or a zk:// URL.
func parseMaster(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "zk://"):
		return s, nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return strings.TrimRight(s, "/"), nil
	case strings.Contains(s, "://"):
		return "", fmt.Errorf("master %q: want host:port, http://host:port or zk://hosts/path", s)
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return "", fmt.Errorf("master %q: %w", s, err)
	}
	return "http://" + s, nil
}

// getenvDefault is os.Getenv with a fallback for unset or empty variables.
func getenvDefault(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
