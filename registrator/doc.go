// Package registrator keeps Consul's service catalog in step with the tasks
// of a Marathon-compatible scheduler, and with the containers of a plain
// Docker host: one Consul service per running task or container port, with
// checks that mirror the health checks, removed when it goes.
//
// Both sources are built as observe → compute → act. The scheduler's: a
// Client reads full snapshots of /v2/apps?embed=apps.tasks and follows
// /v2/events, and Compute turns a snapshot into the wanted registrations.
// The Docker source's: the engine's events and container list, turned into
// registrations by ComputeDocker with gliderlabs/registrator's conventions.
// Diff compares the wanted registrations with what Consul holds (all three
// are pure); a Registry applies the resulting Plan to a local Consul agent,
// the catalog or the KV store. Run and RunDocker own the loops.
package registrator
