package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/docker"
	"github.com/stadionhq/stadion/internal/mesos"
)

// dockerSandbox is where a DOCKER task's sandbox is mounted, as in Mesos.
const dockerSandbox = "/mnt/mesos/sandbox"

// Labels the agent puts on its containers.
const (
	labelTaskID      = docker.LabelTaskID
	labelFrameworkID = docker.LabelFrameworkID
	labelAgentID     = docker.LabelAgentID
	labelContainerID = docker.LabelContainerID
)

// dockerContainerizer runs DOCKER tasks through the Docker Engine API. The
// image must exist locally or be pullable. Each container is named
// mesos-<container_id>, has the sandbox mounted at /mnt/mesos/sandbox, and is
// removed after it ends; its output is copied into the sandbox's stdout and
// stderr files.
type dockerContainerizer struct {
	client *dockerClient
	log    *slog.Logger
}

var _ Containerizer = (*dockerContainerizer)(nil)

func newDockerContainerizer(host string, log *slog.Logger) *dockerContainerizer {
	return &dockerContainerizer{client: newDockerClient(host), log: log.With("containerizer", "docker")}
}

// ping checks that the engine answers.
func (d *dockerContainerizer) ping(ctx context.Context) error {
	resp, err := d.client.request(ctx, "GET", "/_ping", nil, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// dockerCreate is the body of POST /containers/create.
type dockerCreate struct {
	Image        string              `json:"Image"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	Hostname     string              `json:"Hostname,omitempty"`
	User         string              `json:"User,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	HostConfig   dockerHostConfig    `json:"HostConfig"`
}

type dockerHostConfig struct {
	NetworkMode  string                         `json:"NetworkMode,omitempty"`
	PortBindings map[string][]dockerPortBinding `json:"PortBindings,omitempty"`
	Binds        []string                       `json:"Binds,omitempty"`
	Privileged   bool                           `json:"Privileged,omitempty"`
	CPUShares    int64                          `json:"CpuShares,omitempty"`
	Memory       int64                          `json:"Memory,omitempty"`
	CapAdd       []string                       `json:"CapAdd,omitempty"`
	CapDrop      []string                       `json:"CapDrop,omitempty"`
	DNS          []string                       `json:"Dns,omitempty"`
	DNSSearch    []string                       `json:"DnsSearch,omitempty"`
	ExtraHosts   []string                       `json:"ExtraHosts,omitempty"`
	SecurityOpt  []string                       `json:"SecurityOpt,omitempty"`
	Init         *bool                          `json:"Init,omitempty"`
	LogConfig    *dockerLogConfig               `json:"LogConfig,omitempty"`
}

type dockerPortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

type dockerLogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config,omitempty"`
}

// Launch pulls the image when needed, creates and starts the container and
// returns once it runs.
func (d *dockerContainerizer) Launch(ctx context.Context, spec Spec, exited func(Exit)) (Container, error) {
	di := spec.Task.Container.Docker
	if err := d.ensureImage(ctx, di.Image, di.ForcePullImage != nil && *di.ForcePullImage); err != nil {
		return nil, &LaunchError{Err: err}
	}
	body, warnings, err := createBody(spec)
	if err != nil {
		return nil, &LaunchError{Err: err}
	}
	for _, w := range warnings {
		d.log.Warn("docker parameter ignored", "task_id", spec.Task.TaskID.Value, "parameter", w)
	}
	name := docker.MesosNamePrefix + spec.ContainerID
	var created struct {
		ID string `json:"Id"`
	}
	if err := d.client.do(ctx, "POST", "/containers/create", url.Values{"name": {name}}, body, &created); err != nil {
		return nil, &LaunchError{Err: fmt.Errorf("create container: %w", err)}
	}
	c := &dockerContainer{d: d, id: created.ID, name: name, done: make(chan struct{})}
	if err := d.client.do(ctx, "POST", "/containers/"+c.id+"/start", nil, nil, nil); err != nil {
		c.remove()
		return nil, &LaunchError{Err: fmt.Errorf("start container: %w", err)}
	}
	var info struct {
		State struct {
			Pid int `json:"Pid"`
		} `json:"State"`
		NetworkSettings networkSettings `json:"NetworkSettings"`
	}
	if err := d.client.do(ctx, "GET", "/containers/"+c.id+"/json", nil, nil, &info); err != nil {
		c.remove()
		return nil, &LaunchError{Err: fmt.Errorf("inspect container: %w", err)}
	}
	c.pid = info.State.Pid
	c.ip = info.NetworkSettings.ip(body.HostConfig.NetworkMode)
	logsDone := make(chan struct{})
	go c.copyLogs(spec.Sandbox, logsDone)
	// ctx is the agent's: it ends when the agent stops.
	go c.wait(ctx, logsDone, exited)
	return c, nil
}

// ensureImage makes sure image is present: it is pulled when missing or when
// force is set, and a failed pull fails the launch (Mesos's docker
// containerizer does the same for force_pull_image).
func (d *dockerContainerizer) ensureImage(ctx context.Context, image string, force bool) error {
	present := d.client.do(ctx, "GET", "/images/"+image+"/json", nil, nil, nil)
	if present != nil && !isNotFound(present) {
		return fmt.Errorf("inspect image %s: %w", image, present)
	}
	if present == nil && !force {
		return nil
	}
	resp, err := d.client.request(ctx, "POST", "/images/create", url.Values{"fromImage": {image}}, nil)
	if err == nil {
		err = progress(resp.Body)
		resp.Body.Close()
	}
	switch {
	case err == nil:
		return nil
	case present == nil:
		return fmt.Errorf("force pull of image %s failed: %w", image, err)
	}
	return fmt.Errorf("image %s is not present and cannot be pulled: %w", image, err)
}

// createBody maps a task onto a container: command, environment, network,
// ports, volumes, resources and the parameters it understands. It returns
// the parameters it ignored.
func createBody(spec Spec) (dockerCreate, []string, error) {
	ci := spec.Task.Container
	di := ci.Docker
	name := docker.MesosNamePrefix + spec.ContainerID
	body := dockerCreate{
		Image: di.Image,
		Labels: map[string]string{
			labelTaskID:      spec.Task.TaskID.Value,
			labelFrameworkID: spec.FrameworkID,
			labelAgentID:     spec.AgentID,
			labelContainerID: spec.ContainerID,
		},
		Hostname: ci.Hostname,
	}
	if spec.Task.Labels != nil {
		for _, l := range spec.Task.Labels.Labels {
			body.Labels[l.Key] = l.Value
		}
	}
	// The container runs as the command's own user when the agent switches
	// users; the framework's user is the agent's business, not the
	// image's, so without one the image's USER stands. A "user" parameter
	// overrides it below.
	if cmd := spec.Task.Command; spec.User != "" && cmd != nil && cmd.User != "" {
		body.User = cmd.User
	}
	env := append(taskEnv(spec, dockerSandbox), "MESOS_CONTAINER_NAME="+name)
	if cmd := spec.Task.Command; cmd != nil {
		env = mergeEnv(env, cmd.Environment)
		value := ""
		if cmd.Value != nil {
			value = *cmd.Value
		}
		if cmd.IsShell() {
			if strings.TrimSpace(value) == "" {
				return body, nil, errors.New("shell command has no value (use shell false to run the image's entrypoint)")
			}
			body.Entrypoint, body.Cmd = []string{"/bin/sh", "-c"}, []string{value}
		} else {
			if value != "" {
				body.Cmd = append(body.Cmd, value)
			}
			body.Cmd = append(body.Cmd, cmd.Arguments...)
		}
	}
	hc := &body.HostConfig
	hc.Binds = []string{spec.Sandbox + ":" + dockerSandbox}
	hc.Privileged = di.Privileged != nil && *di.Privileged
	switch di.Network {
	case mesos.NetworkHost, "":
		hc.NetworkMode = "host"
	case mesos.NetworkBridge:
		hc.NetworkMode = "bridge"
	case mesos.NetworkNone:
		hc.NetworkMode = "none"
	case mesos.NetworkUser:
		if len(ci.NetworkInfos) != 1 || ci.NetworkInfos[0].Name == "" {
			return body, nil, errors.New("USER network needs exactly one network_infos entry with a name")
		}
		hc.NetworkMode = ci.NetworkInfos[0].Name
	default:
		return body, nil, fmt.Errorf("unknown docker network %q", di.Network)
	}
	if len(di.PortMappings) > 0 {
		if di.Network != mesos.NetworkBridge && di.Network != mesos.NetworkUser {
			return body, nil, errors.New("port mappings need a BRIDGE or USER network")
		}
		body.ExposedPorts = map[string]struct{}{}
		hc.PortBindings = map[string][]dockerPortBinding{}
		for _, pm := range di.PortMappings {
			proto := strings.ToLower(pm.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			for p := range strings.SplitSeq(proto, ",") {
				key := strconv.Itoa(int(pm.ContainerPort)) + "/" + p
				body.ExposedPorts[key] = struct{}{}
				hc.PortBindings[key] = append(hc.PortBindings[key], dockerPortBinding{HostPort: strconv.Itoa(int(pm.HostPort))})
			}
		}
	}
	for _, v := range ci.Volumes {
		if v.HostPath == "" {
			continue // image and docker volume sources are not supported
		}
		host := v.HostPath
		if !filepath.IsAbs(host) {
			host = filepath.Join(spec.Sandbox, host)
		}
		mode := "rw"
		if strings.EqualFold(v.Mode, "RO") {
			mode = "ro"
		}
		hc.Binds = append(hc.Binds, host+":"+v.ContainerPath+":"+mode)
	}
	res := mesos.Resources(spec.Task.Resources)
	if cpus := res.Scalar("cpus"); cpus > 0 {
		hc.CPUShares = max(int64(math.Round(cpus*1024)), 2)
	}
	if mem := res.Scalar("mem"); mem > 0 {
		hc.Memory = max(int64(mem*(1<<20)), 6<<20)
	}
	var ignored []string
	for _, p := range di.Parameters {
		switch p.Key {
		case "env", "e":
			k, v, _ := strings.Cut(p.Value, "=")
			env = setEnv(env, k, v)
		case "label", "l":
			k, v, _ := strings.Cut(p.Value, "=")
			body.Labels[k] = v
		case "volume", "v":
			hc.Binds = append(hc.Binds, p.Value)
		case "net", "network":
			hc.NetworkMode = p.Value
		case "hostname", "h":
			body.Hostname = p.Value
		case "user", "u":
			body.User = p.Value
		case "workdir", "w":
			body.WorkingDir = p.Value
		case "entrypoint":
			body.Entrypoint = []string{p.Value}
		case "cap-add":
			hc.CapAdd = append(hc.CapAdd, p.Value)
		case "cap-drop":
			hc.CapDrop = append(hc.CapDrop, p.Value)
		case "dns":
			hc.DNS = append(hc.DNS, p.Value)
		case "dns-search":
			hc.DNSSearch = append(hc.DNSSearch, p.Value)
		case "add-host":
			hc.ExtraHosts = append(hc.ExtraHosts, p.Value)
		case "security-opt":
			hc.SecurityOpt = append(hc.SecurityOpt, p.Value)
		case "init":
			b := p.Value == "" || p.Value == "true"
			hc.Init = &b
		case "log-driver":
			if hc.LogConfig == nil {
				hc.LogConfig = &dockerLogConfig{}
			}
			hc.LogConfig.Type = p.Value
		case "log-opt":
			if hc.LogConfig == nil {
				hc.LogConfig = &dockerLogConfig{Type: "json-file"}
			}
			if hc.LogConfig.Config == nil {
				hc.LogConfig.Config = map[string]string{}
			}
			k, v, _ := strings.Cut(p.Value, "=")
			hc.LogConfig.Config[k] = v
		default:
			ignored = append(ignored, p.Key+"="+p.Value)
		}
	}
	body.Env = env
	return body, ignored, nil
}

// dockerContainer is a started container.
type dockerContainer struct {
	d    *dockerContainerizer
	id   string
	name string
	pid  int
	ip   string

	done     chan struct{} // closed when the container has ended
	stopOnce sync.Once
	// since, when set, is the Unix time from which its logs are copied:
	// a container re-attached after an agent restart has had its earlier
	// output copied already.
	since int64
}

func (c *dockerContainer) PID() int   { return c.pid }
func (c *dockerContainer) IP() string { return c.ip }

// Bounds of the pause before waiting again for a container whose wait
// call failed while it still runs.
const (
	dockerRewaitMin = 100 * time.Millisecond
	dockerRewaitMax = 10 * time.Second
)

// wait waits for the container to end, lets the log copy finish, removes
// the container and reports the exit. When the agent stops first (ctx
// ends) the container is left alone.
func (c *dockerContainer) wait(ctx context.Context, logsDone <-chan struct{}, exited func(Exit)) {
	exit, ok := c.awaitExit(ctx)
	if !ok {
		return
	}
	close(c.done)
	select {
	case <-logsDone:
	case <-time.After(5 * time.Second):
	}
	c.remove()
	exited(exit)
}

// awaitExit returns the container's exit. A failed wait call (the
// connection to the engine broke, the engine restarted) says nothing of
// the container: it is inspected, and waited for again while it runs, with
// backoff; only a wait's answer or the inspected state gives the exit. ok
// is false when ctx ends first.
func (c *dockerContainer) awaitExit(ctx context.Context) (exit Exit, ok bool) {
	delay := dockerRewaitMin
	for {
		var res struct {
			StatusCode int `json:"StatusCode"`
			Error      *struct {
				Message string `json:"Message"`
			} `json:"Error"`
		}
		err := c.d.client.do(ctx, "POST", "/containers/"+c.id+"/wait", nil, nil, &res)
		switch {
		case err == nil && res.Error != nil && res.Error.Message != "":
			return Exit{Code: res.StatusCode, Message: "Container failed: " + res.Error.Message}, true
		case err == nil:
			return Exit{Code: res.StatusCode}, true
		case ctx.Err() != nil:
			return Exit{}, false
		}
		exit, ended, ierr := c.inspectExit(ctx)
		if ended {
			return exit, true
		}
		if ierr != nil {
			c.d.log.Warn("cannot wait for container; retrying", "container", c.name, "error", err, "inspect_error", ierr, "retry_in", delay)
		} else {
			c.d.log.Warn("wait for container failed while it runs; retrying", "container", c.name, "error", err, "retry_in", delay)
		}
		select {
		case <-ctx.Done():
			return Exit{}, false
		case <-time.After(delay):
		}
		delay = min(2*delay, dockerRewaitMax)
	}
}

// inspectExit inspects the container: ended reports whether it has
// stopped, or is gone, and exit how.
func (c *dockerContainer) inspectExit(ctx context.Context) (exit Exit, ended bool, err error) {
	var info struct {
		State struct {
			Running  bool   `json:"Running"`
			ExitCode int    `json:"ExitCode"`
			Error    string `json:"Error"`
		} `json:"State"`
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = c.d.client.do(ictx, "GET", "/containers/"+c.id+"/json", nil, nil, &info)
	switch {
	case isNotFound(err):
		return Exit{Code: -1, Message: "Container " + c.name + " disappeared"}, true, nil
	case err != nil:
		return Exit{}, false, err
	case info.State.Running:
		return Exit{}, false, nil
	case info.State.Error != "":
		return Exit{Code: info.State.ExitCode, Message: "Container failed: " + info.State.Error}, true, nil
	}
	return Exit{Code: info.State.ExitCode}, true, nil
}

// copyLogs follows the container's output into the sandbox's stdout and
// stderr files, best effort.
func (c *dockerContainer) copyLogs(sandbox string, done chan<- struct{}) {
	defer close(done)
	stdout, err := os.OpenFile(filepath.Join(sandbox, "stdout"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(sandbox, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer stderr.Close()
	q := url.Values{"follow": {"1"}, "stdout": {"1"}, "stderr": {"1"}}
	if c.since > 0 {
		q.Set("since", strconv.FormatInt(c.since, 10))
	}
	resp, err := c.d.client.request(context.Background(), "GET", "/containers/"+c.id+"/logs", q, nil)
	if err != nil {
		c.d.log.Debug("cannot follow container logs", "container", c.name, "error", err)
		return
	}
	defer resp.Body.Close()
	if err := demux(resp.Body, stdout, stderr); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.d.log.Debug("container log copy ended", "container", c.name, "error", err)
	}
}

// Kill stops the container: the image's stop signal (SIGTERM by default),
// then SIGKILL after grace, rounded up to whole seconds.
func (c *dockerContainer) Kill(grace time.Duration) {
	secs := int(math.Ceil(grace.Seconds()))
	go func() {
		q := url.Values{"t": {strconv.Itoa(secs)}}
		err := c.d.client.do(context.Background(), "POST", "/containers/"+c.id+"/stop", q, nil, nil)
		if err != nil && !isNotFound(err) {
			select {
			case <-c.done:
			default:
				c.d.log.Warn("stop container failed", "container", c.name, "error", err)
			}
		}
	}()
}

// remove deletes the container and its anonymous volumes.
func (c *dockerContainer) remove() {
	c.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		q := url.Values{"force": {"1"}, "v": {"1"}}
		if err := c.d.client.do(ctx, "DELETE", "/containers/"+c.id, q, nil, nil); err != nil && !isNotFound(err) {
			c.d.log.Warn("remove container failed", "container", c.name, "error", err)
		}
	})
}

// Exec runs a health-check command inside the container, as docker exec
// does, and fails unless it exits 0.
func (c *dockerContainer) Exec(ctx context.Context, ci *mesos.CommandInfo) error {
	if ci == nil {
		return errors.New("health check has no command")
	}
	value := ""
	if ci.Value != nil {
		value = *ci.Value
	}
	var cmd []string
	switch {
	case ci.IsShell():
		cmd = []string{"/bin/sh", "-c", value}
	case len(ci.Arguments) > 0 && value != "":
		cmd = append([]string{value}, ci.Arguments[1:]...)
	case len(ci.Arguments) > 0:
		cmd = ci.Arguments
	default:
		cmd = []string{value}
	}
	create := map[string]any{"Cmd": cmd, "AttachStdout": true, "AttachStderr": true, "Env": mergeEnv(nil, ci.Environment)}
	var created struct {
		ID string `json:"Id"`
	}
	if err := c.d.client.do(ctx, "POST", "/containers/"+c.id+"/exec", nil, create, &created); err != nil {
		return fmt.Errorf("create exec: %w", err)
	}
	resp, err := c.d.client.request(ctx, "POST", "/exec/"+created.ID+"/start", nil, map[string]bool{"Detach": false, "Tty": false})
	if err != nil {
		return fmt.Errorf("start exec: %w", err)
	}
	var out strings.Builder
	lw := &limitWriter{w: &out, n: 1024}
	err = demux(resp.Body, lw, lw)
	resp.Body.Close()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("check command timed out: %w", ctx.Err())
	}
	var res struct {
		ExitCode int  `json:"ExitCode"`
		Running  bool `json:"Running"`
	}
	if err := c.d.client.do(ctx, "GET", "/exec/"+created.ID+"/json", nil, nil, &res); err != nil {
		return fmt.Errorf("inspect exec: %w", err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("check command exited with status %d: %s", res.ExitCode, strings.TrimSpace(out.String()))
	}
	return nil
}

// reattach takes over the container id of a task launched by a previous
// run of the agent. When it still runs, it is watched and its logs
// followed as at a launch (agentCtx is the agent's); when it has ended, it
// is removed and its exit returned; a container the engine no longer has
// ended with an unknown status.
func (d *dockerContainerizer) reattach(ctx context.Context, id, name, sandbox string, agentCtx context.Context, exited func(Exit)) (Container, *Exit, error) {
	var info struct {
		State struct {
			Running  bool   `json:"Running"`
			Pid      int    `json:"Pid"`
			ExitCode int    `json:"ExitCode"`
			Error    string `json:"Error"`
		} `json:"State"`
		HostConfig struct {
			NetworkMode string `json:"NetworkMode"`
		} `json:"HostConfig"`
		NetworkSettings networkSettings `json:"NetworkSettings"`
	}
	err := d.client.do(ctx, "GET", "/containers/"+id+"/json", nil, nil, &info)
	switch {
	case isNotFound(err):
		return nil, &Exit{Code: -1, Message: "Container " + name + " disappeared while the agent was down"}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("inspect container: %w", err)
	}
	c := &dockerContainer{d: d, id: id, name: name, done: make(chan struct{}), pid: info.State.Pid, since: time.Now().Unix()}
	if !info.State.Running {
		c.remove()
		if info.State.Error != "" {
			return nil, &Exit{Code: info.State.ExitCode, Message: "Container failed: " + info.State.Error}, nil
		}
		return nil, &Exit{Code: info.State.ExitCode}, nil
	}
	c.ip = info.NetworkSettings.ip(info.HostConfig.NetworkMode)
	logsDone := make(chan struct{})
	go c.copyLogs(sandbox, logsDone)
	go c.wait(agentCtx, logsDone, exited)
	return c, nil, nil
}

// removeByName force-removes a container by name, if there is one.
func (d *dockerContainerizer) removeByName(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := url.Values{"force": {"1"}, "v": {"1"}}
	if err := d.client.do(ctx, "DELETE", "/containers/"+name, q, nil, nil); err != nil && !isNotFound(err) {
		d.log.Warn("remove container failed", "container", name, "error", err)
	}
}

// networkSettings is the part of a container's inspection that says its
// address.
type networkSettings struct {
	IPAddress string `json:"IPAddress"`
	Networks  map[string]struct {
		IPAddress string `json:"IPAddress"`
	} `json:"Networks"`
}

// ip is the container's address: the default network's, else that of
// any network it is on; "" with the host's network.
func (n networkSettings) ip(networkMode string) string {
	if n.IPAddress != "" || networkMode == "host" {
		return n.IPAddress
	}
	for _, net := range n.Networks {
		if net.IPAddress != "" {
			return net.IPAddress
		}
	}
	return ""
}
