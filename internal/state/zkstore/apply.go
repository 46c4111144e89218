package zkstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/state"
)

// Apply implements state.Store. A Change whose writes fit in one request
// (MaxRequestBytes) is one multi that also sets the commit node; a larger
// one is first written as a write-ahead record and committed, then written
// out in pipelined multis (doc.go). After a lost answer Apply retries for
// up to OperationTimeout and learns from the commit node whether the lost
// try committed.
func (s *Store) Apply(ctx context.Context, c state.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if s.closed.Load() {
		return state.ErrClosed
	}
	if c.Empty() {
		return nil
	}
	e, err := encode(c)
	if err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	token := newToken()
	start := time.Now()
	var writes int
	err = s.retry(ctx, "apply state change", func(ctx context.Context) error {
		if err := s.ready(ctx, false); err != nil {
			return err
		}
		if s.idx.commit.Token == token {
			return nil // an earlier try committed; its answer was lost
		}
		var err error
		writes, err = s.applyOnce(ctx, e, token)
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrFenced) {
			s.dirty = true // the outcome may be unknown
		}
		return fmt.Errorf("apply state change: %w", err)
	}
	s.log.Debug("state change applied",
		"apps", len(c.PutApps)+len(c.DeleteApps),
		"groups", len(c.PutGroups)+len(c.DeleteGroups),
		"instances", len(c.PutInstances)+len(c.DeleteInstances),
		"deployments", len(c.PutDeployments)+len(c.DeleteDeployments),
		"node_writes", writes, "duration", time.Since(start))
	return nil
}

