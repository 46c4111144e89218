package main

import (
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
	"time"

	"github.com/stadionhq/stadion/bench/internal/rig"
)

// process is a child process of the bench (rig.Process).
type process = rig.Process

func startProcess(bin, workDir, name string, args ...string) (*process, error) {
	return rig.Start(bin, workDir, name, args, nil)
}

// findConsul returns path when it is an executable, else consul from PATH.
func findConsul(path string) (string, error) {
	if abs, err := filepath.Abs(path); err == nil {
		if fi, err := os.Stat(abs); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return abs, nil
		}
	}
	return exec.LookPath("consul")
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

func freePorts(n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// startConsul runs a Consul dev agent on loopback ports and returns it with
// its HTTP address once it has a leader.
func startConsul(ctx context.Context, bin, workDir string, timeout time.Duration) (*process, string, error) {
	ports, err := freePorts(5)
	if err != nil {
		return nil, "", err
	}
	p, err := startProcess(bin, workDir, "consul", "agent", "-dev", "-node", "bench",
		"-bind", "127.0.0.1", "-client", "127.0.0.1", "-data-dir", filepath.Join(workDir, "consul"),
		"-http-port", strconv.Itoa(ports[0]), "-dns-port", strconv.Itoa(ports[1]),
		"-serf-lan-port", strconv.Itoa(ports[2]), "-serf-wan-port", strconv.Itoa(ports[3]),
		"-server-port", strconv.Itoa(ports[4]), "-grpc-port", "-1", "-grpc-tls-port", "-1", "-log-level", "warn")
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	err = waitFor(ctx, p, timeout, "consul leader", func() error {
		body, err := get("http://" + addr + "/v1/status/leader")
		if err != nil {
			return err
		}
		if strings.Trim(strings.TrimSpace(body), `"`) == "" {
			return errors.New("no leader yet")
		}
		return nil
	})
	if err != nil {
		p.Stop(5 * time.Second)
		return nil, "", err
	}
	return p, addr, nil
}

// get returns the body of a 200 answer.
func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), nil
}

// waitFor polls check every 50ms until it passes, p exits, ctx ends or
// timeout passes.
func waitFor(ctx context.Context, p *process, timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil {
			select {
			case <-p.Done():
				return fmt.Errorf("%s exited while waiting for %s: %v\n%s", p.Name, what, p.Err(), p.Tail(20))
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s within %v: %v", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// buildTestServer builds examples/test-server into dir.
func buildTestServer(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "test-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./examples/test-server")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build examples/test-server (run from the repository root): %v\n%s", err, b)
	}
	return out, nil
}

// consulVersion is the first line of `consul version` ("Consul v1.14.11").
func consulVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "Consul (unknown version)"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
}
