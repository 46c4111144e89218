package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
	"github.com/stadionhq/stadion/e2e"
	"github.com/stadionhq/stadion/internal/loadgen"
)

// sectionTitle is the heading of the README section this command owns.
const sectionTitle = "## Pipeline: routing and zero downtime"

// report is what e2e TestPipeline writes to $STADION_E2E_REPORT.
type report e2e.Report

// markdown renders the section of bench/README.md.
func (r report) markdown(m rig.Machine, load string, elapsed time.Duration) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n\n", sectionTitle)
	w("Written by `make bench` (`go run ./bench/cmd/pipelinebench`, which runs `go test -tags e2e -run TestPipeline ./e2e`) "+
		"on %s, in %.0f s.\n\n", dateOf(r.Date), elapsed.Seconds())
	w("Machine: %s, %d cores, %s RAM, %s, %s; load average %s at the start.\n\n", m.CPU, m.Cores, m.RAM, m.Kernel, m.Go, load)
	w("Workload: the article's pipeline on one machine: ZooKeeper, a Consul dev agent, `stadion serve --master local --local_agents 2`, " +
		"`stadion registrator`, consul-template rendering `templates/haproxy.cfg.ctmpl` (wait 100ms:500ms) and reloading " +
		"HAProxy 2.6 in master-worker mode; `examples/test-server` as a Docker image FROM scratch with `stadion wrap` as its " +
		"entrypoint, deployed by `stadion deploy`. The load is 200 GET/s, each on a new TCP connection, through HAProxy; " +
		"a request fails on any error, a timeout (5 s) or an answer that is not a test-server's 200.\n\n")

	w("| task healthy → routable through HAProxy | min | p50 | max | samples | target |\n|---|---|---|---|---|---|\n")
	l := slices.Clone(r.HealthyToRoutable)
	slices.Sort(l)
	if len(l) > 0 {
		w("| every new task (scaled 2 → 5, rolling upgrade, KV restart): the scheduler's first successful check → its first answer through `:3000` | %.2f s | %.2f s | **%.2f s** | %d | < 2 s |\n\n",
			l[0], l[len(l)/2], l[len(l)-1], len(l))
		w("A negative figure is a task that HAProxy routed to before the scheduler's own first check passed: Consul's check of it ran first.\n\n")
	} else {
		w("| (no samples) | | | | 0 | < 2 s |\n\n")
	}

	w("| under 200 req/s | requests | failed | p50 | p90 | p99 | max | target |\n|---|---|---|---|---|---|---|---|\n")
	row := func(name string, res loadgen.Result) {
		w("| %s | %d | **%d** | %s | %s | %s | %s | 0 failed |\n", name, res.Requests, res.Failures,
			ms(res.P50), ms(res.P90), ms(res.P99), ms(res.Max))
	}
	row("rolling upgrade of 4 instances (0.5/0.5) to a new image, `:3000`", r.RollingUpgrade)
	row("10 consecutive HAProxy reloads, external `:80` by host", r.Reloads)
	row("rolling restart after one Consul KV change (`stadion wrap`), `:3000`", r.KVRestart)
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// dateOf shows the test's RFC 3339 date as the other sections do.
func dateOf(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}
