package jobstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/jobs"
	"github.com/stadionhq/stadion/jobs/jobstore"
)

func job(t *testing.T, body string) *jobs.Job {
	t.Helper()
	j, err := jobs.Decode([]byte(body), jobs.DefaultDefaults)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func run(id, job string, state jobs.RunState, seq int64) jobs.Run {
	return jobs.Run{TaskID: id, Job: job, State: state, Trigger: jobs.TriggerSchedule, Due: time.UnixMilli(1700000000000).UTC(),
		Queued: time.UnixMilli(1700000000000).UTC(), Seq: seq}
}

// contract is what every store must do; fresh makes a new state and
// returns a func that opens a store on it (again and again).
func contract(t *testing.T, fresh func(t *testing.T) func() jobs.Store) {
	ctx := context.Background()
	t.Run("empty", func(t *testing.T) {
		open := fresh(t)
		s := open()
		snap, err := s.Load(ctx)
		if err != nil || snap.FrameworkID != "" || len(snap.Jobs)+len(snap.Runs) != 0 {
			t.Fatalf("empty store: %+v %v", snap, err)
		}
	})
	t.Run("apply, reopen, load", func(t *testing.T) {
		open := fresh(t)
		s := open()
		a := job(t, `{"name":"a","command":"true","schedule":"R/2024-01-01T00:00:00Z/PT2S","epsilon":"PT30S","successCount":3}`)
		b := job(t, `{"name":"b","command":"true","parents":["a"]}`)
		arg := run("ct:1700000000000:0:b:with space/and;slash", "b", jobs.RunQueued, 2)
		if err := s.Apply(ctx, jobs.Change{PutJobs: []*jobs.Job{a, b}, PutRuns: []jobs.Run{run("ct:1:0:a:", "a", jobs.RunSuccess, 1), arg}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFrameworkID(ctx, "fw-1"); err != nil {
			t.Fatal(err)
		}
		// Replace one, delete another, in one change; deleting what is
		// absent is a no-op.
		a2 := job(t, `{"name":"a","command":"false","schedule":"R/2024-01-01T00:00:02Z/PT2S","successCount":4}`)
		if err := s.Apply(ctx, jobs.Change{PutJobs: []*jobs.Job{a2}, DeleteRuns: []string{"ct:1:0:a:", "nope"}, DeleteJobs: []string{"nope"}}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open()
		snap, err := s.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(snap.Jobs, func(i, j int) bool { return snap.Jobs[i].Name < snap.Jobs[j].Name })
		if snap.FrameworkID != "fw-1" || len(snap.Jobs) != 2 || snap.Jobs[0].Command != "false" || snap.Jobs[0].SuccessCount != 4 || snap.Jobs[1].Parents[0] != "a" {
			t.Errorf("loaded %+v", snap)
		}
		if diff := cmp.Diff([]jobs.Run{arg}, snap.Runs); diff != "" {
			t.Errorf("runs (-want +got):\n%s", diff)
		}
		if id, err := s.LoadFrameworkID(ctx); err != nil || id != "fw-1" {
			t.Errorf("framework id %q %v", id, err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		open := fresh(t)
		s := open()
		s.Close()
		if err := s.Apply(ctx, jobs.Change{PutJobs: []*jobs.Job{job(t, `{"name":"x"}`)}}); !errors.Is(err, jobstore.ErrClosed) {
			t.Errorf("apply on a closed store: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	})
}

func TestBolt(t *testing.T) {
	contract(t, func(t *testing.T) func() jobs.Store {
		path := filepath.Join(t.TempDir(), "jobs.db")
		return opener(t, func() (jobs.Store, error) { return jobstore.OpenBolt(path) })
	})
}

func TestZK(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	contract(t, func(t *testing.T) func() jobs.Store {
		root := "/jobs-test/" + strings.ReplaceAll(t.Name(), ",", "")
		return opener(t, func() (jobs.Store, error) {
			return jobstore.OpenZK(context.Background(), jobstore.ZKConfig{Servers: z.Servers(), Root: root})
		})
	})
}

// opener returns open as a func that fails the test on error and closes
// every store it opened at the end.
func opener(t *testing.T, open func() (jobs.Store, error)) func() jobs.Store {
	return func() jobs.Store {
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestZKFence: a write after the fence node is gone fails and changes
// nothing, so a deposed leader cannot overwrite the new one's state.
func TestZKFence(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	conn, _, err := gozk.Connect(z.Servers(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/fence", nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := jobstore.OpenZK(ctx, jobstore.ZKConfig{Servers: z.Servers(), Root: "/fenced", Fence: "/fence"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Apply(ctx, jobs.Change{PutJobs: []*jobs.Job{job(t, `{"name":"a"}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Delete("/fence", -1); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, jobs.Change{PutJobs: []*jobs.Job{job(t, `{"name":"b"}`)}}); !errors.Is(err, jobstore.ErrFenced) {
		t.Errorf("write without the fence: %v, want ErrFenced", err)
	}
	snap, err := s.Load(ctx)
	if err != nil || len(snap.Jobs) != 1 {
		t.Errorf("after a fenced write: %+v %v", snap.Jobs, err)
	}
}
