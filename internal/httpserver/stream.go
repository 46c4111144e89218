package httpserver

import (
	"errors"
	"net/http"
	"sync"
	"time"
)

// ErrInterrupted is the error of a Stream's writes after Interrupt.
var ErrInterrupted = errors.New("stream interrupted")

// Stream writes a long-lived response (an event stream) whose end the
// server's timeouts must not decide: NewStream clears the connection's
// write deadline, and each Write is bounded by its own deadline
// instead, so that a client that stops reading fails the write in progress
// and ends the stream rather than holding its goroutine forever.
type Stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration

	mu          sync.Mutex
	interrupted bool
}

// NewStream prepares w for streaming with each write bounded by timeout
// (no bound when 0). Call it before the first write.
func NewStream(w http.ResponseWriter, timeout time.Duration) *Stream {
	rc := http.NewResponseController(w)
	// The server's write deadline would cut the stream. The read deadline
	// does not matter: net/http clears it once the request body is read,
	// and its background read then notices a client that goes away.
	_ = rc.SetWriteDeadline(time.Time{})
	return &Stream{w: w, rc: rc, timeout: timeout}
}

// Write writes p and flushes it, within the stream's timeout.
func (s *Stream) Write(p []byte) error {
	s.mu.Lock()
	if s.interrupted {
		s.mu.Unlock()
		return ErrInterrupted
	}
	if s.timeout > 0 {
		if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Unlock()
	if len(p) > 0 {
		if _, err := s.w.Write(p); err != nil {
			return err
		}
	}
	return s.rc.Flush()
}

// Interrupt makes the write in progress, and every later one, fail at
// once. It may be called from another goroutine while the handler runs.
func (s *Stream) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interrupted = true
	_ = s.rc.SetWriteDeadline(time.Unix(1, 0))
}
