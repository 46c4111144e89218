package registrator

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/docker"
)

// ErrBadContainer marks a container port that cannot be registered (no
// address, a bad SERVICE_CHECK_* value); the container is skipped and its
// registrations are kept.
var ErrBadContainer = errors.New("registrator: unusable container")

// Deregister policies of the Docker source (gliderlabs's -deregister).
const (
	// DeregisterAlways removes a container's services when it stops.
	DeregisterAlways = "always"
	// DeregisterOnSuccess keeps the services of a container that exited
	// with a failure code (not 0, not killed by a signal) until the
	// container is removed.
	DeregisterOnSuccess = "on-success"
)

// DockerOptions shape ComputeDocker.
type DockerOptions struct {
	// Owner marks every registration (MetaOwner).
	Owner string
	// Hostname starts every service id and is the MetaHost of every
	// registration: several Docker hosts may register with one Consul
	// agent, and each owns its own.
	Hostname string
	// IP, when set (-ip), is the address of every published port.
	IP string
	// HostIP is the address of ports published on all addresses: -ip, else
	// the address the host name resolves to. Empty: such ports cannot be
	// registered. A port published on one address has that address.
	HostIP string
	// Internal registers the container's own address and exposed ports,
	// published or not (-internal).
	Internal bool
	// Explicit registers only ports with a SERVICE_NAME or
	// SERVICE_<port>_NAME (-explicit).
	Explicit bool
	// Tags are added to every service (-tags).
	Tags []string
	// IPLabel names a container label whose value is the service address
	// (-useIpFromLabel).
	IPLabel string
	// Deregister is DeregisterAlways or DeregisterOnSuccess.
	Deregister string
	// TTL of the checks that mirror a container's HEALTHCHECK.
	TTL time.Duration
}

// DockerView is what the Docker source knows of the engine: the inspected
// containers, and those asked to stop (a kill event) with the time until
// which they count as gone while still running.
type DockerView struct {
	Containers []docker.Container
	Stopping   map[string]time.Time
}

// ComputeDocker returns the registrations the containers call for: one
// service per published port (per exposed port with Internal) of every
// running container, but those the Mesos or Stadion Docker containerizer
// launched (the scheduler's registrator has them). It does no I/O.
func ComputeDocker(view DockerView, opts DockerOptions, now time.Time) Desired {
	var d Desired
	seen := map[string]string{} // service id -> container name
	for _, c := range view.Containers {
		if !registrable(c, opts, view.Stopping, now) {
			continue
		}
		ss, err := containerServices(c, opts)
		for _, s := range ss {
			if other, dup := seen[s.ID]; dup {
				err = errors.Join(err, fmt.Errorf("%w: service id %s is also %s's", ErrBadContainer, s.ID, other))
				continue
			}
			seen[s.ID] = containerName(c)
			d.Services = append(d.Services, s)
		}
		if err != nil {
			d.Skipped = append(d.Skipped, Skip{Container: c.ID, Err: err})
		}
	}
	sortServices(d.Services)
	return d
}

// registrable reports whether a container's services belong in Consul:
// it runs and was not asked to stop, or, with DeregisterOnSuccess, it
// exited with a failure code.
func registrable(c docker.Container, opts DockerOptions, stopping map[string]time.Time, now time.Time) bool {
	if docker.LaunchedByMesos(c.Name, c.Config.Labels) {
		return false
	}
	if c.State.Running {
		until, ok := stopping[c.ID]
		return !ok || !now.Before(until)
	}
	code := c.State.ExitCode
	return opts.Deregister == DeregisterOnSuccess && c.State.Status == "exited" && code != 0 && code&128 == 0
}

func containerName(c docker.Container) string { return strings.TrimPrefix(c.Name, "/") }

// containerPort is one port of a container as gliderlabs/registrator sees
// it: the exposed port and the host binding it was published with.
type containerPort struct {
	exposed  string // "80"
	proto    string // "tcp", "udp"
	hostIP   string
	hostPort string // "" when not published
}

// containerPorts lists the ports to register: every exposed port (bound
// to the same host port, which is what host networking does), overridden
// by the first published binding of each port; unpublished ports are
// dropped unless internal.
func containerPorts(c docker.Container, internal bool) []containerPort {
	byKey := map[string]containerPort{}
	add := func(key string, b *docker.PortBinding) {
		num, proto, _ := strings.Cut(key, "/")
		p := containerPort{exposed: num, proto: cmp.Or(proto, "tcp")}
		if b != nil {
			p.hostIP, p.hostPort = b.HostIP, b.HostPort
		}
		byKey[key] = p
	}
	for key := range c.Config.ExposedPorts {
		num, _, _ := strings.Cut(key, "/")
		add(key, &docker.PortBinding{HostIP: "0.0.0.0", HostPort: num})
	}
	for key, bs := range c.NetworkSettings.Ports {
		if len(bs) > 0 {
			add(key, &bs[0])
		} else {
			add(key, nil)
		}
	}
	var out []containerPort
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		if p := byKey[key]; p.hostPort != "" || internal {
			out = append(out, p)
		}
	}
	return out
}

