package registrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Pods: one Consul service per endpoint of a running pod container that
// has a host port, read from GET /v2/pods/::status (Marathon 1.4+; a
// scheduler without pods answers 404, which is no pods). The naming
// follows the apps': the endpoint's name is the port label, so the
// service is the last segment of the pod id, with "-<endpoint>" when the
// pod has several endpoints, unless SERVICE_<endpoint>_NAME or
// SERVICE_NAME (a pod label, or a plain pod environment variable) names
// it. A pod with health checks gives each service of an instance one
// status check with the scheduler's verdict on the instance (as --health
// ttl does for apps, in every mode): passing when every container with a
// health check has its "healthy" condition true.

// DecodePodStatuses reads a /v2/pods/::status body (a JSON array). Each
// pod is read on its own: one that does not decode is listed in the
// returned skips (with ErrBadApp), not fatal to the others.
func DecodePodStatuses(body []byte) ([]marathon.PodStatus, []Skip, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, nil, fmt.Errorf("decode pods: %w", err)
	}
	var bad []Skip
	pods := make([]marathon.PodStatus, 0, len(list))
	for _, raw := range list {
		var ps marathon.PodStatus
		if err := json.Unmarshal(raw, &ps); err != nil {
			var id struct {
				ID marathon.PathID `json:"id"`
			}
			_ = json.Unmarshal(raw, &id) // best effort, for the log
			bad = append(bad, Skip{AppID: id.ID, Err: fmt.Errorf("%w: %v", ErrBadApp, err)})
			continue
		}
		pods = append(pods, ps)
	}
	return pods, bad, nil
}

// errNoPods says that the scheduler serves no /v2/pods (404).
var errNoPods = errors.New("registrator: the scheduler has no pods")

// podPorts lists the endpoints of a pod, across its containers in order,
// as portSpecs: the endpoint's name is its label.
func podPorts(pod marathon.Pod) []portSpec {
	var ports []portSpec
	for _, c := range pod.Containers {
		for _, e := range c.Endpoints {
			proto := "tcp"
			if len(e.Protocol) == 1 && e.Protocol[0] == "udp" {
				proto = "udp"
			}
			key := e.Name
			if proto == "udp" {
				key += ":udp"
			}
			ports = append(ports, portSpec{index: len(ports), hostPort: e.HostPort != nil, protocol: proto, label: e.Name, key: key})
		}
	}
	return ports
}

// podEnv is the pod's plain environment overlaid with its labels.
func podEnv(pod marathon.Pod) serviceEnv { return settingsOf(pod.Environment, pod.Labels) }

// computePods adds the services of the pods' running containers.
func computePods(pods []marathon.PodStatus, opts Options, d *Desired) {
	for _, ps := range pods {
		pod := ps.Spec
		if pod.ID == "" {
			pod.ID = ps.ID
		}
		ports := podPorts(pod)
		byName := make(map[string]portSpec, len(ports))
		for _, p := range ports {
			byName[p.label] = p
		}
		env := podEnv(pod)
		checked := podChecked(pod)
		for _, inst := range ps.Instances {
			if inst.AgentHostname == "" || !opts.local(inst.AgentHostname) {
				continue
			}
			for _, c := range inst.Containers {
				if c.Status != string(marathon.TaskRunning) {
					continue
				}
				for _, ep := range c.Endpoints {
					p, ok := byName[ep.Name]
					if !ok || ep.AllocatedHostPort == nil || *ep.AllocatedHostPort <= 0 || env.ignored(p) {
						continue
					}
					s := podService(pod, inst, p, *ep.AllocatedHostPort, env, len(ports), opts)
					if len(checked) > 0 {
						s.Checks = []Check{statusCheck(pod.ID, s.ID, podHealth(inst, checked), opts)}
					}
					s.Meta[MetaHash] = definitionHash(s)
					d.Services = append(d.Services, s)
				}
			}
		}
	}
}

// podService is the service of one endpoint of a pod instance.
func podService(pod marathon.Pod, inst marathon.PodInstanceStatus, p portSpec, port int, env serviceEnv, nports int, opts Options) Service {
	s := Service{
		ID:      inst.ID + ":" + p.key,
		Name:    env.serviceName(pod.ID, p, nports),
		Tags:    env.tags(p, opts.Owner),
		Address: inst.AgentHostname,
		Port:    port,
		Meta: map[string]string{
			MetaOwner:     opts.Owner,
			MetaAppID:     string(pod.ID),
			MetaTaskID:    inst.ID,
			MetaVersion:   pod.Version.String(),
			MetaPortIndex: strconv.Itoa(p.index),
			MetaHost:      inst.AgentHostname,
		},
	}
	if opts.Mode == ModeCatalog {
		s.Node, s.NodeAddress = opts.nodeName(inst.AgentHostname), inst.AgentHostname
	}
	return s
}

// podChecked returns the names of the pod's containers with a health
// check.
func podChecked(pod marathon.Pod) map[string]bool {
	out := map[string]bool{}
	for _, c := range pod.Containers {
		if c.HealthCheck != nil {
			out[c.Name] = true
		}
	}
	return out
}

// podHealth is the scheduler's verdict on an instance: healthy when every
// checked container says so.
func podHealth(inst marathon.PodInstanceStatus, checked map[string]bool) verdict {
	healthy := 0
	for _, c := range inst.Containers {
		if !checked[c.Name] {
			continue
		}
		for _, cond := range c.Conditions {
			if cond.Name == marathon.ConditionHealthy && cond.Value == "true" {
				healthy++
			}
		}
	}
	if healthy == len(checked) {
		return verdict{StatusPassing, "healthy in the scheduler"}
	}
	return verdict{StatusCritical, fmt.Sprintf("%d of %d health-checked containers healthy in the scheduler", healthy, len(checked))}
}
