package deployer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/testenv"
)

// serveEnv makes this test binary a task: an HTTP server on $PORT0 that
// answers 200 on /health and 404 elsewhere, for MESOS_HTTP checks.
const serveEnv = "DEPLOYER_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		serveTask()
		return
	}
	os.Exit(m.Run())
}

func serveTask() {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT0"), Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// waitFor bounds the waits that must succeed; generous for a loaded machine.
const waitFor = 90 * time.Second

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startServer runs `stadion serve --master local` in this process, with
// one agent of the mesos containerizer whose port range is free on this
// machine (other tests' tasks must not answer our health checks).
func startServer(t *testing.T) *server.Server {
	t.Helper()
	lo, hi := testenv.TaskPorts(t, 20)
	srv, err := server.Start(context.Background(), server.Config{
		Master:                     server.MasterLocal,
		HTTPAddress:                "127.0.0.1",
		Hostname:                   "127.0.0.1",
		FrameworkName:              "marathon",
		DataDir:                    t.TempDir(),
		LocalContainerizers:        []string{"mesos"},
		LocalAgents:                1,
		LocalAgentResources:        fmt.Sprintf("cpus:4;mem:2048;disk:1024;ports:[%d-%d]", lo, hi),
		LocalAllocationInterval:    50 * time.Millisecond,
		ReconciliationInitialDelay: time.Second,
		KillRetry:                  2 * time.Second,
		MesosMinBackoff:            50 * time.Millisecond,
		MesosMaxBackoff:            500 * time.Millisecond,
		Logger:                     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Cleanup(func() { removeApps(t, srv.URL()) })
	return srv
}

// removeApps deletes every app and waits until no task is left, so that
// no task outlives the test.
func removeApps(t *testing.T, url string) {
	c, err := NewClient(ClientConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := c.do(ctx, http.MethodGet, "/v2/apps", nil, nil)
	if err != nil {
		t.Errorf("list apps: %v", err)
		return
	}
	var list marathon.AppList
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatal(err)
	}
	for _, a := range list.Apps {
		c.DeleteApp(ctx, a.ID, DeployOptions{Force: true})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := c.do(ctx, http.MethodGet, "/v2/tasks", nil, nil)
		var tasks marathon.TaskList
		if err == nil && json.Unmarshal(res.Body, &tasks) == nil && len(tasks.Tasks) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("tasks left after deleting every app: %v %s", err, res.Body)
			return
		}
		time.Sleep(100 * time.Millisecond) // poll until the deadline
	}
}

// webTemplate is a service template of this test binary serving HTTP,
// with a MESOS_HTTP check of path: "/health" passes, anything else never
// does.
func webTemplate(t *testing.T, path string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{
  "id": "/deploy-test/$environment/web",
  "labels": {"version": "$tag"},
  "cmd": "exec %s",
  "env": {"%s": "1"},
  "cpus": 0.1, "mem": 16,
  "instances": $instances,
  "portDefinitions": [{"port": 0}],
  "healthChecks": [{"protocol": "MESOS_HTTP", "path": %q, "portIndex": 0,
    "gracePeriodSeconds": 1, "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3, "delaySeconds": 0}],
  "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
}`, exe, serveEnv, path)
}
