package testenv

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestConsulRestartKeepsPorts(t *testing.T) {
	c := StartConsul(t)

	req, err := http.NewRequest(http.MethodPut, "http://"+c.HTTPAddr+"/v1/kv/testenv/key", strings.NewReader("value"))
	if err != nil {
		t.Fatal(err)
	}
	if got := do(t, req); got != "true" {
		t.Fatalf("KV put answered %q, want true", got)
	}
	get, _ := http.NewRequest(http.MethodGet, "http://"+c.HTTPAddr+"/v1/kv/testenv/key?raw", nil)
	if got := do(t, get); got != "value" {
		t.Fatalf("KV get = %q, want %q", got, "value")
	}

	addr := c.HTTPAddr
	c.Stop(t)
	c.Stop(t) // idempotent
	if err := c.hasLeader(); err == nil {
		t.Fatal("consul still answers after Stop")
	}
	c.Start(t)
	if c.HTTPAddr != addr {
		t.Fatalf("HTTPAddr %s after restart, want %s", c.HTTPAddr, addr)
	}
	if err := c.hasLeader(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func do(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", req.Method, req.URL, resp.Status, b)
	}
	return strings.TrimSpace(string(b))
}

func TestConsulWithACLs(t *testing.T) {
	c := StartConsulWith(t, ConsulConfig{ManagementToken: "3f0c2a8e-6b1d-4c55-9a7e-1d2b3c4d5e6f"})
	put := func(token string) int {
		req, err := http.NewRequest(http.MethodPut, "http://"+c.HTTPAddr+"/v1/kv/testenv/key", strings.NewReader("value"))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("X-Consul-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := put(""); got != http.StatusForbidden {
		t.Errorf("KV put without a token: %d, want 403", got)
	}
	if got := put(c.Token); got != http.StatusOK {
		t.Errorf("KV put with the management token: %d, want 200", got)
	}
}
