package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Targets of DESIGN.md.
const (
	targetRate     = 2000.0                 // tasks/s to RUNNING
	targetRawRatio = 2.0                    // at most this much slower than the raw limit
	targetP99      = 100 * time.Millisecond // GET /v2/apps?embed=apps.tasks
	targetRSS      = 200 << 10              // kB
)

// machine describes where the run happened.
type machine struct {
	CPU    string
	Cores  int
	RAM    string
	Kernel string
	Go     string
}

func readMachine() machine {
	m := machine{CPU: "unknown", Cores: runtime.NumCPU(), RAM: "unknown", Kernel: "unknown", Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(value)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if value, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
				m.RAM = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// results is everything one run measured.
type results struct {
	Date    time.Time
	Machine machine
	Config  config

	// The scheduler (stadion serve) phase.
	Post          time.Duration // all POST /v2/apps answered
	ToRunning     time.Duration // first POST to every task TASK_RUNNING in /v2/apps
	ToDeployed    time.Duration // first POST to /v2/deployments empty
	TaskStates    map[string]int
	ServeCPU      float64 // seconds of CPU used by serve during the launch
	ClusterCPU    float64 // and by the cluster process
	Embed         latency
	MemAtRunning  memory // serve's, when every task was running
	MemAfterEmbed memory // after the GET run

	// The raw-limit phase.
	Raw           rawResult
	RawClusterCPU float64
}

func (r results) rate() float64 { return float64(r.Config.Tasks()) / r.ToRunning.Seconds() }
func (r results) rawRate() float64 {
	return float64(r.Raw.Running) / r.Raw.Elapsed.Seconds()
}

func check(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func mb(kb int64) string { return fmt.Sprintf("%.0f MB", float64(kb)/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// markdown renders the results section of bench/README.md.
func (r results) markdown() string {
	var b strings.Builder
	c := r.Config
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Results\n\n")
	w("Written by `make bench` (`go run ./bench/cmd/launchbench`) on %s.\n\n", r.Date.UTC().Format("2006-01-02 15:04 MST"))
	w("Machine: %s, %d cores, %s RAM, %s, %s.\n\n", r.Machine.CPU, r.Machine.Cores, r.Machine.RAM, r.Machine.Kernel, r.Machine.Go)
	w("Workload: %d apps × %d instances = %d tasks, each cpus %g mem %g, no host ports (`portDefinitions: []`), "+
		"posted as %d separate `POST /v2/apps` by %d concurrent clients; `stadion serve` with its default flags "+
		"(`--max_instances_per_offer` %s); `stadion mesos local --agents %d --containerizers simulated --resources \"%s\"` "+
		"in its own process.\n\n",
		c.Apps, c.Instances, c.Tasks(), c.CPUs, c.Mem, c.Apps, c.PostWorkers, c.maxPerOffer(), c.Agents, c.Resources)
	rate, raw := r.rate(), r.rawRate()
	w("| figure | measured | target | met |\n|---|---|---|---|\n")
	w("| launch rate: first POST → %d tasks TASK_RUNNING (`/v2/apps` tasksRunning) | **%.0f tasks/s** (%.2f s) | ≥ %.0f tasks/s | %s |\n",
		c.Tasks(), rate, r.ToRunning.Seconds(), targetRate, check(rate >= targetRate))
	w("| raw limit of the built-in cluster, same run: minimal loop on internal/mesos, fresh cluster | %.0f tasks/s (%.2f s) | — | — |\n",
		raw, r.Raw.Elapsed.Seconds())
	w("| scheduler vs raw limit | %.2f× slower | within %.0f× | %s |\n", raw/rate, targetRawRatio, check(raw/rate <= targetRawRatio))
	w("| `GET /v2/apps?embed=apps.tasks`, %d apps / %d tasks, %d sequential requests | p50 %s, **p99 %s** (max %s, body %.1f MB) | p99 < %s | %s |\n",
		c.Apps, c.Tasks(), r.Embed.N, ms(r.Embed.P50), ms(r.Embed.P99), ms(r.Embed.Max), float64(r.Embed.Bytes)/(1<<20),
		ms(targetP99), check(r.Embed.P99 < targetP99))
	w("| RSS of `stadion serve` at %d tasks (VmRSS after the GETs; at the moment all were running: %s) | **%s** | < %s | %s |\n",
		c.Tasks(), mb(r.MemAtRunning.RSS), mb(r.MemAfterEmbed.RSS), mb(targetRSS), check(r.MemAfterEmbed.RSS < targetRSS))
	w("| peak RSS of `stadion serve` over the run (VmHWM) | %s | < %s | %s |\n",
		mb(r.MemAfterEmbed.HWM), mb(targetRSS), check(r.MemAfterEmbed.HWM < targetRSS))
	w("\nDetails of the run:\n\n")
	w("- %d POSTs answered in %.2f s; `/v2/deployments` empty %.2f s after the first POST; `/v2/tasks` then: %s.\n",
		c.Apps, r.Post.Seconds(), r.ToDeployed.Seconds(), formatStates(r.TaskStates))
	w("- CPU time during the launch: `stadion serve` %.2f s, cluster process %.2f s (%.2f s of wall time × %d cores = %.2f core-seconds available).\n",
		r.ServeCPU, r.ClusterCPU, r.ToRunning.Seconds(), r.Machine.Cores, r.ToRunning.Seconds()*float64(r.Machine.Cores))
	w("- Raw loop: %d ACCEPT calls, %d ACKNOWLEDGE calls over %d concurrent senders; cluster process CPU %.2f s.\n",
		r.Raw.Accepts, r.Raw.Acks, c.RawWorkers, r.RawClusterCPU)
	return b.String()
}

func formatStates(states map[string]int) string {
	if len(states) == 0 {
		return "none"
	}
	var parts []string
	for s, n := range states {
		parts = append(parts, fmt.Sprintf("%d %s", n, s))
	}
	return strings.Join(parts, ", ")
}

// replaceResults returns readme with its "## Results" section (up to the
// next "## " heading or the end) replaced by section, or section appended
// when there is none.
func replaceResults(readme, section string) string {
	section = strings.TrimRight(section, "\n") + "\n"
	lines := strings.SplitAfter(readme, "\n")
	start, end := -1, len(lines)
	for i, line := range lines {
		heading := strings.HasPrefix(line, "## ")
		switch {
		case start < 0 && strings.TrimSpace(line) == "## Results":
			start = i
		case start >= 0 && heading:
			end = i
		}
		if start >= 0 && end < len(lines) {
			break
		}
	}
	if start < 0 {
		return strings.TrimRight(readme, "\n") + "\n\n" + section
	}
	out := strings.Join(lines[:start], "") + section
	if end < len(lines) {
		out += "\n" + strings.Join(lines[end:], "")
	}
	return out
}
