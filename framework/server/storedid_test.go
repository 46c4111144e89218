package server

import (
	"log/slog"
	"testing"
	"time"
)

// TestStoredFrameworkID: a standby waits for its first read, then shows
// the last value read while a later read hangs (ZooKeeper away).
func TestStoredFrameworkID(t *testing.T) {
	reads := make(chan string)
	s := &storedFrameworkID{
		read:    func() (string, error) { return <-reads, nil },
		timeout: 30 * time.Second,
		log:     slog.New(slog.DiscardHandler),
	}
	got := make(chan string)
	go func() { got <- s.get() }()
	reads <- "fw-1"
	if id := <-got; id != "fw-1" {
		t.Fatalf("first get %q, want fw-1", id)
	}
	s.mu.Lock()
	s.at = time.Time{} // the cached value is old
	s.mu.Unlock()
	if id := s.get(); id != "fw-1" {
		t.Fatalf("get during a hanging read %q, want the last value fw-1", id)
	}
	reads <- "fw-2"
	deadline := time.Now().Add(30 * time.Second)
	for s.get() != "fw-2" {
		if time.Now().After(deadline) {
			t.Fatal("the finished read's value is never shown")
		}
		time.Sleep(time.Millisecond)
	}
}
