package master_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

// stalledStream subscribes framework id over a raw connection, reads the
// answer's headers and never reads the stream. It returns the connection,
// its reader and the stream id.
func stalledStream(t *testing.T, m *master.Master, id string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	info := frameworkInfo()
	info.ID = &mesos.FrameworkID{Value: id}
	info.FailoverTimeout = float(3600)
	body, err := json.Marshal(mesos.Call{FrameworkID: info.ID, Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: info}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/v1/scheduler HTTP/1.1\r\nHost: master\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	br := bufio.NewReaderSize(conn, 16)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: status %d", resp.StatusCode)
	}
	return conn, br, resp.Header.Get("Mesos-Stream-Id")
}

// reconcileMany makes the master queue n UPDATE events for the framework;
// it returns the answer's status.
func reconcileMany(t *testing.T, m *master.Master, id, streamID string, n int) int {
	t.Helper()
	var tasks []mesos.ReconcileTask
	for i := range n {
		tasks = append(tasks, mesos.ReconcileTask{TaskID: mesos.TaskID{Value: fmt.Sprintf("task-with-a-long-name-%06d", i)}})
	}
	body, err := json.Marshal(mesos.Call{FrameworkID: &mesos.FrameworkID{Value: id}, Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{Tasks: tasks}})
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := post(t, m.URL()+"/api/v1/scheduler", http.MethodPost, "application/json", map[string]string{"Mesos-Stream-Id": streamID}, string(body))
	return code
}

// frameworkState returns whether the master knows framework id, and whether
// it is active (subscribed).
func frameworkState(t *testing.T, m *master.Master, id string) (known, active bool) {
	t.Helper()
	_, _, body := post(t, m.URL()+"/master/state", http.MethodGet, "", nil, "")
	var st struct {
		Frameworks []struct {
			ID     string `json:"id"`
			Active bool   `json:"active"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	for _, fw := range st.Frameworks {
		if fw.ID == id {
			return true, fw.Active
		}
	}
	return false, false
}

// expectDisconnected waits for the master to close the stalled stream: the
// framework is disconnected but kept for its failover timeout, and the
// connection ends.
func expectDisconnected(t *testing.T, m *master.Master, id string, conn net.Conn, br *bufio.Reader, more func()) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		known, active := frameworkState(t, m, id)
		if !known {
			t.Fatalf("framework %s removed, want it disconnected within its failover timeout", id)
		}
		if !active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("framework %s still subscribed through a stream nobody reads", id)
		}
		if more != nil {
			more()
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Now drain: the stream ends rather than hangs.
	if err := conn.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, br); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the master did not close the stream: %v", err)
	}
}

// TestStalledStreamQueueLimit checks that a stream whose client stops
// reading is closed once too many events wait for it.
func TestStalledStreamQueueLimit(t *testing.T) {
	m := startMaster(t, master.WithStreamLimits(fastConfig(t), 50, time.Hour))
	conn, br, streamID := stalledStream(t, m, "stalled")
	expectDisconnected(t, m, "stalled", conn, br, flood(t, m, streamID))
}

// TestStalledStreamWriteTimeout checks that a stream whose client stops
// reading is closed when a record cannot be written in time, before its
// queue reaches the limit.
func TestStalledStreamWriteTimeout(t *testing.T) {
	m := startMaster(t, master.WithStreamLimits(fastConfig(t), 1<<30, 300*time.Millisecond))
	conn, br, streamID := stalledStream(t, m, "stalled")
	expectDisconnected(t, m, "stalled", conn, br, flood(t, m, streamID))
}

// flood returns a func that makes the master queue 1000 more events for
// the stalled framework on each call, up to about 10 MB in all: more than
// the socket buffers hold.
func flood(t *testing.T, m *master.Master, streamID string) func() {
	calls := 0
	return func() {
		if calls == 40 {
			return
		}
		calls++
		// Once the stream is closed the call gets 403.
		if code := reconcileMany(t, m, "stalled", streamID, 1000); code != http.StatusAccepted && code != http.StatusForbidden {
			t.Fatalf("reconcile: status %d", code)
		}
	}
}
