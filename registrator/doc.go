// Package registrator keeps Consul's service catalog in step with the tasks
// of a Marathon-compatible scheduler: one Consul service per running task
// port, with checks that mirror the app's health checks, removed when the
// task goes.
//
// It is built as observe → compute → act: a Client reads full snapshots of
// /v2/apps?embed=apps.tasks and follows /v2/events; Compute turns a snapshot
// into the wanted registrations and Diff compares them with what Consul
// holds (both pure); a Registry applies the resulting Plan to a local
// Consul agent or to the catalog. Run owns the loop.
package registrator