// containerServices returns the services of one registrable container,
// and the error of the ports it could not register.
func containerServices(c docker.Container, opts DockerOptions) ([]Service, error) {
	ports := containerPorts(c, opts.Internal)
	group := len(ports) > 1
	var out []Service
	var errs []error
	for _, p := range ports {
		s, ok, err := portService(c, p, group, opts)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("port %s/%s: %w", p.exposed, p.proto, err))
		case ok:
			out = append(out, s)
		}
	}
	return out, errors.Join(errs...)
}

// portService returns the service of one port; false when the port is
// ignored (SERVICE_IGNORE, or no name with Explicit).
func portService(c docker.Container, p containerPort, group bool, opts DockerOptions) (Service, bool, error) {
	meta := readMeta(c.Config.Env, c.Config.Labels, p.exposed)
	if ignoreValue(meta.get("ignore")) {
		return Service{}, false, nil
	}
	name := meta.get("name")
	if name == "" && opts.Explicit {
		return Service{}, false, nil
	}
	if name == "" {
		name, _, _ = strings.Cut(path.Base(c.Config.Image), ":")
		name, _, _ = strings.Cut(name, "@")
	}
	if group && !meta.portName {
		name += "-" + p.exposed
	}
	address, port, err := portAddress(c, p, opts)
	if err != nil {
		return Service{}, false, err
	}
	id := opts.Hostname + ":" + containerName(c) + ":" + p.exposed
	if p.proto == "udp" {
		id += ":udp"
	}
	id = cmp.Or(meta.get("id"), id)
	tags := append(splitTags(meta.get("tags")), opts.Tags...)
	if p.proto == "udp" {
		tags = append(tags, "udp")
	}
	s := Service{
		ID:      id,
		Name:    name,
		Tags:    dedupe(tags),
		Address: address,
		Port:    port,
		Meta:    serviceMeta(meta),
	}
	maps.Copy(s.Meta, map[string]string{
		MetaOwner:         opts.Owner,
		MetaSource:        SourceDocker,
		MetaHost:          opts.Hostname,
		MetaContainerID:   c.ID,
		MetaContainerName: containerName(c),
	})
	checks, err := containerChecks(c, meta, s, opts)
	if err != nil {
		return Service{}, false, err
	}
	s.Checks = checks
	s.Meta[MetaHash] = definitionHash(s)
	return s, true, nil
}

// ignoreValue reports a SERVICE_IGNORE value that asks to ignore: anything
// but empty or a false value ("false", "0", "no", "off"; gliderlabs
// ignores on those too).
func ignoreValue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no", "off":
		return false
	}
	return true
}

// dedupe drops repeated tags, keeping the first.
func dedupe(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// serviceMeta is the service meta of the metadata: every key that is not
// reserved and that Consul accepts, within its limits (gliderlabs sends
// them all, and Consul then refuses the whole registration).
func serviceMeta(m containerMeta) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(m.values)) {
		v := m.values[k]
		if reservedMeta(k) || !metaKeyPattern.MatchString(k) || strings.HasPrefix(k, "consul-") || len(v) > maxMetaValue {
			continue
		}
		if len(out) >= maxMetaPairs-8 { // room for the registrator's keys
			break
		}
		out[k] = v
	}
	return out
}

// portAddress is the address and port a service advertises: with
// Internal the container's address and exposed port, else the host's
// address and the published port; host networking has the host's address
// in both. The container label IPLabel overrides the address.
func portAddress(c docker.Container, p containerPort, opts DockerOptions) (string, int, error) {
	hostNet := c.HostConfig.NetworkMode == "host"
	var address, port string
	switch {
	case opts.Internal && !hostNet:
		address, port = containerIP(c), p.exposed
	default:
		address, port = p.hostIP, p.hostPort
		if hostNet {
			port = p.exposed
		}
		switch {
		case opts.IP != "":
			address = opts.IP
		case unspecified(address):
			address = opts.HostIP
		}
	}
	if opts.IPLabel != "" {
		if v := c.Config.Labels[opts.IPLabel]; v != "" {
			address, _, _ = strings.Cut(v, "/")
		}
	}
	n, err := strconv.Atoi(port)
	switch {
	case err != nil || n <= 0 || n > 65535:
		return "", 0, fmt.Errorf("%w: port %q", ErrBadContainer, port)
	case address == "":
		return "", 0, fmt.Errorf("%w: no address: give the host's with -ip", ErrBadContainer)
	}
	return address, n, nil
}

// unspecified reports a binding on all addresses.
func unspecified(ip string) bool {
	return ip == "" || net.ParseIP(ip) == nil || net.ParseIP(ip).IsUnspecified()
}

// containerIP is the container's address on the network it was started
// on (HostConfig.NetworkMode, a user-defined network), else its default
// bridge address, else its address on the first network by name: never a
// random pick among several networks.
func containerIP(c docker.Container) string {
	ns := c.NetworkSettings
	if n, ok := ns.Networks[c.HostConfig.NetworkMode]; ok && n.IPAddress != "" {
		return n.IPAddress
	}
	if ns.IPAddress != "" {
		return ns.IPAddress
	}
	if n, ok := ns.Networks["bridge"]; ok && n.IPAddress != "" {
		return n.IPAddress
	}
	for _, name := range slices.Sorted(maps.Keys(ns.Networks)) {
		if ip := ns.Networks[name].IPAddress; ip != "" {
			return ip
		}
	}
	return ""
}
