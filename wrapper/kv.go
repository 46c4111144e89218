package wrapper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/consul"
)

// newConsulClient returns a client of the Consul agent at addr ("host:port"
// or a URL; empty: CONSUL_HTTP_ADDR or 127.0.0.1:8500). The token, TLS and
// other settings come from the CONSUL_HTTP_* environment variables, read
// as stadion registrator reads them (internal/consul), and token overrides
// CONSUL_HTTP_TOKEN.
func newConsulClient(addr, token string) (*api.Client, error) {
	return consul.NewClient(consul.Config{Address: addr, Token: token})
}

// hasConsulToken reports whether newConsulClient(addr, token) sends a
// token.
func hasConsulToken(addr, token string) bool {
	return consul.HasToken(consul.Config{Address: addr, Token: token})
}

// ErrFilteredByACLs is returned when Consul's ACLs hid keys under the
// prefix from the token.
var ErrFilteredByACLs = errors.New("keys hidden by Consul's ACLs: the token (CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE) may not read every key under the prefix")

// ErrNoToken is returned when no key is readable under the prefix, no
// ACL token is set and Consul's ACLs deny by default.
var ErrNoToken = errors.New("no key readable and no ACL token set, and Consul's ACLs deny by default: set CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE")

// prefixReader reads the KV under one prefix.
type prefixReader struct {
	kv     *api.KV
	prefix string // without leading or trailing slash
	// wait is the longest a blocking query waits for a change.
	wait time.Duration
	// token is whether the client has an ACL token.
	token bool
}

// list returns the KV under the prefix. With index 0 it answers at once;
// otherwise it is a blocking query that returns when the prefix changes
// after index, or after the wait time with the same index.
func (r *prefixReader) list(ctx context.Context, index uint64) (Snapshot, error) {
	q := (&api.QueryOptions{WaitIndex: index, WaitTime: r.wait}).WithContext(ctx)
	// The trailing slash keeps "app" from listing "app2/...".
	pairs, meta, err := r.kv.List(r.prefix+"/", q)
	if err != nil {
		return Snapshot{}, fmt.Errorf("list consul kv %s: %w", r.prefix, err)
	}
	// Consul answers a token that may not read some keys with the others
	// (none, without a token): an environment missing them must neither
	// start the command nor count as a change.
	if meta.ResultsFilteredByACLs {
		return Snapshot{}, fmt.Errorf("list consul kv %s: %w", r.prefix, ErrFilteredByACLs)
	}
	// Consul does not flag every filtered answer (not KV lists, in 1.14):
	// nothing readable, no token and a deny-by-default Consul most likely
	// means a token is missing, not an empty configuration.
	if len(pairs) == 0 && !r.token && meta.DefaultACLPolicy == "deny" {
		return Snapshot{}, fmt.Errorf("list consul kv %s: %w", r.prefix, ErrNoToken)
	}
	full := make([]Pair, len(pairs))
	for i, p := range pairs {
		full[i] = Pair{Key: p.Key, Value: p.Value, ModifyIndex: p.ModifyIndex}
	}
	return Snapshot{Index: meta.LastIndex, Pairs: relativePairs(r.prefix, full)}, nil
}
