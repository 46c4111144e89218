package registrator

import (
	"fmt"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Builders of snapshots for the table tests: snapshot(app(id("/web"),
// portDefs(10000), tasks(task("t1", "h1", 31000)))).

type appOpt func(*marathon.AppInfo)

func app(opts ...appOpt) marathon.AppInfo {
	a := marathon.AppInfo{App: marathon.NewApp("/app")}
	a.PortDefinitions = []marathon.PortDefinition{}
	for _, o := range opts {
		o(&a)
	}
	return a
}

func id(s string) appOpt { return func(a *marathon.AppInfo) { a.ID = marathon.PathID(s) } }

func env(kv ...string) appOpt {
	return func(a *marathon.AppInfo) {
		a.Env = map[string]marathon.EnvVar{}
		for i := 0; i+1 < len(kv); i += 2 {
			a.Env[kv[i]] = marathon.EnvVar{Value: kv[i+1]}
		}
	}
}

func labels(kv ...string) appOpt {
	return func(a *marathon.AppInfo) {
		a.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			a.Labels[kv[i]] = kv[i+1]
		}
	}
}

// portDefs gives a host-networked app port definitions with these (service)
// ports.
func portDefs(ports ...int) appOpt {
	return func(a *marathon.AppInfo) {
		a.PortDefinitions = nil
		for _, p := range ports {
			a.PortDefinitions = append(a.PortDefinitions, marathon.PortDefinition{Port: p, Protocol: "tcp"})
		}
	}
}

// udp makes port i of the app UDP.
func udp(i int) appOpt {
	return func(a *marathon.AppInfo) {
		if a.Container != nil && len(a.Container.PortMappings) > i {
			a.Container.PortMappings[i].Protocol = "udp"
			return
		}
		a.PortDefinitions[i].Protocol = "udp"
	}
}

// bridge makes the app a docker app on the bridge network with mappings
// of these container ports (dynamic host ports).
func bridge(containerPorts ...int) appOpt {
	return func(a *marathon.AppInfo) {
		a.Networks = []marathon.Network{{Mode: marathon.NetworkBridge}}
		a.PortDefinitions = nil
		a.Container = &marathon.Container{Type: marathon.ContainerDocker, Docker: &marathon.Docker{Image: "test-server"}}
		for _, p := range containerPorts {
			zero := 0
			a.Container.PortMappings = append(a.Container.PortMappings, marathon.PortMapping{ContainerPort: p, HostPort: &zero, Protocol: "tcp"})
		}
	}
}

// containerNet makes the app a docker app on a named container network:
// the mappings given as "3000" have no host port, "3000:0" have one.
func containerNet(mappings ...string) appOpt {
	return func(a *marathon.AppInfo) {
		a.Networks = []marathon.Network{{Mode: marathon.NetworkContainer, Name: "overlay"}}
		a.PortDefinitions = nil
		a.Container = &marathon.Container{Type: marathon.ContainerDocker, Docker: &marathon.Docker{Image: "test-server"}}
		for _, m := range mappings {
			cp, hp, withHost := strings.Cut(m, ":")
			pm := marathon.PortMapping{Protocol: "tcp"}
			fmt.Sscan(cp, &pm.ContainerPort)
			if withHost {
				h := 0
				fmt.Sscan(hp, &h)
				pm.HostPort = &h
			}
			a.Container.PortMappings = append(a.Container.PortMappings, pm)
		}
	}
}

func checks(hcs ...marathon.HealthCheck) appOpt {
	return func(a *marathon.AppInfo) { a.HealthChecks = hcs }
}

func tasks(ts ...marathon.Task) appOpt {
	return func(a *marathon.AppInfo) {
		for _, t := range ts {
			t.AppID = a.ID
			a.Tasks = append(a.Tasks, t)
		}
	}
}

// healthCheck returns a check of protocol p on port index i with path
// (HTTP ones), interval 5s and timeout 2s.
func healthCheck(p marathon.HealthCheckProtocol, i int, path string) marathon.HealthCheck {
	hc := marathon.NewHealthCheck(p)
	hc.PortIndex = &i
	hc.Path = path
	hc.IntervalSeconds, hc.TimeoutSeconds = 5, 2
	return hc
}

func commandCheck() marathon.HealthCheck {
	hc := marathon.NewHealthCheck(marathon.ProtocolCommand)
	hc.Command = &marathon.CommandCheck{Value: "true"}
	return hc
}

type taskOpt func(*marathon.Task)

// task returns a running task of host with these host ports, version v1.
func task(id, host string, ports ...uint32) marathon.Task {
	return marathon.Task{ID: id, Host: host, Ports: ports, State: marathon.TaskRunning, Version: v1, StagedAt: v1, StartedAt: v1}
}

var v1 = marathon.NewTimestamp(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

func with(t marathon.Task, opts ...taskOpt) marathon.Task {
	for _, o := range opts {
		o(&t)
	}
	return t
}

func state(s marathon.TaskState) taskOpt { return func(t *marathon.Task) { t.State = s } }

func ip(addr string) taskOpt {
	return func(t *marathon.Task) {
		t.IPAddresses = append(t.IPAddresses, marathon.IPAddr{IPAddress: addr, Protocol: marathon.IPv4})
	}
}

// results gives the task one health result per value, alive or not; a
// failing one has the cause "503".
func results(alive ...bool) taskOpt {
	return func(t *marathon.Task) {
		for _, a := range alive {
			r := marathon.HealthCheckResult{Alive: a}
			if !a {
				cause := "503"
				r.LastFailureCause = &cause
			}
			t.HealthCheckResults = append(t.HealthCheckResults, r)
		}
	}
}

// snapshot normalises the apps, as DecodeSnapshot does.
func snapshot(apps ...marathon.AppInfo) Snapshot {
	snap := Snapshot{}
	for _, a := range apps {
		a.App, _ = marathon.Normalize(a.App, marathon.NormalizeOptions{})
		snap.Apps = append(snap.Apps, a)
	}
	return snap
}

// agentOpts are the options of a registrator on host h1.
func agentOpts() Options {
	return Options{Owner: "stadion", Mode: ModeAgent, Hosts: []string{"h1"}, Health: HealthChecks, TTL: time.Minute, Address: AddressHost}
}

func catalogOpts() Options {
	o := agentOpts()
	o.Mode, o.Hosts = ModeCatalog, nil
	return o
}

func ttlOpts() Options {
	o := agentOpts()
	o.Health = HealthTTL
	return o
}

func ipOpts() Options {
	o := agentOpts()
	o.Address = AddressIP
	return o
}
