package reconcile

import (
	"cmp"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Victims picks n instances to kill when scaling down, in Marathon's order:
// lost or unreachable first, then unhealthy, then those not running yet
// (staging, starting or waiting for an offer), then by kill selection —
// youngest first (the latest staged) or oldest first.
func Victims(instances []state.Instance, sel marathon.KillSelection, n int) []state.Instance {
	if n <= 0 {
		return nil
	}
	sorted := slices.Clone(instances)
	slices.SortStableFunc(sorted, func(a, b state.Instance) int {
		if c := cmp.Compare(victimRank(a), victimRank(b)); c != 0 {
			return c
		}
		var c int
		if sel == marathon.OldestFirst {
			c = stagedOrder(a).Compare(stagedOrder(b))
		} else {
			c = stagedOrder(b).Compare(stagedOrder(a))
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return sorted[:min(n, len(sorted))]
}

// victimRank orders instances by how readily they are killed.
func victimRank(inst state.Instance) int {
	switch {
	case isUnreachable(inst):
		return 0
	case inst.Healthy != nil && !*inst.Healthy:
		return 1
	case inst.State != mesos.TaskRunning:
		return 2
	default:
		return 3
	}
}

// stagedOrder is when an instance was staged; one still waiting for an
// offer counts as the youngest of all, as Marathon has it.
func stagedOrder(inst state.Instance) time.Time {
	if inst.StagedAt.IsZero() {
		return time.Unix(1<<62, 0)
	}
	return inst.StagedAt
}
