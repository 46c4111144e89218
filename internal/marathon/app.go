package marathon

import (
	"encoding/json"
)

// Defaults of an AppDefinition (app.raml and state/AppDefinition.scala).
const (
	DefaultCpus                  = 1.0
	DefaultMem                   = 128.0
	DefaultDisk                  = 0.0
	DefaultGpus                  = 0
	DefaultInstances             = 1
	DefaultBackoffSeconds        = 1
	DefaultBackoffFactor         = 1.15
	DefaultMaxLaunchDelaySeconds = 300 // marathon-api.md §2; stored RAML copies before 1.10 say 3600
	DefaultRole                  = "*"
	// MinCpus is the smallest accepted cpus value.
	MinCpus = 0.001
)

// App is a Marathon AppDefinition as sent and received on /v2/apps. Fields
// are Marathon's camelCase names. Decoding fills Marathon's defaults for
// absent fields (see NewApp); Normalize migrates the legacy input fields
// (Ports, URIs, IPAddress, Container.Docker.Network and .PortMappings) into
// the canonical ones and clears them. MarshalJSON emits the canonical form
// plus the legacy fields old clients read.
type App struct {
	// ID is the app id; relative ids are resolved by Normalize.
	ID PathID `json:"id"`
	// Cmd runs as /bin/sh -c Cmd. Exactly one of Cmd and Args, unless a
	// container image is given.
	Cmd string `json:"cmd,omitempty"`
	// Args is the argv form of the command (no shell).
	Args []string `json:"args,omitempty"`
	// User runs the task as this user on the agent.
	User string `json:"user,omitempty"`
	// Env is injected into the tasks; values are strings or secret refs.
	Env map[string]EnvVar `json:"env"`
	// Instances is the target instance count (default 1).
	Instances int `json:"instances"`
	// Cpus, Mem (MB), Disk (MB) and Gpus are per instance.
	Cpus float64 `json:"cpus"`
	Mem  float64 `json:"mem"`
	Disk float64 `json:"disk"`
	Gpus int     `json:"gpus"`
	// Executor is "" or "//cmd" for the command executor, else a path.
	Executor string `json:"executor"`
	// Constraints are [field, OPERATOR, value?] placement rules.
	Constraints []Constraint `json:"constraints"`
	// Fetch lists artifacts for the Mesos fetcher.
	Fetch []Artifact `json:"fetch"`
	// StoreURLs is accepted and kept; Stadion has no artifact store.
	StoreURLs []string `json:"storeUrls,omitempty"`
	// PortDefinitions are the ports of host-networked apps. nil means "not
	// given" before Normalize (which then adds one default port) and "none"
	// for container networking after it.
	PortDefinitions []PortDefinition `json:"portDefinitions"`
	// RequirePorts makes the port definitions the host ports (host
	// networking only).
	RequirePorts bool `json:"requirePorts"`
	// BackoffSeconds, BackoffFactor and MaxLaunchDelaySeconds shape the
	// relaunch delay of failing tasks.
	BackoffSeconds        int     `json:"backoffSeconds"`
	BackoffFactor         float64 `json:"backoffFactor"`
	MaxLaunchDelaySeconds int     `json:"maxLaunchDelaySeconds"`
	// Container is the container spec; nil for a plain command.
	Container *Container `json:"container,omitempty"`
	// Networks the task joins; Normalize defaults it to [{mode: host}].
	Networks []Network `json:"networks"`
	// HealthChecks of the tasks.
	HealthChecks []HealthCheck `json:"healthChecks"`
	// ReadinessChecks gate deployments (at most one).
	ReadinessChecks []ReadinessCheck `json:"readinessChecks"`
	// Check is the Mesos-native (non-health) check; kept, reported only.
	Check *Check `json:"check,omitempty"`
	// Dependencies order this app after others within a deployment.
	Dependencies []PathID `json:"dependencies"`
	// UpgradeStrategy bounds capacity during rolling upgrades.
	UpgradeStrategy UpgradeStrategy `json:"upgradeStrategy"`
	// UnreachableStrategy handles TASK_UNREACHABLE.
	UnreachableStrategy UnreachableStrategy `json:"unreachableStrategy"`
	// KillSelection orders scale-down victims.
	KillSelection KillSelection `json:"killSelection"`
	// TaskKillGracePeriodSeconds is the SIGTERM to SIGKILL delay; nil
	// passes no kill policy to Mesos.
	TaskKillGracePeriodSeconds *int `json:"taskKillGracePeriodSeconds,omitempty"`
	// Labels are free key/value metadata read by every integration.
	Labels map[string]string `json:"labels"`
	// AcceptedResourceRoles restricts the offers used; nil means any.
	AcceptedResourceRoles []string `json:"acceptedResourceRoles,omitempty"`
	// Role is the Mesos role the app's resources are allocated to;
	// Normalize fills the default role.
	Role string `json:"role,omitempty"`
	// Version is the time of this definition; set by the server.
	Version Timestamp `json:"version,omitzero"`
	// VersionInfo carries the last scaling and config change times.
	VersionInfo *VersionInfo `json:"versionInfo,omitempty"`
	// Residency is deprecated and has no effect; kept for round trips.
	Residency *Residency `json:"residency,omitempty"`
	// Secrets referenced by Env and volumes.
	Secrets map[string]Secret `json:"secrets,omitempty"`
	// TTY allocates a terminal for the task.
	TTY *bool `json:"tty,omitempty"`
	// ExecutorResources and ResourceLimits are kept opaque.
	ExecutorResources json.RawMessage `json:"executorResources,omitempty"`
	ResourceLimits    json.RawMessage `json:"resourceLimits,omitempty"`

	// Ports is the legacy form of PortDefinitions (input only; Normalize
	// migrates it). MarshalJSON emits the service ports under this name.
	Ports []int `json:"ports,omitempty"`
	// URIs is the legacy form of Fetch (input only).
	URIs []string `json:"uris,omitempty"`
	// IPAddress is the legacy IP-per-container form of Networks (input only).
	IPAddress *IPAddress `json:"ipAddress,omitempty"`
}

