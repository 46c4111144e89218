package mesos

import (
	"encoding/json"
	"fmt"
)

// IDs are {"value": "..."} objects on the wire.

// FrameworkID identifies a framework; the master assigns it on the first SUBSCRIBE.
type FrameworkID struct {
	Value string `json:"value"`
}

// AgentID identifies an agent.
type AgentID struct {
	Value string `json:"value"`
}

// OfferID identifies an offer.
type OfferID struct {
	Value string `json:"value"`
}

// TaskID identifies a task; the framework chooses it.
type TaskID struct {
	Value string `json:"value"`
}

// ExecutorID identifies an executor.
type ExecutorID struct {
	Value string `json:"value"`
}

// OperationID identifies an offer operation.
type OperationID struct {
	Value string `json:"value"`
}

// ResourceProviderID identifies a resource provider.
type ResourceProviderID struct {
	Value string `json:"value"`
}

// ContainerID identifies a container; nested containers name their parent.
type ContainerID struct {
	Value  string       `json:"value"`
	Parent *ContainerID `json:"parent,omitempty"`
}

// TimeInfo is a point in time in nanoseconds since the epoch.
type TimeInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

// DurationInfo is a duration in nanoseconds.
type DurationInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

// Address is a network address (mesos.v1.Address).
type Address struct {
	Hostname string `json:"hostname,omitempty"`
	IP       string `json:"ip,omitempty"`
	Port     int32  `json:"port"`
}

// URL is mesos.v1.URL.
type URL struct {
	Scheme   string      `json:"scheme"`
	Address  Address     `json:"address"`
	Path     string      `json:"path,omitempty"`
	Query    []Parameter `json:"query,omitempty"`
	Fragment string      `json:"fragment,omitempty"`
}

// Parameter is a key/value pair (mesos.v1.Parameter).
type Parameter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Label is a key with an optional value.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Labels wraps a list of labels as Mesos does.
type Labels struct {
	Labels []Label `json:"labels,omitempty"`
}

// Capability is one capability of a framework or a master.
type Capability struct {
	Type string `json:"type"`
}

// Scalar is a scalar value; Mesos keeps three decimals of precision.
type Scalar struct {
	Value float64 `json:"value"`
}

// Range is an inclusive range of integers.
type Range struct {
	Begin uint64 `json:"begin"`
	End   uint64 `json:"end"`
}

// Ranges is a list of ranges.
type Ranges struct {
	Range []Range `json:"range,omitempty"`
}

// Set is a set of strings.
type Set struct {
	Item []string `json:"item,omitempty"`
}

// Text is a text value.
type Text struct {
	Value string `json:"value"`
}

// AllocationInfo names the role a resource is allocated to.
type AllocationInfo struct {
	Role string `json:"role,omitempty"`
}

// Resource is mesos.v1.Resource. Role is the deprecated pre-refinement field;
// Mesos emits it ("*" when unreserved) to frameworks without the
// RESERVATION_REFINEMENT capability.
type Resource struct {
	Name           string              `json:"name"`
	Type           ValueType           `json:"type"`
	Scalar         *Scalar             `json:"scalar,omitempty"`
	Ranges         *Ranges             `json:"ranges,omitempty"`
	Set            *Set                `json:"set,omitempty"`
	Role           string              `json:"role,omitempty"`
	Disk           json.RawMessage     `json:"disk,omitempty"`
	Reservation    json.RawMessage     `json:"reservation,omitempty"`
	Revocable      json.RawMessage     `json:"revocable,omitempty"`
	Shared         json.RawMessage     `json:"shared,omitempty"`
	AllocationInfo *AllocationInfo     `json:"allocation_info,omitempty"`
	ProviderID     *ResourceProviderID `json:"provider_id,omitempty"`
	Reservations   []json.RawMessage   `json:"reservations,omitempty"`
}

