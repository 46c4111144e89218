package deployment

import (
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

// BenchmarkScale evaluates the scale step of an app of 100 running
// instances, as every pass does for each changed app of a launch
// (bench/README.md, 100,000 tasks).
func BenchmarkScale(b *testing.B) {
	a := app(instances(100), healthChecked())
	insts := fleet("a", 100, v1)
	action := act(marathon.ScaleApplication, "/a")
	b.ReportAllocs()
	for b.Loop() {
		scale(action, a, insts, t0)
	}
}
