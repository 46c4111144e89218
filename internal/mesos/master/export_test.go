package master

import "time"

// WithStreamLimits returns c with a scheduler stream's queue limit and
// per-record write timeout set; 0 keeps a default.
func WithStreamLimits(c Config, queued int, write time.Duration) Config {
	c.streamQueueLimit = queued
	c.streamWriteTimeout = write
	return c
}
