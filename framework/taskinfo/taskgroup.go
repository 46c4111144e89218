package taskinfo

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// ephemeralVolumePrefix is where the executor sandbox keeps a pod's
// ephemeral volumes (Marathon's TaskGroupBuilder.ephemeralVolumePathPrefix).
const ephemeralVolumePrefix = "volumes/"

// GroupInput is what BuildGroup needs for one pod instance.
type GroupInput struct {
	// Pod is the (normalised) pod version the instance runs.
	Pod marathon.Pod
	// InstanceID is the instance ("<prefix>.instance-<uuid>"); Incarnation
	// numbers this launch of it (1 for the first).
	InstanceID  string
	Incarnation int
	// FrameworkID, AgentID and Hostname come from the offer.
	FrameworkID string
	AgentID     mesos.AgentID
	Hostname    string
	// Resources are the offered resources matched for the whole instance:
	// the executor's and every container's scalars and all host ports.
	// BuildGroup slices them: the executor's share and the port ranges go
	// to the executor, each container's share to its task.
	Resources []mesos.Resource
	// HostPorts has one entry per endpoint of all containers, in order:
	// the allocated host port, 0 for an endpoint without one.
	HostPorts []uint32
	// EnvPrefix is --env_vars_prefix, put before the endpoint variables.
	EnvPrefix string
	// BridgeName is the bridge network of BRIDGE pods, Marathon's
	// --mesos_bridge_name (not a flag of serve yet); "" is DefaultBridgeName.
	BridgeName string
	// EnforceRole is the enforceRole of the pod's group.
	EnforceRole bool
	// Secrets holds the value of every secret the pod's environment
	// refers to, by secret name, resolved by the caller.
	Secrets map[string]string
}

// BuildGroup returns the LAUNCH_GROUP of one pod instance as Marathon's
// TaskGroupBuilder makes it:
//
//   - the executor is a DEFAULT executor with id PodExecutorID, a MESOS
//     container holding the pod's networks (none in host mode: it shares
//     the agent's namespace) and linux_info.share_cgroups =
//     legacySharedCgroups, the pod labels, the executor resources and
//     every port;
//   - one task per container, in container order, named after the
//     container, with task id PodTaskID(instance, container, incarnation);
//   - a container's command: shell → shell true; argv → shell false with
//     the arguments (and value argv[0] with overrideEntrypoint); no exec →
//     shell false without a value, so that the image's entrypoint runs;
//     its user (else the pod's) and artifacts;
//   - the environment, later sources winning: pod env, container env,
//     HOST, the task context (MESOS_TASK_ID, MESOS_EXECUTOR_ID,
//     MARATHON_APP_ID, MARATHON_APP_VERSION, MARATHON_CONTAINER_ID,
//     MARATHON_APP_ENFORCE_GROUP_ROLE, MARATHON_CONTAINER_RESOURCE_*), the
//     labels of the pod and the container (MARATHON_APP_LABEL_*), and the
//     endpoint variables of all containers (ENDPOINT_, EP_HOST_,
//     EP_CONTAINER_); secret references are SECRET variables;
//   - volumes: ephemeral → SANDBOX_PATH PARENT volumes/<name> (shared by
//     the group), host → host_path; RO when readOnly;
//   - the health check probes the endpoint's container port (the host
//     port in host mode, or when the container port is 0);
//   - discovery per endpoint and protocol (PortDiscovery.generateForPod).
func BuildGroup(in GroupInput) (mesos.LaunchGroup, error) {
	p := &in.Pod
	var endpoints []marathon.Endpoint
	for _, c := range p.Containers {
		endpoints = append(endpoints, c.Endpoints...)
	}
	if len(in.HostPorts) != len(endpoints) {
		return mesos.LaunchGroup{}, fmt.Errorf("%w: %d host ports for the %d endpoints of %s", ErrInvalid, len(in.HostPorts), len(endpoints), p.ID)
	}
	if in.InstanceID == "" || in.Incarnation < 1 {
		return mesos.LaunchGroup{}, fmt.Errorf("%w: pod %s: no instance id or incarnation", ErrInvalid, p.ID)
	}
	packed, err := packResources(p, in.Resources)
	if err != nil {
		return mesos.LaunchGroup{}, err
	}
	executorID := marathon.PodExecutorID(in.InstanceID)
	lg := mesos.LaunchGroup{Executor: mesos.ExecutorInfo{
		Type:        mesos.ExecutorDefault,
		ExecutorID:  mesos.ExecutorID{Value: executorID},
		FrameworkID: &mesos.FrameworkID{Value: in.FrameworkID},
		Resources:   packed.executor,
		Container:   executorContainer(in, endpoints),
		Labels:      labels(p.Labels),
	}}
	epEnv := endpointEnv(p, in.HostPorts, in.EnvPrefix)
	first := 0
	for i, c := range p.Containers {
		hostPorts := in.HostPorts[first : first+len(c.Endpoints)]
		first += len(c.Endpoints)
		ti, err := groupTask(in, c, executorID, packed.tasks[i], hostPorts, epEnv)
		if err != nil {
			return mesos.LaunchGroup{}, err
		}
		lg.TaskGroup.Tasks = append(lg.TaskGroup.Tasks, ti)
	}
	return lg, nil
}

