package server_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/boltstore"
)

// TestStoredAppBeyondLimitsLoads stores, in the bbolt file of a data dir,
// an app beyond the limits (3 instances with --max_instances_per_app 2,
// and 300 labels), as a store written before the limits holds it. serve
// loads it and runs its 3 instances; an update must bring it within the
// limits, and then applies.
func TestStoredAppBeyondLimitsLoads(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MaxInstancesPerApp = 2

	legacy := marathon.NewApp("/legacy")
	legacy.Cmd, legacy.Cpus, legacy.Mem = "sleep 600", 0.1, 16
	legacy, err := marathon.Admit(legacy, marathon.NormalizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	legacy.Instances = 3
	legacy.Labels = map[string]string{}
	for i := range 300 {
		legacy.Labels[fmt.Sprintf("l%d", i)] = "v"
	}
	legacy.Version = marathon.NewTimestamp(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	store, err := boltstore.Open(boltstore.Config{Path: filepath.Join(cfg.DataDir, "stadion.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Apply(context.Background(), state.Change{PutApps: []marathon.App{legacy}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	e := &env{t: t, srv: srv, url: srv.URL()}

	if a := e.running("/legacy", 3); len(a.Labels) != 300 {
		t.Errorf("the stored app shows %d labels, want 300", len(a.Labels))
	}
	var info struct {
		MarathonConfig map[string]any `json:"marathon_config"`
	}
	e.wantJSON(e.do(http.MethodGet, "/v2/info", ""), http.StatusOK, &info)
	if got := info.MarathonConfig["max_instances_per_app"]; got != 2.0 {
		t.Errorf("/v2/info max_instances_per_app %v, want 2", got)
	}

	var refused marathon.Error
	e.wantJSON(e.do(http.MethodPatch, "/v2/apps/legacy", `{"instances":4}`), http.StatusUnprocessableEntity, &refused)
	want := []marathon.Detail{
		{Path: "/instances", Errors: []string{"is greater than 2, the most instances of one app (--max_instances_per_app)"}},
		{Path: "/labels", Errors: []string{"must not have more than 256 entries"}},
	}
	if refused.Message != marathon.MsgNotValid || !cmp.Equal(refused.Details, want) {
		t.Errorf("PATCH beyond the limits: %q %s", refused.Message, cmp.Diff(want, refused.Details))
	}

	e.deployed(e.do(http.MethodPatch, "/v2/apps/legacy", `{"instances":1,"labels":{}}`), http.StatusOK)
	e.running("/legacy", 1)
}
