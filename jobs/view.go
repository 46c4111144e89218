package jobs

import (
	"slices"
	"strconv"
)

// View is an immutable snapshot of the scheduler's state for readers.
// Jobs are never changed in place by the loop, so the View shares them.
type View struct {
	// Jobs are sorted by name.
	Jobs   []*Job
	byName map[string]*Job
	// runs holds each job's runs, newest first.
	runs map[string][]Run
	// Ready is false before the state is loaded.
	Ready bool
}

// Job returns a job by name.
func (v *View) Job(name string) (*Job, bool) {
	j, ok := v.byName[name]
	return j, ok
}

// Runs returns a job's runs, newest first.
func (v *View) Runs(name string) []Run { return v.runs[name] }

// State is a job's current state as Chronos's graph and summary show it:
// idle, queued, running, or "N running".
func (v *View) State(name string) string {
	running, queued := 0, false
	for _, r := range v.runs[name] {
		switch {
		case r.State.Active() || r.State == RunAwaiting:
			running++
		case r.State == RunQueued:
			queued = true
		}
	}
	switch {
	case running == 1:
		return "running"
	case running > 1:
		return strconv.Itoa(running) + " running"
	case queued:
		return "queued"
	}
	return "idle"
}

// publish builds and stores a new View.
func (s *Scheduler) publish() {
	v := &View{byName: make(map[string]*Job, len(s.jobs)), runs: map[string][]Run{}, Ready: true}
	for _, name := range s.sortedJobs() {
		j := s.jobs[name]
		v.Jobs = append(v.Jobs, j)
		v.byName[name] = j
	}
	for _, r := range s.runs {
		v.runs[r.Job] = append(v.runs[r.Job], r)
	}
	for _, list := range v.runs {
		slices.SortFunc(list, func(a, b Run) int { return int(b.Seq - a.Seq) })
	}
	s.view.Store(v)
}
