package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
)

// process is a child process of the bench (rig.Process).
type process = rig.Process

func startProcess(bin, workDir, name string, args []string, firstLine chan<- string) (*process, error) {
	return rig.Start(bin, workDir, name, args, firstLine)
}

// clusterProfile, when set (-cluster_cpuprofile), is the prefix of the
// CPU profiles of every cluster started: PREFIX-<name>.pprof.
var clusterProfile string

// startCluster runs `stadion mesos local` and returns it with its master's
// address (host:port) once every agent has registered.
func startCluster(ctx context.Context, bin, workDir, name string, agents int, resources string) (*process, string, error) {
	url := make(chan string, 1)
	args := []string{
		"mesos", "local", "--port", "0", "--agents", strconv.Itoa(agents),
		"--containerizers", "simulated", "--resources", resources,
		"--work_dir", filepath.Join(workDir, name),
	}
	if clusterProfile != "" {
		args = append(args, "--cpuprofile", clusterProfile+"-"+name+".pprof")
	}
	p, err := startProcess(bin, workDir, name, args, url)
	if err != nil {
		return nil, "", err
	}
	select {
	case u := <-url:
		return p, strings.TrimPrefix(u, "http://"), nil
	case <-p.Done():
		return nil, "", fmt.Errorf("%s exited: %v\n%s", name, p.Err(), p.Tail(20))
	case <-time.After(60 * time.Second):
		p.Stop(5 * time.Second)
		return nil, "", fmt.Errorf("%s printed no URL within 60s\n%s", name, p.Tail(20))
	case <-ctx.Done():
		p.Stop(5 * time.Second)
		return nil, "", ctx.Err()
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP waits until url answers 200 or p exits.
func waitHTTP(ctx context.Context, p *process, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited: %v\n%s", p.Name, p.Err(), p.Tail(20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s: %v", url, timeout, err)
		}
	}
}

// memory is a process's resident set from /proc/<pid>/status, in kB.
type memory struct {
	RSS, HWM int64 // VmRSS, VmHWM
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for line := range strings.SplitSeq(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			m.RSS = kb
		case "VmHWM":
			m.HWM = kb
		}
	}
	if m.RSS == 0 {
		return m, errors.New("no VmRSS in /proc status")
	}
	return m, nil
}

// cpuSeconds is the user+system CPU time of pid from /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are fixed.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

// machineBusy is the CPU time the whole machine has spent busy (every
// state but idle and iowait, all cores), from /proc/stat, in seconds.
func machineBusy() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, errors.New("no cpu line in /proc/stat")
	}
	busy := 0.0
	for i, f := range fields[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += v
	}
	return busy / 100, nil // USER_HZ
}

// cpuMeter measures, over an interval, the CPU time of some processes and
// of everything else on the machine: other work on a shared machine slows
// a CPU-bound benchmark, and the results say how much there was.
type cpuMeter struct {
	pids        []int
	busy0, own0 float64
	each0       []float64
}

// startCPUMeter starts measuring; launchbench itself counts as one of pids.
func startCPUMeter(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: append(pids, os.Getpid())}
	m.busy0, _ = machineBusy()
	for _, pid := range m.pids {
		v, _ := cpuSeconds(pid)
		m.each0 = append(m.each0, v)
	}
	return m
}

// stop returns the CPU seconds each of the given pids used (in their
// order, launchbench's last) and what the rest of the machine used.
func (m *cpuMeter) stop() (each []float64, others float64) {
	busy1, _ := machineBusy()
	own := 0.0
	for i, pid := range m.pids {
		v, _ := cpuSeconds(pid)
		each = append(each, v-m.each0[i])
		own += v - m.each0[i]
	}
	return each, max(busy1-m.busy0-own, 0)
}
