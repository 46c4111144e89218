package mesos

import (
	"encoding/json"
	"fmt"
)

// ExecutorType is mesos.v1.ExecutorInfo.Type.
type ExecutorType string

// Executor types. A LAUNCH_GROUP must name its executor's type; the
// DEFAULT executor runs a task group as nested containers.
const (
	ExecutorDefault ExecutorType = "DEFAULT"
	ExecutorCustom  ExecutorType = "CUSTOM"
)

// ExecutorInfo is mesos.v1.ExecutorInfo. A DEFAULT executor has no
// command and a container of type MESOS with networks only, no image.
type ExecutorInfo struct {
	Type                ExecutorType   `json:"type,omitempty"`
	ExecutorID          ExecutorID     `json:"executor_id"`
	FrameworkID         *FrameworkID   `json:"framework_id,omitempty"`
	Command             *CommandInfo   `json:"command,omitempty"`
	Container           *ContainerInfo `json:"container,omitempty"`
	Resources           []Resource     `json:"resources,omitempty"`
	Name                string         `json:"name,omitempty"`
	Data                []byte         `json:"data,omitempty"`
	Discovery           *DiscoveryInfo `json:"discovery,omitempty"`
	ShutdownGracePeriod *DurationInfo  `json:"shutdown_grace_period,omitempty"`
	Labels              *Labels        `json:"labels,omitempty"`
}

// TaskGroupInfo is mesos.v1.TaskGroupInfo: tasks launched atomically.
type TaskGroupInfo struct {
	Tasks []TaskInfo `json:"tasks"`
}

// LaunchGroup is mesos.v1.Offer.Operation.LaunchGroup.
type LaunchGroup struct {
	Executor  ExecutorInfo  `json:"executor"`
	TaskGroup TaskGroupInfo `json:"task_group"`
}

// LaunchGroupOperation returns the LAUNCH_GROUP operation of lg.
func LaunchGroupOperation(lg LaunchGroup) (Operation, error) {
	b, err := json.Marshal(lg)
	if err != nil {
		return Operation{}, fmt.Errorf("encode launch group: %w", err)
	}
	return Operation{Type: OperationLaunchGroup, LaunchGroup: b}, nil
}

// DecodeLaunchGroup returns the LaunchGroup of a LAUNCH_GROUP operation.
func (o Operation) DecodeLaunchGroup() (LaunchGroup, error) {
	var lg LaunchGroup
	if o.Type != OperationLaunchGroup || len(o.LaunchGroup) == 0 {
		return lg, fmt.Errorf("operation %s has no launch_group", o.Type)
	}
	if err := json.Unmarshal(o.LaunchGroup, &lg); err != nil {
		return lg, fmt.Errorf("decode launch_group: %w", err)
	}
	return lg, nil
}

// MesosInfo is mesos.v1.ContainerInfo.MesosInfo, for
// ContainerInfo.Mesos.
type MesosInfo struct {
	Image *Image `json:"image,omitempty"`
}

// ImageType is mesos.v1.Image.Type.
type ImageType string

// Image types.
const (
	ImageAppc   ImageType = "APPC"
	ImageDocker ImageType = "DOCKER"
)

// Image is mesos.v1.Image; Cached defaults to true.
type Image struct {
	Type   ImageType    `json:"type"`
	Docker *DockerImage `json:"docker,omitempty"`
	Cached *bool        `json:"cached,omitempty"`
}

// DockerImage is mesos.v1.Image.Docker; Config is a mesos.v1.Secret
// holding a Docker config.json.
type DockerImage struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config,omitempty"`
}

// LinuxInfo is mesos.v1.LinuxInfo (the members Marathon sets).
type LinuxInfo struct {
	Seccomp      *SeccompInfo `json:"seccomp,omitempty"`
	IPCMode      string       `json:"ipc_mode,omitempty"`
	ShmSize      *uint32      `json:"shm_size,omitempty"`
	ShareCgroups *bool        `json:"share_cgroups,omitempty"`
}

// SeccompInfo is mesos.v1.SeccompInfo.
type SeccompInfo struct {
	ProfileName string `json:"profile_name,omitempty"`
	Unconfined  *bool  `json:"unconfined,omitempty"`
}

// VolumeSource is mesos.v1.Volume.Source (the SANDBOX_PATH and HOST_PATH
// forms), for Volume.Source.
type VolumeSource struct {
	Type        string             `json:"type"`
	SandboxPath *SandboxPathSource `json:"sandbox_path,omitempty"`
	HostPath    *HostPathSource    `json:"host_path,omitempty"`
}

// Volume source types and sandbox path types.
const (
	VolumeSourceSandboxPath = "SANDBOX_PATH"
	VolumeSourceHostPath    = "HOST_PATH"
	SandboxPathParent       = "PARENT"
	SandboxPathSelf         = "SELF"
)

// SandboxPathSource is mesos.v1.Volume.Source.SandboxPath: a path in the
// task's own sandbox (SELF) or in its executor's (PARENT), which the
// tasks of a group share.
type SandboxPathSource struct {
	Type string `json:"type,omitempty"`
	Path string `json:"path"`
}

// HostPathSource is mesos.v1.Volume.Source.HostPath.
type HostPathSource struct {
	Path string `json:"path"`
}
