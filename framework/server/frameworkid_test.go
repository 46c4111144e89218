package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/state/boltstore"
)

// TestLostStateRefused runs serve until it registered, then loses
// stadion.db: the framework id copy beside it makes the next start refuse
// (against a remote Mesos the data dir would otherwise look unused), and
// --init starts fresh.
func TestLostStateRefused(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(cfg.DataDir, "framework-id")
	deadline := time.Now().Add(waitFor)
	var id []byte
	for {
		if id, err = os.ReadFile(copyPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no framework id copy: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := http.Get(srv.URL() + "/v2/info")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		FrameworkID string `json:"frameworkId"`
	}
	err = json.NewDecoder(res.Body).Decode(&info)
	res.Body.Close()
	if err != nil || info.FrameworkID == "" || string(id) != info.FrameworkID+"\n" {
		t.Errorf("copy %q, /v2/info frameworkId %q (%v): want the same id", id, info.FrameworkID, err)
	}
	srv.Stop()

	// Only the copy is left: the built-in cluster's files go too.
	for _, name := range []string{"stadion.db", "mesos"} {
		if err := os.RemoveAll(filepath.Join(cfg.DataDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = server.Start(context.Background(), cfg)
	if !errors.Is(err, boltstore.ErrNoDatabase) || !strings.Contains(err.Error(), "framework-id") {
		t.Fatalf("Start without stadion.db = %v, want ErrNoDatabase naming framework-id", err)
	}
	cfg.Init = true
	srv, err = server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start with Init: %v", err)
	}
	srv.Stop()
}