// NewApp returns an app with id and every default Marathon applies to an
// absent field, as DecodeApp produces for {"id": id}.
func NewApp(id PathID) App {
	return App{
		ID:                    id,
		Instances:             DefaultInstances,
		Cpus:                  DefaultCpus,
		Mem:                   DefaultMem,
		Disk:                  DefaultDisk,
		Gpus:                  DefaultGpus,
		BackoffSeconds:        DefaultBackoffSeconds,
		BackoffFactor:         DefaultBackoffFactor,
		MaxLaunchDelaySeconds: DefaultMaxLaunchDelaySeconds,
		UpgradeStrategy:       DefaultUpgradeStrategy(),
		UnreachableStrategy:   DefaultUnreachableStrategy(),
		KillSelection:         YoungestFirst,
	}
}

// UnmarshalJSON decodes onto NewApp's defaults. It does no type checking of
// its own beyond encoding/json; use DecodeApp for API input.
func (a *App) UnmarshalJSON(b []byte) error {
	type plain App
	p := plain(NewApp(""))
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*a = App(p)
	return nil
}

// VersionInfo tells scale changes from config changes.
type VersionInfo struct {
	// LastScalingAt is the time of the last change of any kind (= version).
	LastScalingAt Timestamp `json:"lastScalingAt"`
	// LastConfigChangeAt is the time of the last non-scale change.
	LastConfigChangeAt Timestamp `json:"lastConfigChangeAt"`
}

// Artifact is one fetch entry for the Mesos fetcher.
type Artifact struct {
	URI        string `json:"uri" required:"true"`
	Extract    bool   `json:"extract"`
	Executable bool   `json:"executable"`
	Cache      bool   `json:"cache"`
	DestPath   string `json:"destPath,omitempty"`
}

// UnmarshalJSON applies the defaults (extract true).
func (f *Artifact) UnmarshalJSON(b []byte) error {
	type plain Artifact
	p := plain{Extract: true}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*f = Artifact(p)
	return nil
}

// Residency is the deprecated resident-task setting.
type Residency struct {
	RelaunchEscalationTimeoutSeconds int    `json:"relaunchEscalationTimeoutSeconds"`
	TaskLostBehavior                 string `json:"taskLostBehavior"`
}

// Secret is a secrets entry: {"source": "/db/password"}.
type Secret struct {
	Source string `json:"source" required:"true"`
}
