package marathon

// MarshalJSON emits the app as Stadion's /v2 API does: every canonical
// field (collections as [] or {} rather than absent, as Marathon 1.10 and
// older clients expect) plus the legacy fields old clients still read:
//
//   - "ports": the service ports (App.ServicePorts);
//   - for DOCKER containers with a single network: container.docker.network
//     (BRIDGE, USER or HOST) and, for BRIDGE and USER,
//     container.docker.portMappings equal to container.portMappings.
//
// DecodeApp and Normalize accept this output back: legacy fields that agree
// with the canonical ones are not a conflict.
func (a App) MarshalJSON() ([]byte, error) {
	type plain App
	p := plain(a.withEmptyCollections())
	if p.Container != nil && p.Container.Type == ContainerDocker && p.Container.Docker != nil {
		c := *p.Container
		d := *c.Docker
		if net := legacyDockerNetwork(a.Networks); net != "" {
			d.Network = net
			if net == DockerBridge || net == DockerUser {
				d.PortMappings = c.PortMappings
			}
		}
		c.Docker = &d
		p.Container = &c
	}
	return marshalPlain(struct {
		plain
		Ports []int `json:"ports"`
	}{p, a.ServicePorts()})
}

// CanonicalJSON encodes the app without the legacy mirrors: the form to
// store, and the base of MergePatch.
func CanonicalJSON(a App) ([]byte, error) {
	type plain App
	return marshalPlain(plain(a.withEmptyCollections()))
}

// legacyDockerNetwork maps a single network to the deprecated docker mode.
func legacyDockerNetwork(networks []Network) DockerNetwork {
	if len(networks) != 1 {
		return ""
	}
	switch networks[0].Mode {
	case NetworkHost:
		return DockerHost
	case NetworkBridge:
		return DockerBridge
	case NetworkContainer:
		return DockerUser
	}
	return ""
}

// withEmptyCollections replaces nil collections that Marathon always emits
// by empty ones, copying what it changes.
func (a App) withEmptyCollections() App {
	if a.Env == nil {
		a.Env = map[string]EnvVar{}
	}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Constraints == nil {
		a.Constraints = []Constraint{}
	}
	if a.Fetch == nil {
		a.Fetch = []Artifact{}
	}
	if a.PortDefinitions == nil {
		a.PortDefinitions = []PortDefinition{}
	}
	if a.Networks == nil {
		a.Networks = []Network{}
	}
	if a.HealthChecks == nil {
		a.HealthChecks = []HealthCheck{}
	}
	if a.ReadinessChecks == nil {
		a.ReadinessChecks = []ReadinessCheck{}
	}
	if a.Dependencies == nil {
		a.Dependencies = []PathID{}
	}
	if a.Container != nil {
		c := *a.Container
		if c.Volumes == nil {
			c.Volumes = []Volume{}
		}
		if c.Docker != nil && c.Docker.Parameters == nil {
			d := *c.Docker
			d.Parameters = []Parameter{}
			c.Docker = &d
		}
		a.Container = &c
	}
	return a
}
