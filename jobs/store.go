package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Store keeps the jobs, their runs and the framework id durably. The
// scheduler writes from one goroutine; Apply is atomic.
type Store interface {
	mesos.FrameworkIDStore
	// Load returns everything stored.
	Load(ctx context.Context) (Snapshot, error)
	// Apply writes c atomically: all of it or nothing.
	Apply(ctx context.Context, c Change) error
	// Close releases the store.
	Close() error
}

// Snapshot is the whole stored state.
type Snapshot struct {
	FrameworkID string
	Jobs        []*Job
	Runs        []Run
}

// Change is one atomic write: puts replace whole records, deletes of
// absent records are no-ops, deletes go first.
type Change struct {
	PutJobs    []*Job
	DeleteJobs []string
	PutRuns    []Run
	DeleteRuns []string
}

// Empty reports a change that writes nothing.
func (c Change) Empty() bool {
	return len(c.PutJobs) == 0 && len(c.DeleteJobs) == 0 && len(c.PutRuns) == 0 && len(c.DeleteRuns) == 0
}

// record is a job as stored: its Chronos JSON plus what the scheduler
// keeps about it beyond Chronos's fields.
type record struct {
	*Job
	// DepsAt is when the job last ran because of its parents: a parent
	// counts for the next run only with a completion after it.
	DepsAt time.Time `json:"stadionDepsAt,omitzero"`
}

// EncodeJob is a job's stored form.
func EncodeJob(j *Job) ([]byte, error) { return json.Marshal(record{Job: j, DepsAt: j.depsAt}) }

// DecodeJob reads a stored job.
func DecodeJob(b []byte) (*Job, error) {
	r := record{Job: &Job{}}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode job: %w", err)
	}
	if r.Name == "" {
		return nil, fmt.Errorf("decode job: no name")
	}
	r.Job.depsAt = r.DepsAt
	r.Job.normalize()
	return r.Job, nil
}

// EncodeRun is a run's stored form.
func EncodeRun(r Run) ([]byte, error) { return json.Marshal(r) }

// DecodeRun reads a stored run.
func DecodeRun(b []byte) (Run, error) {
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return Run{}, fmt.Errorf("decode run: %w", err)
	}
	if r.TaskID == "" || r.Job == "" {
		return Run{}, fmt.Errorf("decode run: no task id or job")
	}
	return r, nil
}
