package taskinfo

import (
	"fmt"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// healthCheck converts the app's first agent-side health check (COMMAND,
// MESOS_HTTP, MESOS_HTTPS, MESOS_TCP) into the task's Mesos health check;
// nil when it has none. Durations and maxConsecutiveFailures carry over as
// they are: for Mesos checks 0 consecutive failures means the task is
// killed on the first failure after the grace period (Marathon's
// health-checks.md).
func healthCheck(app *marathon.App, hostPorts []uint32) (*mesos.HealthCheck, error) {
	for i := range app.HealthChecks {
		hc := &app.HealthChecks[i]
		if !hc.Protocol.IsMesos() {
			continue
		}
		out := healthTimes(hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds, hc.MaxConsecutiveFailures, hc.GracePeriodSeconds)
		switch hc.Protocol {
		case marathon.ProtocolCommand:
			if hc.Command == nil || hc.Command.Value == "" {
				return nil, fmt.Errorf("%w: COMMAND health check of %s without a command", ErrInvalid, app.ID)
			}
			out.Type = mesos.HealthCheckCommand
			out.Command = &mesos.CommandInfo{Value: ptr(hc.Command.Value)}
			return out, nil
		}
		port, err := checkPort(app, hc, hostPorts)
		if err != nil {
			return nil, err
		}
		if hc.Protocol == marathon.ProtocolMesosTCP {
			out.Type = mesos.HealthCheckTCP
			out.TCP = &mesos.TCPCheckInfo{Port: port, Protocol: ipProtocol(hc.IPProtocol)}
			return out, nil
		}
		scheme := "http"
		if hc.Protocol == marathon.ProtocolMesosHTTPS {
			scheme = "https"
		}
		out.Type = mesos.HealthCheckHTTP
		out.HTTP = &mesos.HTTPCheckInfo{Scheme: scheme, Port: port, Path: hc.Path, Protocol: ipProtocol(hc.IPProtocol)}
		return out, nil
	}
	return nil, nil
}

// healthTimes is a Mesos health check with Marathon's durations (in
// seconds) and failure count, which carry over as they are.
func healthTimes(delay, interval, timeout, failures, grace int) *mesos.HealthCheck {
	return &mesos.HealthCheck{
		DelaySeconds:        ptr(float64(delay)),
		IntervalSeconds:     ptr(float64(interval)),
		TimeoutSeconds:      ptr(float64(timeout)),
		ConsecutiveFailures: ptr(uint32(max(failures, 0))),
		GracePeriodSeconds:  ptr(float64(grace)),
	}
}

// checkPort is the port a Mesos check probes, inside the task's network
// namespace: the check's fixed port, else by portIndex the mapping's
// container port for container networking (its host port when the
// container port is 0) and the host port for host networking, as
// Marathon's MesosHealthCheckWithPorts.effectivePort computes it.
func checkPort(app *marathon.App, hc *marathon.HealthCheck, hostPorts []uint32) (uint32, error) {
	if hc.Port != nil {
		return uint32(*hc.Port), nil
	}
	if hc.PortIndex == nil {
		return 0, fmt.Errorf("%w: %s health check of %s has neither port nor portIndex", ErrInvalid, hc.Protocol, app.ID)
	}
	idx := *hc.PortIndex
	if idx < 0 || idx >= len(hostPorts) {
		return 0, fmt.Errorf("%w: %s health check of %s: portIndex %d out of range (%d ports)", ErrInvalid, hc.Protocol, app.ID, idx, len(hostPorts))
	}
	if m := app.PortMappingsInUse(); idx < len(m) && m[idx].ContainerPort != 0 {
		return uint32(m[idx].ContainerPort), nil
	}
	if hostPorts[idx] == 0 {
		return 0, fmt.Errorf("%w: %s health check of %s: port %d has no port number", ErrInvalid, hc.Protocol, app.ID, idx)
	}
	return hostPorts[idx], nil
}

// ipProtocol is the Mesos protocol of a check: unset for IPv4, the Mesos
// default.
func ipProtocol(p marathon.IPProtocol) string {
	if p == marathon.IPv6 {
		return "IPv6"
	}
	return ""
}
