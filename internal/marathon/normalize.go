package marathon

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// NormalizeOptions are the scheduler flags that shape normalisation and
// admission. The zero value gives Marathon's defaults and Stadion's
// default limits.
type NormalizeOptions struct {
	// Base is the group relative ids are resolved against; "" is the root.
	Base PathID
	// DefaultRole is the role of apps that give none (--mesos_role); "" is "*".
	DefaultRole string
	// Roles, when set, gives the role settings of an app or pod by id
	// (RolesFor): its Default replaces DefaultRole, and Admit (AdmitPod) refuses a
	// role outside Valid with Marathon's 422. Nil checks no role.
	Roles func(id PathID) RoleSettings
	// DefaultNetworkName names container networks given without a name
	// (--default_network_name); "" leaves them unnamed.
	DefaultNetworkName string
	// MesosBridgeName is the network name that legacy ipAddress.networkName
	// uses for the bridge (--mesos_bridge_name); "" is "mesos-bridge".
	MesosBridgeName string
	// MaxInstances is the most instances of one app
	// (--max_instances_per_app); 0 is DefaultMaxInstances, a negative
	// value checks no limit (clients that do not know the scheduler's
	// flag leave the check to it).
	MaxInstances int
	// NoFileSecrets refuses secrets with a "file:" source: the scheduler
	// has no secrets directory (serve without --secrets_dir).
	NoFileSecrets bool
}

// Extensions the Mesos fetcher extracts (legacy uris → fetch).
var extractSuffixes = []string{".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"}

// Normalize brings a decoded app into canonical form, as Marathon's
// AppNormalization does before validation and storage:
//
//   - the id and dependencies are resolved against opts.Base;
//   - uris → fetch, ports → portDefinitions, ipAddress and
//     container.docker.network → networks, container.docker.portMappings →
//     container.portMappings; the legacy fields are cleared;
//   - networks default to [{mode: host}]; host networking gets one default
//     port definition {port 0, name "default"} when none was given and drops
//     port mappings; container networking drops port definitions, gets one
//     default port mapping when none was given, and bridge host ports
//     default to 0; requirePorts is false unless host networking;
//   - health checks on apps with ports get portIndex 0 when they name no
//     port; readiness checks get status codes [200]; the role defaults;
//     empty enum values (from apps built in Go) get their defaults.
//
// The returned app is always normalised. The error, a 422 *Error, reports
// legacy and canonical fields that contradict each other (Marathon rejects
// such bodies); in that case the canonical field won. Legacy fields that
// agree with the canonical ones, as in MarshalJSON's output, are accepted.
func Normalize(app App, opts NormalizeOptions) (App, error) {
	var r reporter
	base := opts.Base
	if base == "" {
		base = RootID
	}
	if endsReserved(app.ID) {
		// Marathon validates the id as sent, before it resolves "." and
		// "..": "/a/." is refused, not read as "/a".
		r.add("/id", msgReserved)
	}
	app.ID = app.ID.Resolve(base)
	if app.Dependencies != nil {
		deps := make([]PathID, len(app.Dependencies))
		for i, d := range app.Dependencies {
			deps[i] = d.Resolve(base)
		}
		app.Dependencies = deps
	}

	app.Fetch = normalizeFetch(app, &r)
	app.URIs = nil

	app.Container = copyContainer(app.Container)
	networks := normalizeNetworks(app, opts, &r)
	if app.Container == nil && app.IPAddress != nil {
		app.Container = &Container{Type: ContainerMesos}
	}
	host := hostNetworking(networks)

	// Port definitions, possibly from the legacy ports.
	migrated := app.PortDefinitions
	if app.Ports != nil {
		fromPorts := make([]PortDefinition, len(app.Ports))
		for i, p := range app.Ports {
			fromPorts[i] = PortDefinition{Port: p, Protocol: "tcp"}
		}
		if migrated == nil {
			migrated = fromPorts
		} else if !samePorts(migrated, app.Ports) && host {
			r.add("/", "cannot specify both ports and port definitions")
		}
		if nonZeroDuplicates(app.Ports) {
			r.add("/", "ports must be unique")
		}
	}
	switch {
	case !host:
		app.PortDefinitions = nil
	case migrated == nil:
		app.PortDefinitions = []PortDefinition{{Port: 0, Protocol: "tcp", Name: "default"}}
	default:
		app.PortDefinitions = migrated
	}
	app.Ports = nil

	if c := app.Container; c != nil {
		normalizeContainer(c, app.IPAddress, networks, host, len(migrated), &r)
	}
	app.IPAddress = nil
	app.Networks = networks
	if !host {
		app.RequirePorts = false
	}

	hasPorts := len(app.PortDefinitions) > 0 || (app.Container != nil && len(app.Container.PortMappings) > 0)
	if app.HealthChecks != nil {
		hcs := make([]HealthCheck, len(app.HealthChecks))
		for i, hc := range app.HealthChecks {
			if hc.Protocol == "" {
				hc.Protocol = ProtocolHTTP
			}
			if hc.IPProtocol == "" {
				hc.IPProtocol = IPv4
			}
			if hasPorts && hc.Protocol != ProtocolCommand && hc.Port == nil && hc.PortIndex == nil {
				zero := 0
				hc.PortIndex = &zero
			}
			hcs[i] = hc
		}
		app.HealthChecks = hcs
	}
	if app.ReadinessChecks != nil {
		rcs := make([]ReadinessCheck, len(app.ReadinessChecks))
		for i, rc := range app.ReadinessChecks {
			if len(rc.HTTPStatusCodesForReady) == 0 {
				rc.HTTPStatusCodesForReady = []int{200}
			}
			if rc.Protocol == "" {
				rc.Protocol = SchemeHTTP
			}
			rcs[i] = rc
		}
		app.ReadinessChecks = rcs
	}
	if app.PortDefinitions != nil {
		pds := make([]PortDefinition, len(app.PortDefinitions))
		for i, d := range app.PortDefinitions {
			if d.Protocol == "" {
				d.Protocol = "tcp"
			}
			pds[i] = d
		}
		app.PortDefinitions = pds
	}
	if app.KillSelection == "" {
		app.KillSelection = YoungestFirst
	}
	if app.Role == "" {
		app.Role = opts.DefaultRole
		if opts.Roles != nil {
			app.Role = opts.Roles(app.ID).Default
		}
		if app.Role == "" {
			app.Role = DefaultRole
		}
	}
	if r.empty() {
		return app, nil
	}
	return app, NotValid(r.details()...)
}

