// Package httpservertest drives an HTTP server over raw loopback sockets
// to check its timeouts and connection cap: a client that sends its body
// too slowly, a keep-alive connection left idle, connections that send
// nothing.
package httpservertest

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
)

// Wait bounds every outcome these helpers wait for.
const Wait = 10 * time.Second

// Dial opens a connection to addr ("host:port" or "http://host:port"),
// closed when the test ends.
func Dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// SlowBody sends method path with a body of 100 bytes of which it sends
// 10, then waits for the server to close the connection. It returns how
// long that took since the request started; a server that holds the
// connection past Wait fails the test.
func SlowBody(t testing.TB, addr, method, path string) time.Duration {
	t.Helper()
	// The server's read deadline starts when it accepts the connection,
	// which may be before Dial returns: start the clock before.
	start := time.Now()
	c := Dial(t, addr)
	if _, err := io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\": \"/a"); err != nil {
		t.Fatal(err)
	}
	WaitClosed(t, c, c)
	return time.Since(start)
}

// IdleKeepAlive sends GET path on a keep-alive connection, reads the
// answer, then waits for the server to close the idle connection. It
// returns how long the connection stayed open from the request on (at
// least the idle time, if the server keeps to it).
func IdleKeepAlive(t testing.TB, addr, path string) time.Duration {
	t.Helper()
	c := Dial(t, addr)
	br := bufio.NewReader(c)
	// The idle time starts when the server has written the answer, which
	// may be before Get has read it: start the clock before the request.
	start := time.Now()
	resp := Get(t, c, br, path)
	if resp.Close {
		t.Fatalf("GET %s: the server closed the connection at once; want keep-alive", path)
	}
	WaitClosed(t, c, br)
	return time.Since(start)
}

// Get sends GET path on c and reads the whole answer.
func Get(t testing.TB, c net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(Wait))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	resp.Body.Close()
	return resp
}

// WaitClosed reads r (c's data) until the server closes c; a read that
// times out after Wait fails the test.
func WaitClosed(t testing.TB, c net.Conn, r io.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Wait))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
}

// Silent opens n connections that send nothing: they hold a server's
// slots (they are not idle keep-alive connections, which a capped
// listener closes to make room) until the server's header timeout or the
// test closes them.
func Silent(t testing.TB, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = Dial(t, addr)
	}
	return conns
}

// Waits reports whether GET path on a new connection gets no answer
// within d: a connection beyond a cap waits. It returns the connection
// and its reader, to read the answer that comes once a slot frees.
func Waits(t testing.TB, addr, path string, d time.Duration) (net.Conn, *bufio.Reader, bool) {
	t.Helper()
	c := Dial(t, addr)
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(d))
	_, err := br.Peek(1)
	return c, br, errors.Is(err, os.ErrDeadlineExceeded)
}

// Answer reads the answer of a request sent by Waits.
func Answer(t testing.TB, c net.Conn, br *bufio.Reader) *http.Response {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Wait))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
