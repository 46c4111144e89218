package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/httpserver/httpservertest"
	"github.com/stadionhq/stadion/internal/marathon"
)

// startWith starts a server with testConfig changed by edit.
func startWith(t *testing.T, edit func(*server.Config)) *env {
	t.Helper()
	cfg := testConfig(t)
	edit(&cfg)
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return &env{t: t, srv: srv, url: srv.URL()}
}

func TestAPIReadAndIdleTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := startWith(t, func(c *server.Config) {
		c.HTTPReadTimeout = timeout
		c.HTTPIdleTimeout = timeout
	})
	if took := httpservertest.SlowBody(t, e.url, "POST", "/v2/apps"); took < timeout {
		t.Errorf("slow body cut after %v, before the read timeout %v", took, timeout)
	}
	if took := httpservertest.IdleKeepAlive(t, e.url, "/ping"); took < timeout {
		t.Errorf("idle connection closed after %v, before the idle timeout %v", took, timeout)
	}
	// The built-in cluster has the same timeouts.
	cl := e.srv.Cluster()
	if took := httpservertest.IdleKeepAlive(t, cl.Master.URL(), "/health"); took < timeout {
		t.Errorf("master: idle connection closed after %v, before the idle timeout %v", took, timeout)
	}
	if took := httpservertest.SlowBody(t, cl.Agents[0].URL(), "POST", "/cluster/v1/run"); took < timeout {
		t.Errorf("agent: slow body cut after %v, before the read timeout %v", took, timeout)
	}
}

// A flood of connections fills the API's cap: further API connections
// wait, the built-in master and agents (their own listeners) keep
// answering, and the API answers again once the flood goes.
func TestAPIConnectionCapLeavesTheClusterWorking(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.HTTPMaxConnections = 3 })
	flood := httpservertest.Silent(t, e.url, 3)
	c, br, waits := httpservertest.Waits(t, e.url, "/ping", 300*time.Millisecond)
	if !waits {
		t.Fatal("an API connection beyond the cap was answered")
	}
	cl := e.srv.Cluster()
	for _, u := range []string{cl.Master.URL() + "/health", cl.Master.URL() + "/master/state", cl.Agents[0].URL() + "/state"} {
		res, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET %s while the API is flooded: %v", u, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s while the API is flooded: status %d", u, res.StatusCode)
		}
	}
	for _, f := range flood {
		f.Close()
	}
	if resp := httpservertest.Answer(t, c, br); resp.StatusCode != http.StatusOK {
		t.Errorf("status %d once the flood went, want 200", resp.StatusCode)
	}
	e.want(e.do("GET", "/v2/apps", ""), http.StatusOK)
}

func TestMaxConcurrentRequestsAnswers503(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.HTTPMaxConcurrentRequests = 1 })
	// An attached event stream gives its slot back.
	s := e.stream("/v2/events")
	s.until("attached", func(f frame, _ map[string]any) bool { return f.event == "event_stream_attached" }, nil)
	e.want(e.do("GET", "/v2/apps", ""), http.StatusOK)

	// A request whose body has not arrived holds the only slot.
	c := httpservertest.Dial(t, e.url)
	io.WriteString(c, "POST /v2/apps HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	var got resp
	deadline := time.Now().Add(waitFor)
	for got = e.do("GET", "/v2/apps", ""); got.status != http.StatusServiceUnavailable; got = e.do("GET", "/v2/apps", "") {
		if time.Now().After(deadline) {
			t.Fatalf("status %d while the slot is taken, want 503", got.status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if want := `{"message":"Too many concurrent requests! Allowed: 1."}`; strings.TrimSpace(string(got.body)) != want {
		t.Errorf("body %s, want %s", got.body, want)
	}
	c.Close()
	deadline = time.Now().Add(waitFor)
	for e.do("GET", "/v2/apps", "").status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("API still refusing once the slot freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The event stream is exempt from the write timeout: it stays open past
// it while it delivers events.
func TestEventStreamOutlivesWriteTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := startWith(t, func(c *server.Config) {
		c.HTTPWriteTimeout = timeout
		c.HTTPReadTimeout = timeout
		c.HTTPIdleTimeout = timeout
	})
	s := e.stream("/v2/events")
	s.until("attached", func(f frame, _ map[string]any) bool { return f.event == "event_stream_attached" }, nil)
	start := time.Now()
	for i := 0; time.Since(start) < 5*timeout; i++ {
		id := "/tick-" + strings.Repeat("x", i%3) + time.Now().Format("150405.000000")
		e.srv.Events().Publish(marathon.AppTerminatedEvent{AppID: marathon.PathID(id), EventMeta: marathon.Meta(marathon.EventAppTerminated, time.Now())})
		s.until("tick", func(f frame, d map[string]any) bool { return d["appId"] == id }, nil)
	}
}

// A client that reads nothing is cut off once its backlog passes
// --event_stream_max_outstanding_bytes, and the bus never holds more.
func TestNonReadingEventClientIsCutAfterByteBacklog(t *testing.T) {
	const bound = 1 << 20
	e := startWith(t, func(c *server.Config) { c.EventStreamMaxOutstandingBytes = bound })
	bus := e.srv.Events()
	// A small receive buffer fills sooner.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /v2/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
	deadline := time.Now().Add(waitFor)
	for bus.Subscribers() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("event stream not attached")
		}
		time.Sleep(10 * time.Millisecond)
	}

	id := marathon.PathID("/" + strings.Repeat("x", 64<<10))
	var published int
	for published = 0; bus.Subscribers() > 0 && published < 2000; published++ {
		bus.Publish(marathon.AppTerminatedEvent{AppID: id, EventMeta: marathon.Meta(marathon.EventAppTerminated, time.Now())})
		if held := bus.OutstandingBytes(); held > bound {
			t.Fatalf("bus holds %d bytes after %d events, over the bound %d", held, published+1, bound)
		}
	}
	if bus.Subscribers() != 0 {
		t.Fatalf("non-reading subscriber still attached after %d events of 64 KB", published)
	}
	t.Logf("dropped after %d events of 64 KB", published)
	if held := bus.OutstandingBytes(); held != 0 {
		t.Errorf("bus holds %d bytes after the drop", held)
	}
	// The server ends the response: what the socket buffers hold, then EOF.
	httpservertest.WaitClosed(t, c, c)
}
