package marathon

import (
	"encoding/json"
)

// Defaults of a pod (types/pod.raml, types/resources.raml,
// core/pod/PodDefinition.scala).
const (
	DefaultExecutorCpus = 0.1
	DefaultExecutorMem  = 32.0
	DefaultExecutorDisk = 10.0
	// ScalingFixed is the only pod scaling kind.
	ScalingFixed = "fixed"
	// ImageDocker is the only pod image kind.
	ImageDocker = "DOCKER"
)

// Pod is a Marathon pod definition as sent and received on /v2/pods
// (types/pod.raml): containers scheduled, scaled, upgraded and killed
// together on one agent. Decoding fills the RAML defaults of absent fields
// (see NewPod); NormalizePod resolves the id and applies the server-side
// normalisation; MarshalJSON (the default encoding) echoes every field as
// Marathon's podRamlWriter does, with empty collections written as such.
type Pod struct {
	// ID is the absolute pod id.
	ID PathID `json:"id" required:"true"`
	// Labels become executor labels and MARATHON_APP_LABEL_* variables.
	Labels map[string]string `json:"labels"`
	// Version is stamped by the server; ignored on input.
	Version Timestamp `json:"version,omitzero"`
	// User runs the containers; a container's User wins.
	User string `json:"user,omitempty"`
	// Environment is injected into every container; a container's wins.
	Environment map[string]EnvVar `json:"environment"`
	// Containers are the pod's tasks, at least one.
	Containers []PodContainer `json:"containers" required:"true"`
	// Secrets referenced by Environment, volumes and images.
	Secrets map[string]Secret `json:"secrets"`
	// Volumes are shared by the containers that mount them.
	Volumes []PodVolume `json:"volumes"`
	// Networks are shared by all containers: one host, one bridge, or
	// 1..n named container networks.
	Networks []PodNetwork `json:"networks"`
	// Scaling is the instance count.
	Scaling PodScaling `json:"scaling"`
	// Scheduling holds backoff, upgrade, placement, kill selection and the
	// unreachable strategy.
	Scheduling PodScheduling `json:"scheduling"`
	// ExecutorResources are reserved for the default executor.
	ExecutorResources ExecutorResources `json:"executorResources"`
	// Role is the Mesos role; NormalizePod fills the default.
	Role string `json:"role,omitempty"`
	// LinuxInfo is the pod's seccomp and IPC setting.
	LinuxInfo *LinuxInfo `json:"linuxInfo,omitempty"`
	// LegacySharedCgroups runs all containers in the executor's cgroup.
	LegacySharedCgroups bool `json:"legacySharedCgroups,omitempty"`
}

// NewPod returns a pod with id and every default Marathon applies to an
// absent field.
func NewPod(id PathID) Pod {
	return Pod{
		ID:                id,
		Scaling:           PodScaling{Kind: ScalingFixed, Instances: DefaultInstances},
		Scheduling:        DefaultPodScheduling(),
		ExecutorResources: DefaultExecutorResources(),
	}
}

// UnmarshalJSON decodes onto NewPod's defaults; use DecodePod for API input.
func (p *Pod) UnmarshalJSON(b []byte) error {
	type plain Pod
	v := plain(NewPod(""))
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Pod(v)
	return nil
}

// Instances is the target instance count.
func (p Pod) Instances() int { return p.Scaling.Instances }

// PodScaling is the fixed scaling policy {"kind":"fixed","instances":n}.
type PodScaling struct {
	Kind      string `json:"kind"`
	Instances int    `json:"instances"`
}

// UnmarshalJSON applies the defaults (kind fixed, instances 1).
func (s *PodScaling) UnmarshalJSON(b []byte) error {
	type plain PodScaling
	v := plain{Kind: ScalingFixed, Instances: DefaultInstances}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = PodScaling(v)
	return nil
}

// PodScheduling is pod.scheduling; every member is always written.
type PodScheduling struct {
	Backoff             PodBackoff          `json:"backoff"`
	Upgrade             PodUpgrade          `json:"upgrade"`
	Placement           PodPlacement        `json:"placement"`
	KillSelection       KillSelection       `json:"killSelection"`
	UnreachableStrategy UnreachableStrategy `json:"unreachableStrategy"`
}

// DefaultPodScheduling is the scheduling of a pod that gives none.
func DefaultPodScheduling() PodScheduling {
	return PodScheduling{
		Backoff:             DefaultPodBackoff(),
		Upgrade:             DefaultPodUpgrade(),
		KillSelection:       YoungestFirst,
		UnreachableStrategy: DefaultUnreachableStrategy(),
	}
}

// UnmarshalJSON applies the defaults to absent members.
func (s *PodScheduling) UnmarshalJSON(b []byte) error {
	type plain PodScheduling
	v := plain(DefaultPodScheduling())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = PodScheduling(v)
	return nil
}

// PodBackoff is the relaunch backoff in seconds (numbers, not integers).
type PodBackoff struct {
	Backoff        float64 `json:"backoff"`
	BackoffFactor  float64 `json:"backoffFactor"`
	MaxLaunchDelay float64 `json:"maxLaunchDelay"`
}

// DefaultPodBackoff is {1, 1.15, 300}.
func DefaultPodBackoff() PodBackoff {
	return PodBackoff{Backoff: DefaultBackoffSeconds, BackoffFactor: DefaultBackoffFactor, MaxLaunchDelay: DefaultMaxLaunchDelaySeconds}
}

