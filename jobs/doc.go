// Package jobs is the job scheduler behind `stadion jobs`: Chronos's REST
// API and semantics (ISO 8601 repeating schedules, dependent jobs,
// retries, manual runs with arguments) as a Mesos framework of its own.
//
// The pure parts are the schedule arithmetic (schedule.go), the job model
// and its Chronos JSON (job.go, decode.go) and the planning of a pass
// (plan.go); the Scheduler loop (scheduler.go) owns the mutable state,
// writes every change to a Store before it acts on it, and publishes
// immutable snapshots that the API (api.go) reads.
package jobs