func groupTask(in GroupInput, c marathon.PodContainer, executorID string, res []mesos.Resource, hostPorts []uint32, epEnv map[string]string) (mesos.TaskInfo, error) {
	p := &in.Pod
	taskID := marathon.PodTaskID(in.InstanceID, c.Name, in.Incarnation)
	ti := mesos.TaskInfo{
		Name:      c.Name,
		TaskID:    mesos.TaskID{Value: taskID},
		AgentID:   in.AgentID,
		Resources: res,
		Labels:    labels(c.Labels),
		Discovery: groupDiscovery(p, c.Endpoints, hostPorts),
		Container: taskContainer(p, c),
	}
	cmd, err := groupCommand(in, c, taskID, executorID, epEnv)
	if err != nil {
		return mesos.TaskInfo{}, err
	}
	ti.Command = cmd
	if c.HealthCheck != nil {
		if ti.HealthCheck, err = groupHealthCheck(p, c, hostPorts); err != nil {
			return mesos.TaskInfo{}, err
		}
	}
	if c.Lifecycle != nil && c.Lifecycle.KillGracePeriodSeconds != nil {
		ns := int64(*c.Lifecycle.KillGracePeriodSeconds * float64(time.Second))
		ti.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: ns}}
	}
	return ti, nil
}

// executorContainer holds the pod's networks and its cgroup and IPC
// settings.
func executorContainer(in GroupInput, endpoints []marathon.Endpoint) *mesos.ContainerInfo {
	p := &in.Pod
	ci := &mesos.ContainerInfo{Type: mesos.ContainerMesos}
	li := mesos.LinuxInfo{ShareCgroups: ptr(p.LegacySharedCgroups)}
	if p.LinuxInfo != nil && p.LinuxInfo.IPCInfo != nil {
		li.IPCMode = string(p.LinuxInfo.IPCInfo.Mode)
		if s := p.LinuxInfo.IPCInfo.ShmSize; s != nil {
			li.ShmSize = ptr(uint32(max(*s, 0)))
		}
	}
	ci.LinuxInfo = mustJSON(li)
	ci.NetworkInfos = groupNetworks(p, endpoints, in.HostPorts, in.BridgeName)
	return ci
}

