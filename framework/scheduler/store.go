package scheduler

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// StoreHealth says whether the state store takes writes, as /ping,
// /v2/info and /metrics report it.
type StoreHealth struct {
	// Failing is true from a failed write until a write succeeds.
	Failing bool
	// Error is the failed write's error while Failing.
	Error string
	// Since is when the writes started failing.
	Since time.Time
	// Failures counts the failed writes of this scheduler.
	Failures uint64
}

// writeRetry is how long after a failed write API commands answer 503 at
// once instead of trying again: each failed try reloads the whole state.
const writeRetry = time.Second

// writeFailed handles a failed write: every change since the last good
// write is undone by loading the state again (revert), and commands are
// refused for writeRetry.
func (s *Scheduler) writeFailed(ctx context.Context, err error) {
	now := s.cfg.Now()
	h := &s.storeHealth
	if !h.Failing {
		h.Since = now
	}
	h.Failing, h.Error = true, err.Error()
	h.Failures++
	s.retryAt = now.Add(writeRetry)
	s.log.Error("cannot store state, reverting to the stored state", "error", err, "failures", h.Failures)
	s.revert(ctx)
}

// writeSucceeded records that the store takes writes again.
func (s *Scheduler) writeSucceeded() {
	h := &s.storeHealth
	if !h.Failing {
		return
	}
	s.log.Info("state store takes writes again", "failing_for", s.cfg.Now().Sub(h.Since).Round(time.Millisecond))
	h.Failing, h.Error, h.Since = false, "", time.Time{}
	s.st.dirty = true
}

// writable returns the 503 that commands answer while a recent write
// failed, else nil.
func (s *Scheduler) writable() error {
	if s.storeHealth.Failing && s.cfg.Now().Before(s.retryAt) {
		return storeUnavailable(s.storeHealth.Error)
	}
	return nil
}

// storeUnavailable is the answer to a command whose change could not be
// stored. The scheduler kept nothing of it in memory; the client may
// retry. (A ZooKeeper write whose connection broke may still have been
// committed: then the reloaded state shows it.)
func storeUnavailable(cause string) *marathon.Error {
	return &marathon.Error{Status: http.StatusServiceUnavailable, Message: "The state store could not write the change; retry: " + cause}
}

// revert replaces the loop's memory with the stored state, keeping what is
// never stored (held offers, kills sent, the subscription). Launch
// backoffs start again: they grew on updates that the revert undoes and
// Mesos resends, and carried over they would grow again on each resend.
// Memory changed since the last good write is gone, with the events that
// reported it and the launches and acknowledgements that waited for it:
// Mesos resends unacknowledged updates, and the next pass plans again from
// what is stored. When the state cannot be read either, the loop ends
// (fatal) and the server stops: a new process starts from the store.
func (s *Scheduler) revert(ctx context.Context) {
	snap, err := s.cfg.Store.Load(ctx)
	if err != nil {
		s.fatal = fmt.Errorf("reload the state after a failed write: %w", err)
		return
	}
	old := s.st
	st := s.loadState(snap)
	st.keepUnstored(old)
	s.st = st
	clear(s.queued.events)
	s.queued.events = s.queued.events[:0]
}

// keepUnstored carries over from old what the store never holds.
func (st *loopState) keepUnstored(old *loopState) {
	if st.frameworkID == "" && old.frameworkID != "" {
		// The framework id's own write failed: keep it, and write it
		// again with the next change.
		st.frameworkID = old.frameworkID
		st.change.FrameworkID = old.frameworkID
	}
	st.subscribed, st.suppressed = old.subscribed, old.suppressed
	st.rolesSent, st.localRegion = old.rolesSent, old.localRegion
	st.lastRevive, st.newWork, st.wantOffers = old.lastRevive, true, old.wantOffers
	st.offers = old.offers
	st.lastFailure = old.lastFailure
	// Kills that waited for the failed write were not sent.
	st.kills = old.kills
	for _, k := range old.pendingKills {
		delete(st.kills, k.taskID)
	}
	st.healthKills = old.healthKills
	st.checked = old.checked // what subscribers were told
	st.offerStats, st.unplaced = old.offerStats, old.unplaced
	st.unknownChecked, st.unknownRecheck = old.unknownChecked, old.unknownRecheck
	st.seq = old.seq
	for id, since := range old.waitingSince {
		if _, ok := st.waitingSince[id]; ok {
			st.waitingSince[id] = since
		}
	}
	for id, p := range old.ready {
		if _, ok := st.instances[id]; ok {
			st.ready[id] = p
		}
	}
}
