package master_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/httpserver/httpservertest"
	"github.com/stadionhq/stadion/internal/mesos"
)

func TestHTTPReadAndIdleTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cfg := fastConfig(t)
	cfg.HTTP = httpserver.Limits{ReadTimeout: timeout, IdleTimeout: timeout}
	m := startMaster(t, cfg)
	if took := httpservertest.SlowBody(t, m.URL(), "POST", "/api/v1/scheduler"); took < timeout {
		t.Errorf("slow call cut after %v, before the read timeout %v", took, timeout)
	}
	if took := httpservertest.IdleKeepAlive(t, m.URL(), "/health"); took < timeout {
		t.Errorf("idle connection closed after %v, before the idle timeout %v", took, timeout)
	}
}

func TestHTTPConnectionCap(t *testing.T) {
	cfg := fastConfig(t)
	cfg.HTTP = httpserver.Limits{MaxConns: 2}
	m := startMaster(t, cfg)
	silent := httpservertest.Silent(t, m.URL(), 2)
	c, br, waits := httpservertest.Waits(t, m.URL(), "/health", 300*time.Millisecond)
	if !waits {
		t.Fatal("a connection beyond the cap was answered")
	}
	for _, s := range silent {
		s.Close()
	}
	if resp := httpservertest.Answer(t, c, br); resp.StatusCode != http.StatusOK {
		t.Errorf("status %d once the slots freed, want 200", resp.StatusCode)
	}
}

// The SUBSCRIBE stream outlives the server's write timeout: each record
// has its own deadline.
func TestSubscribeStreamOutlivesWriteTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	cfg := fastConfig(t)
	cfg.HeartbeatInterval = timeout / 4
	cfg.HTTP = httpserver.Limits{WriteTimeout: timeout, ReadTimeout: timeout, IdleTimeout: timeout}
	m := startMaster(t, cfg)
	s := subscribe(t, m, frameworkInfo())
	start := time.Now()
	for time.Since(start) < 5*timeout {
		s.next(mesos.EventHeartbeat)
	}
	// The framework is still connected: a call on the stream succeeds.
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
	s.next(mesos.EventHeartbeat)
}
