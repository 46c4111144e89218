package taskinfo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// DefaultBridgeName is the CNI network MESOS containers join for BRIDGE
// networking (Marathon's --mesos_bridge_name default).
const DefaultBridgeName = "mesos-bridge"

// container builds the ContainerInfo; nil for a plain command task on the
// host network.
func container(app *marathon.App, hostPorts []uint32) (*mesos.ContainerInfo, error) {
	c := app.Container
	if c == nil {
		if app.IsHostNetworking() {
			return nil, nil
		}
		// A command task on a container network: a MESOS container
		// without an image.
		c = &marathon.Container{Type: marathon.ContainerMesos}
	}
	ci := &mesos.ContainerInfo{Volumes: volumes(c.Volumes)}
	switch c.Type {
	case marathon.ContainerDocker, "":
		if c.Docker == nil || c.Docker.Image == "" {
			return nil, fmt.Errorf("%w: DOCKER container of %s without an image", ErrInvalid, app.ID)
		}
		ci.Type = mesos.ContainerDocker
		ci.Docker = dockerInfo(app, c.Docker, hostPorts)
		// Docker takes a user network's name from the NetworkInfo.
		if n, ok := firstNonHost(app.Networks); ok && n.Mode == marathon.NetworkContainer {
			ci.NetworkInfos = []mesos.NetworkInfo{{Name: n.Name}}
		}
	case marathon.ContainerMesos:
		ci.Type = mesos.ContainerMesos
		ci.Mesos = mesosInfo(c.Docker)
		ci.NetworkInfos = networkInfos(app, hostPorts)
	default:
		return nil, fmt.Errorf("%w: container type %q of %s", ErrInvalid, c.Type, app.ID)
	}
	return ci, nil
}

// dockerInfo is the DockerInfo of a DOCKER container: the network mode
// from the app's networks (host → HOST, container/bridge → BRIDGE,
// container → USER), a port mapping per protocol for every mapping with a
// host port (container port 0 means "the host port"), and the image
// options, privileged and force_pull_image set explicitly as Marathon
// does.
func dockerInfo(app *marathon.App, d *marathon.Docker, hostPorts []uint32) *mesos.DockerInfo {
	di := &mesos.DockerInfo{
		Image:          d.Image,
		Network:        mesos.NetworkHost,
		Privileged:     ptr(d.Privileged),
		ForcePullImage: ptr(d.ForcePullImage),
	}
	if n, ok := firstNonHost(app.Networks); ok {
		di.Network = mesos.NetworkUser
		if n.Mode == marathon.NetworkBridge {
			di.Network = mesos.NetworkBridge
		}
	}
	for i, m := range app.PortMappingsInUse() {
		if i >= len(hostPorts) || hostPorts[i] == 0 {
			continue // no host port: nothing to forward
		}
		for _, proto := range protocols(m.Protocol) {
			di.PortMappings = append(di.PortMappings, mesos.PortMapping{
				HostPort:      hostPorts[i],
				ContainerPort: containerPort(m, hostPorts[i]),
				Protocol:      proto,
			})
		}
	}
	for _, p := range d.Parameters {
		di.Parameters = append(di.Parameters, mesos.Parameter{Key: p.Key, Value: p.Value})
	}
	return di
}

// mesosInfo is ContainerInfo.mesos of a MESOS container: the docker image
// to provision, cached unless forcePullImage; {} without an image.
func mesosInfo(d *marathon.Docker) json.RawMessage {
	type image struct {
		Type   string `json:"type"`
		Docker struct {
			Name string `json:"name"`
		} `json:"docker"`
		Cached bool `json:"cached"`
	}
	var info struct {
		Image *image `json:"image,omitempty"`
	}
	if d != nil && d.Image != "" {
		info.Image = &image{Type: "DOCKER", Cached: !d.ForcePullImage}
		info.Image.Docker.Name = d.Image
	}
	b, _ := json.Marshal(info) // plain structs always marshal
	return b
}

// networkInfos are the CNI networks of a MESOS container: one per non-host
// network (BRIDGE joins DefaultBridgeName), each with the port mappings
// that have a host port and name it or no network. Protocols are split
// into one mapping each.
func networkInfos(app *marathon.App, hostPorts []uint32) []mesos.NetworkInfo {
	var out []mesos.NetworkInfo
	mappings := app.PortMappingsInUse()
	for _, n := range app.Networks {
		if n.Mode == marathon.NetworkHost {
			continue
		}
		name := n.Name
		if n.Mode == marathon.NetworkBridge {
			name = DefaultBridgeName
		}
		ni := mesos.NetworkInfo{
			IPAddresses: []mesos.IPAddress{{}},
			Name:        name,
			Labels:      labels(n.Labels),
		}
		for i, m := range mappings {
			if i >= len(hostPorts) || hostPorts[i] == 0 {
				continue
			}
			if len(m.NetworkNames) > 0 && !slices.Contains(m.NetworkNames, name) {
				continue
			}
			for _, proto := range protocols(m.Protocol) {
				ni.PortMappings = append(ni.PortMappings, mesos.PortMapping{
					HostPort:      hostPorts[i],
					ContainerPort: containerPort(m, hostPorts[i]),
					Protocol:      proto,
				})
			}
		}
		out = append(out, ni)
	}
	return out
}

// volumes converts the host-path volumes; persistent, external and secret
// volumes are not launched by Stadion and are left out.
func volumes(vs []marathon.Volume) []mesos.Volume {
	var out []mesos.Volume
	for _, v := range vs {
		if v.HostPath == "" || len(v.Persistent) > 0 || len(v.External) > 0 || v.Secret != "" {
			continue
		}
		mode := string(v.Mode)
		if mode == "" {
			mode = string(marathon.VolumeRW)
		}
		out = append(out, mesos.Volume{ContainerPath: v.ContainerPath, HostPath: v.HostPath, Mode: mode})
	}
	return out
}

func firstNonHost(ns []marathon.Network) (marathon.Network, bool) {
	for _, n := range ns {
		if n.Mode != marathon.NetworkHost {
			return n, true
		}
	}
	return marathon.Network{}, false
}

// containerPort is the container side of a mapping: its container port, or
// the host port when that is 0 (Marathon binds such mappings 1:1).
func containerPort(m marathon.PortMapping, hostPort uint32) uint32 {
	if m.ContainerPort == 0 {
		return hostPort
	}
	return uint32(m.ContainerPort)
}

// protocols splits "tcp,udp" into its protocols; "" is tcp.
func protocols(p string) []string {
	if p == "" {
		return []string{"tcp"}
	}
	return strings.Split(p, ",")
}
