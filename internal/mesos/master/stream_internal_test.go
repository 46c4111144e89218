package master

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestUnencodableEventClosesStream checks that an event that cannot be
// encoded, sent with the master's lock held, neither panics nor wedges the
// master: the error is logged and that subscription ends, disconnecting its
// framework.
func TestUnencodableEventClosesStream(t *testing.T) {
	var logs testenv.Buffer
	m, err := Start(context.Background(), Config{
		HeartbeatInterval: time.Second,
		Logger:            slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	failover := 3600.0
	body, _ := json.Marshal(mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{
		FrameworkInfo: mesos.FrameworkInfo{User: "root", Name: "test", FailoverTimeout: &failover}}})
	resp, err := http.Post(m.URL()+"/api/v1/scheduler", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := recordio.NewReader(resp.Body, 0)
	rec, err := r.ReadRecord()
	if err != nil {
		t.Fatal(err)
	}
	var ev mesos.Event
	if err := json.Unmarshal(rec, &ev); err != nil || ev.Subscribed == nil {
		t.Fatalf("first event %s: %v", rec, err)
	}
	id := ev.Subscribed.FrameworkID.Value

	m.mu.Lock()
	m.st.frameworks[id].sub.send(mesos.Event{Type: mesos.EventUpdate, InverseOffers: json.RawMessage("{")})
	m.mu.Unlock()

	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := r.ReadRecord(); err != nil {
				ended <- err
				return
			}
		}
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		fw := m.st.frameworks[id]
		gone := fw != nil && fw.sub == nil
		m.mu.Unlock()
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the framework is still subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="cannot encode event`) {
		t.Errorf("no error logged:\n%s", logs.String())
	}
}

// TestWaitRoom checks the backpressure of a stream: an update waits while
// the backlog is at the soft bound and goes on once the writer takes what is
// queued; it gives up when its request ends or after the write timeout.
func TestWaitRoom(t *testing.T) {
	newSub := func(timeout time.Duration) *subscription {
		return &subscription{q: newQueue[[]byte](), limit: 100, soft: 3, timeout: timeout, log: slog.New(slog.DiscardHandler)}
	}
	t.Run("room below the bound", func(t *testing.T) {
		s := newSub(time.Hour)
		s.push([]byte("1"))
		s.push([]byte("2"))
		if !s.waitRoom(context.Background()) {
			t.Fatal("no room with 2 of 3 queued")
		}
	})
	t.Run("waits for the writer", func(t *testing.T) {
		s := newSub(time.Hour)
		for range 3 {
			s.push([]byte("x"))
		}
		done := make(chan bool, 1)
		go func() { done <- s.waitRoom(context.Background()) }()
		select {
		case ok := <-done:
			t.Fatalf("waitRoom returned %v with the backlog at the bound", ok)
		default:
		}
		if items, _ := s.q.take(); len(items) != 3 {
			t.Fatalf("took %d items", len(items))
		}
		select {
		case ok := <-done:
			if !ok {
				t.Fatal("no room after the writer took the backlog")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waitRoom still waits after the writer took the backlog")
		}
	})
	t.Run("request ends", func(t *testing.T) {
		s := newSub(time.Hour)
		for range 3 {
			s.push([]byte("x"))
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if s.waitRoom(ctx) {
			t.Fatal("room reported for an ended request")
		}
	})
	t.Run("writer stalled", func(t *testing.T) {
		s := newSub(50 * time.Millisecond)
		for range 3 {
			s.push([]byte("x"))
		}
		if s.waitRoom(context.Background()) {
			t.Fatal("room reported while the writer takes nothing")
		}
	})
	t.Run("aborted stream", func(t *testing.T) {
		s := newSub(time.Hour)
		for range 3 {
			s.push([]byte("x"))
		}
		s.abort()
		if !s.waitRoom(context.Background()) {
			t.Fatal("an aborted stream held an update back")
		}
	})
}
