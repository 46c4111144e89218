package registrator

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// fakeMarathon serves the two endpoints the registrator reads, GET
// /v2/apps?embed=apps.tasks and GET /v2/events, from a snapshot the test
// sets, and pushes the events the test publishes.
type fakeMarathon struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	body    []byte // the /v2/apps answer
	pods    []byte // the /v2/pods/::status answer; nil answers 404
	status  int    // when not 0, the status of every /v2/apps answer
	streams map[chan []byte]bool
	queries []url.Values // of the event stream requests
	accepts []string     // their Accept headers
	// heartbeat, when set, is written to every stream this often.
	heartbeat time.Duration
	// user and pass, when set, are the HTTP Basic credentials every
	// request needs (401 otherwise, as serve with --http_credentials).
	user, pass string
	// auths are the Authorization headers received, in order.
	auths []string

	appsCalls   atomic.Int64
	streamCalls atomic.Int64
}

func newFakeMarathon(t testing.TB) *fakeMarathon {
	f := &fakeMarathon{t: t, streams: map[chan []byte]bool{}}
	f.setApps()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/apps", f.apps)
	mux.HandleFunc("GET /v2/events", f.events)
	mux.HandleFunc("GET /v2/pods/::status", f.podStatuses)
	f.srv = httptest.NewServer(f.authenticate(mux))
	t.Cleanup(func() {
		f.closeStreams()
		f.srv.Close()
	})
	return f
}

func (f *fakeMarathon) url() string { return f.srv.URL }

// setApps sets the snapshot /v2/apps answers.
func (f *fakeMarathon) setApps(apps ...marathon.AppInfo) {
	if apps == nil {
		apps = []marathon.AppInfo{}
	}
	b, err := json.Marshal(marathon.AppList{Apps: apps})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.body = b
	f.mu.Unlock()
}

// setPods sets the pods /v2/pods/::status answers (it answered 404
// before, as a scheduler without pods).
func (f *fakeMarathon) setPods(pods ...marathon.PodStatus) {
	if pods == nil {
		pods = []marathon.PodStatus{}
	}
	b, err := json.Marshal(pods)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.pods = b
	f.mu.Unlock()
}

func (f *fakeMarathon) podStatuses(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	body := f.pods
	f.mu.Unlock()
	if body == nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// requireAuth makes every request need these Basic credentials.
func (f *fakeMarathon) requireAuth(user, pass string) {
	f.mu.Lock()
	f.user, f.pass = user, pass
	f.mu.Unlock()
}

// authorizations returns the Authorization headers received.
func (f *fakeMarathon) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auths)
}

func (f *fakeMarathon) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		wantUser, wantPass := f.user, f.pass
		f.mu.Unlock()
		if wantUser != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != wantUser || p != wantPass {
				w.Header().Set("WWW-Authenticate", `Basic realm="Mesosphere Marathon"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"message":"Invalid username or password."}`))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// failApps makes /v2/apps answer status (0: answer again).
func (f *fakeMarathon) failApps(status int) {
	f.mu.Lock()
	f.status = status
	f.mu.Unlock()
}

func (f *fakeMarathon) apps(w http.ResponseWriter, r *http.Request) {
	f.appsCalls.Add(1)
	f.mu.Lock()
	body, status := f.body, f.status
	f.mu.Unlock()
	if r.URL.Query().Get("embed") != "apps.tasks" {
		http.Error(w, `{"message":"want embed=apps.tasks"}`, http.StatusBadRequest)
		return
	}
	if status != 0 {
		http.Error(w, `{"message":"failing on purpose"}`, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (f *fakeMarathon) events(w http.ResponseWriter, r *http.Request) {
	f.streamCalls.Add(1)
	ch := make(chan []byte, 64)
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.Query())
	f.accepts = append(f.accepts, r.Header.Get("Accept"))
	f.streams[ch] = true
	hb := f.heartbeat
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.streams, ch)
		f.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	var tick <-chan time.Time
	if hb > 0 {
		tk := time.NewTicker(hb)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case frame, ok := <-ch:
			if !ok {
				return
			}
			w.Write(frame)
		case <-tick:
			w.Write([]byte("\r\n"))
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// publish sends e to every open stream.
func (f *fakeMarathon) publish(e marathon.Event) {
	frame, err := marathon.EncodeSSE(e)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.streams {
		ch <- frame
	}
}

// closeStreams ends every open stream.
func (f *fakeMarathon) closeStreams() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.streams {
		close(ch)
		delete(f.streams, ch)
	}
}

// openStreams counts the streams being served.
func (f *fakeMarathon) openStreams() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.streams)
}

// testLogger logs through t, at debug level.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// eventually polls check every 20ms until it passes or d ends.
func eventually(t testing.TB, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