// Attribute is an agent attribute (mesos.v1.Attribute).
type Attribute struct {
	Name   string    `json:"name"`
	Type   ValueType `json:"type"`
	Scalar *Scalar   `json:"scalar,omitempty"`
	Ranges *Ranges   `json:"ranges,omitempty"`
	Set    *Set      `json:"set,omitempty"`
	Text   *Text     `json:"text,omitempty"`
}

// FrameworkInfo describes a framework (mesos.v1.FrameworkInfo).
type FrameworkInfo struct {
	User            string          `json:"user"`
	Name            string          `json:"name"`
	ID              *FrameworkID    `json:"id,omitempty"`
	FailoverTimeout *float64        `json:"failover_timeout,omitempty"`
	Checkpoint      *bool           `json:"checkpoint,omitempty"`
	Role            string          `json:"role,omitempty"`
	Hostname        string          `json:"hostname,omitempty"`
	Principal       string          `json:"principal,omitempty"`
	WebUIURL        string          `json:"webui_url,omitempty"`
	Capabilities    []Capability    `json:"capabilities,omitempty"`
	Labels          *Labels         `json:"labels,omitempty"`
	Roles           []string        `json:"roles,omitempty"`
	OfferFilters    json.RawMessage `json:"offer_filters,omitempty"`
}

// HasCapability reports whether the framework declared capability c.
func (f *FrameworkInfo) HasCapability(c string) bool {
	for _, have := range f.Capabilities {
		if have.Type == c {
			return true
		}
	}
	return false
}

// MasterInfo describes a master (mesos.v1.MasterInfo); it is also what masters
// write into ZooKeeper as json.info_* nodes. IP is the IPv4 address in network
// byte order read as a little-endian integer.
type MasterInfo struct {
	ID           string          `json:"id"`
	IP           uint32          `json:"ip"`
	Port         uint32          `json:"port"`
	PID          string          `json:"pid,omitempty"`
	Hostname     string          `json:"hostname,omitempty"`
	Version      string          `json:"version,omitempty"`
	Address      *Address        `json:"address,omitempty"`
	Domain       json.RawMessage `json:"domain,omitempty"`
	Capabilities []Capability    `json:"capabilities,omitempty"`
}

// Offer is mesos.v1.Offer.
type Offer struct {
	ID             OfferID         `json:"id"`
	FrameworkID    FrameworkID     `json:"framework_id"`
	AgentID        AgentID         `json:"agent_id"`
	Hostname       string          `json:"hostname"`
	URL            *URL            `json:"url,omitempty"`
	Domain         json.RawMessage `json:"domain,omitempty"`
	Resources      []Resource      `json:"resources,omitempty"`
	Attributes     []Attribute     `json:"attributes,omitempty"`
	ExecutorIDs    []ExecutorID    `json:"executor_ids,omitempty"`
	Unavailability json.RawMessage `json:"unavailability,omitempty"`
	AllocationInfo *AllocationInfo `json:"allocation_info,omitempty"`
}

// Filters are the refuse filters of ACCEPT and DECLINE.
type Filters struct {
	RefuseSeconds *float64 `json:"refuse_seconds,omitempty"`
}

// Operation is one offer operation (mesos.v1.Offer.Operation). Only LAUNCH is
// modelled; the others pass through as raw JSON.
type Operation struct {
	Type         OperationType   `json:"type"`
	ID           *OperationID    `json:"id,omitempty"`
	Launch       *Launch         `json:"launch,omitempty"`
	LaunchGroup  json.RawMessage `json:"launch_group,omitempty"`
	Reserve      json.RawMessage `json:"reserve,omitempty"`
	Unreserve    json.RawMessage `json:"unreserve,omitempty"`
	Create       json.RawMessage `json:"create,omitempty"`
	Destroy      json.RawMessage `json:"destroy,omitempty"`
	GrowVolume   json.RawMessage `json:"grow_volume,omitempty"`
	ShrinkVolume json.RawMessage `json:"shrink_volume,omitempty"`
	CreateDisk   json.RawMessage `json:"create_disk,omitempty"`
	DestroyDisk  json.RawMessage `json:"destroy_disk,omitempty"`
}

