package main

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// TestServeCredentialsFromEnvironment is the report of issue 15 turned
// around: MARATHON_HTTP_CREDENTIALS is honoured, the password shows in no
// output, and `serve --master local` listens on loopback only.
func TestServeCredentialsFromEnvironment(t *testing.T) {
	t.Setenv("MARATHON_HTTP_CREDENTIALS", "ops:pa55-w0rd")
	t.Setenv("MARATHON_APP_ID", "/stadion") // as in a Marathon task: left alone
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--master", "local", "--local_containerizers", "simulated", "--local_agents", "1",
			"--http_port", "0", "--hostname", "127.0.0.1", "--data_dir", t.TempDir()}, &stdout, &stderr)
	}()
	apiURL := regexp.MustCompile(`Marathon API on (http://[0-9.]+:([0-9]+))`)
	deadline := time.After(30 * time.Second)
	for !apiURL.MatchString(stdout.String()) {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d; stderr:\n%s", code, stderr.String())
		case <-deadline:
			t.Fatalf("serve did not start; stderr:\n%s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	m := apiURL.FindStringSubmatch(stdout.String())
	base, port := m[1], m[2]

	get := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/v2/apps", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v2/apps without credentials: %d, want 401", code)
	}
	if code := get("ops", "pa55-w0rd"); code != http.StatusOK {
		t.Errorf("GET /v2/apps with MARATHON_HTTP_CREDENTIALS: %d, want 200", code)
	}

	// Loopback only: no other address of this machine answers.
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), port), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("serve --master local answers on %s", ipn.IP)
		}
	}

	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve stopped with %d; stderr:\n%s", code, stderr.String())
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "pa55-w0rd") {
		t.Errorf("the password shows in serve's output:\n%s", out)
	}
	if strings.Contains(stderr.String(), "without credentials") {
		t.Errorf("warned of an open API on loopback with credentials:\n%s", stderr.String())
	}
}
