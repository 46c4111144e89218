package deployment

import (
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestRestartCounts(t *testing.T) {
	type counts struct{ minHealthy, maxCapacity, killImmediately int }
	cases := []struct {
		name      string
		instances int
		strategy  marathon.UpgradeStrategy
		healthy   int
		want      counts
	}{
		{
			// Marathon docs: start 10 new beside the old, kill old ones as
			// new ones turn healthy (peak 20).
			name: "defaults 1/1, N=10", instances: 10, strategy: marathon.DefaultUpgradeStrategy(), healthy: 10,
			want: counts{minHealthy: 10, maxCapacity: 20, killImmediately: 0},
		},
		{
			// Kill 5, start 5, then one for one.
			name: "0.5/0, N=10", instances: 10, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.5}, healthy: 10,
			want: counts{minHealthy: 5, maxCapacity: 10, killImmediately: 5},
		},
		{
			name: "minimumHealthCapacity 0 kills everything at once", instances: 10, strategy: marathon.UpgradeStrategy{MaximumOverCapacity: 1}, healthy: 10,
			want: counts{minHealthy: 0, maxCapacity: 20, killImmediately: 10},
		},
		{
			name: "0/0 kills everything at once", instances: 4, strategy: marathon.UpgradeStrategy{}, healthy: 4,
			want: counts{minHealthy: 0, maxCapacity: 4, killImmediately: 4},
		},
		{
			// Marathon docs: ceil(3 × 0.7) = ceil(2.1) = 3, all are kept.
			name: "3 × 0.7 keeps all", instances: 3, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.7, MaximumOverCapacity: 1}, healthy: 3,
			want: counts{minHealthy: 3, maxCapacity: 6, killImmediately: 0},
		},
		{
			name: "3 × 0.7 with no over-capacity gets the extra instance", instances: 3, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.7}, healthy: 3,
			want: counts{minHealthy: 3, maxCapacity: 4, killImmediately: 0},
		},
		{
			name: "extra instance when minHealthy == maxCapacity <= healthy", instances: 4, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 1}, healthy: 4,
			want: counts{minHealthy: 4, maxCapacity: 5, killImmediately: 0},
		},
		{
			name: "no extra instance when fewer are healthy", instances: 4, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 1}, healthy: 3,
			want: counts{minHealthy: 4, maxCapacity: 4, killImmediately: 0},
		},
		{
			name: "0.5/0.5, N=4", instances: 4, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.5, MaximumOverCapacity: 0.5}, healthy: 4,
			want: counts{minHealthy: 2, maxCapacity: 6, killImmediately: 2},
		},
		{
			name: "floor of over-capacity", instances: 3, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.5, MaximumOverCapacity: 0.5}, healthy: 3,
			want: counts{minHealthy: 2, maxCapacity: 4, killImmediately: 1},
		},
		{
			name: "exact products are not rounded up by float error", instances: 10, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.7, MaximumOverCapacity: 0.7}, healthy: 10,
			want: counts{minHealthy: 7, maxCapacity: 17, killImmediately: 3},
		},
		{
			name: "more healthy than instances (scale down during upgrade)", instances: 2, strategy: marathon.UpgradeStrategy{MinimumHealthCapacity: 0.5, MaximumOverCapacity: 0.5}, healthy: 4,
			want: counts{minHealthy: 1, maxCapacity: 3, killImmediately: 3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got counts
			got.minHealthy, got.maxCapacity, got.killImmediately = RestartCounts(tc.instances, tc.strategy, tc.healthy)
			if got != tc.want {
				t.Errorf("RestartCounts(%d, %+v, %d) = %+v, want %+v", tc.instances, tc.strategy, tc.healthy, got, tc.want)
			}
		})
	}
}
