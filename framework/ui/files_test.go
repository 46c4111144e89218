package ui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeAgent serves /state and /files/* as a Mesos agent, with the files
// token "tok"; it records the paths it was asked for.
type fakeAgent struct {
	srv    *httptest.Server
	states atomic.Int32
	asked  chan string
}

const agentStateJSON = `{"frameworks":[{"id":"F","executors":[
  {"id":"web.instance-1._app.1","directory":"/work/slaves/S/frameworks/F/executors/web.instance-1._app.1/runs/c1","tasks":[{"id":"web.instance-1._app.1"}]},
  {"id":"pod-executor","directory":"/work/slaves/S/frameworks/F/executors/pod-executor/runs/c2","tasks":[{"id":"pod.instance-2.ct1"}]}
 ],"completed_executors":[]}],"completed_frameworks":[{"id":"G","executors":[],"completed_executors":[
  {"id":"old.instance-3._app.1","directory":"/work/slaves/S/frameworks/G/executors/old.instance-3._app.1/runs/c3","tasks":[]}]}]}`

func newFakeAgent(t *testing.T) *fakeAgent {
	a := &fakeAgent{asked: make(chan string, 10)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		a.states.Add(1)
		io.WriteString(w, agentStateJSON)
	})
	mux.HandleFunc("GET /files/{op}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		p := r.URL.Query().Get("path")
		a.asked <- r.PathValue("op") + " " + p + " " + r.URL.Query().Get("offset")
		switch r.PathValue("op") {
		case "browse":
			json.NewEncoder(w).Encode([]map[string]any{{"path": p + "/stdout", "size": 3, "mode": "-rw-r--r--"}})
		case "read":
			io.WriteString(w, `{"data":"abc","offset":0}`)
		default:
			http.NotFound(w, r)
		}
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func newTestFiles(a *fakeAgent, allowed bool) *Files {
	tasks := map[string]Task{
		"web.instance-1._app.1":  {AppID: "/web", AgentID: "S"},
		"pod.instance-2.ct1":     {AppID: "/pod", AgentID: "S"},
		"old.instance-3._app.1":  {AppID: "/old", AgentID: "S"},
		"gone.instance-4._app.1": {AppID: "/gone", AgentID: "S"},
		"lost.instance-5._app.1": {AppID: "/lost", AgentID: "S2"},
	}
	return NewFiles(FilesConfig{
		Task:    func(id string) (Task, bool) { t, ok := tasks[id]; return t, ok },
		Allowed: func(*http.Request, string) bool { return allowed },
		Agent: func(_ context.Context, id string) (Agent, error) {
			if id != "S" {
				return Agent{}, errors.New("agent " + id + " is not in the master's state")
			}
			return Agent{URL: a.srv.URL, Token: "tok"}, nil
		},
	})
}

func serveFiles(f *Files, target string) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.Handle("GET /ui/tasks/{task}/files/{op}", f)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	return w
}

func TestFilesProxy(t *testing.T) {
	const web = "/work/slaves/S/frameworks/F/executors/web.instance-1._app.1/runs/c1"
	tests := []struct {
		name       string
		target     string
		allowed    bool
		wantStatus int
		wantAsked  string // what the agent was asked, "" for nothing
		wantBody   string // a part of the answer
	}{
		{name: "read a command task's stdout", target: "/ui/tasks/web.instance-1._app.1/files/read?path=stdout&offset=5", allowed: true,
			wantStatus: 200, wantAsked: "read " + web + "/stdout 5", wantBody: `"data":"abc"`},
		{name: "browse answers paths relative to the sandbox", target: "/ui/tasks/web.instance-1._app.1/files/browse?path=", allowed: true,
			wantStatus: 200, wantAsked: "browse " + web + " ", wantBody: `"path":"stdout"`},
		{name: "a task of a task group lives under its executor's tasks/", target: "/ui/tasks/pod.instance-2.ct1/files/read?path=stderr", allowed: true,
			wantStatus: 200, wantAsked: "read /work/slaves/S/frameworks/F/executors/pod-executor/runs/c2/tasks/pod.instance-2.ct1/stderr "},
		{name: "a completed executor still has its sandbox", target: "/ui/tasks/old.instance-3._app.1/files/read?path=stdout", allowed: true,
			wantStatus: 200, wantAsked: "read /work/slaves/S/frameworks/G/executors/old.instance-3._app.1/runs/c3/stdout "},
		{name: "a task the agent forgot", target: "/ui/tasks/gone.instance-4._app.1/files/read?path=stdout", allowed: true,
			wantStatus: 404, wantBody: "no sandbox"},
		{name: "an agent the master does not know", target: "/ui/tasks/lost.instance-5._app.1/files/read?path=stdout", allowed: true,
			wantStatus: 502, wantBody: "not in the master's state"},
		{name: "an unknown task", target: "/ui/tasks/nope/files/read?path=stdout", allowed: true, wantStatus: 404, wantBody: "does not exist"},
		{name: "not allowed to read the app's sandboxes", target: "/ui/tasks/web.instance-1._app.1/files/read?path=stdout", allowed: false,
			wantStatus: 403, wantBody: "view_secrets"},
		{name: "dot-dot", target: "/ui/tasks/web.instance-1._app.1/files/read?path=a/../../x", allowed: true, wantStatus: 400},
		{name: "absolute path", target: "/ui/tasks/web.instance-1._app.1/files/read?path=/etc/passwd", allowed: true, wantStatus: 400},
		{name: "unknown operation", target: "/ui/tasks/web.instance-1._app.1/files/debug?path=x", allowed: true, wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newFakeAgent(t)
			w := serveFiles(newTestFiles(a, tc.allowed), tc.target)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tc.wantStatus)
			}
			if !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Errorf("body %s, want it to contain %q", w.Body, tc.wantBody)
			}
			select {
			case got := <-a.asked:
				if got != tc.wantAsked {
					t.Errorf("agent asked %q, want %q", got, tc.wantAsked)
				}
			default:
				if tc.wantAsked != "" {
					t.Errorf("agent not asked, want %q", tc.wantAsked)
				}
			}
		})
	}
}

func TestFilesProxyCachesTheSandbox(t *testing.T) {
	a := newFakeAgent(t)
	f := newTestFiles(a, true)
	for range 5 {
		if w := serveFiles(f, "/ui/tasks/web.instance-1._app.1/files/read?path=stdout"); w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		<-a.asked
	}
	if n := a.states.Load(); n != 1 {
		t.Errorf("agent state read %d times for 5 reads, want 1", n)
	}
}

func TestIsStatic(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/ui/", true}, {"/ui/js/main.js", true}, {"/ui/tasks/x/files/read", false}, {"/v2/apps", false}, {"/uix", false},
	}
	for _, tc := range tests {
		if got := IsStatic(tc.path); got != tc.want {
			t.Errorf("IsStatic(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
