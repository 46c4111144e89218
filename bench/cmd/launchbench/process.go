package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a child `stadion` process whose stdout and stderr go to a log
// file in the work directory.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // set before done closes
}

// startProcess runs bin with args. When firstLine is not nil, the first
// line the process prints on stdout is sent to it (stadion mesos local
// prints its URL once every agent has registered).
func startProcess(bin, workDir, name string, args []string, firstLine chan<- string) (*process, error) {
	logPath := filepath.Join(workDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logFile
	var stdout io.ReadCloser
	if firstLine != nil {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			logFile.Close()
			return nil, err
		}
	} else {
		cmd.Stdout = logFile
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	if stdout != nil {
		go func() {
			sc := bufio.NewScanner(stdout)
			if sc.Scan() {
				firstLine <- strings.TrimSpace(sc.Text())
			}
			io.Copy(logFile, stdout)
		}()
	}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id, for /proc.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM and waits for the exit, then SIGKILL after timeout.
func (p *process) stop(timeout time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the last lines of the process's log, for error reports.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startCluster runs `stadion mesos local` and returns it with its master's
// address (host:port) once every agent has registered.
func startCluster(ctx context.Context, bin, workDir, name string, agents int, resources string) (*process, string, error) {
	url := make(chan string, 1)
	p, err := startProcess(bin, workDir, name, []string{
		"mesos", "local", "--port", "0", "--agents", strconv.Itoa(agents),
		"--containerizers", "simulated", "--resources", resources,
		"--work_dir", filepath.Join(workDir, name),
	}, url)
	if err != nil {
		return nil, "", err
	}
	select {
	case u := <-url:
		return p, strings.TrimPrefix(u, "http://"), nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited: %v\n%s", name, p.err, p.tail(20))
	case <-time.After(60 * time.Second):
		p.stop(5 * time.Second)
		return nil, "", fmt.Errorf("%s printed no URL within 60s\n%s", name, p.tail(20))
	case <-ctx.Done():
		p.stop(5 * time.Second)
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
		case <-p.done:
			return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, p.tail(20))
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
