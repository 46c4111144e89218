package agent

import (
	"net/http"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/httpserver/httpservertest"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

func TestHTTPReadAndIdleTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	a := startAgent(t, newFakeMaster(t), func(c *Config) {
		c.HTTP = httpserver.Limits{ReadTimeout: timeout, IdleTimeout: timeout}
	})
	if took := httpservertest.SlowBody(t, a.URL(), "POST", cluster.PathRun); took < timeout {
		t.Errorf("slow call cut after %v, before the read timeout %v", took, timeout)
	}
	if took := httpservertest.IdleKeepAlive(t, a.URL(), "/state"); took < timeout {
		t.Errorf("idle connection closed after %v, before the idle timeout %v", took, timeout)
	}
}

func TestHTTPConnectionCap(t *testing.T) {
	a := startAgent(t, newFakeMaster(t), func(c *Config) {
		c.HTTP = httpserver.Limits{MaxConns: 2}
	})
	silent := httpservertest.Silent(t, a.URL(), 2)
	c, br, waits := httpservertest.Waits(t, a.URL(), "/state", 300*time.Millisecond)
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
