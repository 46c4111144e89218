// Package server wires `stadion serve` together: the state store, the Mesos
// client (or the built-in cluster with --master local), the scheduler loop,
// the events bus and the /v2 HTTP API. Start runs it; tests drive it over
// real HTTP.
package server
