package wrapper

import (
	"context"
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

// prefixReader reads the KV under one prefix.
type prefixReader struct {
	kv     *api.KV
	prefix string // without leading or trailing slash
	// wait is the longest a blocking query waits for a change.
	wait time.Duration
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
	full := make([]Pair, len(pairs))
	for i, p := range pairs {
		full[i] = Pair{Key: p.Key, Value: p.Value, ModifyIndex: p.ModifyIndex}
	}
	return Snapshot{Index: meta.LastIndex, Pairs: relativePairs(r.prefix, full)}, nil
}
