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
