package registrator

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/stadionhq/stadion/internal/marathon"
)

// ErrBadTask marks a task that cannot be turned into registrations (it has
// no host, or not the ports its app defines). Such a task is skipped and
// its registrations are kept.
var ErrBadTask = errors.New("registrator: unusable task")

// Compute returns the registrations a snapshot calls for: one service per
// port of every running task, and one per endpoint with a host port of
// every running pod container (of this host, in agent mode). It does no I/O.
func Compute(snap Snapshot, opts Options) Desired {
	d := Desired{Skipped: slices.Clone(snap.Bad)}
	for _, app := range snap.Apps {
		ports := appPorts(app.App)
		env := envOf(app.App)
		for _, task := range app.Tasks {
			if task.State != marathon.TaskRunning || !opts.local(task.Host) {
				continue
			}
			ss, err := taskServices(app.App, ports, env, task, opts)
			if err != nil {
				d.Skipped = append(d.Skipped, Skip{AppID: app.ID, TaskID: task.ID, Err: err})
				continue
			}
			d.Services = append(d.Services, ss...)
		}
	}
	computePods(snap.Pods, opts, &d)
	sortServices(d.Services)
	return d
}

// endpoint is where one port of a task answers.
type endpoint struct {
	address string
	port    int
}

func (e endpoint) hostPort() string { return net.JoinHostPort(e.address, strconv.Itoa(e.port)) }

// taskServices returns the services of one running task.
func taskServices(app marathon.App, ports []portSpec, env serviceEnv, task marathon.Task, opts Options) ([]Service, error) {
	if task.Host == "" {
		return nil, fmt.Errorf("%w: no host", ErrBadTask)
	}
	hostPorts, err := taskHostPorts(ports, task)
	if err != nil {
		return nil, err
	}
	ends := make([]*endpoint, len(ports))
	for i, p := range ports {
		ends[i] = portEndpoint(task, p, hostPorts[i], opts.Address)
	}
	health := taskHealth(app, task)
	var out []Service
	for i, p := range ports {
		if env.ignored(p) || ends[i] == nil {
			continue
		}
		id := task.ID + ":" + p.key
		s := Service{
			ID:      id,
			Name:    env.serviceName(app.ID, p, len(ports)),
			Tags:    env.tags(p, opts.Owner),
			Address: ends[i].address,
			Port:    ends[i].port,
			Meta: map[string]string{
				MetaOwner:     opts.Owner,
				MetaAppID:     string(app.ID),
				MetaTaskID:    task.ID,
				MetaVersion:   task.Version.String(),
				MetaPortIndex: strconv.Itoa(p.index),
				MetaHost:      task.Host,
			},
			Checks: serviceChecks(app, id, ends, task, health, opts),
		}
		if opts.Mode == ModeCatalog {
			s.Node, s.NodeAddress = opts.nodeName(task.Host), task.Host
		}
		s.Meta[MetaHash] = definitionHash(s)
		out = append(out, s)
	}
	return out, nil
}

// taskHostPorts returns the host port of each app port (0 for a
// container-network port without one). The task lists the host ports of
// the ports that have one, in order.
func taskHostPorts(ports []portSpec, task marathon.Task) ([]int, error) {
	out := make([]int, len(ports))
	j := 0
	for i, p := range ports {
		if !p.hostPort {
			continue
		}
		if j >= len(task.Ports) {
			return nil, fmt.Errorf("%w: %d host ports, the app has more", ErrBadTask, len(task.Ports))
		}
		out[i] = int(task.Ports[j])
		j++
	}
	if j != len(task.Ports) {
		return nil, fmt.Errorf("%w: %d host ports, the app has %d", ErrBadTask, len(task.Ports), j)
	}
	return out, nil
}

// portEndpoint is the address and port a service of this port advertises,
// or nil when there is none in that address mode (a container-network port
// without a host port, advertised on the host).
func portEndpoint(task marathon.Task, p portSpec, hostPort int, mode AddressMode) *endpoint {
	if mode == AddressIP {
		if ip := taskIP(task); ip != "" {
			if p.containerPort > 0 {
				return &endpoint{address: ip, port: p.containerPort}
			}
			if hostPort > 0 {
				return &endpoint{address: ip, port: hostPort}
			}
			return nil
		}
	}
	if hostPort == 0 {
		return nil
	}
	return &endpoint{address: task.Host, port: hostPort}
}

// taskIP is the task's first IPv4 address, else its first address.
func taskIP(task marathon.Task) string {
	for _, a := range task.IPAddresses {
		if a.Protocol != marathon.IPv6 && a.IPAddress != "" {
			return a.IPAddress
		}
	}
	if len(task.IPAddresses) > 0 {
		return task.IPAddresses[0].IPAddress
	}
	return ""
}
