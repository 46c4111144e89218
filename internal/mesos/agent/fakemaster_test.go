package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// testFramework is the framework id the tests launch tasks for.
const testFramework = "fw-1"

// wait bounds every wait of the tests on the agent.
const wait = 20 * time.Second

// fakeMaster speaks the master's side of the cluster protocol: it accepts
// registrations, records status updates (first deliveries and resends
// apart), and lets the test drive the agent.
type fakeMaster struct {
	srv *httptest.Server

	// pingTimeout is what Registered tells the agent.
	pingTimeout float64
	// statusAnswer, when not 0, is the status code for the next update.
	statusAnswer atomic.Int32

	registers chan cluster.Register
	updates   chan cluster.StatusUpdate // first delivery of each uuid
	resends   chan cluster.StatusUpdate // later deliveries

	// holdRegister, when set before the agent starts, holds the answers
	// to registrations until it is closed.
	holdRegister chan struct{}

	mu   sync.Mutex
	seen map[string]bool
	// tokens are the agent tokens registered: status updates must carry
	// one.
	tokens map[string]bool
}

func newFakeMaster(t *testing.T) *fakeMaster {
	t.Helper()
	m := &fakeMaster{
		pingTimeout: 60,
		registers:   make(chan cluster.Register, 1000),
		updates:     make(chan cluster.StatusUpdate, 10000),
		resends:     make(chan cluster.StatusUpdate, 10000),
		seen:        map[string]bool{},
		tokens:      map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+cluster.PathRegister, func(w http.ResponseWriter, r *http.Request) {
		var reg cluster.Register
		if !cluster.Decode(w, r, &reg) {
			return
		}
		if reg.Token == "" {
			t.Error("registration without a token")
		}
		m.mu.Lock()
		m.tokens[reg.Token] = true
		m.mu.Unlock()
		m.registers <- reg
		if m.holdRegister != nil {
			<-m.holdRegister
		}
		id := reg.AgentID
		if id == "" {
			id = "agent-1"
		}
		_ = json.NewEncoder(w).Encode(cluster.Registered{AgentID: id, MasterID: "master-1", PingTimeoutSeconds: m.pingTimeout})
	})
	mux.HandleFunc("POST "+cluster.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		var upd cluster.StatusUpdate
		if !cluster.Decode(w, r, &upd) {
			return
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		m.mu.Lock()
		known := m.tokens[token]
		m.mu.Unlock()
		if !known {
			t.Errorf("status update without a registered token")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if code := m.statusAnswer.Swap(0); code != 0 {
			http.Error(w, "as the test wishes", int(code))
			return
		}
		key := upd.Status.TaskID.Value + "/" + string(upd.Status.UUID)
		m.mu.Lock()
		dup := m.seen[key]
		m.seen[key] = true
		m.mu.Unlock()
		if dup {
			m.resends <- upd
		} else {
			m.updates <- upd
		}
		w.WriteHeader(http.StatusAccepted)
	})
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

// next returns the next first-delivered update.
func (m *fakeMaster) next(t *testing.T) cluster.StatusUpdate {
	t.Helper()
	select {
	case u := <-m.updates:
		return u
	case <-time.After(wait):
		t.Fatal("no status update arrived")
		return cluster.StatusUpdate{}
	}
}

// expect returns the next update and checks its task and state.
func (m *fakeMaster) expect(t *testing.T, task string, state mesos.TaskState) mesos.TaskStatus {
	t.Helper()
	u := m.next(t)
	if u.Status.TaskID.Value != task || u.Status.State != state {
		t.Fatalf("update = %s %s (%q), want %s %s", u.Status.TaskID.Value, u.Status.State, u.Status.Message, task, state)
	}
	return u.Status
}

// expectAck is expect followed by an acknowledgement.
func (m *fakeMaster) expectAck(t *testing.T, a *Agent, task string, state mesos.TaskState) mesos.TaskStatus {
	t.Helper()
	st := m.expect(t, task, state)
	if code := ack(t, a, st); code != http.StatusAccepted {
		t.Fatalf("ack of %s answered %d", state, code)
	}
	return st
}

// nextRegister returns the next registration.
func (m *fakeMaster) nextRegister(t *testing.T) cluster.Register {
	t.Helper()
	select {
	case r := <-m.registers:
		return r
	case <-time.After(wait):
		t.Fatal("no registration arrived")
		return cluster.Register{}
	}
}

// post sends a cluster message to the agent and returns the status code.
func post(t *testing.T, a *Agent, path string, body any) int {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.URL()+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func ack(t *testing.T, a *Agent, st mesos.TaskStatus) int {
	t.Helper()
	return post(t, a, cluster.PathAck, cluster.Ack{FrameworkID: mesos.FrameworkID{Value: testFramework}, TaskID: st.TaskID, UUID: st.UUID})
}

// run launches info for testFramework, which has TASK_KILLING_STATE.
func run(t *testing.T, a *Agent, info mesos.TaskInfo) {
	t.Helper()
	runFor(t, a, info, mesos.CapabilityTaskKillingState)
}

// runFor launches info for testFramework with the capabilities caps.
func runFor(t *testing.T, a *Agent, info mesos.TaskInfo, caps ...string) {
	t.Helper()
	fw := mesos.FrameworkInfo{ID: &mesos.FrameworkID{Value: testFramework}, User: "root", Name: "test"}
	for _, c := range caps {
		fw.Capabilities = append(fw.Capabilities, mesos.Capability{Type: c})
	}
	r := cluster.Run{FrameworkID: mesos.FrameworkID{Value: testFramework}, FrameworkInfo: fw, Task: info}
	if code := post(t, a, cluster.PathRun, r); code != http.StatusAccepted {
		t.Fatalf("run answered %d", code)
	}
}

func kill(t *testing.T, a *Agent, task string, grace time.Duration) {
	t.Helper()
	k := cluster.Kill{FrameworkID: mesos.FrameworkID{Value: testFramework}, TaskID: mesos.TaskID{Value: task}}
	if grace > 0 {
		k.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(grace)}}
	}
	if code := post(t, a, cluster.PathKill, k); code != http.StatusAccepted {
		t.Fatalf("kill answered %d", code)
	}
}

// shellTask is a command task running cmd under /bin/sh.
func shellTask(id, cmd string) mesos.TaskInfo {
	return mesos.TaskInfo{
		Name:    id,
		TaskID:  mesos.TaskID{Value: id},
		Command: &mesos.CommandInfo{Value: &cmd},
		Resources: []mesos.Resource{
			{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.1}},
			{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 32}},
		},
	}
}

// startAgent starts an agent against m and waits for its registration.
func startAgent(t *testing.T, m *fakeMaster, edit func(*Config)) *Agent {
	t.Helper()
	a := startAgentUnregistered(t, m, edit)
	select {
	case <-a.Registered():
	case <-time.After(wait):
		t.Fatal("agent did not register")
	}
	return a
}

// startAgentUnregistered starts an agent without waiting for its
// registration.
func startAgentUnregistered(t *testing.T, m *fakeMaster, edit func(*Config)) *Agent {
	t.Helper()
	cfg := Config{
		Master:         m.srv.URL,
		WorkDir:        t.TempDir(),
		Resources:      "cpus:4;mem:4096;disk:10000;ports:[31000-32000]",
		StatusRetryMin: 5 * time.Second,
		StatusRetryMax: 10 * time.Second,
		Logger:         testLogger(t),
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start agent: %v", err)
	}
	t.Cleanup(a.Stop)
	return a
}

// waitFor polls cond until it holds or the wait ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger logs through t until the test ends.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(b), "\n"))
	}
	return len(b), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
