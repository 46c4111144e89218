package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/internal/backoff"
)

// marker is the value of the lock key: the KV state for which a restart
// was last claimed and, once Done, requested. It holds no KV value.
type marker struct {
	// State is the Snapshot.StateID of that KV state.
	State string `json:"state"`
	// Index is its Consul index: a restart requested for a state also
	// covers every older one.
	Index uint64 `json:"index"`
	// Done is set once the scheduler has answered.
	Done bool `json:"done"`
	// AppVersion and DeploymentID are the scheduler's answer.
	AppVersion   string `json:"appVersion,omitempty"`
	DeploymentID string `json:"deploymentId,omitempty"`
	// Error is set when the scheduler refused the restart for good.
	Error string `json:"error,omitempty"`
	// By names the instance that asked (task id or host), for humans.
	By string    `json:"by,omitempty"`
	At time.Time `json:"at"`
}

// covers reports whether a restart for m also restarts an instance that
// sees s: it was asked for the same state or for a newer one. An instance
// that read its configuration before s existed started before that
// restart was asked, so the restart replaces it.
func (m marker) covers(s Snapshot) bool {
	return m.State == s.StateID() || m.Index >= s.Index
}

// restarter asks the scheduler for one rolling restart of the app.
type restarter interface {
	Restart(ctx context.Context) (RestartResult, error)
}

// outcome is what restartOnce did.
type outcome int

const (
	// requested: this instance asked the scheduler.
	requested outcome = iota + 1
	// covered: another instance asked, for this state or a newer one.
	covered
)

// coordinator makes sure that, of all the instances of an app watching
// the same prefix, exactly one asks the scheduler for a restart per KV
// change. The instances agree through one Consul key (the lock key):
//
//  1. Read the key. If it records a restart for this state or a newer one
//     that is done, another instance has asked: nothing to do. If another
//     instance holds the key under a live session, it is asking right now:
//     wait for the key to change (a blocking query) and look again.
//  2. Otherwise claim the key in one transaction: check that it is
//     unchanged since step 1 (check-index, or check-not-exists) and lock
//     it with a new session, recording the state. Of the instances racing
//     for one state, exactly one transaction succeeds; the others go back
//     to step 1 and find the claim.
//  3. The winner asks the scheduler (retrying while it is unreachable or
//     the app is locked by another deployment), then writes Done with the
//     answer and releases the key.
//
// If the winner dies before step 3, Consul invalidates its session (TTL),
// which releases the key without Done: a waiting instance claims it and
// asks instead, so a restart is neither lost nor doubled while the winner
// is alive.
type coordinator struct {
	consul *api.Client
	key    string
	sched  restarter
	// by identifies this instance in the marker.
	by  string
	log *slog.Logger

	retryMin, retryMax time.Duration
	// sessionTTL bounds how long a dead winner holds the key.
	sessionTTL time.Duration
	// lockDelay is how long Consul keeps the key from being locked again
	// after a holder's session died; zero means Consul's default (15 s),
	// which leaves a holder cut off from Consul time to finish.
	lockDelay time.Duration
	// wait is the longest one blocking query on the key waits.
	wait time.Duration
	now  func() time.Time
}

// restartOnce makes sure a restart is requested for s, by this instance or
// another one. It returns the marker of the restart that covers s. It
// retries until it knows, or ctx ends.
func (c *coordinator) restartOnce(ctx context.Context, s Snapshot) (outcome, marker, error) {
	kv := c.consul.KV()
	state := s.StateID()
	b := backoff.New(c.retryMin, c.retryMax)
	var waitIndex uint64
	for {
		q := (&api.QueryOptions{WaitIndex: waitIndex, WaitTime: c.wait}).WithContext(ctx)
		pair, _, err := kv.Get(c.key, q)
		if err != nil {
			if ctx.Err() != nil {
				return 0, marker{}, ctx.Err()
			}
			d := b.Next()
			c.log.Warn("read restart lock failed; retrying", "key", c.key, "error", err, "retry_in", d)
			waitIndex = 0
			if err := backoff.Sleep(ctx, d); err != nil {
				return 0, marker{}, err
			}
			continue
		}
		m, ok := decodeMarker(pair)
		if ok && m.Done && m.covers(s) {
			return covered, m, nil
		}
		if pair != nil && pair.Session != "" {
			// Another instance is asking, maybe for this very
			// state: wait until it is done or its session dies.
			c.log.Debug("another instance holds the restart lock; waiting", "key", c.key, "by", m.By)
			waitIndex = pair.ModifyIndex
			continue
		}
		sid, won, err := c.claim(ctx, pair, marker{State: state, Index: s.Index, By: c.by, At: c.now()})
		if err != nil {
			if ctx.Err() != nil {
				return 0, marker{}, ctx.Err()
			}
			d := b.Next()
			c.log.Warn("claim restart lock failed; retrying", "key", c.key, "error", err, "retry_in", d)
			waitIndex = 0
			if err := backoff.Sleep(ctx, d); err != nil {
				return 0, marker{}, err
			}
			continue
		}
		if !won {
			// Another instance changed the key first, or a dead
			// holder's lock delay runs: look again. The backoff
			// keeps a lock delay from turning into a busy loop.
			waitIndex = 0
			if err := backoff.Sleep(ctx, b.Next()); err != nil {
				return 0, marker{}, err
			}
			continue
		}
		m, err = c.request(ctx, sid, marker{State: state, Index: s.Index, By: c.by})
		return requested, m, err
	}
}