// UnmarshalJSON applies the defaults to absent members.
func (p *PodBackoff) UnmarshalJSON(b []byte) error {
	type plain PodBackoff
	v := plain(DefaultPodBackoff())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = PodBackoff(v)
	return nil
}

// PodUpgrade is the rolling upgrade bound, fractions in [0, 1].
type PodUpgrade struct {
	MinimumHealthCapacity float64 `json:"minimumHealthCapacity"`
	MaximumOverCapacity   float64 `json:"maximumOverCapacity"`
}

// DefaultPodUpgrade is {1, 1}.
func DefaultPodUpgrade() PodUpgrade {
	return PodUpgrade{MinimumHealthCapacity: 1, MaximumOverCapacity: 1}
}

// UnmarshalJSON applies the defaults to absent members.
func (u *PodUpgrade) UnmarshalJSON(b []byte) error {
	type plain PodUpgrade
	v := plain(DefaultPodUpgrade())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*u = PodUpgrade(v)
	return nil
}

// Strategy returns the upgrade bound in the app form, for the shared
// rolling-upgrade arithmetic.
func (u PodUpgrade) Strategy() UpgradeStrategy {
	return UpgradeStrategy{MinimumHealthCapacity: u.MinimumHealthCapacity, MaximumOverCapacity: u.MaximumOverCapacity}
}

// PodPlacement is scheduling.placement; both lists are always written.
type PodPlacement struct {
	Constraints           []PodConstraint `json:"constraints"`
	AcceptedResourceRoles []string        `json:"acceptedResourceRoles"`
}

// MarshalJSON writes empty lists as [] (Marathon's responses do).
func (p PodPlacement) MarshalJSON() ([]byte, error) {
	type plain PodPlacement
	v := plain(p)
	if v.Constraints == nil {
		v.Constraints = []PodConstraint{}
	}
	if v.AcceptedResourceRoles == nil {
		v.AcceptedResourceRoles = []string{}
	}
	return json.Marshal(v)
}

// PodConstraint is the object form of a constraint (types/constraint.raml),
// unlike the array form of apps.
type PodConstraint struct {
	FieldName string   `json:"fieldName" required:"true"`
	Operator  Operator `json:"operator" required:"true"`
	Value     string   `json:"value,omitempty"`
}

// Constraint returns the app form of c, for the shared placement code.
func (c PodConstraint) Constraint() Constraint {
	arity := 2
	if c.Value != "" {
		arity = 3
	}
	return Constraint{Field: c.FieldName, Operator: c.Operator, Value: c.Value, Arity: arity}
}

// ExecutorResources are the default executor's resources.
type ExecutorResources struct {
	Cpus float64 `json:"cpus"`
	Mem  float64 `json:"mem"`
	Disk float64 `json:"disk"`
}

// DefaultExecutorResources is {0.1, 32, 10}.
func DefaultExecutorResources() ExecutorResources {
	return ExecutorResources{Cpus: DefaultExecutorCpus, Mem: DefaultExecutorMem, Disk: DefaultExecutorDisk}
}

// UnmarshalJSON applies the defaults to absent members.
func (e *ExecutorResources) UnmarshalJSON(b []byte) error {
	type plain ExecutorResources
	v := plain(DefaultExecutorResources())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = ExecutorResources(v)
	return nil
}

// PodNetwork is one entry of pod.networks (types/network.raml).
type PodNetwork struct {
	// Name of a container network; none for host and bridge.
	Name string `json:"name,omitempty"`
	// Mode defaults to container.
	Mode   NetworkMode       `json:"mode"`
	Labels map[string]string `json:"labels"`
}

// UnmarshalJSON applies the defaults (mode container).
func (n *PodNetwork) UnmarshalJSON(b []byte) error {
	type plain PodNetwork
	v := plain{Mode: NetworkContainer}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = PodNetwork(v)
	return nil
}

// PodVolume is a pod-level volume: ephemeral {name}, host {name, host},
// persistent {name, persistent} (kept as given) or secret {name, secret}.
type PodVolume struct {
	Name       string          `json:"name" required:"true"`
	Host       string          `json:"host,omitempty"`
	Persistent json.RawMessage `json:"persistent,omitempty"`
	Secret     string          `json:"secret,omitempty"`
}

// IsEphemeral reports whether v lives in the executor sandbox only.
func (v PodVolume) IsEphemeral() bool {
	return v.Host == "" && len(v.Persistent) == 0 && v.Secret == ""
}

// LinuxInfo is types/linux.raml LinuxInfo.
type LinuxInfo struct {
	Seccomp *Seccomp `json:"seccomp,omitempty"`
	IPCInfo *IPCInfo `json:"ipcInfo,omitempty"`
}

// Seccomp selects a seccomp profile or none.
type Seccomp struct {
	ProfileName string `json:"profileName,omitempty"`
	Unconfined  bool   `json:"unconfined"`
}

// IPCInfo is the IPC namespace mode.
type IPCInfo struct {
	Mode    IPCMode `json:"mode" required:"true"`
	ShmSize *int    `json:"shmSize,omitempty"`
}

// IPCMode is PRIVATE or SHARE_PARENT.
type IPCMode string

// IPC modes.
const (
	IPCPrivate     IPCMode = "PRIVATE"
	IPCShareParent IPCMode = "SHARE_PARENT"
)

func (IPCMode) enumValues() []string { return []string{string(IPCPrivate), string(IPCShareParent)} }

// UnmarshalJSON accepts the mode in any case.
func (m *IPCMode) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, (*string)(m), m.enumValues())
}
