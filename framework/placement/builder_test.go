package placement

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Offer builders.

type offerOpt func(*mesos.Offer)

// offer builds an offer; host sets its hostname, id and agent id.
func offer(opts ...offerOpt) mesos.Offer {
	o := mesos.Offer{}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func host(h string) offerOpt {
	return func(o *mesos.Offer) {
		o.Hostname = h
		o.ID = mesos.OfferID{Value: "o-" + h}
		o.AgentID = mesos.AgentID{Value: "ag-" + h}
	}
}

func attr(name, value string) offerOpt {
	return func(o *mesos.Offer) {
		o.Attributes = append(o.Attributes, mesos.Attribute{Name: name, Type: mesos.ValueText, Text: &mesos.Text{Value: value}})
	}
}

func scalarAttr(name string, v float64) offerOpt {
	return func(o *mesos.Offer) {
		o.Attributes = append(o.Attributes, mesos.Attribute{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}})
	}
}

func domain(region, zone string) offerOpt {
	return func(o *mesos.Offer) {
		o.Domain = []byte(fmt.Sprintf(`{"fault_domain":{"region":{"name":%q},"zone":{"name":%q}}}`, region, zone))
	}
}

// allocated makes the offer, and each of its resources, allocated to role
// (as Mesos offers to a MULTI_ROLE framework); apply it last.
func allocated(role string) offerOpt {
	return func(o *mesos.Offer) {
		o.AllocationInfo = &mesos.AllocationInfo{Role: role}
		for i := range o.Resources {
			o.Resources[i].AllocationInfo = &mesos.AllocationInfo{Role: role}
		}
	}
}

func scalarRes(name, role string, v float64) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}, Role: role}
}

func rangesRes(role string, rs ...mesos.Range) mesos.Resource {
	return mesos.Resource{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: rs}, Role: role}
}

func withRes(r mesos.Resource) offerOpt {
	return func(o *mesos.Offer) { o.Resources = append(o.Resources, r) }
}

func cpus(v float64) offerOpt { return withRes(scalarRes("cpus", "*", v)) }
func mem(v float64) offerOpt  { return withRes(scalarRes("mem", "*", v)) }
func disk(v float64) offerOpt { return withRes(scalarRes("disk", "*", v)) }
func gpus(v float64) offerOpt { return withRes(scalarRes("gpus", "*", v)) }

// ports offers the range begin-end, unreserved.
func ports(begin, end uint64) offerOpt {
	return withRes(rangesRes("*", mesos.Range{Begin: begin, End: end}))
}

// reserved offers r reserved (statically) for role.
func reserved(role string, r mesos.Resource) offerOpt {
	r.Role = role
	return withRes(r)
}

// big is a roomy agent.
func big(h string, more ...offerOpt) mesos.Offer {
	return offer(append([]offerOpt{host(h), cpus(8), mem(8192), disk(1000), ports(31000, 31009)}, more...)...)
}

// App builders.

type appOpt func(*marathon.App)

// app builds an app with 0.5 cpus, 64 MB, host networking and no ports.
func app(opts ...appOpt) marathon.App {
	a := marathon.NewApp("/a")
	a.Cpus, a.Mem = 0.5, 64
	a.Role = "*"
	for _, opt := range opts {
		opt(&a)
	}
	return a
}

func id(s string) appOpt        { return func(a *marathon.App) { a.ID = marathon.PathID(s) } }
func instances(n int) appOpt    { return func(a *marathon.App) { a.Instances = n } }
func role(r string) appOpt      { return func(a *marathon.App) { a.Role = r } }
func needCpus(v float64) appOpt { return func(a *marathon.App) { a.Cpus = v } }
func needMem(v float64) appOpt  { return func(a *marathon.App) { a.Mem = v } }
func needDisk(v float64) appOpt { return func(a *marathon.App) { a.Disk = v } }
func needGpus(n int) appOpt     { return func(a *marathon.App) { a.Gpus = n } }

func accepted(roles ...string) appOpt {
	return func(a *marathon.App) { a.AcceptedResourceRoles = roles }
}

func constraint(field string, op marathon.Operator, value ...string) appOpt {
	return func(a *marathon.App) {
		c := marathon.Constraint{Field: field, Operator: op}
		if len(value) > 0 {
			c.Value = value[0]
		}
		a.Constraints = append(a.Constraints, c)
	}
}

// portDefs gives the app host-networked port definitions.
func portDefs(ports ...int) appOpt {
	return func(a *marathon.App) {
		a.Networks = []marathon.Network{{Mode: marathon.NetworkHost}}
		for _, p := range ports {
			a.PortDefinitions = append(a.PortDefinitions, marathon.PortDefinition{Port: p, Protocol: "tcp"})
		}
	}
}

func requirePorts() appOpt { return func(a *marathon.App) { a.RequirePorts = true } }

// bridge makes the app a BRIDGE docker app; each host port is -1 for none
// (container only), 0 dynamic, N fixed.
func bridge(hostPorts ...int) appOpt {
	return func(a *marathon.App) {
		a.Networks = []marathon.Network{{Mode: marathon.NetworkBridge}}
		a.Container = &marathon.Container{Type: marathon.ContainerDocker, Docker: &marathon.Docker{Image: "img"}}
		for i, hp := range hostPorts {
			m := marathon.PortMapping{ContainerPort: 8080 + i, Protocol: "tcp"}
			if hp >= 0 {
				m.HostPort = &hp
			}
			a.Container.PortMappings = append(a.Container.PortMappings, m)
		}
	}
}

// pending returns one pending entry per instance of each app, ids
// "<app name>.<n>", app by app.
func pending(apps ...marathon.App) []Pending {
	var out []Pending
	for _, a := range apps {
		for i := 1; i <= a.Instances; i++ {
			out = append(out, Pending{Instance: state.Instance{ID: a.ID.Name() + "." + strconv.Itoa(i), AppID: a.ID}, App: a})
		}
	}
	return out
}

// Running instance builders.

type instOpt func(*state.Instance)

var runningSeq int

// running builds a live instance of app on an agent.
func running(appID string, opts ...instOpt) state.Instance {
	runningSeq++
	inst := state.Instance{ID: "r" + strconv.Itoa(runningSeq), AppID: marathon.PathID(appID), State: mesos.TaskRunning}
	for _, opt := range opts {
		opt(&inst)
	}
	return inst
}

func on(h string) instOpt { return func(i *state.Instance) { i.Hostname, i.AgentID = h, "ag-"+h } }

func with(name, value string) instOpt {
	return func(i *state.Instance) {
		if i.Attributes == nil {
			i.Attributes = map[string]string{}
		}
		i.Attributes[name] = value
	}
}

func inState(s mesos.TaskState) instOpt { return func(i *state.Instance) { i.State = s } }

// summary renders a result compactly: "a.1@host" per launch in order,
// "a.3!reason" per unplaced instance, "-o-x" per unused offer.
func summary(r Result) string {
	var parts []string
	for _, l := range r.Launches {
		parts = append(parts, l.InstanceID+"@"+l.Hostname)
	}
	for _, u := range r.Unplaced {
		parts = append(parts, u.InstanceID+"!"+u.Reason)
	}
	for _, o := range r.Unused {
		parts = append(parts, "-"+o.Value)
	}
	return strings.Join(parts, " ")
}
