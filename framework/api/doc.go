// Package api serves Marathon's /v2 REST API, /ping, /metrics (Marathon's
// JSON; Prometheus text at /metrics/prometheus) and the
// /v2/events stream. Handlers read the scheduler's immutable View and send
// every change to the scheduler loop through Backend; they never hold state
// of their own.
package api
