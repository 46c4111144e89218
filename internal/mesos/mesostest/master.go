package mesostest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
)

// WaitTimeout bounds how long NextCall waits.
const WaitTimeout = 10 * time.Second

// Config configures a Master. Zero values mean the defaults.
type Config struct {
	// FrameworkID is assigned to a framework that subscribes without an
	// id. Default "fake-framework-0000".
	FrameworkID string
	// HeartbeatInterval is announced in SUBSCRIBED. Default 15s. The fake
	// sends one HEARTBEAT right after SUBSCRIBED, as Mesos does, and no
	// others unless the test sends them.
	HeartbeatInterval time.Duration
	// TLS serves https with httptest's certificate; HTTPClient returns a
	// client that trusts it.
	TLS bool
}

// Reply is a chosen answer to one request.
type Reply struct {
	// Status is the HTTP status. 0 means the normal answer: 200 and a
	// stream for SUBSCRIBE, 202 for other calls.
	Status int
	// Body is the plain-text body of an answer with a Status.
	Body string
	// Error, on a SUBSCRIBE reply without Status, answers 200 with a stream
	// holding one ERROR event with this message, then closes the stream.
	Error string
}

// Request is one recorded request.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
	// Call is Body decoded; the zero Call if Body does not decode.
	Call mesos.Call
}

// Master is a fake Mesos master. It serves /api/v1/scheduler and
// /master/api/v1/scheduler and checks requests as a real master does:
// POST only (405), Content-Type exactly application/json (415), no
// Mesos-Stream-Id on SUBSCRIBE and matching framework ids (400), and the
// live stream's id on every other call (400, or 403 without a stream).
//
// Methods that take no error result fail the test on error and must be
// called from the test's goroutine.
type Master struct {
	t   testing.TB
	cfg Config
	srv *httptest.Server

	mu          sync.Mutex
	requests    []Request
	arrived     chan struct{} // closed and replaced on every request
	seen        map[mesos.CallType]int
	subReplies  []Reply
	callReplies []Reply
	redirect    string // Location for every request; "" to serve
	streams     int
	stream      *stream // the live subscription, nil if none
}

// NewMaster starts a fake master; it stops when the test ends.
func NewMaster(t testing.TB, cfg Config) *Master {
	t.Helper()
	if cfg.FrameworkID == "" {
		cfg.FrameworkID = "fake-framework-0000"
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 15 * time.Second
	}
	m := &Master{t: t, cfg: cfg, arrived: make(chan struct{}), seen: map[mesos.CallType]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc(mesos.SchedulerPath, m.serve)
	mux.HandleFunc("/master"+mesos.SchedulerPath, m.serve)
	if cfg.TLS {
		m.srv = httptest.NewTLSServer(mux)
	} else {
		m.srv = httptest.NewServer(mux)
	}
	t.Cleanup(func() {
		m.DropStream()
		m.srv.CloseClientConnections()
		m.srv.Close()
	})
	return m
}

// URL returns the master's base URL, such as "http://127.0.0.1:41234", or
// "https://..." with Config.TLS.
func (m *Master) URL() string { return m.srv.URL }

// HTTPClient returns an HTTP client that trusts the master's certificate
// (with Config.TLS) and no other.
func (m *Master) HTTPClient() *http.Client { return m.srv.Client() }

// Addr returns the master's host:port.
func (m *Master) Addr() string { return m.srv.Listener.Addr().String() }

// QueueSubscribe makes the next SUBSCRIBE requests get replies, in order;
// once they are used up, SUBSCRIBE is answered normally.
func (m *Master) QueueSubscribe(replies ...Reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subReplies = append(m.subReplies, replies...)
}

// QueueCall makes the next valid calls other than SUBSCRIBE get replies, in
// order; once they are used up, calls are answered 202.
func (m *Master) QueueCall(replies ...Reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.callReplies = append(m.callReplies, replies...)
}

// RedirectTo makes the master answer every request with a 307 to leader, as
// a non-leading Mesos master does (protocol-relative Location with the
// /master prefix). A nil leader makes it serve again.
func (m *Master) RedirectTo(leader *Master) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.redirect = ""
	if leader != nil {
		m.redirect = "//" + leader.Addr() + "/master" + mesos.SchedulerPath
	}
}

// RedirectLocation makes the master answer every request with a 307 whose
// Location is loc verbatim, such as an absolute URL of another scheme or
// host. "" makes it serve again.
func (m *Master) RedirectLocation(loc string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.redirect = loc
}

// Send writes ev on the live subscription stream.
func (m *Master) Send(ev mesos.Event) {
	m.t.Helper()
	m.mu.Lock()
	s := m.stream
	m.mu.Unlock()
	if s == nil {
		m.t.Fatalf("mesostest: send %s: no live subscription", ev.Type)
	}
	if err := s.send(ev); err != nil {
		m.t.Fatalf("mesostest: send %s: %v", ev.Type, err)
	}
}

// DropStream ends the live subscription stream, if any, as a master that
// closes the connection does.
func (m *Master) DropStream() {
	m.mu.Lock()
	s := m.stream
	m.stream = nil
	m.mu.Unlock()
	if s != nil {
		s.close()
	}
}

// StreamID returns the Mesos-Stream-Id of the live subscription, "" if none.
func (m *Master) StreamID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream == nil {
		return ""
	}
	return m.stream.id
}

// Requests returns every request received so far, in order.
func (m *Master) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

// Calls returns the requests of call type typ received so far, in order.
func (m *Master) Calls(typ mesos.CallType) []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.callsLocked(typ)
}

