package master_test

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
	"github.com/stadionhq/stadion/internal/mesos/master"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
)

const waitTimeout = 5 * time.Second

// testLogger logs through t.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fastConfig has short intervals for tests.
func fastConfig(t *testing.T) master.Config {
	return master.Config{
		AgentPingTimeout:     100 * time.Millisecond,
		MaxAgentPingTimeouts: 3,
		AllocationInterval:   50 * time.Millisecond,
		HeartbeatInterval:    time.Second,
		Logger:               testLogger(t),
	}
}

func startMaster(t *testing.T, cfg master.Config) *master.Master {
	t.Helper()
	m, err := master.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start master: %v", err)
	}
	t.Cleanup(m.Stop)
	return m
}

// post sends a raw request and returns the status, headers and body.
func post(t *testing.T, url, method, contentType string, headers map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// stream is a scheduler subscription read in the background.
type stream struct {
	t           *testing.T
	resp        *http.Response
	streamID    string
	frameworkID string
	events      chan mesos.Event
	raw         chan []byte
	url         string
	// headers go with every call, such as Authorization.
	headers map[string]string
}

func subscribeRaw(t *testing.T, m *master.Master, call mesos.Call) *stream {
	t.Helper()
	return subscribeWith(t, m, call, nil)
}

// subscribeWith is subscribeRaw with headers on the SUBSCRIBE and on every
// later call of the stream.
func subscribeWith(t *testing.T, m *master.Master, call mesos.Call, headers map[string]string) *stream {
	t.Helper()
	body, _ := json.Marshal(call)
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("subscribe: status %d: %s", resp.StatusCode, data)
	}
	s := &stream{t: t, resp: resp, streamID: resp.Header.Get("Mesos-Stream-Id"),
		events: make(chan mesos.Event, 1000), raw: make(chan []byte, 1000), url: m.URL(), headers: headers}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(s.events)
		r := recordio.NewReader(resp.Body, 0)
		for {
			rec, err := r.ReadRecord()
			if err != nil {
				return
			}
			var ev mesos.Event
			if err := json.Unmarshal(rec, &ev); err != nil {
				t.Errorf("decode event %s: %v", rec, err)
				return
			}
			s.raw <- rec
			s.events <- ev
		}
	}()
	t.Cleanup(func() { resp.Body.Close(); wg.Wait() })
	return s
}

// subscribe subscribes a framework and waits for SUBSCRIBED.
func subscribe(t *testing.T, m *master.Master, info mesos.FrameworkInfo) *stream {
	t.Helper()
	call := mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}
	if info.ID != nil {
		call.FrameworkID = info.ID
	}
	s := subscribeRaw(t, m, call)
	ev := s.next(mesos.EventSubscribed)
	s.frameworkID = ev.Subscribed.FrameworkID.Value
	return s
}

func frameworkInfo(caps ...string) mesos.FrameworkInfo {
	info := mesos.FrameworkInfo{User: "root", Name: "test"}
	for _, c := range caps {
		info.Capabilities = append(info.Capabilities, mesos.Capability{Type: c})
	}
	return info
}

// next returns the next event of one of the types, skipping others.
func (s *stream) next(types ...mesos.EventType) mesos.Event {
	s.t.Helper()
	return s.until(func(ev mesos.Event) bool {
		for _, ty := range types {
			if ev.Type == ty {
				return true
			}
		}
		return false
	})
}

func (s *stream) until(match func(mesos.Event) bool) mesos.Event {
	s.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("stream closed while waiting")
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			s.t.Fatalf("no matching event within %v", waitTimeout)
		}
	}
}

// update waits for an UPDATE of the task.
func (s *stream) update(taskID string) mesos.TaskStatus {
	s.t.Helper()
	ev := s.until(func(ev mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID.Value == taskID
	})
	return ev.Update.Status
}

// noEvent checks that no event of the types arrives within d.
func (s *stream) noEvent(d time.Duration, types ...mesos.EventType) {
	s.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			for _, ty := range types {
				if ev.Type == ty {
					s.t.Fatalf("unexpected %s event: %+v", ev.Type, ev)
				}
			}
		case <-deadline:
			return
		}
	}
}

