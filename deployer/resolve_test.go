package deployer

import (
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/testenv"
)

func TestMarathonFromState(t *testing.T) {
	tests := []struct {
		name    string
		state   string
		want    string
		wantErr error
	}{
		{name: "marathon", want: "http://m2:8080",
			state: `{"frameworks": [{"name": "chronos", "active": true, "webui_url": "http://c:4400"},
				{"name": "marathon", "active": true, "webui_url": "http://m2:8080/"}]}`},
		{name: "inactive skipped", want: "http://m2:8080",
			state: `{"frameworks": [{"name": "marathon", "active": false, "webui_url": "http://m1:8080"},
				{"name": "marathon", "active": true, "webui_url": "http://m2:8080"}]}`},
		{name: "no web UI", state: `{"frameworks": [{"name": "marathon", "active": true}]}`, wantErr: ErrNoFramework},
		{name: "no framework", state: `{"frameworks": []}`, wantErr: ErrNoFramework},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarathonFromState([]byte(tc.state), "marathon")
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, err := MarathonFromState([]byte(`<html>`), "marathon"); err == nil {
		t.Error("no error for a state that is not JSON")
	}
}

// TestResolveMarathon finds stadion serve, registered with a Mesos master
// that leads in ZooKeeper, as the original found Marathon with
// mesos-resolve.
func TestResolveMarathon(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	zkURL := z.URL("/mesos")
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := master.Start(t.Context(), master.Config{ZK: zkURL, ZKSessionTimeout: 2 * time.Second, WorkDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	srv, err := server.Start(t.Context(), server.Config{
		Master: zkURL, HTTPAddress: "127.0.0.1", Hostname: "127.0.0.1", FrameworkName: "marathon",
		DataDir: t.TempDir(), MesosMinBackoff: 50 * time.Millisecond, MesosMaxBackoff: 500 * time.Millisecond, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)

	// The scheduler registers with the master in the background.
	deadline := time.Now().Add(waitFor)
	for {
		url, err := marathonFromMaster(t.Context(), http.DefaultClient, m.URL(), "marathon")
		if err == nil {
			if url != srv.URL() {
				t.Fatalf("master state gives %q, want the API at %q", url, srv.URL())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stadion serve not in the master's state: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // poll until the deadline
	}

	got, err := ResolveMarathon(t.Context(), ResolveConfig{ZK: zkURL, Logger: log})
	if err != nil || got != srv.URL() {
		t.Errorf("ResolveMarathon = %q, %v; want %q", got, err, srv.URL())
	}
	// No framework of the name: the original's guess, the leader's host
	// on port 8080.
	got, err = ResolveMarathon(t.Context(), ResolveConfig{ZK: zkURL, FrameworkName: "chronos", Logger: log})
	if err != nil || got != "http://127.0.0.1:8080" {
		t.Errorf("ResolveMarathon for chronos = %q, %v; want http://127.0.0.1:8080", got, err)
	}
	// No master in the group: an error once the timeout passes.
	_, err = ResolveMarathon(t.Context(), ResolveConfig{ZK: z.URL("/nomesos"), Timeout: 500 * time.Millisecond, Logger: log})
	if err == nil {
		t.Error("ResolveMarathon found a master in an empty group")
	}
}
