package reconcile

import (
	"cmp"
	"slices"

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
			c = a.StagedAt.Compare(b.StagedAt)
		} else {
			c = b.StagedAt.Compare(a.StagedAt)
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
