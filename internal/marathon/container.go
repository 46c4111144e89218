package marathon

import "encoding/json"

// Container is app.container.
type Container struct {
	// Type is the engine; DOCKER when absent.
	Type ContainerType `json:"type"`
	// Docker is the image spec, for both engines.
	Docker *Docker `json:"docker,omitempty"`
	// AppC is kept opaque (Mesos containerizer AppC images).
	AppC json.RawMessage `json:"appc,omitempty"`
	// PortMappings are the ports of container-networked apps (bridge or
	// container mode). Normalize drops them for host networking and adds a
	// default mapping when none was given.
	PortMappings []PortMapping `json:"portMappings,omitzero"`
	// Volumes mounted into the container.
	Volumes []Volume `json:"volumes"`
	// LinuxInfo is kept opaque.
	LinuxInfo json.RawMessage `json:"linuxInfo,omitempty"`
}

// UnmarshalJSON applies the defaults (type DOCKER).
func (c *Container) UnmarshalJSON(b []byte) error {
	type plain Container
	p := plain{Type: ContainerDocker}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Container(p)
	return nil
}

// Docker is container.docker.
type Docker struct {
	// Image is required.
	Image string `json:"image" required:"true"`
	// Network is the deprecated network mode (input; mirrored on output for
	// bridge, user and host docker apps).
	Network DockerNetwork `json:"network,omitempty"`
	// PortMappings is the deprecated place of Container.PortMappings
	// (input; mirrored on output for bridge and user networking).
	PortMappings   []PortMapping `json:"portMappings,omitzero"`
	Privileged     bool          `json:"privileged"`
	Parameters     []Parameter   `json:"parameters"`
	ForcePullImage bool          `json:"forcePullImage"`
	// PullConfig and Credential are kept opaque.
	PullConfig json.RawMessage `json:"pullConfig,omitempty"`
	Credential json.RawMessage `json:"credential,omitempty"`
}

// Parameter is a docker CLI parameter.
type Parameter struct {
	Key   string `json:"key" required:"true"`
	Value string `json:"value" required:"true"`
}

// PortMapping maps a container port to a host port and a service port.
type PortMapping struct {
	// ContainerPort 0 means "same as the host port".
	ContainerPort int `json:"containerPort"`
	// HostPort nil allocates no host port (container mode); 0 is dynamic.
	// Normalize sets nil to 0 in bridge mode.
	HostPort *int `json:"hostPort,omitempty"`
	// ServicePort 0 is assigned by the scheduler from the service port range.
	ServicePort  int               `json:"servicePort"`
	Protocol     string            `json:"protocol"`
	Name         string            `json:"name,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	NetworkNames []string          `json:"networkNames,omitempty"`
}

// UnmarshalJSON applies the defaults (protocol tcp).
func (m *PortMapping) UnmarshalJSON(b []byte) error {
	type plain PortMapping
	p := plain{Protocol: "tcp"}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*m = PortMapping(p)
	return nil
}

// PortDefinition is one port of a host-networked app. With RequirePorts
// false a non-zero Port is a service port and the host port is dynamic.
type PortDefinition struct {
	Port     int               `json:"port"`
	Protocol string            `json:"protocol"`
	Name     string            `json:"name,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// UnmarshalJSON applies the defaults (protocol tcp).
func (d *PortDefinition) UnmarshalJSON(b []byte) error {
	type plain PortDefinition
	p := plain{Protocol: "tcp"}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = PortDefinition(p)
	return nil
}

// Volume is a container volume: a host path, a persistent or external
// volume (kept opaque), or a secret.
type Volume struct {
	ContainerPath string          `json:"containerPath"`
	HostPath      string          `json:"hostPath,omitempty"`
	Mode          VolumeMode      `json:"mode,omitempty"`
	Persistent    json.RawMessage `json:"persistent,omitempty"`
	External      json.RawMessage `json:"external,omitempty"`
	Secret        string          `json:"secret,omitempty"`
}

// Network is one entry of app.networks.
type Network struct {
	// Mode defaults to container.
	Mode   NetworkMode       `json:"mode"`
	Name   string            `json:"name,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// UnmarshalJSON applies the defaults (mode container).
func (n *Network) UnmarshalJSON(b []byte) error {
	type plain Network
	p := plain{Mode: NetworkContainer}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*n = Network(p)
	return nil
}

// IPAddress is the deprecated IP-per-container request (app.ipAddress).
type IPAddress struct {
	Groups      []string          `json:"groups,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Discovery   *Discovery        `json:"discovery,omitempty"`
	NetworkName string            `json:"networkName,omitempty"`
}

// Discovery is ipAddress.discovery.
type Discovery struct {
	Ports []DiscoveryPort `json:"ports"`
}

// DiscoveryPort is ipAddress.discovery.ports[].
type DiscoveryPort struct {
	Number   int               `json:"number"`
	Name     string            `json:"name"`
	Protocol string            `json:"protocol"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// hostNetworking reports whether networks (normalised) are host mode.
func hostNetworking(networks []Network) bool {
	for _, n := range networks {
		if n.Mode != NetworkHost {
			return false
		}
	}
	return true
}

// IsHostNetworking reports whether the app uses host networking (no
// networks, or only host networks).
func (a App) IsHostNetworking() bool { return hostNetworking(a.Networks) }

// IsBridgeNetworking reports whether the app uses the container/bridge
// network.
func (a App) IsBridgeNetworking() bool {
	for _, n := range a.Networks {
		if n.Mode == NetworkBridge {
			return true
		}
	}
	return false
}

// PortMappingsInUse returns the container port mappings when the app uses
// container networking, else nil.
func (a App) PortMappingsInUse() []PortMapping {
	if a.IsHostNetworking() || a.Container == nil {
		return nil
	}
	return a.Container.PortMappings
}

// PortCount is the number of ports of a task: port definitions for host
// networking, port mappings otherwise.
func (a App) PortCount() int {
	if a.IsHostNetworking() {
		return len(a.PortDefinitions)
	}
	return len(a.PortMappingsInUse())
}

// PortNames returns the name of every port by index ("" when unnamed).
func (a App) PortNames() []string {
	var names []string
	if a.IsHostNetworking() {
		for _, d := range a.PortDefinitions {
			names = append(names, d.Name)
		}
		return names
	}
	for _, m := range a.PortMappingsInUse() {
		names = append(names, m.Name)
	}
	return names
}

// ServicePorts returns the service port of every port by index: the port
// definitions' ports for host networking, the mappings' service ports
// otherwise. This is the legacy "ports" field of the app JSON.
func (a App) ServicePorts() []int {
	ports := []int{}
	if a.IsHostNetworking() {
		for _, d := range a.PortDefinitions {
			ports = append(ports, d.Port)
		}
		return ports
	}
	for _, m := range a.PortMappingsInUse() {
		ports = append(ports, m.ServicePort)
	}
	return ports
}

// Image returns the docker image of the app, or "".
func (a App) Image() string {
	if a.Container == nil || a.Container.Docker == nil {
		return ""
	}
	return a.Container.Docker.Image
}
