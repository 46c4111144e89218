package registrator

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/internal/backoff"
)

// watchWait is how long one blocking query of the watch waits.
const watchWait = 5 * time.Minute

// watchGap is the least time between two kicks of the watch, so that a
// busy catalog does not turn into a pass per write.
const watchGap = 250 * time.Millisecond

// blockingQuery waits until the watched listing differs from the one of
// index ("" answers at once) and returns the new index.
type blockingQuery func(ctx context.Context, index string) (string, error)

// agentWatch watches the agent's services by content hash.
func agentWatch(c *api.Client) blockingQuery {
	return func(ctx context.Context, index string) (string, error) {
		var out map[string]any
		q := (&api.QueryOptions{WaitHash: index, WaitTime: watchWait}).WithContext(ctx)
		meta, err := c.Raw().Query("/v1/agent/services", &out, q)
		if err != nil {
			return "", fmt.Errorf("watch agent services: %w", err)
		}
		return meta.LastContentHash, nil
	}
}

// catalogWatch watches the services of the owned nodes by raft index.
func catalogWatch(c *api.Client, owner string) blockingQuery {
	return func(ctx context.Context, index string) (string, error) {
		wait, _ := strconv.ParseUint(index, 10, 64)
		q := (&api.QueryOptions{WaitIndex: wait, WaitTime: watchWait, NodeMeta: map[string]string{MetaOwner: owner}}).WithContext(ctx)
		_, meta, err := c.Catalog().Services(q)
		if err != nil {
			return "", fmt.Errorf("watch catalog services: %w", err)
		}
		return strconv.FormatUint(meta.LastIndex, 10), nil
	}
}

// watchConsul kicks a sync whenever what Consul holds changes behind the
// registrator's back: when Consul comes back after being unreachable (a
// restarted dev agent is empty, a restarted agent may have lost services)
// or when the listing changes (a service removed by hand; the registrator's
// own writes kick too, and then find nothing to do). It returns when ctx
// ends.
func watchConsul(ctx context.Context, query blockingQuery, kick chan<- struct{}, b *backoff.Backoff, log *slog.Logger) {
	index, failed := "", false
	for ctx.Err() == nil {
		next, err := query(ctx, index)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failed {
				log.Warn("consul unreachable, watching for its return", "error", err)
			}
			index, failed = "", true
			_ = backoff.Sleep(ctx, b.Next())
			continue
		}
		b.Reset()
		if failed || (index != "" && next != index) {
			if failed {
				log.Info("consul reachable again")
			}
			select {
			case kick <- struct{}{}:
			default:
			}
		}
		index, failed = next, false
		_ = backoff.Sleep(ctx, watchGap)
	}
}