// decodeMarker reads the key's value. A missing or unreadable value, or
// one that names a Consul index newer than its own write (left over from
// a Consul cluster rebuilt since), counts as no marker.
func decodeMarker(pair *api.KVPair) (marker, bool) {
	if pair == nil {
		return marker{}, false
	}
	var m marker
	if err := json.Unmarshal(pair.Value, &m); err != nil || m.State == "" || m.Index >= pair.ModifyIndex {
		return marker{}, false
	}
	return m, true
}

// claim locks the key for m with a new session, on condition that the key
// is still as read (pair; nil when it did not exist). It returns the
// session when it won.
func (c *coordinator) claim(ctx context.Context, pair *api.KVPair, m marker) (string, bool, error) {
	wo := (&api.WriteOptions{}).WithContext(ctx)
	sid, _, err := c.consul.Session().Create(&api.SessionEntry{
		Name:      "stadion wrap " + c.key,
		TTL:       c.sessionTTL.String(),
		Behavior:  api.SessionBehaviorRelease,
		LockDelay: c.lockDelay,
	}, wo)
	if err != nil {
		return "", false, fmt.Errorf("create consul session: %w", err)
	}
	value, err := json.Marshal(m)
	if err != nil {
		c.destroy(sid)
		return "", false, err
	}
	check := &api.KVTxnOp{Verb: api.KVCheckNotExists, Key: c.key}
	if pair != nil {
		check = &api.KVTxnOp{Verb: api.KVCheckIndex, Key: c.key, Index: pair.ModifyIndex}
	}
	ops := api.TxnOps{
		{KV: check},
		{KV: &api.KVTxnOp{Verb: api.KVLock, Key: c.key, Value: value, Session: sid}},
	}
	ok, _, _, err := c.consul.Txn().Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil || !ok {
		c.destroy(sid)
		if err != nil {
			return "", false, fmt.Errorf("lock %s: %w", c.key, err)
		}
		return "", false, nil
	}
	return sid, true, nil
}

// request asks the scheduler for the restart while holding the key under
// session sid, renewing it, then records the answer and releases the key.
func (c *coordinator) request(ctx context.Context, sid string, m marker) (marker, error) {
	renewDone := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		wo := (&api.WriteOptions{}).WithContext(ctx)
		if err := c.consul.Session().RenewPeriodic(c.sessionTTL.String(), sid, wo, renewDone); err != nil && ctx.Err() == nil {
			c.log.Warn("restart lock session lost", "key", c.key, "error", err)
		}
	}()
	defer func() {
		close(renewDone)
		<-renewed
		// RenewPeriodic destroys the session on renewDone, unless ctx
		// ended first: then the key must be released all the same.
		if ctx.Err() != nil {
			c.destroy(sid)
		}
	}()

	b := backoff.New(c.retryMin, c.retryMax)
	for {
		res, err := c.sched.Restart(ctx)
		if err == nil {
			m.AppVersion, m.DeploymentID = res.Version, res.DeploymentID
			break
		}
		if ctx.Err() != nil {
			return m, ctx.Err()
		}
		if !temporary(err) {
			// Every instance would be refused alike: record the
			// failure so that none asks again for this state.
			m.Error = err.Error()
			break
		}
		d := b.Next()
		c.log.Warn("restart request failed; retrying", "error", err, "retry_in", d)
		if err := backoff.Sleep(ctx, d); err != nil {
			return m, err
		}
	}
	m.Done, m.At = true, c.now()
	value, err := json.Marshal(m)
	if err != nil {
		return m, err
	}
	ok, _, err := c.consul.KV().Release(&api.KVPair{Key: c.key, Value: value, Session: sid}, (&api.WriteOptions{}).WithContext(ctx))
	switch {
	case err != nil:
		c.log.Warn("record restart in lock failed", "key", c.key, "error", err)
	case !ok:
		c.log.Warn("restart lock lost before the restart was recorded", "key", c.key)
	}
	if m.Error != "" {
		return m, errors.New(m.Error)
	}
	return m, nil
}

// destroy ends a session, releasing what it holds, even after ctx ended.
func (c *coordinator) destroy(sid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.consul.Session().Destroy(sid, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		c.log.Debug("destroy consul session failed", "error", err)
	}
}
