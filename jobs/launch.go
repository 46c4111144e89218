package jobs

import (
	"encoding/json"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos"
)

// offerPool is what is left of one offer while runs are fitted into it.
type offerPool struct {
	offer mesos.Offer
	// free holds the usable scalar resources: unreserved, or reserved
	// for the framework's role.
	free []mesos.Resource
}

func newOfferPool(o mesos.Offer, role string) *offerPool {
	p := &offerPool{offer: o}
	for _, r := range o.Resources {
		if r.Type != mesos.ValueScalar || r.Scalar == nil || len(r.Revocable) > 0 || len(r.Disk) > 0 || len(r.Reservation) > 0 {
			continue
		}
		rr := resourceRole(r)
		if rr != "*" && rr != role {
			continue
		}
		p.free = append(p.free, r)
	}
	return p
}

// resourceRole is the role a resource is reserved for, "*" when
// unreserved.
func resourceRole(r mesos.Resource) string {
	if len(r.Reservations) > 0 || (r.Role != "" && r.Role != "*") {
		if r.Role != "" {
			return r.Role
		}
		return "reserved"
	}
	return "*"
}

// take removes cpus, mem and disk from the pool and returns the task's
// resources, reserved ones first as Chronos does; ok is false (and the
// pool unchanged) when the offer lacks any of them.
func (p *offerPool) take(cpus, mem, disk float64) ([]mesos.Resource, bool) {
	need := []struct {
		name string
		v    float64
	}{{"cpus", cpus}, {"mem", mem}, {"disk", disk}}
	for _, n := range need {
		if n.v > 0 && p.scalar(n.name) < n.v-1e-9 {
			return nil, false
		}
	}
	var out []mesos.Resource
	for _, n := range need {
		left := n.v
		for _, reservedFirst := range []bool{true, false} {
			for i := range p.free {
				r := &p.free[i]
				if left <= 1e-9 || r.Name != n.name || (resourceRole(*r) != "*") != reservedFirst || r.Scalar.Value <= 0 {
					continue
				}
				v := min(left, r.Scalar.Value)
				r.Scalar = &mesos.Scalar{Value: r.Scalar.Value - v}
				left -= v
				res := mesos.Resource{Name: r.Name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}, Role: r.Role, Reservations: r.Reservations}
				if r.AllocationInfo != nil {
					ai := *r.AllocationInfo
					res.AllocationInfo = &ai
				}
				out = append(out, res)
			}
		}
	}
	return out, true
}

func (p *offerPool) scalar(name string) float64 {
	var v float64
	for _, r := range p.free {
		if r.Name == name {
			v += r.Scalar.Value
		}
	}
	return v
}

// matches reports whether the offer's agent satisfies every constraint
// (M/ConstraintChecker.scala): the agent's hostname is an attribute too;
// EQUALS compares text, LIKE and UNLIKE match a whole regular expression
// against text, scalar and set values, and UNLIKE fails on a missing
// attribute.
func matches(o mesos.Offer, constraints [][]string) bool {
	for _, c := range constraints {
		if !matchOne(o, c[0], c[1], c[2]) {
			return false
		}
	}
	return true
}

func matchOne(o mesos.Offer, attr, op, value string) bool {
	var vals []string
	found := false
	text := false
	if attr == "hostname" {
		vals, found, text = []string{o.Hostname}, true, true
	}
	for _, a := range o.Attributes {
		if a.Name != attr {
			continue
		}
		found = true
		switch {
		case a.Text != nil:
			vals, text = []string{a.Text.Value}, true
		case a.Scalar != nil:
			vals = []string{strconv.FormatFloat(a.Scalar.Value, 'f', -1, 64)}
		case a.Set != nil:
			vals = a.Set.Item
		default:
			return false // ranges match nothing
		}
	}
	switch op {
	case OpEquals:
		return found && text && len(vals) == 1 && vals[0] == value
	case OpLike, OpUnlike:
		if !found {
			return false
		}
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return false
		}
		any := false
		for _, v := range vals {
			any = any || re.MatchString(v)
		}
		if op == OpLike {
			return any
		}
		return !any
	}
	return false
}

// taskArgs is the arguments part of a run's task id and command: the
// manual override, else the job's arguments joined with spaces.
func taskArgs(j *Job, override string) string {
	if override != "" {
		return override
	}
	return strings.Join(j.Arguments, " ")
}

