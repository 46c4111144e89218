package marathon

import (
	"encoding/json"
	"strings"
)

// enum is implemented by the typed string constants that Marathon reads as
// RAML enums: case-insensitive on input, canonical on output, and
// "error.unknown.enum.literal" for anything else.
type enum interface {
	enumValues() []string
}

// canonicalEnum returns the canonical spelling of s in values, or "" and
// false.
func canonicalEnum(s string, values []string) (string, bool) {
	for _, v := range values {
		if strings.EqualFold(s, v) {
			return v, true
		}
	}
	return "", false
}

// unmarshalEnum decodes a JSON string into dst, canonicalising its case.
// Unknown literals are kept as written; the decoder has already rejected
// them and Validate reports them for values built in Go.
func unmarshalEnum(b []byte, dst *string, values []string) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if c, ok := canonicalEnum(s, values); ok {
		s = c
	}
	*dst = s
	return nil
}

// ContainerType is the container engine: container.type.
type ContainerType string

// Container engines.
const (
	ContainerDocker ContainerType = "DOCKER"
	ContainerMesos  ContainerType = "MESOS"
)

func (ContainerType) enumValues() []string { return []string{"DOCKER", "MESOS"} }

// UnmarshalJSON canonicalises the case.
func (t *ContainerType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(t), t.enumValues())
}

// DockerNetwork is the deprecated container.docker.network.
type DockerNetwork string

// Docker network modes (deprecated in favour of App.Networks).
const (
	DockerBridge DockerNetwork = "BRIDGE"
	DockerHost   DockerNetwork = "HOST"
	DockerNone   DockerNetwork = "NONE"
	DockerUser   DockerNetwork = "USER"
)

func (DockerNetwork) enumValues() []string { return []string{"BRIDGE", "HOST", "NONE", "USER"} }

// UnmarshalJSON canonicalises the case.
func (n *DockerNetwork) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(n), n.enumValues())
}

// NetworkMode is networks[].mode.
type NetworkMode string

// Network modes. BRIDGE corresponds to container/bridge, HOST to host, USER
// to container.
const (
	NetworkContainer NetworkMode = "container"
	NetworkBridge    NetworkMode = "container/bridge"
	NetworkHost      NetworkMode = "host"
)

func (NetworkMode) enumValues() []string { return []string{"container", "container/bridge", "host"} }

// UnmarshalJSON canonicalises the case.
func (m *NetworkMode) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(m), m.enumValues())
}

// HealthCheckProtocol is healthChecks[].protocol.
type HealthCheckProtocol string

// Health check protocols. HTTP, HTTPS and TCP run in the scheduler; COMMAND
// and MESOS_* run on the agent.
const (
	ProtocolHTTP       HealthCheckProtocol = "HTTP"
	ProtocolHTTPS      HealthCheckProtocol = "HTTPS"
	ProtocolTCP        HealthCheckProtocol = "TCP"
	ProtocolCommand    HealthCheckProtocol = "COMMAND"
	ProtocolMesosHTTP  HealthCheckProtocol = "MESOS_HTTP"
	ProtocolMesosHTTPS HealthCheckProtocol = "MESOS_HTTPS"
	ProtocolMesosTCP   HealthCheckProtocol = "MESOS_TCP"
)

func (HealthCheckProtocol) enumValues() []string {
	return []string{"HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"}
}

// UnmarshalJSON canonicalises the case.
func (p *HealthCheckProtocol) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(p), p.enumValues())
}

// IsMesos reports whether the check runs on the agent (COMMAND, MESOS_*).
func (p HealthCheckProtocol) IsMesos() bool {
	switch p {
	case ProtocolCommand, ProtocolMesosHTTP, ProtocolMesosHTTPS, ProtocolMesosTCP:
		return true
	}
	return false
}

// HTTPScheme is the scheme of readiness checks and app checks.
type HTTPScheme string

// HTTP schemes.
const (
	SchemeHTTP  HTTPScheme = "HTTP"
	SchemeHTTPS HTTPScheme = "HTTPS"
)

func (HTTPScheme) enumValues() []string { return []string{"HTTP", "HTTPS"} }

// UnmarshalJSON canonicalises the case.
func (s *HTTPScheme) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(s), s.enumValues())
}

// IPProtocol is healthChecks[].ipProtocol and task ipAddresses[].protocol.
type IPProtocol string

// IP protocols.
const (
	IPv4 IPProtocol = "IPv4"
	IPv6 IPProtocol = "IPv6"
)

func (IPProtocol) enumValues() []string { return []string{"IPv4", "IPv6"} }

// UnmarshalJSON canonicalises the case.
func (p *IPProtocol) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(p), p.enumValues())
}

// KillSelection orders the victims of a scale-down.
type KillSelection string

// Kill selections; YoungestFirst is the default.
const (
	YoungestFirst KillSelection = "YOUNGEST_FIRST"
	OldestFirst   KillSelection = "OLDEST_FIRST"
)

func (KillSelection) enumValues() []string { return []string{"YOUNGEST_FIRST", "OLDEST_FIRST"} }

// UnmarshalJSON canonicalises the case.
func (k *KillSelection) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(k), k.enumValues())
}

// VolumeMode is container.volumes[].mode.
type VolumeMode string

// Volume modes.
const (
	VolumeRO VolumeMode = "RO"
	VolumeRW VolumeMode = "RW"
)

func (VolumeMode) enumValues() []string { return []string{"RO", "RW"} }

// UnmarshalJSON canonicalises the case.
func (m *VolumeMode) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(m), m.enumValues())
}
