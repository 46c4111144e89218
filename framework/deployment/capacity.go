package deployment

import (
	"math"

	"github.com/stadionhq/stadion/internal/marathon"
)

// epsilon absorbs float error in instances × fraction, so that 10 × 0.7 is 7
// and not 7.000000000000001 rounded up to 8.
const epsilon = 1e-9

// RestartCounts is the arithmetic of a rolling upgrade or restart of an app
// with instances target instances under strategy s, when healthy instances
// are healthy (at the start of the deployment: the healthy old instances).
// It follows Marathon's computeRestartStrategy (TaskReplaceActor):
//
//	minHealthy      = ceil(instances × minimumHealthCapacity)
//	maxCapacity     = floor(instances × (1 + maximumOverCapacity))
//	killImmediately = max(0, healthy − minHealthy)
//
// When minHealthy == maxCapacity <= healthy no instance could ever be
// started, so maxCapacity allows one extra instance (Stadion has no
// resident apps, Marathon's only exception).
func RestartCounts(instances int, s marathon.UpgradeStrategy, healthy int) (minHealthy, maxCapacity, killImmediately int) {
	n := float64(instances)
	minHealthy = int(math.Ceil(n*s.MinimumHealthCapacity - epsilon))
	maxCapacity = int(math.Floor(n*(1+s.MaximumOverCapacity) + epsilon))
	killImmediately = max(0, healthy-minHealthy)
	if minHealthy == maxCapacity && maxCapacity <= healthy {
		maxCapacity++
	}
	return minHealthy, maxCapacity, killImmediately
}
