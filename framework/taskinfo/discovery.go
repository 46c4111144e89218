package taskinfo

import (
	"maps"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// Discovery label Marathon puts on the ports of container-networked apps.
const (
	labelNetworkScope = "network-scope"
	scopeHost         = "host"
	scopeContainer    = "container"
)

// discovery is the task's DiscoveryInfo, read by Mesos-DNS and
// registrators: visibility FRAMEWORK, the task name, and one port per
// protocol of each port. Host networking: the port definitions that got a
// host port, numbered with it. Container networking: every port mapping,
// numbered with its host port and labelled network-scope=host, or, without
// a host port, with its container port and network-scope=container.
// Marathon always sets the ports, even when empty.
func discovery(app *marathon.App, hostPorts []uint32) *mesos.DiscoveryInfo {
	d := &mesos.DiscoveryInfo{Visibility: "FRAMEWORK", Name: Name(app.ID), Ports: &mesos.Ports{}}
	add := func(number uint32, name, protocol string, ls map[string]string) {
		for _, proto := range protocols(protocol) {
			d.Ports.Ports = append(d.Ports.Ports, mesos.Port{Number: number, Name: name, Protocol: proto, Labels: labels(ls)})
		}
	}
	if app.IsHostNetworking() {
		for i, pd := range app.PortDefinitions {
			if i < len(hostPorts) && hostPorts[i] != 0 {
				add(hostPorts[i], pd.Name, pd.Protocol, pd.Labels)
			}
		}
		return d
	}
	for i, m := range app.PortMappingsInUse() {
		ls := maps.Clone(m.Labels)
		if ls == nil {
			ls = map[string]string{}
		}
		if i < len(hostPorts) && hostPorts[i] != 0 {
			ls[labelNetworkScope] = scopeHost
			add(hostPorts[i], m.Name, m.Protocol, ls)
			continue
		}
		ls[labelNetworkScope] = scopeContainer
		add(uint32(m.ContainerPort), m.Name, m.Protocol, ls)
	}
	return d
}