// Launch is the LAUNCH operation.
type Launch struct {
	TaskInfos []TaskInfo `json:"task_infos,omitempty"`
}

// TaskInfo describes a task to launch (mesos.v1.TaskInfo).
type TaskInfo struct {
	Name              string          `json:"name"`
	TaskID            TaskID          `json:"task_id"`
	AgentID           AgentID         `json:"agent_id"`
	Resources         []Resource      `json:"resources,omitempty"`
	Executor          json.RawMessage `json:"executor,omitempty"`
	Data              []byte          `json:"data,omitempty"`
	Command           *CommandInfo    `json:"command,omitempty"`
	HealthCheck       *HealthCheck    `json:"health_check,omitempty"`
	Container         *ContainerInfo  `json:"container,omitempty"`
	Labels            *Labels         `json:"labels,omitempty"`
	Discovery         *DiscoveryInfo  `json:"discovery,omitempty"`
	KillPolicy        *KillPolicy     `json:"kill_policy,omitempty"`
	Check             json.RawMessage `json:"check,omitempty"`
	MaxCompletionTime *DurationInfo   `json:"max_completion_time,omitempty"`
	Limits            json.RawMessage `json:"limits,omitempty"`
}

// CommandInfo is mesos.v1.CommandInfo. Shell defaults to true: the value runs
// under /bin/sh -c; with shell false, value is executed with arguments.
type CommandInfo struct {
	URIs        []CommandURI `json:"uris,omitempty"`
	Environment *Environment `json:"environment,omitempty"`
	Value       *string      `json:"value,omitempty"`
	User        string       `json:"user,omitempty"`
	Shell       *bool        `json:"shell,omitempty"`
	Arguments   []string     `json:"arguments,omitempty"`
}

// IsShell reports whether the command runs under a shell (the proto default).
func (c *CommandInfo) IsShell() bool { return c.Shell == nil || *c.Shell }

// CommandURI is mesos.v1.CommandInfo.URI, a file fetched into the sandbox.
type CommandURI struct {
	Value      string `json:"value"`
	Executable *bool  `json:"executable,omitempty"`
	Extract    *bool  `json:"extract,omitempty"`
	Cache      *bool  `json:"cache,omitempty"`
	OutputFile string `json:"output_file,omitempty"`
}

// Environment is a list of environment variables.
type Environment struct {
	Variables []Variable `json:"variables,omitempty"`
}

// Variable is one environment variable (mesos.v1.Environment.Variable). Value
// is optional on the wire: a SECRET variable has Secret and no value, while a
// VALUE variable (the default type) must carry one, even an empty one.
// Secrets are carried as raw JSON.
type Variable struct {
	Name   string          `json:"name"`
	Type   string          `json:"type,omitempty"`
	Value  *string         `json:"value,omitempty"`
	Secret json.RawMessage `json:"secret,omitempty"`
}

// Variable types (mesos.v1.Environment.Variable.Type); "" is VALUE.
const (
	VariableValue  = "VALUE"
	VariableSecret = "SECRET"
)

// Secret types (mesos.v1.Secret.Type).
const (
	// SecretValue carries the secret's bytes.
	SecretValue = "VALUE"
	// SecretReference names a secret for the agent's secret resolver.
	SecretReference = "REFERENCE"
)

// Secret is mesos.v1.Secret: a VALUE secret with its bytes (base64 in
// JSON, as proto3 writes bytes), or a REFERENCE to one.
type Secret struct {
	Type      string `json:"type"`
	Reference *struct {
		Name string `json:"name"`
		Key  string `json:"key,omitempty"`
	} `json:"reference,omitempty"`
	Value *struct {
		Data []byte `json:"data"`
	} `json:"value,omitempty"`
}

// ValueSecret is the JSON of a VALUE secret holding data, for
// Variable.Secret.
func ValueSecret(data []byte) json.RawMessage {
	s := Secret{Type: SecretValue}
	s.Value = &struct {
		Data []byte `json:"data"`
	}{Data: data}
	b, _ := json.Marshal(s) // a plain struct always marshals
	return b
}

