package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff draws each delay from [d/2, d), where d doubles from Min up to
// Max. The zero Backoff is not usable: use New.
type Backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// New returns a Backoff from min to max.
func New(min, max time.Duration) *Backoff {
	return &Backoff{min: min, max: max}
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.min
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	if half <= 0 {
		return b.cur
	}
	return half + rand.N(b.cur-half)
}

// Reset starts again from min.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits d or until ctx ends, and returns ctx.Err() then.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
