package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
	bolt "go.etcd.io/bbolt"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/boltstore"
	"github.com/stadionhq/stadion/internal/state/zkstore"
	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/internal/zk"
)

// stateSecret stands for a secret in a damaged record: the commands must
// not print it, except export's raw bytes.
const stateSecret = "hunter2-state-secret"

var (
	stateV1 = marathon.NewTimestamp(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	stateV2 = marathon.NewTimestamp(time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC))
	// damagedRecord is an instance record cut short.
	damagedRecord = `{"id": "web.instance-2", "message": "` + stateSecret
)

// fillState writes a small, consistent state: /web at two versions, /db,
// the root group, two instances of /web and a deployment.
func fillState(t *testing.T, s state.Store) {
	t.Helper()
	app := func(id marathon.PathID, v marathon.Timestamp) marathon.App {
		a := marathon.NewApp(id)
		a.Cmd = "serve"
		a.Version = v
		return a
	}
	inst := func(n string) state.Instance {
		id := "web.instance-" + n
		return state.Instance{ID: id, AppID: "/web", AppVersion: stateV2, Goal: state.GoalRunning,
			Incarnation: 1, TaskID: id + "._app.1", State: mesos.TaskRunning}
	}
	changes := []state.Change{
		{FrameworkID: "fw-state", PutApps: []marathon.App{app("/web", stateV1), app("/db", stateV1)}},
		{
			PutApps:      []marathon.App{app("/web", stateV2)},
			PutGroups:    []state.Group{{ID: "/", Version: stateV2, Apps: map[marathon.PathID]marathon.Timestamp{"/web": stateV2, "/db": stateV1}}},
			PutInstances: []state.Instance{inst("1"), inst("2")},
			PutDeployments: []state.Deployment{{ID: "d1", Version: stateV2,
				Original: map[marathon.PathID]marathon.Timestamp{"/web": stateV1},
				Target:   map[marathon.PathID]marathon.Timestamp{"/web": stateV2}}},
		},
	}
	for _, c := range changes {
		if err := s.Apply(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// runCommand runs stadion with args and returns its exit code, stdout and
// stderr.
func runCommand(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// exported is the part of `state export`'s output the tests read.
type exported struct {
	FrameworkID string `json:"frameworkId"`
	Apps        []struct {
		ID       string            `json:"id"`
		Current  string            `json:"current"`
		Versions []string          `json:"versions"`
		Records  []json.RawMessage `json:"records"`
	} `json:"apps"`
	Groups      []struct{ ID string } `json:"groups"`
	Instances   []state.Instance      `json:"instances"`
	Deployments []state.Deployment    `json:"deployments"`
	SetAside    []struct {
		state.SetAside
		Raw *string `json:"raw"`
	} `json:"setAside"`
}

func exportState(t *testing.T, args ...string) exported {
	t.Helper()
	code, out, errOut := runCommand(t, append([]string{"state", "export"}, args...)...)
	if code != exitOK {
		t.Fatalf("state export: exit %d, stderr:\n%s", code, errOut)
	}
	var e exported
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("state export output is not JSON: %v\n%s", err, out)
	}
	return e
}

// checkExport checks what export shows of the state fillState wrote, with
// the instances that are still sound.
func checkExport(t *testing.T, e exported, instances int) {
	t.Helper()
	if e.FrameworkID != "fw-state" || len(e.Apps) != 2 || len(e.Groups) != 1 || len(e.Instances) != instances || len(e.Deployments) != 1 {
		t.Fatalf("export: framework id %q, %d apps, %d groups, %d instances, %d deployments; want fw-state, 2, 1, %d, 1",
			e.FrameworkID, len(e.Apps), len(e.Groups), len(e.Instances), len(e.Deployments), instances)
	}
	for _, a := range e.Apps {
		if a.ID == "/web" && (len(a.Versions) != 2 || len(a.Records) != 2 || a.Current != stateV2.String()) {
			t.Errorf("export of /web: current %s, versions %v, %d records; want both versions, current %s", a.Current, a.Versions, len(a.Records), stateV2)
		}
	}
}

func TestStateCommandsBolt(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "stadion.db")
	s, err := boltstore.Open(boltstore.Config{Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	fillState(t, s)

	// A server holds the file: check says so instead of waiting.
	code, out, _ := runCommand(t, "state", "check", "--data_dir", dir)
	if code != exitError || !strings.Contains(out, "locked") {
		t.Errorf("check of a file in use: exit %d, output:\n%s", code, out)
	}
	s.Close()

	t.Run("sound", func(t *testing.T) {
		code, out, errOut := runCommand(t, "state", "check", "--data_dir", dir)
		if code != exitOK || !strings.Contains(out, "ok: no problems found") || !strings.Contains(out, `framework id "fw-state"; 2 apps (3 versions), 1 groups, 2 instances, 1 deployments`) {
			t.Errorf("check: exit %d, output:\n%s%s", code, out, errOut)
		}
		checkExport(t, exportState(t, "--data_dir", dir), 2)
	})

	t.Run("bad record and broken reference", func(t *testing.T) {
		db, err := bolt.Open(dbPath, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ghost, _ := json.Marshal(state.Instance{ID: "ghost.instance-1", AppID: "/ghost", Goal: state.GoalRunning})
		err = db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("instances"))
			if err := b.Put([]byte("web.instance-2"), []byte(damagedRecord)); err != nil {
				return err
			}
			return b.Put([]byte("ghost.instance-1"), ghost)
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCommand(t, "state", "check", "--data_dir", dir)
		for _, want := range []string{
			"2 problem(s):",
			`cannot decode instance web.instance-2 (instances["web.instance-2"]): invalid JSON`,
			"instance ghost.instance-1: app /ghost is unknown",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("check output lacks %q", want)
			}
		}
		if code != exitError || strings.Contains(out+errOut, stateSecret) {
			t.Errorf("check: exit %d (want %d), output (must not hold the record):\n%s%s", code, exitError, out, errOut)
		}
		e := exportState(t, "--data_dir", dir)
		checkExport(t, e, 2) // web.instance-1 and the ghost
		if len(e.SetAside) != 1 || e.SetAside[0].ID != "web.instance-2" || e.SetAside[0].Raw == nil || *e.SetAside[0].Raw != damagedRecord {
			t.Errorf("export setAside = %+v, want web.instance-2 with its raw bytes", e.SetAside)
		}
	})

	t.Run("damaged pages", func(t *testing.T) {
		f, err := os.OpenFile(dbPath, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		page := int64(os.Getpagesize())
		for off := 2 * page; off < info.Size(); off += page {
			f.WriteAt([]byte("\xde\xad\xbe\xef garbage over a page header"), off)
		}
		f.Close()
		code, out, _ := runCommand(t, "state", "check", "--data_dir", dir)
		if code != exitError || !strings.Contains(out, "database file is damaged") || !strings.Contains(out, dbPath) {
			t.Errorf("check of a damaged file: exit %d, output:\n%s", code, out)
		}
		code, _, errOut := runCommand(t, "state", "export", "--data_dir", dir)
		if code != exitError || !strings.Contains(errOut, "database file is damaged") {
			t.Errorf("export of a damaged file: exit %d, stderr:\n%s", code, errOut)
		}
	})

	t.Run("zero-byte file", func(t *testing.T) {
		if err := os.Truncate(dbPath, 0); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCommand(t, "state", "check", "--data_dir", dir)
		if code != exitError || !strings.Contains(out, "the file is empty (0 bytes)") {
			t.Errorf("check of an empty file: exit %d, output:\n%s", code, out)
		}
	})
}

func TestStateCommandsEnv(t *testing.T) {
	dir := t.TempDir()
	s, err := boltstore.Open(boltstore.Config{Path: filepath.Join(dir, "stadion.db")})
	if err != nil {
		t.Fatal(err)
	}
	fillState(t, s)
	s.Close()
	t.Setenv("MARATHON_DATA_DIR", dir)
	if code, out, errOut := runCommand(t, "state", "check"); code != exitOK {
		t.Errorf("check with MARATHON_DATA_DIR: exit %d, output:\n%s%s", code, out, errOut)
	}
	t.Setenv("MARATHON_ZK_TIMEOUT", "soon")
	if code, _, errOut := runCommand(t, "state", "export"); code != exitUsage || !strings.Contains(errOut, "MARATHON_ZK_TIMEOUT") {
		t.Errorf("export with a bad MARATHON_ZK_TIMEOUT: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestStateCommandsZooKeeper(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	const root = "/stadion-state"
	s, err := zkstore.Open(t.Context(), zkstore.Config{Servers: z.Servers(), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	fillState(t, s)
	s.Close()

	if code, out, errOut := runCommand(t, "state", "check", "--zk", z.URL(root)); code != exitOK || !strings.Contains(out, "ok: no problems found") {
		t.Errorf("check: exit %d, output:\n%s%s", code, out, errOut)
	}
	checkExport(t, exportState(t, "--zk", z.URL(root)), 2)

	// Damage one instance node by hand.
	conn, _, err := zk.Connect(z.Servers(), 10*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	node := findNode(t, conn, root+"/state/instances", "web.instance-2")
	if _, err := conn.Set(node, []byte(damagedRecord), -1); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCommand(t, "state", "check", "--zk", z.URL(root))
	if code != exitError || !strings.Contains(out, "cannot decode instance web.instance-2 ("+node+"): invalid JSON") || strings.Contains(out+errOut, stateSecret) {
		t.Errorf("check of a damaged record: exit %d, output:\n%s%s", code, out, errOut)
	}
	e := exportState(t, "--zk", z.URL(root))
	checkExport(t, e, 1)
	if len(e.SetAside) != 1 || e.SetAside[0].Raw == nil || *e.SetAside[0].Raw != damagedRecord {
		t.Errorf("export setAside = %+v, want the damaged instance with its raw bytes", e.SetAside)
	}

	// A root without state is an error, and stays without state.
	code, out, _ = runCommand(t, "state", "check", "--zk", z.URL("/nothing-here"))
	if code != exitError || !strings.Contains(out, "no state under this root") {
		t.Errorf("check of an empty root: exit %d, output:\n%s", code, out)
	}
	if ok, _, err := conn.Exists("/nothing-here"); err != nil || ok {
		t.Errorf("check created /nothing-here (exists %v, %v)", ok, err)
	}
}

// findNode finds the node named name in the buckets under dir.
func findNode(t *testing.T, conn *gozk.Conn, dir, name string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buckets, _, err := conn.Children(dir)
		if err == nil {
			for _, b := range buckets {
				names, _, err := conn.Children(path.Join(dir, b))
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range names {
					if n == name {
						return path.Join(dir, b, n)
					}
				}
			}
			t.Fatalf("no node %s under %s", name, dir)
		}
		if time.Now().After(deadline) {
			t.Fatalf("list %s: %v", dir, err)
		}
		time.Sleep(50 * time.Millisecond) // the session is being established
	}
}

// TestServeRefusesLostState starts serve where the state file is gone or
// empty but the data dir says there was state: it must stop with an error
// naming the file and --init; with --init it starts fresh.
func TestServeRefusesLostState(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    string
	}{
		{name: "zero-byte database", prepare: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "stadion.db"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "the file is empty (0 bytes)"},
		{name: "missing database beside the built-in cluster's files", prepare: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "mesos", "agent-1"), 0o750); err != nil {
				t.Fatal(err)
			}
		}, want: "the file is missing but its directory holds mesos"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			args := []string{"serve", "--master", "127.0.0.1:1", "--hostname", "127.0.0.1", "--http_port", "0", "--data_dir", dir}
			code, _, errOut := runCommand(t, args...)
			if code != exitError || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, filepath.Join(dir, "stadion.db")) || !strings.Contains(errOut, "--init") {
				t.Fatalf("serve: exit %d, want %d with %q, the path and --init; stderr:\n%s", code, exitError, tc.want, errOut)
			}

			// With --init it starts, with empty state in a sound file.
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stdout, stderr testenv.Buffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, append(args, "--init"), &stdout, &stderr) }()
			deadline := time.After(30 * time.Second)
			for !strings.Contains(stdout.String(), "Marathon API on") {
				select {
				case code := <-done:
					t.Fatalf("serve --init exited %d; stderr:\n%s", code, stderr.String())
				case <-deadline:
					t.Fatalf("serve --init did not start; stderr:\n%s", stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			cancel()
			if code := <-done; code != exitOK {
				t.Errorf("serve --init stopped with %d; stderr:\n%s", code, stderr.String())
			}
			if code, out, _ := runCommand(t, "state", "check", "--data_dir", dir); code != exitOK {
				t.Errorf("check after serve --init: exit %d, output:\n%s", code, out)
			}
		})
	}
}
