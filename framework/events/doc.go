// Package events is the in-process event bus behind GET /v2/events: the
// scheduler and the API publish Marathon events, each SSE subscriber gets
// them through a bounded buffer, encoded once per event.
package events
