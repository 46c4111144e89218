package master_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/testenv"
)

// waitStatus polls GET url until it answers code, and returns the headers.
func waitStatus(t *testing.T, url string, code int) http.Header {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, h, _ := post(t, url, http.MethodGet, "", nil, "")
		if got == code {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d, want %d", url, got, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestZooKeeperLeadership(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	zkConfig := func() master.Config {
		cfg := fastConfig(t)
		cfg.ZK = z.URL("/mesos")
		cfg.ZKSessionTimeout = 2 * time.Second
		return cfg
	}
	leader := startMaster(t, zkConfig())
	waitStatus(t, leader.URL()+"/master/state", http.StatusOK)
	standby := startMaster(t, zkConfig())
	leaderHost := strings.TrimPrefix(leader.URL(), "http:")

	h := waitStatus(t, standby.URL()+"/master/state", http.StatusTemporaryRedirect)
	if loc := h.Get("Location"); loc != leaderHost+"/master/state" {
		t.Errorf("/master/state Location %q", loc)
	}
	code, h, body := post(t, standby.URL()+"/api/v1/scheduler", http.MethodPost, "application/json", nil,
		`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"x"}}}`)
	if code != http.StatusTemporaryRedirect || h.Get("Location") != leaderHost+"/master/api/v1/scheduler" || body != "" {
		t.Errorf("scheduler on standby: %d Location %q body %q", code, h.Get("Location"), body)
	}
	if _, h, _ := post(t, standby.URL()+"/redirect", http.MethodGet, "", nil, ""); h.Get("Location") != leaderHost {
		t.Errorf("/redirect Location %q", h.Get("Location"))
	}

	info := frameworkInfo()
	info.FailoverTimeout = float(3600)
	s := subscribe(t, leader, info)
	leader.Stop()
	s.closed()

	waitStatus(t, standby.URL()+"/master/state", http.StatusOK)
	info.ID = &mesos.FrameworkID{Value: s.frameworkID}
	s2 := subscribe(t, standby, info)
	if s2.frameworkID != s.frameworkID {
		t.Errorf("framework id after failover %q, want %q", s2.frameworkID, s.frameworkID)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{in: "15secs", want: 15 * time.Second},
		{in: "100ms", want: 100 * time.Millisecond},
		{in: "1mins", want: time.Minute},
		{in: "0.5hrs", want: 30 * time.Minute},
		{in: "2days", want: 48 * time.Hour},
		{in: "1m30s", want: 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := master.ParseDuration(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "secs", "5 parsecs"} {
		if _, err := master.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}