// groupNetworks is TaskGroupBuilder.buildMesosNetworks: one NetworkInfo
// per container network (with the mappings of the endpoints that name it
// or name none), or the bridge network with every mapping; none for host.
func groupNetworks(p *marathon.Pod, endpoints []marathon.Endpoint, hostPorts []uint32, bridge string) []mesos.NetworkInfo {
	if bridge == "" {
		bridge = DefaultBridgeName
	}
	type mapping struct {
		networks []string
		pm       mesos.PortMapping
	}
	var mappings []mapping
	for i, e := range endpoints {
		if e.HostPort == nil {
			continue
		}
		pm := mesos.PortMapping{HostPort: hostPorts[i], ContainerPort: hostPorts[i]}
		if e.ContainerPort != nil && *e.ContainerPort != 0 {
			pm.ContainerPort = uint32(*e.ContainerPort)
		}
		if len(e.Protocol) == 0 {
			mappings = append(mappings, mapping{e.NetworkNames, pm})
		}
		for _, proto := range e.Protocol {
			pm.Protocol = proto
			mappings = append(mappings, mapping{e.NetworkNames, pm})
		}
	}
	var out []mesos.NetworkInfo
	for _, n := range p.Networks {
		switch n.Mode {
		case marathon.NetworkContainer:
			ni := mesos.NetworkInfo{Name: n.Name, Labels: labels(n.Labels)}
			for _, m := range mappings {
				if len(m.networks) == 0 || slices.Contains(m.networks, n.Name) {
					ni.PortMappings = append(ni.PortMappings, m.pm)
				}
			}
			out = append(out, ni)
		case marathon.NetworkBridge:
			ni := mesos.NetworkInfo{Name: bridge, Labels: labels(n.Labels)}
			for _, m := range mappings {
				ni.PortMappings = append(ni.PortMappings, m.pm)
			}
			out = append(out, ni)
		}
	}
	return out
}

// taskContainer is the container's image, volumes, tty and linux info.
func taskContainer(p *marathon.Pod, c marathon.PodContainer) *mesos.ContainerInfo {
	ci := &mesos.ContainerInfo{Type: mesos.ContainerMesos}
	for _, m := range c.VolumeMounts {
		mode := "RW"
		if m.ReadOnly != nil && *m.ReadOnly {
			mode = "RO"
		}
		for _, v := range p.Volumes {
			if v.Name != m.Name {
				continue
			}
			vol := mesos.Volume{ContainerPath: m.MountPath, Mode: mode}
			switch {
			case v.Host != "":
				vol.HostPath = v.Host
			case len(v.Persistent) > 0:
				vol.Source = mustJSON(mesos.VolumeSource{Type: mesos.VolumeSourceSandboxPath,
					SandboxPath: &mesos.SandboxPathSource{Type: mesos.SandboxPathParent, Path: v.Name}})
			case v.Secret != "":
				continue // secret volumes are a plugin's in Marathon
			default:
				vol.Source = mustJSON(mesos.VolumeSource{Type: mesos.VolumeSourceSandboxPath,
					SandboxPath: &mesos.SandboxPathSource{Type: mesos.SandboxPathParent, Path: ephemeralVolumePrefix + v.Name}})
			}
			ci.Volumes = append(ci.Volumes, vol)
		}
	}
	if im := c.Image; im != nil {
		img := mesos.Image{Type: mesos.ImageDocker, Docker: &mesos.DockerImage{Name: im.ID}}
		if im.ForcePull != nil {
			img.Cached = ptr(!*im.ForcePull)
		}
		ci.Mesos = mustJSON(mesos.MesosInfo{Image: &img})
	}
	if c.TTY != nil && *c.TTY {
		ci.TTYInfo = mustJSON(struct{}{})
	}
	li := mesos.LinuxInfo{ShareCgroups: ptr(p.LegacySharedCgroups)}
	if l := c.LinuxInfo; l != nil {
		if l.Seccomp != nil {
			li.Seccomp = &mesos.SeccompInfo{ProfileName: l.Seccomp.ProfileName, Unconfined: ptr(l.Seccomp.Unconfined)}
		}
		if l.IPCInfo != nil {
			li.IPCMode = string(l.IPCInfo.Mode)
			if s := l.IPCInfo.ShmSize; s != nil {
				li.ShmSize = ptr(uint32(max(*s, 0)))
			}
		}
	}
	ci.LinuxInfo = mustJSON(li)
	return ci
}

