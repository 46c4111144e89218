// Package backoff is the capped, jittered exponential backoff of the tools'
// retries (the registrator's scheduler stream and Consul watch, the
// wrapper's Consul and scheduler calls).
package backoff
