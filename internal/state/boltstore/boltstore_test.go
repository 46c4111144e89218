package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
)

// open opens a store on path for t and closes it in t.Cleanup.
func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(Config{Path: path, MaxVersions: statetest.MaxVersions, Timeout: time.Second})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	statetest.Run(t,
		func(t *testing.T) state.Store {
			return open(t, filepath.Join(t.TempDir(), "stadion.db"))
		},
		func(t *testing.T, s state.Store) state.Store {
			bs := s.(*Store)
			if err := bs.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, bs.path)
		})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{name: "defaults", cfg: Config{Path: "x.db"}, ok: true},
		{name: "no path", cfg: Config{}},
		{name: "negative max versions", cfg: Config{Path: "x.db", MaxVersions: -1}},
		{name: "negative timeout", cfg: Config{Path: "x.db", Timeout: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "nested", "stadion.db")
	open(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestOpenLocked checks that a second open of a file in use fails with
// ErrLocked after the timeout instead of waiting for ever. flock(2) locks
// belong to the open file, so a second open in one process conflicts as a
// second process would.
func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stadion.db")
	open(t, path)
	start := time.Now()
	s, err := Open(Config{Path: path, Timeout: 100 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %s", d)
	}
}

func TestOpenSchemaMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stadion.db")
	s := open(t, path)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("99"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(Config{Path: path}); err == nil {
		s.Close()
		t.Fatal("Open of schema 99 succeeded")
	}
}

// TestLayout reads the file with bbolt alone: the documented buckets and
// keys, JSON values.
func TestLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stadion.db")
	s := open(t, path)
	v := marathon.NewTimestamp(time.Date(2026, 3, 1, 12, 0, 0, 5e6, time.UTC))
	web := marathon.NewApp("/prod/web")
	web.Cmd = "serve"
	web.Version = v
	err := s.Apply(t.Context(), state.Change{
		FrameworkID:    "fw-1",
		PutApps:        []marathon.App{web},
		PutGroups:      []state.Group{{ID: "/prod", Version: v}},
		PutInstances:   []state.Instance{{ID: "prod_web.instance-1", AppID: "/prod/web", AppVersion: v, Goal: state.GoalRunning}},
		PutDeployments: []state.Deployment{{ID: "d1", Version: v}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]string{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return walk(got, string(name), b)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	appJSON, err := marathon.CanonicalJSON(web)
	if err != nil {
		t.Fatal(err)
	}
	// Keys and the exactly known values; the rest must be JSON.
	want := map[string]string{
		"meta/framework_id":                       "fw-1",
		"meta/schema_version":                     "1",
		"apps//prod/web/current":                  "2026-03-01T12:00:00.005Z",
		"apps//prod/web/2026-03-01T12:00:00.005Z": string(appJSON),
		"groups//prod/current":                    "2026-03-01T12:00:00.005Z",
		"groups//prod/2026-03-01T12:00:00.005Z":   "",
		"instances/prod_web.instance-1":           "",
		"deployments/d1":                          "",
	}
	for k, v := range want {
		if g, ok := got[k]; ok && v == "" {
			if !json.Valid([]byte(g)) {
				t.Errorf("%s is not JSON: %s", k, g)
			}
			got[k] = ""
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file contents (-want +got):\n%s", diff)
	}
}

// walk flattens a bucket into path → value.
func walk(out map[string]string, prefix string, b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return walk(out, prefix+"/"+string(k), b.Bucket(k))
		}
		out[prefix+"/"+string(k)] = string(v)
		return nil
	})
}

// TestKilledWriter kills a process with SIGKILL right after Apply returns,
// without Close, and checks that the next Open sees every change.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv("BOLTSTORE_KILLED_WRITER"); path != "" {
		writeAndDie(path)
		return
	}
	path := filepath.Join(t.TempDir(), "stadion.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), "BOLTSTORE_KILLED_WRITER="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer: %v, want killed by SIGKILL; output:\n%s", err, out)
	}
	s := open(t, path)
	snap, err := s.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if snap.FrameworkID != "fw-killed" || len(snap.Instances) != 10*killedWrites {
		t.Errorf("after kill: framework id %q, %d instances; want fw-killed, %d", snap.FrameworkID, len(snap.Instances), 10*killedWrites)
	}
	versions, err := s.AppVersions(t.Context(), "/web")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != statetest.MaxVersions {
		t.Errorf("after kill: %d versions, want %d", len(versions), statetest.MaxVersions)
	}
}

const killedWrites = 20

// writeAndDie is the child of TestKilledWriter.
func writeAndDie(path string) {
	s, err := Open(Config{Path: path, MaxVersions: statetest.MaxVersions})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for n := range killedWrites {
		a := marathon.NewApp("/web")
		a.Cmd = "serve"
		a.Version = marathon.NewTimestamp(time.Date(2026, 1, 1, 0, 0, n, 0, time.UTC))
		c := state.Change{FrameworkID: "fw-killed", PutApps: []marathon.App{a}}
		for i := range 10 {
			c.PutInstances = append(c.PutInstances, state.Instance{ID: fmt.Sprintf("web.instance-%d-%d", n, i), AppID: "/web", AppVersion: a.Version, State: mesos.TaskRunning})
		}
		if err := s.Apply(context.Background(), c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