// SecretData returns the bytes of a SECRET variable's VALUE secret; an
// error for a REFERENCE (which needs a resolver) or a malformed secret.
func (v Variable) SecretData() ([]byte, error) {
	var s Secret
	if err := json.Unmarshal(v.Secret, &s); err != nil {
		return nil, fmt.Errorf("secret of variable %s: %w", v.Name, err)
	}
	switch {
	case s.Type == SecretValue && s.Value != nil:
		return s.Value.Data, nil
	case s.Type == SecretReference:
		return nil, fmt.Errorf("secret of variable %s is a REFERENCE: no secret resolver", v.Name)
	}
	return nil, fmt.Errorf("secret of variable %s has type %q without its field", v.Name, s.Type)
}

// ContainerInfo is mesos.v1.ContainerInfo.
type ContainerInfo struct {
	Type         ContainerType   `json:"type"`
	Volumes      []Volume        `json:"volumes,omitempty"`
	Hostname     string          `json:"hostname,omitempty"`
	Docker       *DockerInfo     `json:"docker,omitempty"`
	Mesos        json.RawMessage `json:"mesos,omitempty"`
	NetworkInfos []NetworkInfo   `json:"network_infos,omitempty"`
	LinuxInfo    json.RawMessage `json:"linux_info,omitempty"`
	RlimitInfo   json.RawMessage `json:"rlimit_info,omitempty"`
	TTYInfo      json.RawMessage `json:"tty_info,omitempty"`
}

// DockerInfo is mesos.v1.ContainerInfo.DockerInfo. Network defaults to HOST.
type DockerInfo struct {
	Image          string        `json:"image"`
	Network        DockerNetwork `json:"network,omitempty"`
	PortMappings   []PortMapping `json:"port_mappings,omitempty"`
	Privileged     *bool         `json:"privileged,omitempty"`
	Parameters     []Parameter   `json:"parameters,omitempty"`
	ForcePullImage *bool         `json:"force_pull_image,omitempty"`
	VolumeDriver   string        `json:"volume_driver,omitempty"`
}

// PortMapping maps a host port to a container port.
type PortMapping struct {
	HostPort      uint32 `json:"host_port"`
	ContainerPort uint32 `json:"container_port"`
	Protocol      string `json:"protocol,omitempty"`
}

// Volume is mesos.v1.Volume. Mode ("RW" or "RO") is a required field.
type Volume struct {
	ContainerPath string          `json:"container_path"`
	HostPath      string          `json:"host_path,omitempty"`
	Mode          string          `json:"mode"`
	Image         json.RawMessage `json:"image,omitempty"`
	Source        json.RawMessage `json:"source,omitempty"`
}

// NetworkInfo is mesos.v1.NetworkInfo, in tasks and in container statuses.
type NetworkInfo struct {
	IPAddresses  []IPAddress   `json:"ip_addresses,omitempty"`
	Name         string        `json:"name,omitempty"`
	Groups       []string      `json:"groups,omitempty"`
	Labels       *Labels       `json:"labels,omitempty"`
	PortMappings []PortMapping `json:"port_mappings,omitempty"`
}

// IPAddress is mesos.v1.NetworkInfo.IPAddress.
type IPAddress struct {
	Protocol  string `json:"protocol,omitempty"`
	IPAddress string `json:"ip_address,omitempty"`
}

// HealthCheck is mesos.v1.HealthCheck. Unset durations take the proto defaults
// (see HealthCheckDefaults).
type HealthCheck struct {
	DelaySeconds        *float64        `json:"delay_seconds,omitempty"`
	IntervalSeconds     *float64        `json:"interval_seconds,omitempty"`
	TimeoutSeconds      *float64        `json:"timeout_seconds,omitempty"`
	ConsecutiveFailures *uint32         `json:"consecutive_failures,omitempty"`
	GracePeriodSeconds  *float64        `json:"grace_period_seconds,omitempty"`
	Type                HealthCheckType `json:"type,omitempty"`
	Command             *CommandInfo    `json:"command,omitempty"`
	HTTP                *HTTPCheckInfo  `json:"http,omitempty"`
	TCP                 *TCPCheckInfo   `json:"tcp,omitempty"`
}

