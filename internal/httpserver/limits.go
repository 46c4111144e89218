package httpserver

import (
	"errors"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Defaults of Limits.
const (
	// DefaultReadHeaderTimeout bounds the reading of a request's header.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the reading of a whole request: a 10 MB
	// app definition needs under a second on any link a scheduler API
	// serves.
	DefaultReadTimeout = time.Minute
	// DefaultWriteTimeout bounds a response from the end of its request's
	// header: the handler's work (a durable write waits for bbolt or
	// ZooKeeper) and the writing of the body.
	DefaultWriteTimeout = time.Minute
	// DefaultIdleTimeout is how long a keep-alive connection may wait for
	// its next request. It is longer than the 90 s after which Go's and
	// most other HTTP clients drop an idle connection themselves, so that
	// a client rarely sends a request on a connection the server is
	// closing.
	DefaultIdleTimeout = 2 * time.Minute
	// MaxConnsCeiling is the most connections a default cap allows, even
	// with a huge descriptor limit: each connection costs a goroutine and
	// its buffers (tens of KB).
	MaxConnsCeiling = 4096
	// MaxConnsFloor is the least connections a default cap allows.
	MaxConnsFloor = 16
)

// Limits are the timeouts and the connection cap of one server. The zero
// value of every field means its default.
type Limits struct {
	// ReadTimeout bounds the reading of a request, header and body
	// (http.Server.ReadTimeout): a client that sends its body too slowly
	// gets its request failed and its connection closed. Default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds a response (http.Server.WriteTimeout). Streams
	// clear it and bound each write by it instead (NewStream). Default
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that waits longer for
	// its next request. Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxConns is the most connections served at once (Listen). Default
	// DefaultMaxConns(4): a quarter of the process's descriptor limit.
	MaxConns int
}

// Validate reports a negative field.
func (l Limits) Validate() error {
	if l.ReadTimeout < 0 || l.WriteTimeout < 0 || l.IdleTimeout < 0 {
		return errors.New("http timeouts must not be negative")
	}
	if l.MaxConns < 0 {
		return errors.New("http max connections must not be negative")
	}
	return nil
}

// WithDefaults returns l with its zero fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	if l.ReadTimeout == 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns(4)
	}
	return l
}

// DefaultMaxConns is a connection cap worth 1/share of the process's
// descriptor limit (the soft RLIMIT_NOFILE, which the Go runtime raises to
// the hard limit at start), between MaxConnsFloor and MaxConnsCeiling.
// Servers of one process take shares that leave most descriptors to the
// rest: `stadion serve --master local` gives the API a quarter and the
// built-in master and agents an eighth between them, so that a flood of
// API connections leaves the cluster room to work.
func DefaultMaxConns(share int) int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 256
	}
	n := rl.Cur / uint64(max(share, 1))
	return int(min(max(n, MaxConnsFloor), MaxConnsCeiling))
}

// Server returns a server of h with l's timeouts (defaults filled in) and
// ln wrapped to serve at most l.MaxConns connections; serve with
// srv.Serve(capped).
func Server(h http.Handler, ln net.Listener, l Limits) (srv *http.Server, capped net.Listener) {
	l = l.WithDefaults()
	cl := Listen(ln, l.MaxConns)
	srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(DefaultReadHeaderTimeout, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		ConnState:         cl.ConnState,
	}
	return srv, cl
}
