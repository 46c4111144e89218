package master_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
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

// TestSlowReaderKeepsStream checks that a scheduler that reads its stream
// slower than the agents report is not disconnected: with backpressure the
// agents' updates wait for room instead of filling the queue past its
// limit, and every update arrives once the scheduler reads. The updates
// are large (256 KB) so that the socket buffers hold only some of them:
// without backpressure the queue would pass its limit of 40 while the
// scheduler does not read, and the stream could be closed (how far it gets
// before the reading starts depends on the machine; TestWaitRoom checks
// the waiting itself).
func TestSlowReaderKeepsStream(t *testing.T) {
	const updates = 100
	cfg := fastConfig(t)
	cfg.AgentPingTimeout = 5 * time.Second // the test loads the machine
	m := startMaster(t, master.WithStreamBackpressure(master.WithStreamLimits(cfg, 40, time.Hour), 10))
	a := startAgent(t, m, "cpus:2;mem:1024")
	// The stream is not read until some updates are queued.
	info := frameworkInfo()
	info.ID = &mesos.FrameworkID{Value: "slow"}
	body, err := json.Marshal(mesos.Call{FrameworkID: info.ID, Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: info}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(m.URL()+"/api/v1/scheduler", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	message := strings.Repeat("m", 256<<10)
	tasks := make(chan int, updates)
	for i := range updates {
		tasks <- i
	}
	close(tasks)
	var delivered atomic.Int64
	errs := make(chan error, updates)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range tasks {
				u := cluster.StatusUpdate{AgentID: a.id, FrameworkID: mesos.FrameworkID{Value: "slow"}, Status: mesos.TaskStatus{
					TaskID: mesos.TaskID{Value: fmt.Sprintf("task-%03d", i)}, State: mesos.TaskRunning, Source: mesos.SourceExecutor,
					Message: message, UUID: []byte(fmt.Sprintf("uuid-%03d", i)),
				}}
				if err := cluster.Post(context.Background(), http.DefaultClient, a.masterURL, cluster.PathStatus, a.token, u, nil); err != nil {
					errs <- err
				}
				delivered.Add(1)
			}
		})
	}
	// Some updates are queued (10) or in the socket buffers before the
	// scheduler reads anything.
	deadline := time.Now().Add(waitTimeout)
	for delivered.Load() < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d updates delivered within %v", delivered.Load(), waitTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := recordio.NewReader(resp.Body, 1<<20)
	seen := map[string]bool{}
	for len(seen) < updates {
		rec, err := r.ReadRecord()
		if err != nil {
			t.Fatalf("stream ended after %d of %d updates: %v", len(seen), updates, err)
		}
		var ev mesos.Event
		if err := json.Unmarshal(rec, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == mesos.EventUpdate {
			seen[ev.Update.Status.TaskID.Value] = true
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("status update: %v", err)
	}
	if known, active := frameworkState(t, m, "slow"); !known || !active {
		t.Errorf("framework known %v active %v after %d updates; want both", known, active, updates)
	}
}
