package taskinfo

import (
	"github.com/stadionhq/stadion/framework/placement"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

type appOpt func(*marathon.App)

// app builds /prod/web: 0.5 cpus, 64 MB, cmd "serve", host networking,
// no ports, version 2015-09-17T09:32:36.583Z.
func app(opts ...appOpt) marathon.App {
	a := marathon.NewApp("/prod/web")
	a.Cpus, a.Mem, a.Cmd, a.Role = 0.5, 64, "serve", "*"
	a.Networks = []marathon.Network{{Mode: marathon.NetworkHost}}
	v, _ := marathon.ParseTimestamp("2015-09-17T09:32:36.583Z")
	a.Version = v
	for _, opt := range opts {
		opt(&a)
	}
	return a
}

func cmd(c string) appOpt      { return func(a *marathon.App) { a.Cmd = c } }
func args(v ...string) appOpt  { return func(a *marathon.App) { a.Cmd, a.Args = "", v } }
func user(u string) appOpt     { return func(a *marathon.App) { a.User = u } }
func label(k, v string) appOpt { return func(a *marathon.App) { setMap(&a.Labels, k, v) } }
func killGrace(s int) appOpt   { return func(a *marathon.App) { a.TaskKillGracePeriodSeconds = &s } }
func executor(e string) appOpt { return func(a *marathon.App) { a.Executor = e } }
func fetch(f marathon.Artifact) appOpt {
	return func(a *marathon.App) { a.Fetch = append(a.Fetch, f) }
}

func env(k, v string) appOpt {
	return func(a *marathon.App) {
		if a.Env == nil {
			a.Env = map[string]marathon.EnvVar{}
		}
		a.Env[k] = marathon.EnvVar{Value: v}
	}
}

func secretEnv(k, name string) appOpt {
	return func(a *marathon.App) {
		if a.Env == nil {
			a.Env = map[string]marathon.EnvVar{}
		}
		a.Env[k] = marathon.EnvVar{Secret: name}
	}
}

func setMap(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// portDef adds a host port definition.
func portDef(port int, protocol, name string, labels map[string]string) appOpt {
	return func(a *marathon.App) {
		a.PortDefinitions = append(a.PortDefinitions, marathon.PortDefinition{Port: port, Protocol: protocol, Name: name, Labels: labels})
	}
}

// docker makes the app a DOCKER container of image on the given network
// mode ("host", "container/bridge", "container" with name "overlay").
func docker(image string, mode marathon.NetworkMode) appOpt {
	return func(a *marathon.App) {
		a.Container = &marathon.Container{Type: marathon.ContainerDocker, Docker: &marathon.Docker{Image: image}}
		a.Networks = []marathon.Network{{Mode: mode}}
		if mode == marathon.NetworkContainer {
			a.Networks[0].Name = "overlay"
		}
		if mode != marathon.NetworkHost {
			a.PortDefinitions = nil
		}
	}
}

// mesosContainer makes the app a MESOS container (image may be "").
func mesosContainer(image string, mode marathon.NetworkMode) appOpt {
	return func(a *marathon.App) {
		docker(image, mode)(a)
		a.Container.Type = marathon.ContainerMesos
		if image == "" {
			a.Container.Docker = nil
		}
	}
}

func dockerOpts(f func(*marathon.Docker)) appOpt {
	return func(a *marathon.App) { f(a.Container.Docker) }
}

func volume(v marathon.Volume) appOpt {
	return func(a *marathon.App) { a.Container.Volumes = append(a.Container.Volumes, v) }
}

// mapping adds a container port mapping; hostPort -1 is none.
func mapping(containerPort, hostPort int, protocol, name string, labels map[string]string) appOpt {
	return func(a *marathon.App) {
		m := marathon.PortMapping{ContainerPort: containerPort, Protocol: protocol, Name: name, Labels: labels}
		if hostPort >= 0 {
			m.HostPort = &hostPort
		}
		a.Container.PortMappings = append(a.Container.PortMappings, m)
	}
}

func check(hc marathon.HealthCheck) appOpt {
	return func(a *marathon.App) { a.HealthChecks = append(a.HealthChecks, hc) }
}

// hcheck is a check of protocol p on portIndex idx (-1: none) with
// Marathon's defaults.
func hcheck(p marathon.HealthCheckProtocol, idx int, more ...func(*marathon.HealthCheck)) marathon.HealthCheck {
	hc := marathon.NewHealthCheck(p)
	if idx >= 0 {
		hc.PortIndex = &idx
	}
	for _, m := range more {
		m(&hc)
	}
	return hc
}

// input is the Build input for a on agent "agent-1" with host ports.
func input(a marathon.App, hostPorts ...uint32) Input {
	return Input{
		App:      a,
		Instance: state.Instance{ID: "prod_web.instance-1", AppID: a.ID, TaskID: "prod_web.instance-1._app.1"},
		Launch: placement.Launch{
			OfferID: mesos.OfferID{Value: "O1"}, AgentID: mesos.AgentID{Value: "S1"}, Hostname: "agent-1",
			InstanceID: "prod_web.instance-1", AppID: a.ID, Resources: []mesos.Resource{cpusRes}, HostPorts: hostPorts,
		},
	}
}

var cpusRes = mesos.Resource{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.5}, Role: "*"}

func ports(ps ...mesos.Port) *mesos.Ports { return &mesos.Ports{Ports: ps} }

func mlabels(kv ...string) *mesos.Labels {
	ls := &mesos.Labels{}
	for i := 0; i < len(kv); i += 2 {
		ls.Labels = append(ls.Labels, mesos.Label{Key: kv[i], Value: kv[i+1]})
	}
	return ls
}
