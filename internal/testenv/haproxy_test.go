package testenv

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// haproxyConfig is a config whose one frontend answers body on addr.
func haproxyConfig(addr, body string) string {
	return fmt.Sprintf(`global
    log stderr local0

defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend test
    bind %s
    http-request return status 200 content-type text/plain string %q
`, addr, body)
}

// get returns the body that addr answers.
func get(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// TestHAProxyReload starts HAProxy, reloads it twice with a changed
// configuration each time, then with a broken one, and checks which worker
// answers after each.
func TestHAProxyReload(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(haproxyConfig(addr, "generation 1"))
	h := StartHAProxy(t, cfg)

	b, err := os.ReadFile(h.PidFile())
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	if pid, err := strconv.Atoi(string(b[:len(b)-1])); err != nil || pid != h.proc.cmd.Process.Pid {
		t.Errorf("pid file holds %q, want the master's pid %d", b, h.proc.cmd.Process.Pid)
	}
	if got := get(t, addr); got != "generation 1" {
		t.Fatalf("answer %q, want generation 1", got)
	}
	if n := h.Workers(t); n != 1 {
		t.Fatalf("Workers = %d after the start, want 1", n)
	}

	for gen := 2; gen <= 3; gen++ {
		body := fmt.Sprintf("generation %d", gen)
		write(haproxyConfig(addr, body))
		h.Reload(t)
		if got := get(t, addr); got != body {
			t.Fatalf("answer %q after reload, want %q", got, body)
		}
		if n := h.Workers(t); n != gen {
			t.Fatalf("Workers = %d after reload, want %d", n, gen)
		}
	}

	// A broken configuration fails Reload; the worker of generation 3
	// serves on.
	write("frontend broken\n    no-such-keyword\n")
	tb := &outcomeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Reload(tb)
	}()
	<-done
	if tb.outcome != "fatal" {
		t.Fatalf("Reload of a broken configuration: outcome %q, want fatal", tb.outcome)
	}
	if got := get(t, addr); got != "generation 3" {
		t.Fatalf("answer %q after a failed reload, want generation 3", got)
	}
	if n := h.Workers(t); n != 3 {
		t.Fatalf("Workers = %d after a failed reload, want 3", n)
	}
}

func TestParseShowProc(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    procs
		wantErr bool
	}{
		{
			name: "after a reload",
			out: `#<PID>          <type>          <reloads>       <uptime>        <version>      
20865           master          2 [failed: 1]   0d00h10m13s     2.6.12-1+deb12u4
# workers
22776           worker          1               0d00h00m03s     2.6.12-1+deb12u4
# old workers
20908           worker          2               0d00h10m13s     2.6.12-1+deb12u4
# programs

`,
			want: procs{reloads: 2, failed: 1, workers: []int{22776}},
		},
		{
			name: "no worker yet",
			out:  "#<PID>          <type>          <reloads>       <uptime>        <version>\n1 master 0 [failed: 0] 0d00h00m00s 2.6.12\n# workers\n# programs\n",
			want: procs{},
		},
		{name: "empty", out: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseShowProc(tc.out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(procs{})); diff != "" {
				t.Errorf("procs (-want +got):\n%s", diff)
			}
		})
	}
}