// ready makes the index fit to use: when it may be stale it is rebuilt,
// a committed large Change that is not written out yet is finished, and
// write-ahead pieces nothing refers to are deleted. With verify, it first
// checks the commit node, so that a change by another writer is seen.
func (s *Store) ready(ctx context.Context, verify bool) error {
	if !s.dirty && verify {
		c, err := s.readCommit(ctx)
		if err != nil {
			return err
		}
		if c.version != s.idx.commit.version || c.Pending != nil {
			s.log.Warn("state changed by another writer, reading it again", "commit_version", c.version, "known_version", s.idx.commit.version)
			s.dirty = true
		}
	}
	if !s.dirty {
		return nil
	}
	x, err := s.rebuild(ctx)
	if err != nil {
		return err
	}
	s.idx = x
	if x.commit.Pending != nil {
		if err := s.finishPending(ctx); err != nil {
			return err
		}
	}
	if err := s.collectGarbage(ctx); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// applyOnce writes a Change against the current index and returns the
// number of node writes.
func (s *Store) applyOnce(ctx context.Context, e encoded, token string) (int, error) {
	nodes := s.idx.compile(e, s.maxVersions)
	ops := s.idx.diff(nodes, s.chunk)
	head := s.fenceCheck()
	commit := &gozk.SetDataRequest{Path: s.abs(nodeCommit), Data: commitData(commitRecord{Token: token}), Version: s.idx.commit.version}
	reqs := append(append(slices.Clone(head), commit), s.requests(ops)...)
	if multiSize(reqs) > s.maxRequest {
		return len(ops), s.applyLarge(ctx, nodes, ops, token)
	}
	res, err := s.multi(ctx, reqs)
	if err != nil {
		return 0, s.refused(res, err)
	}
	s.idx.apply(nodes, s.chunk)
	s.idx.commit = commitState{commitRecord: commitRecord{Token: token}, version: res[len(head)].Stat.Version}
	return len(ops), nil
}

// applyLarge writes a Change too large for one multi: the plan as a
// write-ahead record in pieces under txn (pipelined), then one multi that
// points the commit node at it (the Change is committed from here on),
// then the ops in pipelined multis, phase by phase, and a last multi that
// clears the commit node's pointer. A failure after the commit leaves the
// rest to the next method of this store, or to Open in the next leader:
// Apply returns nil, since the Change is stored.
func (s *Store) applyLarge(ctx context.Context, nodes map[string][]byte, ops []op, token string) error {
	payload, err := encodeTxn(nodes)
	if err != nil {
		return err
	}
	pieces := cut(payload, s.chunk)
	if err := s.create(ctx, s.abs(txnPath(token)), nil); err != nil {
		return fmt.Errorf("write write-ahead record: %w", err)
	}
	err = s.gather(ctx, len(pieces), func(k int) error {
		_, err := s.conn.Create(s.abs(piecePath(token, k)), pieces[k], 0, worldACL)
		return err
	})
	if err != nil {
		return fmt.Errorf("write write-ahead record: %w", err)
	}
	if err := s.crashAt("pieces"); err != nil {
		return err
	}

	ref := &txnRef{Pieces: len(pieces), Bytes: len(payload), CRC: crc32.ChecksumIEEE(payload)}
	head := s.fenceCheck()
	reqs := append(slices.Clone(head), &gozk.SetDataRequest{
		Path: s.abs(nodeCommit), Data: commitData(commitRecord{Token: token, Pending: ref}), Version: s.idx.commit.version,
	})
	// A record claimed by another store's garbage collection fails the
	// commit instead of committing a record with pieces missing.
	reqs = append(reqs, &gozk.CheckVersionRequest{Path: s.abs(txnPath(token)), Version: 0})
	res, err := s.multi(ctx, reqs)
	if err != nil {
		err = s.refused(res, err)
		if len(res) > 0 { // refused, so not committed: the record is garbage
			if derr := s.deleteTxn(ctx, token); derr != nil {
				s.dirty = true // collected by the next method
			}
		}
		return err
	}
	s.idx.commit = commitState{commitRecord: commitRecord{Token: token, Pending: ref}, version: res[len(head)].Stat.Version}
	if err := s.crashAt("commit"); err != nil {
		return err
	}

	if err := s.rollForward(ctx, nodes, ops, token); err != nil {
		s.dirty = true
		if !errors.Is(err, errCrash) {
			s.log.Warn("state change committed but not written out, finishing it later", "error", err, "nodes", len(nodes))
		}
	}
	return nil
}

// finishPending finishes the committed large Change the commit node points
// at: it reads the write-ahead record and writes its plan out.
func (s *Store) finishPending(ctx context.Context) error {
	ref, token := s.idx.commit.Pending, s.idx.commit.Token
	pieces := make([][]byte, ref.Pieces)
	err := s.gather(ctx, ref.Pieces, func(k int) (err error) {
		pieces[k], _, err = s.conn.Get(s.abs(piecePath(token, k)))
		return err
	})
	if err != nil {
		return fmt.Errorf("read write-ahead record %s: %w", token, err)
	}
	payload := bytes.Join(pieces, nil)
	if len(payload) != ref.Bytes || crc32.ChecksumIEEE(payload) != ref.CRC {
		return fmt.Errorf("read write-ahead record %s: %w: %d bytes, checksum %08x; want %d, %08x",
			token, errTxn, len(payload), crc32.ChecksumIEEE(payload), ref.Bytes, ref.CRC)
	}
	nodes, err := decodeTxn(payload)
	if err != nil {
		return fmt.Errorf("read write-ahead record %s: %w", token, err)
	}
	s.log.Info("finishing a committed state change", "token", token, "nodes", len(nodes))
	return s.rollForward(ctx, nodes, s.idx.diff(nodes, s.chunk), token)
}

// rollForward writes out the ops of a committed plan, phase by phase, each
// phase in pipelined multis that check the commit node still holds the
// commit, then clears the commit node's pointer and deletes the pieces.
// It is idempotent: after a failure, the next try diffs the plan against
// the nodes as they are.
func (s *Store) rollForward(ctx context.Context, nodes map[string][]byte, ops []op, token string) error {
	head := append(s.fenceCheck(), &gozk.CheckVersionRequest{Path: s.abs(nodeCommit), Version: s.idx.commit.version})
	for first := 0; first < len(ops); {
		last := first + 1
		for last < len(ops) && ops[last].phase() == ops[first].phase() {
			last++
		}
		batches := pack(head, s.requests(ops[first:last]), s.maxRequest)
		err := s.gather(ctx, len(batches), func(i int) error {
			if err := s.crashAt("batch"); err != nil {
				return err
			}
			res, err := s.conn.Multi(batches[i]...)
			if err != nil {
				return s.refused(res, s.zkErr(err))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("write committed state change: %w", err)
		}
		first = last
	}
	s.idx.apply(nodes, s.chunk)

	res, err := s.multi(ctx, append(s.fenceCheck(), &gozk.SetDataRequest{
		Path: s.abs(nodeCommit), Data: commitData(commitRecord{Token: token}), Version: s.idx.commit.version,
	}))
	if err != nil {
		return fmt.Errorf("finish state change: %w", s.refused(res, err))
	}
	s.idx.commit = commitState{commitRecord: commitRecord{Token: token}, version: res[len(res)-1].Stat.Version}
	if err := s.deleteTxn(ctx, token); err != nil {
		return fmt.Errorf("delete write-ahead record: %w", err)
	}
	s.idx.txn = slices.DeleteFunc(s.idx.txn, func(t string) bool { return t == token })
	return nil
}

// collectGarbage deletes the write-ahead records the commit node does not
// point at: those of large Changes that failed before their commit.
func (s *Store) collectGarbage(ctx context.Context) error {
	for _, token := range s.idx.txn {
		if s.idx.commit.Pending != nil && token == s.idx.commit.Token {
			continue
		}
		if err := s.deleteTxn(ctx, token); err != nil {
			return fmt.Errorf("delete write-ahead record of an uncommitted state change: %w", err)
		}
		s.log.Info("deleted the write-ahead record of an uncommitted state change", "token", token)
	}
	s.idx.txn = nil
	return nil
}

// deleteTxn deletes a write-ahead record: it claims the record's node
// (its version moves past 0, so a commit of it fails), then deletes the
// pieces and the node.
func (s *Store) deleteTxn(ctx context.Context, token string) error {
	p := s.abs(txnPath(token))
	var pieces []string
	err := s.gather(ctx, 1, func(int) error {
		if _, err := s.conn.Set(p, nil, -1); err != nil {
			return err
		}
		names, _, err := s.conn.Children(p)
		pieces = names
		return err
	})
	if errors.Is(err, gozk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.gather(ctx, len(pieces), func(i int) error {
		return noNodeOK(s.conn.Delete(p+"/"+pieces[i], -1))
	})
	if err != nil {
		return err
	}
	return s.gather(ctx, 1, func(int) error { return noNodeOK(s.conn.Delete(p, -1)) })
}

// noNodeOK treats a node that is gone already as deleted.
func noNodeOK(err error) error {
	if errors.Is(err, gozk.ErrNoNode) {
		return nil
	}
	return err
}

// refused explains a multi's failure. A lost answer stays ErrNoSession; a
// missing fence node is ErrFenced; anything else ZooKeeper refused (the
// commit node at another version, a node that exists or not against the
// index) means the state is not what this store thinks: ErrConflict, and
// the caller marks the index stale. It runs in gather's goroutines, so it
// changes nothing.
func (s *Store) refused(res []gozk.MultiResponse, err error) error {
	if len(res) == 0 {
		return err // not answered: ErrNoSession, ctx or ErrClosed
	}
	if s.fence != "" && res[0].Error != nil {
		return fmt.Errorf("%w: %s: %w", ErrFenced, s.fence, res[0].Error)
	}
	for i, r := range res {
		if r.Error != nil {
			return fmt.Errorf("%w: operation %d: %w", ErrConflict, i, r.Error)
		}
	}
	return fmt.Errorf("%w: %w", ErrConflict, err)
}

// fenceCheck returns the check of the fence node that starts every write,
// or nothing without a fence.
func (s *Store) fenceCheck() []any {
	if s.fence == "" {
		return nil
	}
	return []any{&gozk.CheckVersionRequest{Path: s.fence, Version: -1}}
}

// requests turns ops into requests.
func (s *Store) requests(ops []op) []any {
	out := make([]any, len(ops))
	for i, o := range ops {
		out[i] = s.request(o)
	}
	return out
}

// commitData encodes a commit record.
func commitData(c commitRecord) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("zkstore: encode commit record: %v", err)) // plain struct: cannot fail
	}
	return b
}

// cut splits data into pieces of at most size bytes (one, for no data).
func cut(data []byte, size int) [][]byte {
	pieces := [][]byte{}
	for len(data) > size {
		pieces = append(pieces, data[:size])
		data = data[size:]
	}
	return append(pieces, data)
}

// errCrash is returned at a crash point set by a test.
var errCrash = errors.New("zkstore: simulated crash")

// crashAt stops a large Apply at a named point when a test asks for it.
func (s *Store) crashAt(point string) error {
	if s.crash == nil {
		return nil
	}
	if err := s.crash(point); err != nil {
		return fmt.Errorf("%w at %s: %w", errCrash, point, err)
	}
	return nil
}