// closed waits for the stream to end.
func (s *stream) closed() {
	s.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-deadline:
			s.t.Fatalf("stream not closed within %v", waitTimeout)
		}
	}
}

// call sends a call on the stream's framework and returns status and body.
func (s *stream) call(c mesos.Call) (int, string) {
	s.t.Helper()
	c.FrameworkID = &mesos.FrameworkID{Value: s.frameworkID}
	body, _ := json.Marshal(c)
	headers := map[string]string{"Mesos-Stream-Id": s.streamID}
	for k, v := range s.headers {
		headers[k] = v
	}
	code, _, resp := post(s.t, s.url+"/api/v1/scheduler", http.MethodPost, "application/json", headers, string(body))
	return code, resp
}

// mustCall sends a call and expects 202.
func (s *stream) mustCall(c mesos.Call) {
	s.t.Helper()
	if code, body := s.call(c); code != http.StatusAccepted && code != http.StatusOK {
		s.t.Fatalf("%s: status %d: %s", c.Type, code, body)
	}
}

// disconnect closes the subscription connection.
func (s *stream) disconnect() {
	s.resp.Body.Close()
}

// fakeAgent is an httptest server speaking the agent side of the cluster
// protocol; it records what the master sends.
type fakeAgent struct {
	t         *testing.T
	srv       *httptest.Server
	masterURL string
	id        string
	// token is sent at registration; the fake, like the real agent,
	// refuses calls without it.
	token string
	down  atomic.Bool
	// ackStatus, when not 0, is the status code of the answers to /ack.
	ackStatus atomic.Int32
	// ackGate, when set before the agent starts, holds each answer to
	// /ack until it receives; batchAcks makes the agent serve /acks,
	// whose batches go to batches.
	ackGate   chan struct{}
	batchAcks bool
	batches   chan cluster.Acks
	runs      chan cluster.Run
	kills     chan cluster.Kill
	acks      chan cluster.Ack
	shutdowns chan cluster.Shutdown
	// domain is the agent's fault domain, sent at registration.
	domain json.RawMessage
}

func startAgent(t *testing.T, m *master.Master, resources string) *fakeAgent {
	t.Helper()
	return startAgentIn(t, m, resources, nil)
}

// startAgentIn starts a fake agent with a fault domain (nil: none).
func startAgentIn(t *testing.T, m *master.Master, resources string, domain json.RawMessage) *fakeAgent {
	t.Helper()
	return startAgentWith(t, m, resources, func(a *fakeAgent) { a.domain = domain })
}