func groupCommand(in GroupInput, c marathon.PodContainer, taskID, executorID string, epEnv map[string]string) (*mesos.CommandInfo, error) {
	p := &in.Pod
	cmd := &mesos.CommandInfo{Shell: ptr(false), User: c.User, URIs: uris(c.Artifacts)}
	if cmd.User == "" {
		cmd.User = p.User
	}
	if c.Exec != nil {
		switch x := c.Exec.Command; {
		case x.Shell != "":
			cmd.Shell, cmd.Value = ptr(true), ptr(x.Shell)
		case len(x.Argv) > 0:
			cmd.Arguments = slices.Clone(x.Argv)
			if o := c.Exec.OverrideEntrypoint; o != nil && *o {
				cmd.Value = ptr(x.Argv[0])
			}
		}
	}
	env := map[string]string{}
	secretVars := map[string]string{}
	for _, src := range []map[string]marathon.EnvVar{p.Environment, c.Environment} {
		for k, v := range src {
			if v.IsSecret() {
				secretVars[k] = v.Secret
				delete(env, k)
				continue
			}
			delete(secretVars, k)
			env[k] = v.Value
		}
	}
	env["HOST"] = in.Hostname
	maps.Copy(env, map[string]string{
		"MESOS_TASK_ID":                    taskID,
		"MESOS_EXECUTOR_ID":                executorID,
		"MARATHON_APP_ID":                  string(p.ID),
		"MARATHON_APP_VERSION":             p.Version.String(),
		"MARATHON_CONTAINER_ID":            c.Name,
		"MARATHON_APP_ENFORCE_GROUP_ROLE":  strings.ToUpper(strconv.FormatBool(in.EnforceRole)),
		"MARATHON_CONTAINER_RESOURCE_CPUS": marathon.ScalaDouble(c.Resources.Cpus),
		"MARATHON_CONTAINER_RESOURCE_MEM":  marathon.ScalaDouble(c.Resources.Mem),
		"MARATHON_CONTAINER_RESOURCE_DISK": marathon.ScalaDouble(c.Resources.Disk),
		"MARATHON_CONTAINER_RESOURCE_GPUS": strconv.Itoa(c.Resources.Gpus),
	})
	ls := maps.Clone(p.Labels)
	if ls == nil {
		ls = map[string]string{}
	}
	maps.Copy(ls, c.Labels)
	maps.Copy(env, marathon.LabelEnv(ls))
	maps.Copy(env, epEnv)
	for k := range env {
		delete(secretVars, k)
	}
	vars := make([]mesos.Variable, 0, len(env)+len(secretVars))
	for k, v := range env {
		vars = append(vars, mesos.Variable{Name: k, Value: ptr(v)})
	}
	for k, name := range secretVars {
		value, ok := in.Secrets[name]
		if !ok {
			return nil, fmt.Errorf("%w: secret %q of %s is not resolved", ErrInvalid, name, p.ID)
		}
		vars = append(vars, mesos.Variable{Name: k, Type: mesos.VariableSecret, Secret: mesos.ValueSecret([]byte(value))})
	}
	slices.SortFunc(vars, func(a, b mesos.Variable) int { return strings.Compare(a.Name, b.Name) })
	cmd.Environment = &mesos.Environment{Variables: vars}
	return cmd, nil
}

var endpointEnvEscape = regexp.MustCompile(`[^A-Z0-9_]+`)

// endpointEnv is TaskGroupBuilder.endpointEnvVars, over the endpoints of
// all containers: ENDPOINT_<NAME> (the host port in host mode, else the
// container port), EP_HOST_<NAME> and EP_CONTAINER_<NAME>.
func endpointEnv(p *marathon.Pod, hostPorts []uint32, prefix string) map[string]string {
	prefix = strings.ToUpper(prefix)
	host := p.IsHostNetworking()
	env := map[string]string{}
	i := 0
	for _, c := range p.Containers {
		for _, e := range c.Endpoints {
			name := endpointEnvEscape.ReplaceAllString(strings.ToUpper(e.Name), "_")
			var hostPort *uint32
			if e.HostPort != nil {
				hostPort = &hostPorts[i]
			}
			i++
			switch {
			case host && hostPort != nil:
				env[prefix+"ENDPOINT_"+name] = strconv.FormatUint(uint64(*hostPort), 10)
			case !host && e.ContainerPort != nil:
				env[prefix+"ENDPOINT_"+name] = strconv.Itoa(*e.ContainerPort)
			}
			if hostPort != nil {
				env[prefix+"EP_HOST_"+name] = strconv.FormatUint(uint64(*hostPort), 10)
			}
			if e.ContainerPort != nil {
				env[prefix+"EP_CONTAINER_"+name] = strconv.Itoa(*e.ContainerPort)
			}
		}
	}
	return env
}