func normalizeFetch(app App, r *reporter) []Artifact {
	if len(app.URIs) == 0 {
		return app.Fetch
	}
	fromURIs := make([]Artifact, len(app.URIs))
	for i, u := range app.URIs {
		extract := false
		for _, s := range extractSuffixes {
			if strings.HasSuffix(u, s) {
				extract = true
			}
		}
		fromURIs[i] = Artifact{URI: u, Extract: extract}
	}
	if len(app.Fetch) == 0 {
		return fromURIs
	}
	if !sameURIs(app.Fetch, app.URIs) {
		r.add("/uris", "may not be set in conjunction with fetch")
	}
	return app.Fetch
}

func sameURIs(fetch []Artifact, uris []string) bool {
	if len(fetch) != len(uris) {
		return false
	}
	for i := range fetch {
		if fetch[i].URI != uris[i] {
			return false
		}
	}
	return true
}

// normalizeNetworks translates ipAddress and container.docker.network into
// networks, Marathon's NetworkTranslation, then fills defaults.
func normalizeNetworks(app App, opts NormalizeOptions, r *reporter) []Network {
	var dockerNet DockerNetwork
	if app.Container != nil && app.Container.Docker != nil {
		dockerNet = app.Container.Docker.Network
	}
	bridgeName := opts.MesosBridgeName
	if bridgeName == "" {
		bridgeName = "mesos-bridge"
	}
	var legacy []Network
	ip := app.IPAddress
	switch {
	case ip != nil && dockerNet != "":
		switch dockerNet {
		case DockerHost:
			legacy = []Network{{Mode: NetworkHost}}
		case DockerUser:
			legacy = []Network{{Mode: NetworkContainer, Name: ip.NetworkName, Labels: ip.Labels}}
		case DockerBridge:
			legacy = []Network{{Mode: NetworkBridge, Labels: ip.Labels}}
		default:
			r.add("/container/docker/network", "unsupported docker network type "+string(dockerNet))
		}
	case ip != nil:
		if ip.NetworkName == bridgeName {
			legacy = []Network{{Mode: NetworkBridge, Labels: ip.Labels}}
		} else {
			legacy = []Network{{Mode: NetworkContainer, Name: ip.NetworkName, Labels: ip.Labels}}
		}
	case dockerNet != "":
		switch dockerNet {
		case DockerHost:
			legacy = []Network{{Mode: NetworkHost}}
		case DockerUser:
			legacy = []Network{{Mode: NetworkContainer}}
		case DockerBridge:
			legacy = []Network{{Mode: NetworkBridge}}
		default:
			r.add("/container/docker/network", "unsupported docker network type "+string(dockerNet))
		}
	}
	networks := app.Networks
	switch {
	case legacy != nil && len(networks) > 0:
		if !sameNetworkModes(legacy, networks) {
			if ip != nil {
				r.add("/", "must not specify both networks and ipAddress")
			} else {
				r.add("/", "must not specify both container.docker.network and networks")
			}
		}
	case legacy != nil:
		networks = legacy
	}
	if len(networks) == 0 {
		return []Network{{Mode: NetworkHost}}
	}
	out := make([]Network, len(networks))
	for i, n := range networks {
		if n.Mode == "" {
			n.Mode = NetworkContainer
		}
		if n.Mode == NetworkContainer && n.Name == "" {
			n.Name = opts.DefaultNetworkName
		}
		out[i] = n
	}
	return out
}

