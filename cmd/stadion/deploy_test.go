package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
)

// workerTemplate is a service template of a command task whose COMMAND
// health check runs health: "true" passes, "exit 1" never does.
func workerTemplate(health string) string {
	return fmt.Sprintf(`{
  "id": "/cli-test/$environment/worker",
  "labels": {"version": "$tag", "environment": "$environment"},
  "cmd": "sleep 600",
  "cpus": 0.1, "mem": 16,
  "instances": $instances,
  "portDefinitions": [],
  "healthChecks": [{"protocol": "COMMAND", "command": {"value": %q},
    "gracePeriodSeconds": 1, "intervalSeconds": 1, "timeoutSeconds": 5, "maxConsecutiveFailures": 3, "delaySeconds": 0}],
  "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
}
`, health)
}

// stadion runs `stadion args...` in this process and returns its exit
// code, stdout and stderr.
func stadion(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	t.Logf("stadion %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

// noMarathon clears the environment variables that name a Marathon.
func noMarathon(t *testing.T) {
	t.Setenv("MARATHON_URL", "")
	t.Setenv("MESOS_ZK", "")
}

func TestDeployHelp(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		contains []string
	}{
		{name: "listed", args: []string{"--help"}, contains: []string{"deploy ", "roll back"}},
		{name: "deploy", args: []string{"deploy", "--help"}, contains: []string{
			"Usage: stadion deploy [flags] <service-template-url> <environment> [instances]",
			"-marathon", "MARATHON_URL", "-zk", "MESOS_ZK", "/etc/mesos/zk", "-tag", "-wait", "-timeout", "-rollback",
			"-rollback-timeout", "-force", "-queue", "-dry-run", "-framework-name",
			"Exit codes:", "3  the deployment failed or timed out and was rolled back", "4  the deployment failed and the rollback failed too", "5  the deployment failed and was not rolled back",
		}},
		{name: "gen", args: []string{"deploy", "gen", "--help"}, contains: []string{
			"Usage: stadion deploy gen [flags] [target-dir...]", "-branch", "CI_BRANCH", "-commit", "CI_COMMIT", "-build-number",
			"CI_BUILD_NUMBER", "-out", "-tag", "service-<branch>.json",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &out); code != exitOK {
				t.Errorf("exit code %d, want %d; output:\n%s", code, exitOK, out.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func TestDeployUsageErrors(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "service.json")
	if err := os.WriteFile(tmpl, []byte(workerTemplate("true")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{name: "no arguments", args: []string{"deploy"}, code: exitUsage, stderr: "want <service-template-url> <environment> [instances]"},
		{name: "no environment", args: []string{"deploy", tmpl}, code: exitUsage, stderr: "want <service-template-url>"},
		{name: "extra arguments warned, not refused", args: []string{"deploy", "--tag", "v1", tmpl, "staging", "1", "2", "three"}, code: exitUsage,
			stderr: `warning: ignoring extra arguments ["2" "three"]`},
		{name: "bad instances", args: []string{"deploy", tmpl, "staging", "two"}, code: exitUsage, stderr: `instances "two"`},
		{name: "negative instances", args: []string{"deploy", tmpl, "staging", "-1"}, code: exitUsage, stderr: "flag provided but not defined: -1"},
		{name: "bad flag", args: []string{"deploy", "--frobnicate", tmpl, "staging"}, code: exitUsage, stderr: "frobnicate"},
		{name: "bad environment value", args: []string{"deploy", tmpl, "staging"}, env: map[string]string{"STADION_DEPLOY_TIMEOUT": "soon"},
			code: exitUsage, stderr: `STADION_DEPLOY_TIMEOUT="soon"`},
		{name: "bad log level", args: []string{"deploy", "--log-level", "loud", tmpl, "staging"}, code: exitUsage, stderr: `--log-level "loud"`},
		{name: "no marathon", args: []string{"deploy", "--tag", "v1", tmpl, "staging"}, code: exitUsage, stderr: "no Marathon: give --marathon"},
		{name: "bad marathon URL", args: []string{"deploy", "--tag", "v1", "--marathon", "marathon:8080", tmpl, "staging"}, code: exitUsage, stderr: "want http(s)://host:port"},
		{name: "gen without CI variables", args: []string{"deploy", "gen"}, code: exitUsage, stderr: "branch (CI_BRANCH), commit (CI_COMMIT), build number (CI_BUILD_NUMBER) required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noMarathon(t)
			for _, k := range []string{"CI_BRANCH", "CI_COMMIT", "CI_BUILD_NUMBER"} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := stadion(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestDeployTemplateErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		tmpl   string
		args   []string
		stderr []string
	}{
		{name: "missing comma", tmpl: "{\n  \"id\": \"/web\"\n  \"cmd\": \"sleep 1\"\n}\n",
			stderr: []string{"service.json: Invalid JSON", "service.json:3:3: invalid character"}},
		{name: "unquoted placeholder", tmpl: "{\n  \"id\": \"/web\",\n  \"cmd\": \"sleep 1\",\n  \"mem\": $memory\n}\n",
			stderr: []string{"service.json:4:10: invalid character '$' looking for beginning of value (placeholder $memory is not rendered)"}},
		{name: "tag without a value", tmpl: workerTemplate("true"),
			stderr: []string{"service.json: Unrendered placeholders", "service.json:3:26: placeholder $tag has no value", "give $tag a value with --tag"}},
		{name: "invalid value", tmpl: "{\n  \"id\": \"/web\",\n  \"cmd\": \"sleep 1\",\n  \"instances\": $instances,\n  \"cpus\": -1\n}\n",
			stderr: []string{"service.json: Object is not valid", "service.json:5:11: /cpus: is less than 0.001"}},
		{name: "wrong type", tmpl: "{\n  \"id\": \"/web\",\n  \"cmd\": [\"sleep\", \"1\"]\n}\n",
			stderr: []string{"service.json: Invalid JSON", "service.json:3:10: /cmd: error.expected.jsstring"}},
		{name: "missing file", args: []string{"deploy", filepath.Join(dir, "nope.json"), "staging"}, stderr: []string{"no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noMarathon(t)
			path := filepath.Join(t.TempDir(), "service.json")
			if err := os.WriteFile(path, []byte(tc.tmpl), 0o644); err != nil {
				t.Fatal(err)
			}
			args := tc.args
			if args == nil {
				args = []string{"deploy", path, "staging", "2"}
			}
			code, _, stderr := stadion(t, args...)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, strings.ReplaceAll(s, "service.json", path)) {
					t.Errorf("stderr lacks %q", strings.ReplaceAll(s, "service.json", path))
				}
			}
		})
	}
}

func TestDeployGen(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, target := range []string{"api", "web"} {
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(target, "service.json"), []byte(workerTemplate("true")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("CI_BRANCH", "master")
	t.Setenv("CI_COMMIT", "ef5a154")
	t.Setenv("CI_BUILD_NUMBER", "55")
	// The flag wins over the environment.
	code, stdout, _ := stadion(t, "deploy", "gen", "--build-number", "56", "api", "web")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	want := strings.ReplaceAll(workerTemplate("true"), "$tag", "master-ef5a154-56")
	for _, p := range []string{"service-defs/api/service-master.json", "service-defs/api/service-master-ef5a154-56.json",
		"service-defs/web/service-master.json", "service-defs/web/service-master-ef5a154-56.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if string(b) != want {
			t.Errorf("%s:\n%s\nwant\n%s", p, b, want)
		}
		if !strings.Contains(stdout, "wrote "+p) {
			t.Errorf("stdout does not name %s", p)
		}
	}
	if !strings.Contains(want, `"instances": $instances`) || !strings.Contains(want, "/cli-test/$environment/worker") {
		t.Errorf("gen rendered more than $tag:\n%s", want)
	}
}

// startServe runs stadion serve with the built-in cluster in this process.
func startServe(t *testing.T) string {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Master:                     server.MasterLocal,
		HTTPAddress:                "127.0.0.1",
		Hostname:                   "127.0.0.1",
		FrameworkName:              "marathon",
		DataDir:                    t.TempDir(),
		LocalContainerizers:        []string{"mesos"},
		LocalAgents:                1,
		LocalAgentResources:        "cpus:4;mem:2048;disk:1024",
		LocalAllocationInterval:    50 * time.Millisecond,
		ReconciliationInitialDelay: time.Second,
		KillRetry:                  2 * time.Second,
		MesosMinBackoff:            50 * time.Millisecond,
		MesosMaxBackoff:            500 * time.Millisecond,
		Logger:                     newLogger(&prefixLog{t: t, prefix: "serve: "}, slog.LevelWarn),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Cleanup(func() { removeApps(t, srv.URL()) })
	return srv.URL()
}

// removeApps deletes every app and waits until no task is left, so that
// no task outlives the test.
func removeApps(t *testing.T, marathon string) {
	var list struct {
		Apps []struct {
			ID string `json:"id"`
		} `json:"apps"`
	}
	getJSON(t, marathon+"/v2/apps", &list)
	for _, a := range list.Apps {
		req, _ := http.NewRequest(http.MethodDelete, marathon+"/v2/apps"+a.ID+"?force=true", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var tasks struct {
			Tasks []struct{} `json:"tasks"`
		}
		getJSON(t, marathon+"/v2/tasks", &tasks)
		if len(tasks.Tasks) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d tasks left after deleting every app", len(tasks.Tasks))
			return
		}
		time.Sleep(100 * time.Millisecond) // poll until the deadline
	}
}

// TestDeployCommand is the article's pipeline on the built-in cluster:
// gen writes the definitions, deploy puts one live from HTTP, another
// through the 409 path from a file, shows a dry run, and rolls back a
// version that never turns healthy with exit code 3.
func TestDeployCommand(t *testing.T) {
	marathon := startServe(t)
	noMarathon(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("service.json", []byte(workerTemplate("true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := stadion(t, "deploy", "gen", "--branch", "master", "--commit", "ef5a154", "--build-number", "56"); code != exitOK {
		t.Fatalf("gen: exit %d", code)
	}
	// CI publishes the definitions; here an HTTP server does.
	web := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "service-defs"))))
	t.Cleanup(web.Close)
	const poll = "--poll=100ms"

	// Create from HTTP, Marathon from the environment.
	t.Setenv("MARATHON_URL", marathon)
	code, stdout, _ := stadion(t, "deploy", poll, web.URL+"/service-master.json", "staging", "2")
	if code != exitOK {
		t.Fatalf("create: exit %d", code)
	}
	for _, s := range []string{`"id": "/cli-test/staging/worker"`, `"version": "master-ef5a154-56"`, "POST /v2/apps: 201 Created",
		"finished: 2/2 healthy, 2 running"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("create output lacks %q", s)
		}
	}
	// marathon-deploy.sh's success line, which CI jobs grep for, ends
	// the output.
	if !strings.HasSuffix(stdout, "stadion deploy: Successfully created new app\n") {
		t.Errorf("create output does not end with the original's success line:\n%s", stdout)
	}
	t.Setenv("MARATHON_URL", "")

	// A dry run shows the diff and changes nothing.
	before := appVersion(t, marathon)
	code, stdout, _ = stadion(t, "deploy", "--marathon", marathon, "--dry-run", "file://"+filepath.Join(dir, "service-defs/service-master.json"), "staging", "3")
	if code != exitOK {
		t.Fatalf("dry run: exit %d", code)
	}
	for _, s := range []string{"deploy would scale /cli-test/staging/worker", `-  "instances": 2,`, `+  "instances": 3,`} {
		if !strings.Contains(stdout, s) {
			t.Errorf("dry run output lacks %q", s)
		}
	}
	if v := appVersion(t, marathon); v != before {
		t.Errorf("dry run changed the version %s to %s", before, v)
	}

	// Update through the 409 path from a file:// URL, flags after the
	// arguments.
	// An extra argument, which the original ignored, is ignored with a
	// warning.
	code, stdout, stderr := stadion(t, "deploy", "file://"+filepath.Join(dir, "service-defs/service-master-ef5a154-56.json"), "staging", "3",
		"--marathon", marathon, poll, "--timeout", "90s", "extra")
	if code != exitOK {
		t.Fatalf("update: exit %d", code)
	}
	for _, s := range []string{"POST /v2/apps: 409 Conflict", "PUT /v2/apps/cli-test/staging/worker: 200 OK", "finished: 3/3 healthy, 3 running"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("update output lacks %q", s)
		}
	}
	if !strings.HasSuffix(stdout, "stadion deploy: Successfully updated app\n") {
		t.Errorf("update output does not end with the original's success line:\n%s", stdout)
	}
	if !strings.Contains(stderr, `stadion deploy: warning: ignoring extra arguments ["extra"]`) {
		t.Errorf("no warning about the extra argument on stderr:\n%s", stderr)
	}

	// A version whose check always fails is rolled back: exit 3.
	if err := os.WriteFile("broken.json", []byte(workerTemplate("exit 1")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = stadion(t, "deploy", "--marathon", marathon, poll, "--timeout", "5s", "--rollback-timeout", "90s",
		"--tag", "broken", "broken.json", "staging", "3")
	if code != exitRolledBack {
		t.Fatalf("broken version: exit %d, want %d", code, exitRolledBack)
	}
	for _, s := range []string{"deployment did not finish in time", "DELETE /v2/deployments/", "rolled back /cli-test/staging/worker"} {
		if !strings.Contains(stdout+stderr, s) {
			t.Errorf("broken version output lacks %q", s)
		}
	}
	if strings.Contains(stdout+stderr, "Successfully") {
		t.Errorf("a rolled back deploy printed a success line:\n%s", stdout)
	}
	var body struct {
		App struct {
			Labels       map[string]string `json:"labels"`
			TasksHealthy int               `json:"tasksHealthy"`
		} `json:"app"`
	}
	getJSON(t, marathon+"/v2/apps/cli-test/staging/worker", &body)
	if body.App.Labels["version"] != "master-ef5a154-56" || body.App.TasksHealthy != 3 {
		t.Errorf("after the rollback: labels %v, %d healthy", body.App.Labels, body.App.TasksHealthy)
	}

	// --wait=false returns once the change is accepted.
	code, stdout, _ = stadion(t, "deploy", "--marathon", marathon, "--wait=false", "service-defs/service-master.json", "staging", "1")
	if code != exitOK || strings.Contains(stdout, "waiting for deployment") || !strings.Contains(stdout, "PUT /v2/apps/cli-test/staging/worker: 200 OK") ||
		!strings.HasSuffix(stdout, "stadion deploy: Successfully updated app\n") {
		t.Errorf("--wait=false: exit %d", code)
	}
}

func appVersion(t *testing.T, marathon string) string {
	t.Helper()
	var body struct {
		App struct {
			Version string `json:"version"`
		} `json:"app"`
	}
	getJSON(t, marathon+"/v2/apps/cli-test/staging/worker", &body)
	return body.App.Version
}

func TestDeployIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		w    io.Writer
	}{
		{name: "buffer", w: &bytes.Buffer{}},
		{name: "pipe", w: w},
		{name: "file", w: f},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if isTerminal(tc.w) {
				t.Errorf("%s is a terminal", tc.name)
			}
		})
	}
}
