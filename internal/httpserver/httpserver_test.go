package httpserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/httpserver/httpservertest"
)

// waitFor bounds every asynchronous outcome.
const waitFor = 10 * time.Second

// serve runs h with limits on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler, l Limits) (addr string, capped *Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, cl := Server(h, ln, l)
	go srv.Serve(cl)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), cl.(*Listener)
}

// waitEOF reads c until the server closes it and returns how long that
// took; a read that times out fails the test.
func waitEOF(t *testing.T, c net.Conn, r io.Reader) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(waitFor))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
	return time.Since(start)
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	io.WriteString(w, "ok")
})

func TestSlowBodyIsCutAfterReadTimeout(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	addr, _ := serve(t, ok, Limits{ReadTimeout: readTimeout})
	if took := httpservertest.SlowBody(t, addr, "POST", "/apps"); took < readTimeout {
		t.Errorf("cut after %v, before the read timeout %v", took, readTimeout)
	}
}

func TestIdleKeepAliveIsClosedAfterIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr, ln := serve(t, ok, Limits{IdleTimeout: idle})
	if took := httpservertest.IdleKeepAlive(t, addr, "/ping"); took < idle {
		t.Errorf("closed after %v, before the idle timeout %v", took, idle)
	}
	deadline := time.Now().Add(waitFor)
	for ln.Open() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still counted after the close", ln.Open())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCapHoldsAndServesAgainOnceConnectionsGo(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	h := http.NewServeMux()
	h.Handle("/ping", ok)
	h.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	addr, ln := serve(t, h, Limits{MaxConns: 2})

	// Two requests in progress take both slots; neither is idle, so
	// neither can be closed to make room.
	busy := make([]net.Conn, 2)
	for i := range busy {
		busy[i] = httpservertest.Dial(t, addr)
		io.WriteString(busy[i], "GET /block HTTP/1.1\r\nHost: test\r\n\r\n")
		select {
		case <-entered:
		case <-time.After(waitFor):
			t.Fatal("blocking request not served")
		}
	}
	third := httpservertest.Dial(t, addr)
	io.WriteString(third, "GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection beyond the cap answered (err %v); want it to wait", err)
	}
	if n := ln.Open(); n != 2 {
		t.Errorf("%d connections served, want the cap 2", n)
	}

	close(release)
	third.SetReadDeadline(time.Now().Add(waitFor))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("no answer once the slots freed: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
}

func TestCapClosesAnIdleConnectionForANewOne(t *testing.T) {
	addr, ln := serve(t, ok, Limits{MaxConns: 1})
	first := httpservertest.Dial(t, addr)
	br := bufio.NewReader(first)
	httpservertest.Get(t, first, br, "/ping") // first now idles in keep-alive

	second := httpservertest.Dial(t, addr)
	if resp := httpservertest.Get(t, second, bufio.NewReader(second), "/ping"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	waitEOF(t, first, br)
	if n := ln.Open(); n > 1 {
		t.Errorf("%d connections served, want at most 1", n)
	}
}

func TestStreamOutlivesWriteAndReadTimeouts(t *testing.T) {
	const timeout = 200 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := NewStream(w, timeout)
		tick := time.NewTicker(timeout / 4)
		defer tick.Stop()
		for end := time.Now().Add(5 * timeout); time.Now().Before(end); {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if err := s.Write([]byte("tick\n")); err != nil {
					return
				}
			}
		}
		s.Write([]byte("end\n"))
	})
	addr, _ := serve(t, h, Limits{ReadTimeout: timeout, WriteTimeout: timeout, IdleTimeout: timeout})
	c := httpservertest.Dial(t, addr)
	start := time.Now()
	io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
	c.SetReadDeadline(start.Add(waitFor))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream cut after %v: %v", time.Since(start), err)
	}
	if !strings.HasSuffix(string(body), "tick\nend\n") {
		t.Errorf("stream ended early: %q", body)
	}
	if took := time.Since(start); took < 5*timeout {
		t.Errorf("stream ended after %v, before 5 timeouts", took)
	}
}

func TestStreamWriteToAClientThatDoesNotReadFails(t *testing.T) {
	const timeout = 300 * time.Millisecond
	failed := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := NewStream(w, timeout)
		chunk := []byte(strings.Repeat("x", 64<<10))
		for {
			if err := s.Write(chunk); err != nil {
				failed <- err
				return
			}
		}
	})
	addr, _ := serve(t, h, Limits{})
	c := httpservertest.Dial(t, addr)
	io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
	// The client reads nothing: the socket buffers fill, then a write
	// waits past its deadline.
	select {
	case err := <-failed:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("write failed with %v, want a deadline error", err)
		}
	case <-time.After(waitFor):
		t.Fatal("stream write to a non-reading client still blocked")
	}
}
