package health

import (
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// State is the health of one instance for one health check, as Marathon's
// core/health/Health.scala keeps it. The zero State is "no result yet".
// Fields are exported so that the scheduler can persist and restore them
// across a restart or failover.
type State struct {
	// ConsecutiveFailures counts failures since the last success; failures
	// ignored during the grace period do not count.
	ConsecutiveFailures int
	FirstSuccess        time.Time
	LastSuccess         time.Time
	LastFailure         time.Time
	LastFailureCause    string
}

// Alive reports Marathon's alive: there was a success, and it is later
// than the last failure.
func (s State) Alive() bool {
	return !s.LastSuccess.IsZero() && (s.LastFailure.IsZero() || s.LastSuccess.After(s.LastFailure))
}

// Observe folds one probe outcome at now into s for a task that started at
// startedAt. changed reports that Alive flipped (health_status_changed_event);
// kill reports that the task must be killed (unhealthy_instance_kill_event).
//
// A failure is ignored, leaving s unchanged, while the task has never
// succeeded and is within gracePeriodSeconds of startedAt. Any other
// failure makes the task not alive at once. kill follows Marathon's
// HealthCheckActor.checkConsecutiveFailures, which compares the count from
// before the failure: with maxConsecutiveFailures 3 the fourth consecutive
// failure kills, and every failure after it repeats the kill.
// maxConsecutiveFailures 0 never kills.
func (s State) Observe(ok bool, cause string, now, startedAt time.Time, hc marathon.HealthCheck) (next State, changed bool, kill bool) {
	next = s
	if ok {
		if next.FirstSuccess.IsZero() {
			next.FirstSuccess = now
		}
		next.LastSuccess = now
		next.ConsecutiveFailures = 0
		return next, next.Alive() != s.Alive(), false
	}
	if s.inGrace(now, startedAt, hc) {
		return s, false, false
	}
	kill = hc.MaxConsecutiveFailures > 0 && s.ConsecutiveFailures >= hc.MaxConsecutiveFailures
	next.LastFailure = now
	next.LastFailureCause = cause
	next.ConsecutiveFailures++
	return next, next.Alive() != s.Alive(), kill
}

// inGrace is Marathon's ignoreFailures for a running task.
func (s State) inGrace(now, startedAt time.Time, hc marathon.HealthCheck) bool {
	grace := time.Duration(hc.GracePeriodSeconds) * time.Second
	return s.FirstSuccess.IsZero() && startedAt.Add(grace).After(now)
}

// Result renders s as an entry of the task's healthCheckResults.
func (s State) Result(instanceID string) marathon.HealthCheckResult {
	r := marathon.HealthCheckResult{
		Alive:               s.Alive(),
		ConsecutiveFailures: s.ConsecutiveFailures,
		FirstSuccess:        timestamp(s.FirstSuccess),
		LastSuccess:         timestamp(s.LastSuccess),
		LastFailure:         timestamp(s.LastFailure),
		InstanceID:          instanceID,
	}
	if !s.LastFailure.IsZero() {
		cause := s.LastFailureCause
		r.LastFailureCause = &cause
	}
	return r
}

// timestamp returns nil for the zero time, which renders as JSON null.
func timestamp(t time.Time) *marathon.Timestamp {
	if t.IsZero() {
		return nil
	}
	ts := marathon.NewTimestamp(t)
	return &ts
}