func sameNetworkModes(a, b []Network) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Mode != b[i].Mode && !(a[i].Mode == "" || b[i].Mode == "") {
			return false
		}
	}
	return true
}

func normalizeContainer(c *Container, ip *IPAddress, networks []Network, host bool, migratedPorts int, r *reporter) {
	if c.Type == "" {
		c.Type = ContainerDocker
	}
	if d := c.Docker; d != nil {
		if d.PortMappings != nil {
			switch {
			case len(c.PortMappings) > 0 && len(d.PortMappings) > 0 && !reflect.DeepEqual(c.PortMappings, d.PortMappings):
				r.add("/container", "cannot specify both portMappings and docker.portMappings")
			case len(c.PortMappings) == 0:
				c.PortMappings = d.PortMappings
			}
			d.PortMappings = nil
		}
		d.Network = ""
	}
	if ip != nil && ip.Discovery != nil && len(ip.Discovery.Ports) > 0 {
		switch c.Type {
		case ContainerMesos:
			if len(c.PortMappings) > 0 {
				r.add("/", "container.portMappings and ipAddress.discovery.ports must not both be set")
				break
			}
			for _, p := range ip.Discovery.Ports {
				c.PortMappings = append(c.PortMappings, PortMapping{ContainerPort: p.Number, Name: p.Name, Protocol: p.Protocol, Labels: p.Labels})
			}
		default:
			r.add("/ipAddress", "ipAddress/discovery is not allowed for Docker containers")
		}
	}
	if host {
		c.PortMappings = nil
		return
	}
	if c.PortMappings == nil {
		c.PortMappings = []PortMapping{{Protocol: "tcp", Name: "default"}}
	}
	for len(c.PortMappings) < migratedPorts {
		c.PortMappings = append(c.PortMappings, PortMapping{Protocol: "tcp"})
	}
	bridge := slices.ContainsFunc(networks, func(n Network) bool { return n.Mode == NetworkBridge })
	for i := range c.PortMappings {
		m := &c.PortMappings[i]
		if m.Protocol == "" {
			m.Protocol = "tcp"
		}
		if bridge && m.HostPort == nil {
			zero := 0
			m.HostPort = &zero
		}
	}
}

// copyContainer deep-copies what Normalize mutates.
func copyContainer(c *Container) *Container {
	if c == nil {
		return nil
	}
	cc := *c
	if c.Docker != nil {
		d := *c.Docker
		d.PortMappings = slices.Clone(d.PortMappings)
		cc.Docker = &d
	}
	cc.PortMappings = slices.Clone(c.PortMappings)
	return &cc
}

func samePorts(defs []PortDefinition, ports []int) bool {
	if len(defs) != len(ports) {
		return false
	}
	for i := range defs {
		if defs[i].Port != ports[i] {
			return false
		}
	}
	return true
}

func nonZeroDuplicates(ports []int) bool {
	seen := map[int]bool{}
	for _, p := range ports {
		if p == 0 {
			continue
		}
		if seen[p] {
			return true
		}
		seen[p] = true
	}
	return false
}

// NormalizeGroup resolves the ids of a group tree (relative ids against
// their enclosing group, the top against opts.Base) and normalises every
// app. Errors of the apps are joined with paths prefixed by their place in
// the tree ("/apps(0)/id").
func NormalizeGroup(g Group, opts NormalizeOptions) (Group, error) {
	var r reporter
	out := normalizeGroup(g, opts, "", &r)
	if r.empty() {
		return out, nil
	}
	return out, NotValid(r.details()...)
}

func normalizeGroup(g Group, opts NormalizeOptions, path string, r *reporter) Group {
	base := opts.Base
	if base == "" {
		base = RootID
	}
	g.ID = g.ID.Resolve(base)
	sub := opts
	sub.Base = g.ID
	if g.Dependencies != nil {
		deps := make([]PathID, len(g.Dependencies))
		for i, d := range g.Dependencies {
			deps[i] = d.Resolve(g.ID)
		}
		g.Dependencies = deps
	}
	if g.Apps != nil {
		apps := make([]App, len(g.Apps))
		for i, a := range g.Apps {
			n, err := Normalize(a, sub)
			apps[i] = n
			prefixDetails(err, fmt.Sprintf("%s/apps(%d)", path, i), r)
		}
		g.Apps = apps
	}
	if g.Groups != nil {
		groups := make([]Group, len(g.Groups))
		for i, c := range g.Groups {
			groups[i] = normalizeGroup(c, sub, fmt.Sprintf("%s/groups(%d)", path, i), r)
		}
		g.Groups = groups
	}
	return g
}

// prefixDetails copies the details of a *Error into r under prefix.
func prefixDetails(err error, prefix string, r *reporter) {
	e, ok := err.(*Error)
	if !ok || e == nil {
		return
	}
	for _, d := range e.Details {
		p := d.Path
		if p == "/" {
			p = ""
		}
		r.add(prefix+p, d.Errors...)
	}
}
