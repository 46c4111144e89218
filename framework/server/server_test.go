package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  server.Config
		want string
	}{
		{name: "no master", cfg: server.Config{DataDir: "d"}, want: "master required"},
		{name: "no data dir", cfg: server.Config{Master: "local"}, want: "data dir required"},
		{name: "bad port", cfg: server.Config{Master: "local", DataDir: "d", HTTPPort: 70000}, want: "port"},
		{name: "negative duration", cfg: server.Config{Master: "local", DataDir: "d", KillRetry: -1}, want: "negative"},
		{name: "valid", cfg: server.Config{Master: "zk://h:2181/mesos", DataDir: "d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestStartStop starts the built-in cluster on a random port and stops it.
func TestStartStop(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Cluster() == nil || len(srv.Cluster().Agents) != 2 {
		t.Fatalf("built-in cluster %+v, want 2 agents", srv.Cluster())
	}
	if srv.Scheduler() == nil || strings.HasSuffix(srv.URL(), ":0") {
		t.Fatalf("URL %q", srv.URL())
	}
	<-srv.Scheduler().Ready()
	res, err := http.Get(srv.URL() + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /ping: %d", res.StatusCode)
	}
	srv.Stop()
	if err := srv.Wait(); err != nil {
		t.Fatalf("Wait after Stop: %v", err)
	}
	if _, err := http.Get(srv.URL() + "/ping"); err == nil {
		t.Fatal("the API still answers after Stop")
	}
}

// TestStartFailsOnBusyPort returns the listen error and releases the
// store, so that a second Start on the same data dir works.
func TestStartFailsOnBusyPort(t *testing.T) {
	t.Parallel()
	e := start(t)
	cfg := testConfig(t)
	cfg.HTTPPort = portOf(t, e.url)
	if _, err := server.Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Start on a busy port: %v", err)
	}
	cfg.HTTPPort = 0
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start after a failed start on the same data dir: %v", err)
	}
	srv.Stop()
}

// TestContextEndStops stops the server when Start's context ends.
func TestContextEndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Start(ctx, testConfig(t))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cancel()
	if err := srv.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func portOf(t *testing.T, url string) int {
	t.Helper()
	i := strings.LastIndex(url, ":")
	var p int
	for _, c := range url[i+1:] {
		p = p*10 + int(c-'0')
	}
	return p
}

// TestAbdicateWithoutHA: DELETE /v2/leader on a server without an election
// answers Marathon's 200 and then stops the server with ErrAbdicated, as
// Marathon's process exits when its pseudo election ends.
func TestAbdicateWithoutHA(t *testing.T) {
	t.Parallel()
	srv, err := server.Start(context.Background(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	<-srv.Scheduler().Ready()
	req, err := http.NewRequest(http.MethodDelete, srv.URL()+"/v2/leader", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"message":"Leadership abdicated"}` {
		t.Fatalf("DELETE /v2/leader: %d %s", res.StatusCode, body)
	}
	select {
	case <-srv.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the server still runs 30s after abdicating")
	}
	if err := srv.Wait(); !errors.Is(err, server.ErrAbdicated) {
		t.Fatalf("Wait: %v, want ErrAbdicated", err)
	}
}
