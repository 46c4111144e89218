// Pieces both registrator loops (the scheduler's and the Docker source's) use.

package registrator

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// alarm is the loops' timer: of the wake-ups asked for, it keeps the
// earliest.
type alarm struct {
	t  *time.Timer
	at time.Time // zero when not set
}

func newAlarm() *alarm {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &alarm{t: t}
}

// C fires at the alarm's time.
func (a *alarm) C() <-chan time.Time { return a.t.C }

// in sets the alarm to d from now, unless it is set earlier already.
func (a *alarm) in(d time.Duration) {
	at := time.Now().Add(d)
	if a.at.IsZero() || at.Before(a.at) {
		a.at = at
		a.t.Reset(d)
	}
}

// fired records that the alarm went off.
func (a *alarm) fired() { a.at = time.Time{} }

// clear unsets the alarm.
func (a *alarm) clear() {
	a.t.Stop()
	a.at = time.Time{}
}

// recoverLoop, deferred at a loop's boundary, turns a panic into an error
// in *err and logs its stack.
func recoverLoop(log *slog.Logger, err *error) {
	if r := recover(); r != nil {
		log.Error("registrator loop panicked", "panic", r, "stack", string(debug.Stack()))
		*err = fmt.Errorf("registrator: panic: %v", r)
	}
}

// drain takes the input that is already waiting, so that one pass serves a
// burst of events.
func drain[T any](notices <-chan T, kicks <-chan struct{}, notice func(T), kick func()) {
	for {
		select {
		case n := <-notices:
			notice(n)
		case <-kicks:
			kick()
		default:
			return
		}
	}
}

// refreshStatusChecks sets the TTL status checks of d again before their
// TTL runs out; it reports a failure (a check Consul lost), after which
// a pass registers it again.
func refreshStatusChecks(ctx context.Context, reg Registry, d Desired, timeout time.Duration, log *slog.Logger) (failed bool) {
	us := ttlStatusChecks(d)
	if len(us) == 0 {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := reg.Refresh(cctx, us); err != nil && ctx.Err() == nil {
		log.Warn("refreshing ttl checks failed", "error", err)
		return true
	}
	return false
}

// ttlStatusChecks are the status checks of d that have a TTL: the
// registrator sets them again before it runs out.
func ttlStatusChecks(d Desired) []StatusUpdate {
	var us []StatusUpdate
	for _, s := range d.Services {
		for _, c := range s.Checks {
			if c.Kind == CheckStatus && c.TTL > 0 {
				us = append(us, StatusUpdate{Node: s.Node, NodeAddress: s.NodeAddress, ServiceID: s.ID, Check: c})
			}
		}
	}
	return us
}
