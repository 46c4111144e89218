package wrapper

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/testenv"
)

// TestPrefixReader reads a prefix from a real Consul: keys relative to
// the prefix, folders and sibling prefixes left out, and a blocking query
// that returns on the next change.
func TestPrefixReader(t *testing.T) {
	consul := testenv.StartConsul(t)
	client := consulClient(t, consul)
	put(t, client, "app/", "")
	put(t, client, "app/db/host", "h")
	put(t, client, "app/KEY", "v")
	put(t, client, "app2/OTHER", "x")
	r := &prefixReader{kv: client.KV(), prefix: "app", wait: 10 * time.Second}

	s, err := r.list(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range s.Pairs {
		keys = append(keys, p.Key+"="+string(p.Value))
	}
	if diff := cmp.Diff([]string{"KEY=v", "db/host=h"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}

	type result struct {
		s   Snapshot
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := r.list(context.Background(), s.Index)
		done <- result{s, err}
	}()
	put(t, client, "app/KEY", "v2")
	select {
	case got := <-done:
		if got.err != nil {
			t.Fatal(got.err)
		}
		if got.s.Index <= s.Index || got.s.Digest() == s.Digest() {
			t.Errorf("blocking query returned index %d (was %d) and the same content", got.s.Index, s.Index)
		}
	case <-time.After(waitFor):
		t.Fatal("the blocking query did not return on the change")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.list(ctx, 0); err == nil {
		t.Error("list with a cancelled context succeeded")
	}
}