// groupHealthCheck converts a container's health check. The port is the
// endpoint's container port, the host port in host mode; a bridge
// endpoint with container port 0 maps the host port onto itself, so the
// host port is probed.
func groupHealthCheck(p *marathon.Pod, c marathon.PodContainer, hostPorts []uint32) (*mesos.HealthCheck, error) {
	hc := c.HealthCheck
	out := healthTimes(hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds, hc.MaxConsecutiveFailures, hc.GracePeriodSeconds)
	if hc.Exec != nil {
		out.Type = mesos.HealthCheckCommand
		switch x := hc.Exec.Command; {
		case x.Shell != "":
			out.Command = &mesos.CommandInfo{Shell: ptr(true), Value: ptr(x.Shell)}
		case len(x.Argv) > 0:
			out.Command = &mesos.CommandInfo{Shell: ptr(false), Arguments: slices.Clone(x.Argv), Value: ptr(x.Argv[0])}
		default:
			return nil, fmt.Errorf("%w: command health check of %s/%s without a command", ErrInvalid, p.ID, c.Name)
		}
		return out, nil
	}
	name := hc.Endpoint()
	port, ok := uint32(0), false
	for i, e := range c.Endpoints {
		if e.Name != name {
			continue
		}
		switch {
		case p.IsHostNetworking() && e.HostPort != nil:
			port, ok = hostPorts[i], true
		case !p.IsHostNetworking() && e.ContainerPort != nil && *e.ContainerPort != 0:
			port, ok = uint32(*e.ContainerPort), true
		case e.HostPort != nil:
			port, ok = hostPorts[i], true
		case e.ContainerPort != nil:
			port, ok = uint32(*e.ContainerPort), true
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: health check of %s/%s names endpoint %q without a port", ErrInvalid, p.ID, c.Name, name)
	}
	if hc.TCP != nil {
		out.Type = mesos.HealthCheckTCP
		out.TCP = &mesos.TCPCheckInfo{Port: port}
		return out, nil
	}
	out.Type = mesos.HealthCheckHTTP
	out.HTTP = &mesos.HTTPCheckInfo{Scheme: strings.ToLower(string(hc.HTTP.Scheme)), Port: port, Path: hc.HTTP.Path}
	return out, nil
}

// groupDiscovery is PortDiscovery.generateForPod for a container's
// endpoints, with their allocated host ports.
func groupDiscovery(p *marathon.Pod, endpoints []marathon.Endpoint, hostPorts []uint32) *mesos.DiscoveryInfo {
	d := &mesos.DiscoveryInfo{Visibility: "FRAMEWORK", Name: Name(p.ID), Ports: &mesos.Ports{}}
	add := func(number uint32, e marathon.Endpoint, proto string, extra map[string]string) {
		ls := maps.Clone(e.Labels)
		if ls == nil {
			ls = map[string]string{}
		}
		maps.Copy(ls, extra)
		d.Ports.Ports = append(d.Ports.Ports, mesos.Port{Number: number, Name: e.Name, Protocol: proto, Labels: labels(ls)})
	}
	host := p.IsHostNetworking() || len(p.Networks) == 0
	for i, e := range endpoints {
		for _, proto := range e.Protocol {
			switch {
			case host:
				if e.HostPort != nil {
					add(hostPorts[i], e, proto, nil)
				}
			case e.HostPort != nil:
				add(hostPorts[i], e, proto, map[string]string{labelNetworkScope: scopeHost})
			case e.ContainerPort != nil:
				for _, n := range containerNetworks(p, e) {
					add(uint32(*e.ContainerPort), e, proto, map[string]string{labelNetworkScope: scopeContainer, labelNetworkName: n})
				}
			}
		}
	}
	return d
}

// labelNetworkName names the container network of a discovery port.
const labelNetworkName = "network-name"

// containerNetworks are the networks an endpoint is on: those it names,
// else every container network of the pod.
func containerNetworks(p *marathon.Pod, e marathon.Endpoint) []string {
	if len(e.NetworkNames) > 0 {
		return e.NetworkNames
	}
	var names []string
	for _, n := range p.Networks {
		if n.Mode == marathon.NetworkContainer {
			names = append(names, n.Name)
		}
	}
	return names
}