// doubleString prints a resource as Java prints a double: 128.0, 0.1.
func doubleString(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// environment is the task's environment (J/TaskUtils.scala): the job's
// variables, then Chronos's, which win over a job variable of the same
// name.
func environment(j *Job, r Run, hostname string) *mesos.Environment {
	builtin := [][2]string{
		{"mesos_task_id", r.TaskID},
		{"MESOS_TASK_ID", r.TaskID},
		{"CHRONOS_JOB_OWNER", j.Owner},
		{"CHRONOS_JOB_NAME", j.Name},
		{"HOST", hostname},
		{"CHRONOS_RESOURCE_MEM", doubleString(j.Mem)},
		{"CHRONOS_RESOURCE_CPU", doubleString(j.CPUs)},
		{"CHRONOS_RESOURCE_DISK", doubleString(j.Disk)},
		{"CHRONOS_JOB_RUN_TIME", strconv.FormatInt(r.Due.UnixMilli(), 10)},
		{"CHRONOS_JOB_RUN_ATTEMPT", strconv.Itoa(r.Attempt)},
	}
	taken := map[string]bool{}
	for _, b := range builtin {
		taken[b[0]] = true
	}
	env := &mesos.Environment{}
	for _, v := range j.EnvironmentVariables {
		if taken[v.Name] {
			continue
		}
		env.Variables = append(env.Variables, mesos.Variable{Name: v.Name, Value: ptr(v.Value)})
	}
	for _, b := range builtin {
		env.Variables = append(env.Variables, mesos.Variable{Name: b[0], Value: ptr(b[1])})
	}
	return env
}

func ptr[T any](v T) *T { return &v }

// TaskInfo builds the task of run r of job j on offer o
// (M/MesosTaskBuilder.scala), with resources res.
func TaskInfo(j *Job, r Run, o mesos.Offer, res []mesos.Resource) mesos.TaskInfo {
	t := mesos.TaskInfo{
		Name:      "ChronosTask:" + j.Name,
		TaskID:    mesos.TaskID{Value: r.TaskID},
		AgentID:   o.AgentID,
		Resources: res,
	}
	args := taskArgs(j, r.Arguments)
	value := j.Command
	if args != "" {
		value += " " + args
	}
	var uris []mesos.CommandURI
	for _, f := range j.Fetch {
		uris = append(uris, mesos.CommandURI{Value: f.URI, Executable: ptr(f.Executable), Extract: ptr(f.Extract), Cache: ptr(f.Cache), OutputFile: f.OutputFile})
	}
	for _, u := range j.URIs {
		uris = append(uris, mesos.CommandURI{Value: u})
	}
	if strings.HasPrefix(j.Command, "http") || strings.HasPrefix(j.Command, "ftp") {
		uris = append(uris, mesos.CommandURI{Value: j.Command, Executable: ptr(true)})
		value = "./" + path.Base(j.Command)
		if args != "" {
			value += " " + args
		}
	}
	cmd := &mesos.CommandInfo{
		URIs:        uris,
		Environment: environment(j, r, o.Hostname),
		Value:       &value,
		User:        j.RunAsUser,
		Shell:       ptr(j.Shell),
		Arguments:   j.Arguments,
	}
	if j.MaxCompletionTime > 0 {
		t.MaxCompletionTime = &mesos.DurationInfo{Nanoseconds: j.MaxCompletionTime * 1e9}
	}
	if j.Executor != "" {
		return withExecutor(t, j, cmd)
	}
	t.Container = containerInfo(j.Container)
	t.Command = cmd
	return t
}

// executorInfo is mesos.v1.ExecutorInfo as a custom executor job sends it.
type executorInfo struct {
	ExecutorID  mesos.ExecutorID     `json:"executor_id"`
	FrameworkID *mesos.FrameworkID   `json:"framework_id,omitempty"`
	Command     *mesos.CommandInfo   `json:"command"`
	Container   *mesos.ContainerInfo `json:"container,omitempty"`
	Name        string               `json:"name,omitempty"`
}

// withExecutor makes t run through the job's custom executor, as
// Chronos's MesosTaskBuilder: the executor id is the job's name, its
// command the executor with the task's environment, URIs and user, and
// the task's data taskInfoData, else "<executorFlags>|<command>".
func withExecutor(t mesos.TaskInfo, j *Job, cmd *mesos.CommandInfo) mesos.TaskInfo {
	ecmd := *cmd
	ecmd.Value = ptr(j.Executor)
	ecmd.Shell, ecmd.Arguments = nil, nil
	b, _ := json.Marshal(executorInfo{ExecutorID: mesos.ExecutorID{Value: j.Name}, Command: &ecmd, Container: containerInfo(j.Container), Name: "ChronosExecutor:" + j.Name})
	t.Executor = b
	if j.TaskInfoData != "" {
		t.Data = []byte(j.TaskInfoData)
	} else {
		t.Data = []byte(j.ExecutorFlags + "|" + *cmd.Value)
	}
	return t
}

// containerInfo is the job's container as Mesos's ContainerInfo.
func containerInfo(c *Container) *mesos.ContainerInfo {
	if c == nil {
		return nil
	}
	ci := &mesos.ContainerInfo{Type: mesos.ContainerType(c.Type)}
	for _, v := range c.Volumes {
		ci.Volumes = append(ci.Volumes, mesos.Volume{ContainerPath: v.ContainerPath, HostPath: v.HostPath, Mode: v.Mode})
	}
	for _, n := range c.NetworkInfos {
		ni := mesos.NetworkInfo{Name: n.Name}
		if len(n.Labels) > 0 {
			ni.Labels = &mesos.Labels{}
			for _, l := range n.Labels {
				ni.Labels.Labels = append(ni.Labels.Labels, mesos.Label{Key: l.Key, Value: l.Value})
			}
		}
		ci.NetworkInfos = append(ci.NetworkInfos, ni)
	}
	if c.NetworkName != "" {
		ci.NetworkInfos = append(ci.NetworkInfos, mesos.NetworkInfo{Name: c.NetworkName})
	}
	if c.Type == ContainerMesos {
		type docker struct {
			Name string `json:"name"`
		}
		type image struct {
			Type   string `json:"type"`
			Docker docker `json:"docker"`
			Cached bool   `json:"cached"`
		}
		ci.Mesos, _ = json.Marshal(struct {
			Image image `json:"image"`
		}{image{Type: "DOCKER", Docker: docker{Name: c.Image}, Cached: !c.ForcePullImage}})
		return ci
	}
	d := &mesos.DockerInfo{Image: c.Image, Network: mesos.DockerNetwork(c.Network), ForcePullImage: ptr(c.ForcePullImage)}
	for _, p := range c.Parameters {
		d.Parameters = append(d.Parameters, mesos.Parameter{Key: p.Key, Value: p.Value})
	}
	ci.Docker = d
	return ci
}
