package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
	"github.com/stadionhq/stadion/internal/loadgen"
)

// sectionTitle is the heading of the README section this command owns.
const sectionTitle = "## Registrator latency"

// machine describes where the run happened.
type machine = rig.Machine

func readMachine() machine { return rig.ReadMachine() }

// cpuSeconds is the user+system CPU time of pid from /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

// rssKB is VmRSS of pid in kB.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// results is what one run measured; the series are sorted.
type results struct {
	Date    time.Time
	Elapsed time.Duration
	Machine machine
	Load    string
	Config  config
	// ConsulVersion is the first line of `consul version`.
	ConsulVersion string

	ToRegistered, ToPassing, ToGone []time.Duration
	RegistratorCPU                  float64
	RegistratorRSS                  int64
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func row(w func(string, ...any), figure string, l []time.Duration) {
	if len(l) == 0 {
		w("| %s | — | — | — | 0 |\n", figure)
		return
	}
	w("| %s | %s | **%s** | %s | %d |\n", figure, ms(loadgen.Percentile(l, 50)), ms(loadgen.Percentile(l, 99)), ms(l[len(l)-1]), len(l))
}

// header writes a section's title, its run and its machine.
func header(w func(string, ...any), title, command string, date time.Time, elapsed time.Duration, m machine, load string) {
	w("%s\n\n", title)
	w("Written by `make bench` (`%s`) on %s, in %.0f s.\n\n", command, date.UTC().Format("2006-01-02 15:04 MST"), elapsed.Seconds())
	w("Machine: %s, %d cores, %s RAM, %s, %s; load average %s at the start.\n\n", m.CPU, m.Cores, m.RAM, m.Kernel, m.Go, load)
}

// markdown renders the section of bench/README.md.
func (r results) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	c := r.Config
	header(w, sectionTitle, "go run ./bench/cmd/registratorbench", r.Date, r.Elapsed, r.Machine, r.Load)
	w("Workload: a %s dev agent, `stadion serve --master local --local_agents 2` and `stadion registrator --health %s` "+
		"(agent mode, this host's tasks), each a process of its own; an app of `examples/test-server` tasks with one port and an HTTP "+
		"health check every second is scaled 0 → %d → 0, %d times. The clock starts at the scheduler's event timestamp "+
		"(`status_update_event`, `health_status_changed_event` alive; millisecond precision) and stops when "+
		"a blocking query on `/v1/health/service/%s` shows the change.\n\n", r.ConsulVersion, c.Health, c.Instances, c.Rounds, serviceName)
	w("| from → to | p50 | p99 | max | samples |\n|---|---|---|---|---|\n")
	row(w, "TASK_RUNNING → service registered in Consul", r.ToRegistered)
	row(w, "healthy → Consul check passing", r.ToPassing)
	row(w, "killed (first of TASK_KILLING, TASK_KILLED) → service gone from Consul", r.ToGone)
	w("\n`stadion registrator` used %.2f s of CPU over the run; VmRSS %.0f MB at the end.\n", r.RegistratorCPU, float64(r.RegistratorRSS)/1024)
	w("\nWhere the time goes (`-keep -registrator_log_level debug` shows each pass): the snapshot read after an event " +
		"(reads at least `--min-fetch-interval`, 20 ms, apart), then the agent registers the burst (8 calls at a time) and " +
		"syncs the catalog. The tasks of a round start together, so the later ones of a burst wait for the earlier ones.\n")
	return b.String()
}