// startAgentWith starts a fake agent that configure sets up first.
func startAgentWith(t *testing.T, m *master.Master, resources string, configure func(*fakeAgent)) *fakeAgent {
	t.Helper()
	a := &fakeAgent{
		t: t, masterURL: m.URL(), token: cluster.NewToken(),
		runs: make(chan cluster.Run, 100), kills: make(chan cluster.Kill, 100),
		acks: make(chan cluster.Ack, 100), shutdowns: make(chan cluster.Shutdown, 100),
		batches: make(chan cluster.Acks, 100),
	}
	configure(a)
	mux := http.NewServeMux()
	mux.HandleFunc(cluster.PathPing, func(w http.ResponseWriter, r *http.Request) {
		if a.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	handle := func(path string, f func(*http.Request) bool) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if !f(r) {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
	}
	handle(cluster.PathRun, func(r *http.Request) bool { return decodeInto(r, a.runs) })
	handle(cluster.PathKill, func(r *http.Request) bool { return decodeInto(r, a.kills) })
	mux.HandleFunc(cluster.PathAck, func(w http.ResponseWriter, r *http.Request) {
		if !decodeInto(r, a.acks) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if a.ackGate != nil {
			<-a.ackGate
		}
		if code := a.ackStatus.Load(); code != 0 {
			http.Error(w, "not the pending update", int(code))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	if a.batchAcks {
		handle(cluster.PathAcks, func(r *http.Request) bool { return decodeInto(r, a.batches) })
	}
	handle(cluster.PathShutdown, func(r *http.Request) bool { return decodeInto(r, a.shutdowns) })
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cluster.Authorized(r, a.token) {
			t.Errorf("%s without the agent's token", r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	res, err := mesos.ParseResources(resources)
	if err != nil {
		t.Fatal(err)
	}
	a.register(res, nil)
	return a
}

func decodeInto[T any](r *http.Request, ch chan T) bool {
	var v T
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		return false
	}
	ch <- v
	return true
}

func (a *fakeAgent) register(res mesos.Resources, tasks []cluster.Task) {
	a.t.Helper()
	reg := cluster.Register{
		AgentID: a.id, Hostname: "localhost", URL: a.srv.URL, Resources: res, Tasks: tasks, Token: a.token, Domain: a.domain,
		Attributes: []mesos.Attribute{{Name: "rack", Type: mesos.ValueText, Text: &mesos.Text{Value: "r1"}}},
	}
	var out cluster.Registered
	if err := cluster.Post(context.Background(), http.DefaultClient, a.masterURL, cluster.PathRegister, "", reg, &out); err != nil {
		a.t.Fatalf("register agent: %v", err)
	}
	a.id = out.AgentID
}

// update sends a status update with a fresh uuid and returns the uuid.
func (a *fakeAgent) update(frameworkID, taskID string, state mesos.TaskState) []byte {
	a.t.Helper()
	uuid := make([]byte, 16)
	for i := range uuid {
		uuid[i] = byte(i + int(time.Now().UnixNano()%200))
	}
	a.updateUUID(frameworkID, taskID, state, uuid)
	return uuid
}

// updateUUID posts a status update of taskID with the given uuid.
func (a *fakeAgent) updateUUID(frameworkID, taskID string, state mesos.TaskState, uuid []byte) {
	a.t.Helper()
	u := cluster.StatusUpdate{
		AgentID:     a.id,
		FrameworkID: mesos.FrameworkID{Value: frameworkID},
		Status: mesos.TaskStatus{
			TaskID: mesos.TaskID{Value: taskID}, State: state, Source: mesos.SourceExecutor,
			AgentID: &mesos.AgentID{Value: a.id}, Timestamp: float64(time.Now().Unix()), UUID: uuid,
		},
	}
	if err := cluster.Post(context.Background(), http.DefaultClient, a.masterURL, cluster.PathStatus, a.token, u, nil); err != nil {
		a.t.Fatalf("status update: %v", err)
	}
}

func recv[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %v", what, waitTimeout)
	}
	var zero T
	return zero
}

// launchCall builds an ACCEPT with one LAUNCH of the tasks.
func launchCall(offer mesos.Offer, tasks ...mesos.TaskInfo) mesos.Call {
	return mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{
		OfferIDs:   []mesos.OfferID{offer.ID},
		Operations: []mesos.Operation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: tasks}}},
	}}
}

func commandTask(id string, offer mesos.Offer, resources string) mesos.TaskInfo {
	res, err := mesos.ParseResources(resources)
	if err != nil {
		panic(err)
	}
	for i := range res {
		res[i].Role = ""
	}
	cmd := "sleep 1000"
	return mesos.TaskInfo{
		Name: id, TaskID: mesos.TaskID{Value: id}, AgentID: offer.AgentID,
		Resources: res, Command: &mesos.CommandInfo{Value: &cmd},
	}
}

// launched subscribes, waits for an offer, launches one task and waits for
// the agent to receive it.
func launched(t *testing.T, s *stream, a *fakeAgent, taskID string) mesos.Offer {
	t.Helper()
	offer := s.next(mesos.EventOffers).Offers.Offers[0]
	s.mustCall(launchCall(offer, commandTask(taskID, offer, "cpus:0.5;mem:64")))
	run := recv(t, a.runs, "run")
	if run.Task.TaskID.Value != taskID {
		t.Fatalf("run task %q, want %q", run.Task.TaskID.Value, taskID)
	}
	return offer
}

func float(v float64) *float64 { return &v }