func (m *Master) callsLocked(typ mesos.CallType) []Request {
	var out []Request
	for _, r := range m.requests {
		if r.Call.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// NextCall returns the first request of call type typ that no earlier
// NextCall returned, waiting up to WaitTimeout for it to arrive.
func (m *Master) NextCall(typ mesos.CallType) Request {
	m.t.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		calls := m.callsLocked(typ)
		n := m.seen[typ]
		arrived := m.arrived
		if n < len(calls) {
			m.seen[typ] = n + 1
			m.mu.Unlock()
			return calls[n]
		}
		m.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline.C:
			m.t.Fatalf("mesostest: no %s call #%d within %s", typ, n+1, WaitTimeout)
		}
	}
}

func (m *Master) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	decodeErr := json.Unmarshal(body, &req.Call)
	if decodeErr != nil {
		req.Call = mesos.Call{}
	}

	m.mu.Lock()
	m.requests = append(m.requests, req)
	close(m.arrived)
	m.arrived = make(chan struct{})
	redirect := m.redirect
	m.mu.Unlock()

	if redirect != "" {
		w.Header().Set("Location", redirect)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if code, msg := m.check(r, req, decodeErr); code != 0 {
		http.Error(w, msg, code)
		return
	}
	if req.Call.Type == mesos.CallSubscribe {
		m.serveSubscribe(w, r, req.Call)
		return
	}
	m.mu.Lock()
	reply := pop(&m.callReplies)
	m.mu.Unlock()
	if reply.Status != 0 {
		http.Error(w, reply.Body, reply.Status)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// check refuses a request the way a Mesos master does; code 0 accepts it.
func (m *Master) check(r *http.Request, req Request, decodeErr error) (int, string) {
	call := req.Call
	streamID := r.Header.Get(mesos.StreamIDHeader)
	switch {
	case r.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, "Expecting one of { 'POST' }"
	case r.Header.Get("Content-Type") != "application/json":
		return http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of application/json or application/x-protobuf"
	case decodeErr != nil:
		return http.StatusBadRequest, "Failed to parse body into JSON: " + decodeErr.Error()
	case call.Type == mesos.CallSubscribe && streamID != "":
		return http.StatusBadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header"
	case call.Type == mesos.CallSubscribe && call.Subscribe == nil:
		return http.StatusBadRequest, "Expecting 'subscribe' to be present"
	case call.Type == mesos.CallSubscribe && idOf(call.FrameworkID) != idOf(call.Subscribe.FrameworkInfo.ID):
		return http.StatusBadRequest, "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'"
	case call.Type == mesos.CallSubscribe:
		return 0, ""
	case call.FrameworkID == nil:
		return http.StatusBadRequest, "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
	}
	live := m.StreamID()
	switch {
	case live == "":
		return http.StatusForbidden, "Framework is not subscribed"
	case streamID != live:
		return http.StatusBadRequest, "The stream ID '" + streamID + "' included in this request didn't match the stream ID currently associated with framework ID"
	}
	return 0, ""
}

func (m *Master) serveSubscribe(w http.ResponseWriter, r *http.Request, call mesos.Call) {
	m.mu.Lock()
	reply := pop(&m.subReplies)
	m.streams++
	id := fmt.Sprintf("stream-%d", m.streams)
	m.mu.Unlock()
	if reply.Status != 0 {
		http.Error(w, reply.Body, reply.Status)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(mesos.StreamIDHeader, id)
	w.WriteHeader(http.StatusOK)
	s := &stream{id: id, w: w, done: make(chan struct{})}
	if reply.Error != "" {
		_ = s.send(mesos.Event{Type: mesos.EventError, Error: &mesos.ErrorEvent{Message: reply.Error}})
		return
	}

	fid := m.cfg.FrameworkID
	if call.FrameworkID != nil {
		fid = call.FrameworkID.Value
	}
	secs := m.cfg.HeartbeatInterval.Seconds()
	subscribed := mesos.Event{Type: mesos.EventSubscribed, Subscribed: &mesos.Subscribed{
		FrameworkID:              mesos.FrameworkID{Value: fid},
		HeartbeatIntervalSeconds: &secs,
	}}
	// Like Mesos, one subscription per framework: a new one closes the old.
	m.mu.Lock()
	old := m.stream
	m.stream = s
	m.mu.Unlock()
	if old != nil {
		old.close()
	}
	if s.send(subscribed) != nil || s.send(mesos.Event{Type: mesos.EventHeartbeat}) != nil {
		return
	}

	select {
	case <-s.done:
	case <-r.Context().Done():
	}
	s.close()
	m.mu.Lock()
	if m.stream == s {
		m.stream = nil
	}
	m.mu.Unlock()
}

// stream is one subscription's response. Its handler is blocked while the
// stream is open, so other goroutines may write to it under mu.
type stream struct {
	id   string
	done chan struct{}

	mu     sync.Mutex
	w      http.ResponseWriter
	closed bool
}

func (s *stream) send(ev mesos.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	var buf bytes.Buffer
	if err := recordio.NewWriter(&buf).WriteRecord(data); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("stream %s is closed", s.id)
	}
	if _, err := s.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return http.NewResponseController(s.w).Flush()
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

func pop(q *[]Reply) Reply {
	if len(*q) == 0 {
		return Reply{}
	}
	r := (*q)[0]
	*q = (*q)[1:]
	return r
}

func idOf(id *mesos.FrameworkID) string {
	if id == nil {
		return ""
	}
	return id.Value
}