// Proto defaults of HealthCheck.
const (
	DefaultHealthDelaySeconds        = 15.0
	DefaultHealthIntervalSeconds     = 10.0
	DefaultHealthTimeoutSeconds      = 20.0
	DefaultHealthConsecutiveFailures = 3
	DefaultHealthGracePeriodSeconds  = 10.0
)

// HTTPCheckInfo is mesos.v1.HealthCheck.HTTPCheckInfo.
type HTTPCheckInfo struct {
	Protocol string   `json:"protocol,omitempty"`
	Scheme   string   `json:"scheme,omitempty"`
	Port     uint32   `json:"port"`
	Path     string   `json:"path,omitempty"`
	Statuses []uint32 `json:"statuses,omitempty"`
}

// TCPCheckInfo is mesos.v1.HealthCheck.TCPCheckInfo.
type TCPCheckInfo struct {
	Protocol string `json:"protocol,omitempty"`
	Port     uint32 `json:"port"`
}

// KillPolicy is mesos.v1.KillPolicy: SIGTERM, then SIGKILL after the grace period.
type KillPolicy struct {
	GracePeriod *DurationInfo `json:"grace_period,omitempty"`
}

// DiscoveryInfo is mesos.v1.DiscoveryInfo, read by registrators, not by Mesos.
type DiscoveryInfo struct {
	Visibility  string  `json:"visibility"`
	Name        string  `json:"name,omitempty"`
	Environment string  `json:"environment,omitempty"`
	Location    string  `json:"location,omitempty"`
	Version     string  `json:"version,omitempty"`
	Ports       *Ports  `json:"ports,omitempty"`
	Labels      *Labels `json:"labels,omitempty"`
}

// Ports wraps a list of discovery ports.
type Ports struct {
	Ports []Port `json:"ports,omitempty"`
}

// Port is mesos.v1.Port.
type Port struct {
	Number     uint32  `json:"number"`
	Name       string  `json:"name,omitempty"`
	Protocol   string  `json:"protocol,omitempty"`
	Visibility string  `json:"visibility,omitempty"`
	Labels     *Labels `json:"labels,omitempty"`
}

// TaskStatus is mesos.v1.TaskStatus. A status with a UUID must be
// acknowledged; one without (master-generated) must not.
type TaskStatus struct {
	TaskID          TaskID           `json:"task_id"`
	State           TaskState        `json:"state"`
	Data            []byte           `json:"data,omitempty"`
	Message         string           `json:"message,omitempty"`
	Source          Source           `json:"source,omitempty"`
	Reason          Reason           `json:"reason,omitempty"`
	AgentID         *AgentID         `json:"agent_id,omitempty"`
	ExecutorID      *ExecutorID      `json:"executor_id,omitempty"`
	Timestamp       float64          `json:"timestamp,omitempty"`
	UUID            []byte           `json:"uuid,omitempty"`
	Healthy         *bool            `json:"healthy,omitempty"`
	Labels          *Labels          `json:"labels,omitempty"`
	ContainerStatus *ContainerStatus `json:"container_status,omitempty"`
	UnreachableTime *TimeInfo        `json:"unreachable_time,omitempty"`
	CheckStatus     json.RawMessage  `json:"check_status,omitempty"`
	Limitation      json.RawMessage  `json:"limitation,omitempty"`
}

// ContainerStatus is mesos.v1.ContainerStatus.
type ContainerStatus struct {
	ContainerID  *ContainerID    `json:"container_id,omitempty"`
	NetworkInfos []NetworkInfo   `json:"network_infos,omitempty"`
	CgroupInfo   json.RawMessage `json:"cgroup_info,omitempty"`
	ExecutorPID  uint32          `json:"executor_pid,omitempty"`
}
