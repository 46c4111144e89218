package placement

import (
	"fmt"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// benchRequest builds apps × perApp pending instances (0.05 cpus, 32 MB,
// one dynamic port; every fourth app spread with GROUP_BY over five racks,
// every fourth with hostname MAX_PER 50) for offers agents of 16 cpus,
// 64 GB and 1001 ports.
func benchRequest(apps, perApp, agents, maxPerOffer int) Request {
	var req Request
	req.MaxPerOffer = maxPerOffer
	for i := range agents {
		h := fmt.Sprintf("agent-%02d", i)
		req.Offers = append(req.Offers, offer(host(h), cpus(16), mem(65536), disk(100000), ports(31000, 32000), attr("rack", fmt.Sprintf("r%d", i%5))))
	}
	var as []marathon.App
	for i := range apps {
		opts := []appOpt{id(fmt.Sprintf("/bench/app-%03d", i)), instances(perApp), needCpus(0.05), needMem(32), portDefs(0)}
		switch i % 4 {
		case 1:
			opts = append(opts, constraint("rack", marathon.OpGroupBy))
		case 2:
			opts = append(opts, constraint("hostname", marathon.OpMaxPer, "50"))
		}
		as = append(as, app(opts...))
	}
	// Interleave the apps, as reconcile orders launches.
	byApp := make([][]Pending, len(as))
	for i, a := range as {
		byApp[i] = pending(a)
	}
	for n := range perApp {
		for i := range as {
			req.Pending = append(req.Pending, byApp[i][n])
		}
	}
	// One running instance per app.
	for i, a := range as {
		req.Running = append(req.Running, state.Instance{ID: fmt.Sprintf("run-%d", i), AppID: a.ID, State: mesos.TaskRunning, Hostname: "agent-00", Attributes: map[string]string{"rack": "r0"}})
	}
	return req
}

// BenchmarkFit fits 10,000 pending instances of 100 apps into 50 offers of
// 16 cpus / 64 GB: with Marathon's default of 5 instances per offer (250
// launches) and without a cap (all 10,000 launch).
func BenchmarkFit(b *testing.B) {
	for _, bc := range []struct {
		name string
		max  int
	}{
		{name: "max5", max: 0},
		{name: "nocap", max: -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := benchRequest(100, 100, 50, bc.max)
			var launched int
			b.ReportAllocs()
			for b.Loop() {
				launched = len(Fit(req).Launches)
			}
			b.ReportMetric(float64(launched), "launches/op")
		})
	}
}
