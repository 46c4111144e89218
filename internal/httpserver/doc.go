// Package httpserver builds the HTTP servers of `stadion serve`, the
// built-in Mesos master and the built-in agent: read, write and idle
// timeouts, a listener that serves at most a given number of connections,
// and per-write deadlines for the long-lived streams that the write
// timeout must not cut; TLS from PEM files.
package httpserver
