package httpserver

import (
	"net"
	"net/http"
	"sync"
)

// Listener serves at most a fixed number of connections at once. Accept
// takes the next connection from the kernel's queue; when every slot is
// taken, it closes a keep-alive connection that waits for its next
// request, if there is one (the server must report connection states
// through ConnState), and otherwise holds the new connection until a
// served one closes. Connections beyond that one wait in the kernel's
// accept queue (or are refused once it is full), so a flood of idle or
// slow connections holds at most n+1 descriptors and the server answers
// again as soon as they go.
type Listener struct {
	net.Listener
	slots chan struct{} // one token per served connection
	idled chan struct{} // a served connection went idle
	done  chan struct{} // closed by Close
	once  sync.Once

	mu   sync.Mutex
	idle map[net.Conn]struct{} // served connections waiting for a request
}

// Listen wraps ln to serve at most n connections (1 when less).
func Listen(ln net.Listener, n int) *Listener {
	return &Listener{
		Listener: ln,
		slots:    make(chan struct{}, max(n, 1)),
		idled:    make(chan struct{}, 1),
		done:     make(chan struct{}),
		idle:     map[net.Conn]struct{}{},
	}
}

// Accept returns the next connection once a slot is free for it: while
// none is, it closes the served connections that go idle.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	select {
	case l.slots <- struct{}{}:
		return l.track(c), nil
	default:
	}
	for {
		l.closeIdle()
		select {
		case l.slots <- struct{}{}:
			return l.track(c), nil
		case <-l.idled:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// Close closes the listener and ends an Accept that waits for a slot.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open returns the number of connections being served.
func (l *Listener) Open() int { return len(l.slots) }

// ConnState is http.Server.ConnState: it keeps track of the connections
// that wait for their next request.
func (l *Listener) ConnState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = struct{}{}
		select {
		case l.idled <- struct{}{}:
		default:
		}
	} else {
		delete(l.idle, c)
	}
}

// closeIdle closes one keep-alive connection waiting for a request; its
// slot frees when it is closed. A client whose request crosses the close
// sees the usual keep-alive race and retries.
func (l *Listener) closeIdle() {
	l.mu.Lock()
	var victim net.Conn
	for c := range l.idle {
		victim = c
		delete(l.idle, c)
		break
	}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
}

func (l *Listener) track(c net.Conn) net.Conn {
	tc := &conn{Conn: c}
	tc.release = func() {
		l.mu.Lock()
		delete(l.idle, tc)
		l.mu.Unlock()
		<-l.slots
	}
	return tc
}

// conn frees its slot when first closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
