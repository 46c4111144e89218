package registrator

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
)

// portSpec is one port of an app, as the naming rules see it.
type portSpec struct {
	index int
	// original is the container port on container networks and the
	// (service) port of the port definition on host networking: the port
	// the app itself speaks of. 0 when unknown.
	original int
	// containerPort is the mapping's container port (container networks).
	containerPort int
	// hostPort is false for container-network mappings without a host
	// port: such a port has no host port in the task.
	hostPort bool
	protocol string
	// label names the port in SERVICE_<label>_* keys and default service
	// names: the original port, else the port's name, else its index.
	label string
	// key ends the service id: the label (":udp" for UDP ports), or
	// "port<index>" for every port of an app whose labels collide.
	key string
}

// appPorts lists the ports of a normalised app.
func appPorts(app marathon.App) []portSpec {
	var ports []portSpec
	if app.IsHostNetworking() {
		for i, d := range app.PortDefinitions {
			ports = append(ports, portSpec{index: i, original: d.Port, hostPort: true, protocol: d.Protocol, label: portLabel(d.Port, d.Name, i)})
		}
	} else {
		for i, m := range app.PortMappingsInUse() {
			ports = append(ports, portSpec{index: i, original: m.ContainerPort, containerPort: m.ContainerPort,
				hostPort: m.HostPort != nil, protocol: m.Protocol, label: portLabel(m.ContainerPort, m.Name, i)})
		}
	}
	seen := map[string]bool{}
	unique := true
	for i := range ports {
		ports[i].key = ports[i].label
		if ports[i].protocol == "udp" {
			ports[i].key += ":udp"
		}
		if seen[ports[i].key] {
			unique = false
		}
		seen[ports[i].key] = true
	}
	if !unique {
		for i := range ports {
			ports[i].key = "port" + strconv.Itoa(i)
		}
	}
	return ports
}

func portLabel(original int, name string, index int) string {
	switch {
	case original > 0:
		return strconv.Itoa(original)
	case name != "":
		return name
	}
	return strconv.Itoa(index)
}

// serviceEnv is the app's env (plain values) overlaid with its labels, the
// two places SERVICE_* settings come from; labels win, as in
// x-cray/marathon-registrator.
type serviceEnv map[string]string

func envOf(app marathon.App) serviceEnv { return settingsOf(app.Env, app.Labels) }

// settingsOf is the plain values of env overlaid with labels.
func settingsOf(env map[string]marathon.EnvVar, labels map[string]string) serviceEnv {
	kv := serviceEnv{}
	for k, v := range env {
		if !v.IsSecret() {
			kv[k] = v.Value
		}
	}
	maps.Copy(kv, labels)
	return kv
}

// lookup returns the value of SERVICE_<suffix>, the suffix compared without
// case ("SERVICE_3000_name" works), exact spelling first; empty values count
// as unset.
func (e serviceEnv) lookup(suffix string) (string, bool) {
	if v := strings.TrimSpace(e["SERVICE_"+suffix]); v != "" {
		return v, true
	}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		rest, ok := strings.CutPrefix(k, "SERVICE_")
		if ok && strings.EqualFold(rest, suffix) {
			if v := strings.TrimSpace(e[k]); v != "" {
				return v, true
			}
		}
	}
	return "", false
}

// portAttr returns SERVICE_<label>_<attr>, else SERVICE_<attr>.
func (e serviceEnv) portAttr(label, attr string) (string, bool) {
	if v, ok := e.lookup(label + "_" + attr); ok {
		return v, true
	}
	return e.lookup(attr)
}

// serviceName is the port's Consul service name: SERVICE_<label>_NAME,
// SERVICE_NAME, or the last segment of the app id, with "-<label>" when the
// app has several ports.
func (e serviceEnv) serviceName(appID marathon.PathID, p portSpec, ports int) string {
	if v, ok := e.portAttr(p.label, "NAME"); ok {
		return v
	}
	name := appID.Name()
	if ports > 1 {
		name += "-" + p.label
	}
	return name
}

// tags are SERVICE_<label>_TAGS or SERVICE_TAGS (a comma list), then the
// owner tag; blanks and duplicates are dropped.
func (e serviceEnv) tags(p portSpec, owner string) []string {
	v, _ := e.portAttr(p.label, "TAGS")
	tags := []string{}
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if !slices.Contains(tags, owner) {
		tags = append(tags, owner)
	}
	return tags
}

// ignored reports SERVICE_<label>_IGNORE or SERVICE_IGNORE set to anything
// but a false value ("false", "0", "no").
func (e serviceEnv) ignored(p portSpec) bool {
	v, _ := e.portAttr(p.label, "IGNORE")
	return ignoreValue(v)
}
