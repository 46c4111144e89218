package agent

import (
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// rootOrSkip skips a test that switches users unless the test runs as
// root, as the agent must to switch.
func rootOrSkip(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("switching the task user needs root")
	}
}

// sharedWorkDir is a work dir other users can traverse (t.TempDir is 0700).
func sharedWorkDir(t *testing.T) func(*Config) {
	return func(c *Config) {
		for _, d := range []string{filepath.Dir(c.WorkDir), c.WorkDir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// runWithUser launches info for testFramework registered as fwUser.
func runWithUser(t *testing.T, a *Agent, fwUser string, info mesos.TaskInfo) {
	t.Helper()
	fw := mesos.FrameworkInfo{ID: &mesos.FrameworkID{Value: testFramework}, User: fwUser, Name: "test"}
	r := cluster.Run{FrameworkID: mesos.FrameworkID{Value: testFramework}, FrameworkInfo: fw, Task: info}
	if code := post(t, a, cluster.PathRun, r); code != http.StatusAccepted {
		t.Fatalf("run answered %d", code)
	}
}

// finishedOutput runs info to TASK_FINISHED and returns its stdout.
func finishedOutput(t *testing.T, m *fakeMaster, a *Agent, fwUser string, info mesos.TaskInfo) string {
	t.Helper()
	runWithUser(t, a, fwUser, info)
	st := m.expectAck(t, a, info.TaskID.Value, mesos.TaskStarting)
	m.expectAck(t, a, info.TaskID.Value, mesos.TaskRunning)
	m.expectAck(t, a, info.TaskID.Value, mesos.TaskFinished)
	sandbox := filepath.Join(a.cfg.WorkDir, "slaves", a.ID(), "frameworks", testFramework, "executors", info.TaskID.Value, "runs", st.ContainerStatus.ContainerID.Value)
	out, err := os.ReadFile(filepath.Join(sandbox, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// ids is what the test tasks print: uid, gid, groups and HOME.
func ids(t *testing.T, name string) string {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("user %s: %v", name, err)
	}
	groups, err := u.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	return "uid=" + u.Uid + " gid=" + u.Gid + " groups=" + strings.Join(groups, ",") + " home=" + u.HomeDir + " wrote=ok\n"
}

// idScript prints the task's ids and HOME and proves it can write its
// sandbox.
const idScript = `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ',') home=$HOME wrote=$(echo x > file && echo ok)"`

func TestTaskRunsAsItsUser(t *testing.T) {
	rootOrSkip(t)
	want := ids(t, "nobody")
	m := newFakeMaster(t)
	a := startAgent(t, m, sharedWorkDir(t))
	for _, tc := range []struct {
		name   string
		fwUser string
		user   string
	}{
		{name: "command user", fwUser: "root", user: "nobody"},
		{name: "framework user", fwUser: "nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := shellTask(strings.ReplaceAll(tc.name, " ", "-"), idScript)
			info.Command.User = tc.user
			if got := finishedOutput(t, m, a, tc.fwUser, info); got != want {
				t.Errorf("task printed %q, want %q", got, want)
			}
		})
	}
}

func TestTaskOfMissingUserFails(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "true")
	info.Command.User = "stadion-no-such-user"
	runWithUser(t, a, "root", info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	st := m.expectAck(t, a, "t1", mesos.TaskFailed)
	if !strings.Contains(st.Message, "'stadion-no-such-user'") || !strings.Contains(st.Message, "no such user") {
		t.Errorf("message = %q, want one naming the missing user", st.Message)
	}
	if st.Reason != mesos.ReasonContainerLaunchFailed {
		t.Errorf("reason = %s, want %s", st.Reason, mesos.ReasonContainerLaunchFailed)
	}
}

func TestSwitchUserDisabled(t *testing.T) {
	self, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.DisableSwitchUser = true })
	for _, tc := range []struct {
		name   string
		fwUser string
		user   string
	}{
		{name: "command user", fwUser: "root", user: "nobody"},
		{name: "missing user", fwUser: "stadion-no-such-user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := shellTask(strings.ReplaceAll(tc.name, " ", "-"), `id -u`)
			info.Command.User = tc.user
			if got := finishedOutput(t, m, a, tc.fwUser, info); got != self.Uid+"\n" {
				t.Errorf("task printed uid %q, want the agent's %s", got, self.Uid)
			}
		})
	}
}

func TestDockerUser(t *testing.T) {
	for _, tc := range []struct {
		name     string
		switchTo string // Spec.User
		cmdUser  string
		param    string
		want     string
	}{
		{name: "command user", switchTo: "nobody", cmdUser: "nobody", want: "nobody"},
		{name: "framework user only: the image's", switchTo: "root", want: ""},
		{name: "switching disabled", cmdUser: "nobody", want: ""},
		{name: "user parameter wins", switchTo: "nobody", cmdUser: "nobody", param: "1000", want: "1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := dockerTask("t1", "busybox")
			info.Command.User = tc.cmdUser
			if tc.param != "" {
				info.Container.Docker.Parameters = []mesos.Parameter{{Key: "user", Value: tc.param}}
			}
			body, _, err := createBody(Spec{Task: info, User: tc.switchTo, ContainerID: "c1", Sandbox: "/sandbox"})
			if err != nil {
				t.Fatal(err)
			}
			if body.User != tc.want {
				t.Errorf("container user = %q, want %q", body.User, tc.want)
			}
		})
	}
}

func TestSecretVariables(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	t.Run("value", func(t *testing.T) {
		info := shellTask("value", `echo "pw=$DB_PASSWORD"`)
		info.Command.Environment = &mesos.Environment{Variables: []mesos.Variable{
			{Name: "DB_PASSWORD", Type: mesos.VariableSecret, Secret: mesos.ValueSecret([]byte("s3cr3t"))},
		}}
		if got := finishedOutput(t, m, a, "root", info); got != "pw=s3cr3t\n" {
			t.Errorf("task printed %q", got)
		}
	})
	t.Run("reference", func(t *testing.T) {
		info := shellTask("reference", "true")
		info.Command.Environment = &mesos.Environment{Variables: []mesos.Variable{
			{Name: "DB_PASSWORD", Type: mesos.VariableSecret, Secret: []byte(`{"type":"REFERENCE","reference":{"name":"/db/pw"}}`)},
		}}
		runWithUser(t, a, "root", info)
		st := m.expectAck(t, a, "reference", mesos.TaskFailed)
		if !strings.Contains(st.Message, "REFERENCE") {
			t.Errorf("message = %q", st.Message)
		}
	})
}

func TestHealthCheckRunsAsTaskUser(t *testing.T) {
	rootOrSkip(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("user nobody: %v", err)
	}
	m := newFakeMaster(t)
	a := startAgent(t, m, sharedWorkDir(t))
	info := shellTask("t1", "sleep 30")
	info.Command.User = "nobody"
	info.HealthCheck = quickCheck(mesos.HealthCheckCommand)
	info.HealthCheck.Command = &mesos.CommandInfo{Value: new(`test "$(id -u)" = ` + nobody.Uid + ` && test "$HOME" = ` + nobody.HomeDir)}
	runWithUser(t, a, "root", info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	expectHealth(t, m, a, "t1", true)
}
