package marathon

import (
	"encoding/json"
	"strconv"
)

// PodContainer is one container of a pod (types/podContainer.raml): one
// Mesos task of the instance's task group. The collections are always
// written, empty or not, as Marathon's responses show them.
type PodContainer struct {
	// Name is unique within the pod; ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.
	Name string `json:"name" required:"true"`
	// Exec is the command; none runs the image's entrypoint.
	Exec *MesosExec `json:"exec,omitempty"`
	// Resources of the container's task.
	Resources PodResources `json:"resources"`
	// ResourceLimits raise the cgroup limits above the requests.
	ResourceLimits *ResourceLimits `json:"resourceLimits,omitempty"`
	// Endpoints are the container's ports.
	Endpoints []Endpoint `json:"endpoints"`
	// Image is the container filesystem; none runs on the agent's.
	Image *PodImage `json:"image,omitempty"`
	// Environment overrides the pod's.
	Environment map[string]EnvVar `json:"environment"`
	// User overrides the pod's.
	User string `json:"user,omitempty"`
	// HealthCheck is run by the executor (Mesos-native).
	HealthCheck *PodHealthCheck `json:"healthCheck,omitempty"`
	// VolumeMounts mount pod volumes into the container.
	VolumeMounts []VolumeMount `json:"volumeMounts"`
	// Artifacts are fetched into the task sandbox.
	Artifacts []Artifact `json:"artifacts"`
	// Labels become task labels.
	Labels map[string]string `json:"labels"`
	// Lifecycle holds the kill grace period.
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`
	// LinuxInfo is the container's seccomp and IPC setting.
	LinuxInfo *LinuxInfo `json:"linuxInfo,omitempty"`
	// TTY allocates a terminal.
	TTY *bool `json:"tty,omitempty"`
}

// UnmarshalJSON applies the defaults (resources 1 cpu, 128 MiB).
func (c *PodContainer) UnmarshalJSON(b []byte) error {
	type plain PodContainer
	v := plain{Resources: DefaultPodResources()}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = PodContainer(v)
	return nil
}

// PodResources are a container's resources.
type PodResources struct {
	Cpus float64 `json:"cpus"`
	Mem  float64 `json:"mem"`
	Disk float64 `json:"disk"`
	Gpus int     `json:"gpus"`
}

// DefaultPodResources is {1, 128, 0, 0}.
func DefaultPodResources() PodResources {
	return PodResources{Cpus: DefaultCpus, Mem: DefaultMem, Disk: DefaultDisk, Gpus: DefaultGpus}
}

// UnmarshalJSON applies the defaults to absent members.
func (r *PodResources) UnmarshalJSON(b []byte) error {
	type plain PodResources
	v := plain(DefaultPodResources())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = PodResources(v)
	return nil
}

// ResourceLimits are container.resourceLimits.
type ResourceLimits struct {
	Cpus *ResourceLimit `json:"cpus,omitempty"`
	Mem  *ResourceLimit `json:"mem,omitempty"`
}

// ResourceLimit is a number or "unlimited".
type ResourceLimit struct {
	Unlimited bool
	Value     float64
}

const unlimited = "unlimited"

// MarshalJSON writes "unlimited" or the number.
func (l ResourceLimit) MarshalJSON() ([]byte, error) {
	if l.Unlimited {
		return json.Marshal(unlimited)
	}
	return json.Marshal(l.Value)
}

// UnmarshalJSON reads "unlimited" or a number.
func (l *ResourceLimit) UnmarshalJSON(b []byte) error {
	*l = ResourceLimit{}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		l.Unlimited = s == unlimited
		return nil
	}
	return json.Unmarshal(b, &l.Value)
}

func (ResourceLimit) checkJSON(v any, path string, r *reporter) {
	switch t := v.(type) {
	case string:
		if t != unlimited {
			r.add(path, codeEnum)
		}
	case json.Number:
		if _, err := strconv.ParseFloat(string(t), 64); err != nil {
			r.add(path, codeNumber)
		}
	default:
		r.add(path, codeNumber)
	}
}

// MesosExec is container.exec.
type MesosExec struct {
	Command            MesosCommand `json:"command" required:"true"`
	OverrideEntrypoint *bool        `json:"overrideEntrypoint,omitempty"`
}

// PodImage is container.image.
type PodImage struct {
	Kind       string            `json:"kind" required:"true"`
	ID         string            `json:"id" required:"true"`
	PullConfig *PullConfig       `json:"pullConfig,omitempty"`
	ForcePull  *bool             `json:"forcePull,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// PullConfig names the secret holding a Docker config.json.
type PullConfig struct {
	Secret string `json:"secret" required:"true"`
}

// Endpoint is one port of a container (types/network.raml Endpoint).
type Endpoint struct {
	Name string `json:"name" required:"true"`
	// ContainerPort is forbidden in host mode, required in container mode.
	ContainerPort *int `json:"containerPort,omitempty"`
	// HostPort 0 asks for any offered port; NormalizePod sets 0 for host
	// and bridge endpoints that give none.
	HostPort     *int              `json:"hostPort,omitempty"`
	Protocol     []string          `json:"protocol,omitempty"`
	Labels       map[string]string `json:"labels"`
	NetworkNames []string          `json:"networkNames,omitempty"`
}

// VolumeMount mounts a pod volume into a container.
type VolumeMount struct {
	Name      string `json:"name" required:"true"`
	MountPath string `json:"mountPath" required:"true"`
	ReadOnly  *bool  `json:"readOnly,omitempty"`
}

// Lifecycle is container.lifecycle.
type Lifecycle struct {
	KillGracePeriodSeconds *float64 `json:"killGracePeriodSeconds,omitempty"`
}

// PodHealthCheck is a container's Mesos-native health check
// (types/healthCheck.raml HealthCheck): exactly one of HTTP, TCP, Exec.
type PodHealthCheck struct {
	HTTP                   *PodHTTPCheck `json:"http,omitempty"`
	TCP                    *PodTCPCheck  `json:"tcp,omitempty"`
	Exec                   *ExecCheck    `json:"exec,omitempty"`
	GracePeriodSeconds     int           `json:"gracePeriodSeconds"`
	IntervalSeconds        int           `json:"intervalSeconds"`
	MaxConsecutiveFailures int           `json:"maxConsecutiveFailures"`
	TimeoutSeconds         int           `json:"timeoutSeconds"`
	DelaySeconds           int           `json:"delaySeconds"`
}

// DefaultPodHealthCheck has the RAML defaults {300, 60, 3, 20, 15}.
func DefaultPodHealthCheck() PodHealthCheck {
	return PodHealthCheck{GracePeriodSeconds: 300, IntervalSeconds: 60, MaxConsecutiveFailures: 3, TimeoutSeconds: 20, DelaySeconds: 15}
}

// UnmarshalJSON applies the defaults to absent members.
func (h *PodHealthCheck) UnmarshalJSON(b []byte) error {
	type plain PodHealthCheck
	v := plain(DefaultPodHealthCheck())
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*h = PodHealthCheck(v)
	return nil
}

// Endpoint returns the name of the endpoint an HTTP or TCP check probes.
func (h PodHealthCheck) Endpoint() string {
	switch {
	case h.HTTP != nil:
		return h.HTTP.Endpoint
	case h.TCP != nil:
		return h.TCP.Endpoint
	}
	return ""
}

// PodHTTPCheck probes path on an endpoint; 200-399 is healthy.
type PodHTTPCheck struct {
	Endpoint string     `json:"endpoint" required:"true"`
	Path     string     `json:"path,omitempty"`
	Scheme   HTTPScheme `json:"scheme"`
}

// UnmarshalJSON applies the default scheme HTTP.
func (c *PodHTTPCheck) UnmarshalJSON(b []byte) error {
	type plain PodHTTPCheck
	v := plain{Scheme: SchemeHTTP}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = PodHTTPCheck(v)
	return nil
}

// PodTCPCheck connects to an endpoint.
type PodTCPCheck struct {
	Endpoint string `json:"endpoint" required:"true"`
}
