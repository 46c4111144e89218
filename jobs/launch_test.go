package jobs

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
)

func TestTaskInfo(t *testing.T) {
	o := mesos.Offer{ID: mesos.OfferID{Value: "o"}, AgentID: mesos.AgentID{Value: "ag"}, Hostname: "h1"}
	r := Run{TaskID: "ct:1:0:j:x", Job: "j"}
	tests := []struct {
		name  string
		body  string
		args  string
		check func(t *testing.T, ti mesos.TaskInfo)
	}{
		{name: "command with arguments appended", body: `{"name":"j","command":"echo","arguments":["a","b"]}`, check: func(t *testing.T, ti mesos.TaskInfo) {
			if *ti.Command.Value != "echo a b" || !*ti.Command.Shell || ti.Name != "ChronosTask:j" || ti.Command.User != "root" {
				t.Errorf("command %+v name %q", ti.Command, ti.Name)
			}
		}},
		{name: "manual arguments override", body: `{"name":"j","command":"echo","arguments":["a"]}`, args: "z", check: func(t *testing.T, ti mesos.TaskInfo) {
			if *ti.Command.Value != "echo z" {
				t.Errorf("value %q", *ti.Command.Value)
			}
		}},
		{name: "http command fetched", body: `{"name":"j","command":"http://x/run.sh"}`, check: func(t *testing.T, ti mesos.TaskInfo) {
			if *ti.Command.Value != "./run.sh" || len(ti.Command.URIs) != 1 || !*ti.Command.URIs[0].Executable {
				t.Errorf("command %+v", ti.Command)
			}
		}},
		{name: "docker container", body: `{"name":"j","command":"true","container":{"image":"busybox","network":"BRIDGE","forcePullImage":true,"parameters":[{"key":"memory-swap","value":"1g"}]}}`, check: func(t *testing.T, ti mesos.TaskInfo) {
			c := ti.Container
			if c == nil || c.Type != "DOCKER" || c.Docker.Image != "busybox" || c.Docker.Network != "BRIDGE" || !*c.Docker.ForcePullImage || len(c.Docker.Parameters) != 1 {
				t.Errorf("container %+v", c)
			}
		}},
		{name: "mesos container", body: `{"name":"j","command":"true","container":{"type":"mesos","image":"busybox"}}`, check: func(t *testing.T, ti mesos.TaskInfo) {
			if ti.Container == nil || ti.Container.Type != "MESOS" || string(ti.Container.Mesos) != `{"image":{"type":"DOCKER","docker":{"name":"busybox"},"cached":true}}` {
				t.Errorf("container %+v %s", ti.Container, ti.Container.Mesos)
			}
		}},
		{name: "custom executor", body: `{"name":"j","command":"work","executor":"/bin/exec","executorFlags":"-v"}`, check: func(t *testing.T, ti mesos.TaskInfo) {
			var ei struct {
				ExecutorID struct{ Value string } `json:"executor_id"`
				Command    struct{ Value string }
			}
			if err := json.Unmarshal(ti.Executor, &ei); err != nil || ei.ExecutorID.Value != "j" || ei.Command.Value != "/bin/exec" || ti.Command != nil || string(ti.Data) != "-v|work" {
				t.Errorf("executor %s data %q command %+v", ti.Executor, ti.Data, ti.Command)
			}
		}},
		{name: "resources and max completion time", body: `{"name":"j","command":"true","cpus":0.5,"mem":64,"disk":10,"maxCompletionTime":30}`, check: func(t *testing.T, ti mesos.TaskInfo) {
			if ti.MaxCompletionTime == nil || ti.MaxCompletionTime.Nanoseconds != 30e9 || len(ti.Resources) != 3 {
				t.Errorf("task %+v", ti)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Decode([]byte(tc.body), DefaultDefaults)
			if err != nil {
				t.Fatal(err)
			}
			run := r
			run.Arguments = tc.args
			pool := newOfferPool(mesos.Offer{Resources: []mesos.Resource{
				{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 4}},
				{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 4096}},
				{Name: "disk", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 4096}},
			}}, "*")
			res, ok := pool.take(j.CPUs, j.Mem, j.Disk)
			if !ok {
				t.Fatal("offer too small")
			}
			tc.check(t, TaskInfo(j, run, o, res))
		})
	}
}

func TestOfferFit(t *testing.T) {
	scalar := func(name string, v float64, role string) mesos.Resource {
		return mesos.Resource{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}, Role: role}
	}
	pool := newOfferPool(mesos.Offer{Resources: []mesos.Resource{
		scalar("cpus", 1, "*"), scalar("cpus", 0.5, "jobs"), scalar("cpus", 8, "other"), scalar("mem", 100, "*"), scalar("disk", 100, "*"),
	}}, "jobs")
	res, ok := pool.take(1.2, 50, 10)
	if !ok {
		t.Fatal("1.2 cpus of 1.5 usable did not fit")
	}
	if res[0].Role != "jobs" || res[0].Scalar.Value != 0.5 {
		t.Errorf("reserved cpus not taken first: %+v", res)
	}
	if _, ok := pool.take(0.5, 10, 10); ok {
		t.Error("took cpus reserved for another role")
	}
	if _, ok := pool.take(0.2, 60, 10); ok {
		t.Error("took more mem than is left")
	}
}

func TestConstraints(t *testing.T) {
	o := mesos.Offer{Hostname: "agent-7", Attributes: []mesos.Attribute{
		{Name: "rack", Type: mesos.ValueText, Text: &mesos.Text{Value: "rack-2"}},
		{Name: "level", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 3}},
	}}
	tests := []struct {
		name string
		c    []string
		want bool
	}{
		{name: "equals text", c: []string{"rack", OpEquals, "rack-2"}, want: true},
		{name: "equals other", c: []string{"rack", OpEquals, "rack-3"}, want: false},
		{name: "equals scalar never", c: []string{"level", OpEquals, "3"}, want: false},
		{name: "like whole match", c: []string{"rack", OpLike, "rack-[1-3]"}, want: true},
		{name: "like partial is no match", c: []string{"rack", OpLike, "rack"}, want: false},
		{name: "like scalar", c: []string{"level", OpLike, "[0-9]"}, want: true},
		{name: "hostname", c: []string{"hostname", OpLike, "agent-.*"}, want: true},
		{name: "unlike", c: []string{"rack", OpUnlike, "rack-1"}, want: true},
		{name: "unlike missing fails", c: []string{"zone", OpUnlike, "x"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(o, [][]string{tc.c}); got != tc.want {
				t.Errorf("%s: %v, want %v", strings.Join(tc.c, " "), got, tc.want)
			}
		})
	}
}
