package master

import "time"

// WithStreamLimits returns c with a scheduler stream's queue limit and
// per-record write timeout set; 0 keeps a default.
func WithStreamLimits(c Config, queued int, write time.Duration) Config {
	c.streamQueueLimit = queued
	c.streamWriteTimeout = write
	return c
}

// WithStreamBackpressure returns c with the backlog at which agents'
// status updates wait for a scheduler stream; -1 is never.
func WithStreamBackpressure(c Config, backlog int) Config {
	c.streamBackpressure = backlog
	return c
}
