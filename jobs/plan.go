package jobs

import (
	"time"
)

// Occurrence is what a scheduled job's due occurrence turns into at a
// pass: a run, or a skip (2.x epsilon), with the schedule that follows.
type Occurrence struct {
	// Run is true when a run is queued for ScheduledFor.
	Run          bool
	ScheduledFor time.Time
	// Skipped counts the occurrences passed over without a run: those
	// older than epsilon. Missed occurrences collapse into one run
	// without epsilon (Chronos 3: catch up once) and are not counted.
	Skipped int64
	// Next is the schedule after this pass, as the job stores it.
	Next string
}

// Due decides what a pass at now does with scheduled job j; ok is false
// when nothing is due (a dependent or disabled job, R0, a start in the
// future) or the schedule does not parse.
func Due(j *Job, now time.Time) (Occurrence, bool) {
	if j.Dependent() || j.Disabled || j.Schedule == "" {
		return Occurrence{}, false
	}
	sc, err := ParseSchedule(j.Schedule, j.Zone(), now)
	if err != nil || !sc.Due(now) {
		return Occurrence{}, false
	}
	latest, n := sc.Missed(now)
	o := Occurrence{Run: true, ScheduledFor: latest, Next: sc.Advance(now).String()}
	if eps := j.EpsilonDuration(); eps > 0 && now.Sub(latest) > eps {
		// 2.x: an occurrence that cannot start within epsilon is lost.
		o.Run, o.Skipped = false, n
		return o, true
	}
	if eps := j.EpsilonDuration(); eps > 0 {
		o.Skipped = n - 1
	}
	return o, true
}

// NextDue is when scheduled job j is next due, zero when never.
func NextDue(j *Job, now time.Time) time.Time {
	if j.Dependent() || j.Disabled || j.Schedule == "" {
		return time.Time{}
	}
	sc, err := ParseSchedule(j.Schedule, j.Zone(), now)
	if err != nil || sc.Done() {
		return time.Time{}
	}
	return sc.Start
}

// completion is when a job last completed in a way that releases its
// children (a success, or a final failure with softError), and whether
// its latest outcome does; zero when it never did.
func completion(j *Job) (time.Time, bool) {
	s, e := j.LastSuccessTime(), j.LastErrorTime()
	if j.SoftError && e.After(s) {
		return e, true
	}
	if s.IsZero() || e.After(s) {
		return time.Time{}, false
	}
	return s, true
}

// Ready reports whether dependent job child may run now: every parent
// exists, its latest outcome released its children, and it completed
// after the child last ran because of its parents. So a child runs once
// per cycle of its parents, and a failing parent holds it back.
func Ready(child *Job, jobs map[string]*Job) bool {
	if !child.Dependent() || child.Disabled {
		return false
	}
	for _, name := range child.Parents {
		p, ok := jobs[name]
		if !ok {
			return false
		}
		at, ok := completion(p)
		if !ok || !at.After(child.depsAt) {
			return false
		}
	}
	return true
}

// Children lists the jobs that name parent among their parents.
func Children(parent string, jobs map[string]*Job) []*Job {
	var out []*Job
	for _, j := range jobs {
		for _, p := range j.Parents {
			if p == parent {
				out = append(out, j)
				break
			}
		}
	}
	return out
}
