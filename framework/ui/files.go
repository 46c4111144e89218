package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Agent is where the files of an agent are read: its base URL and the
// bearer token of its files API ("" sends none, as to a Mesos agent that
// does not authenticate reads).
type Agent struct {
	URL   string
	Token string
}

// Task is what the scheduler knows of a task: its app and agent.
type Task struct {
	AppID   string
	AgentID string
}

// FilesConfig configures Files.
type FilesConfig struct {
	// Task finds a task the scheduler runs; false for an unknown one.
	Task func(taskID string) (Task, bool)
	// Allowed reports whether the request may read the sandboxes of app
	// appID (its principal's view_secrets: a sandbox holds the app's file
	// secrets).
	Allowed func(r *http.Request, appID string) bool
	// Agent finds an agent by id.
	Agent func(ctx context.Context, agentID string) (Agent, error)
	// Client makes the calls to agents; nil uses one with a 10 s timeout.
	Client *http.Client
	// Logger receives the proxy's logs; nil discards them.
	Logger *slog.Logger
}

// Files serves GET /ui/tasks/{task}/files/{browse,read,download}?path=
// with a path relative to the task's sandbox: it finds the task's agent,
// its sandbox directory in the agent's /state (frameworks' executors'
// directory, as the Mesos web UI does), and forwards the call to the
// agent's /files API. Browse answers carry paths relative to the sandbox.
type Files struct {
	cfg FilesConfig
	log *slog.Logger

	mu    sync.Mutex
	cache map[string]sandbox // by task id
}

// sandbox is a task's resolved sandbox.
type sandbox struct {
	agent Agent
	dir   string
	until time.Time
}

// Bounds of the sandbox cache: a tail reads every second, and each
// resolution costs two calls (the master's state, the agent's).
const (
	sandboxTTL     = time.Minute
	sandboxEntries = 1024
	maxPathLen     = 4096
)

// NewFiles returns the files proxy of cfg.
func NewFiles(cfg FilesConfig) *Files {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Files{cfg: cfg, log: log, cache: map[string]sandbox{}}
}

// fileError is an answer other than 200, with Marathon's message body.
type fileError struct {
	status int
	msg    string
}

func (e *fileError) Error() string { return e.msg }

func (f *Files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	taskID, op := r.PathValue("task"), r.PathValue("op")
	if err := f.serve(w, r, taskID, op); err != nil {
		var fe *fileError
		if !errors.As(err, &fe) {
			fe = &fileError{status: http.StatusBadGateway, msg: err.Error()}
		}
		f.log.Debug("task files refused", "task_id", taskID, "op", op, "status", fe.status, "error", fe.msg)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(fe.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": fe.msg})
	}
}

func (f *Files) serve(w http.ResponseWriter, r *http.Request, taskID, op string) error {
	switch op {
	case "browse", "read", "download":
	default:
		return &fileError{http.StatusNotFound, "unknown files operation " + op}
	}
	rel, err := relativePath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	t, ok := f.cfg.Task(taskID)
	if !ok {
		return &fileError{http.StatusNotFound, "Task '" + taskID + "' does not exist"}
	}
	if f.cfg.Allowed != nil && !f.cfg.Allowed(r, t.AppID) {
		return &fileError{http.StatusForbidden, "Access denied: reading a sandbox needs view_secrets on " + t.AppID}
	}
	sb, err := f.sandbox(r.Context(), taskID, t.AgentID)
	if err != nil {
		return err
	}
	q := url.Values{"path": {path.Join(sb.dir, rel)}}
	for _, k := range []string{"offset", "length"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	resp, err := f.get(r.Context(), sb.agent, "/files/"+op, q)
	if err != nil {
		return fmt.Errorf("read the agent's files: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.forget(taskID)
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		status := resp.StatusCode
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			// The agent refused this server, not the user: no credentials
			// of the user's would change that.
			status = http.StatusBadGateway
		}
		return &fileError{status, "agent: " + strings.TrimSpace(string(msg))}
	}
	if op == "browse" {
		return writeBrowse(w, resp.Body, sb.dir)
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length", "Last-Modified"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	_, err = io.Copy(w, resp.Body)
	if err != nil {
		f.log.Debug("task file copy ended", "task_id", taskID, "error", err)
	}
	return nil
}

// relativePath checks a path inside a sandbox: relative, no "..".
func relativePath(p string) (string, error) {
	if len(p) > maxPathLen {
		return "", &fileError{http.StatusBadRequest, "path too long"}
	}
	clean := path.Clean("/" + p)
	if strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
		return "", &fileError{http.StatusBadRequest, "path must be relative to the sandbox, without '..'"}
	}
	return strings.TrimPrefix(clean, "/"), nil
}

// writeBrowse rewrites the agent's absolute paths relative to dir.
func writeBrowse(w http.ResponseWriter, body io.Reader, dir string) error {
	var entries []map[string]any
	if err := json.NewDecoder(io.LimitReader(body, 16<<20)).Decode(&entries); err != nil {
		return fmt.Errorf("decode the agent's browse answer: %w", err)
	}
	for _, e := range entries {
		if p, ok := e["path"].(string); ok {
			e["path"] = strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(entries)
}

// sandbox returns the task's sandbox, cached for sandboxTTL.
func (f *Files) sandbox(ctx context.Context, taskID, agentID string) (sandbox, error) {
	now := time.Now()
	f.mu.Lock()
	sb, ok := f.cache[taskID]
	f.mu.Unlock()
	if ok && now.Before(sb.until) {
		return sb, nil
	}
	if agentID == "" {
		return sandbox{}, &fileError{http.StatusNotFound, "Task '" + taskID + "' has no agent yet"}
	}
	a, err := f.cfg.Agent(ctx, agentID)
	if err != nil {
		return sandbox{}, fmt.Errorf("find agent %s: %w", agentID, err)
	}
	dir, err := f.directory(ctx, a, taskID)
	if err != nil {
		return sandbox{}, err
	}
	sb = sandbox{agent: a, dir: dir, until: now.Add(sandboxTTL)}
	f.mu.Lock()
	if len(f.cache) >= sandboxEntries {
		clear(f.cache)
	}
	f.cache[taskID] = sb
	f.mu.Unlock()
	return sb, nil
}

func (f *Files) forget(taskID string) {
	f.mu.Lock()
	delete(f.cache, taskID)
	f.mu.Unlock()
}

// agentState is what the files proxy reads of a Mesos agent's /state.
type agentState struct {
	Frameworks          []frameworkState `json:"frameworks"`
	CompletedFrameworks []frameworkState `json:"completed_frameworks"`
}

type frameworkState struct {
	Executors          []executorState `json:"executors"`
	CompletedExecutors []executorState `json:"completed_executors"`
}

type executorState struct {
	ID             string                `json:"id"`
	Directory      string                `json:"directory"`
	Tasks          []struct{ ID string } `json:"tasks"`
	CompletedTasks []struct{ ID string } `json:"completed_tasks"`
}

// directory finds the task's sandbox in the agent's /state: the
// directory of the executor with the task's id (the command executor),
// or <directory>/tasks/<task id> for a task of another executor (a task
// group's default executor), as the Mesos web UI does.
func (f *Files) directory(ctx context.Context, a Agent, taskID string) (string, error) {
	resp, err := f.get(ctx, a, "/state", nil)
	if err != nil {
		return "", fmt.Errorf("read the agent's state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("read the agent's state: status %d", resp.StatusCode)
	}
	var st agentState
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&st); err != nil {
		return "", fmt.Errorf("decode the agent's state: %w", err)
	}
	for _, fw := range append(st.Frameworks, st.CompletedFrameworks...) {
		for _, ex := range append(fw.Executors, fw.CompletedExecutors...) {
			if ex.ID == taskID {
				return ex.Directory, nil
			}
			for _, t := range append(ex.Tasks, ex.CompletedTasks...) {
				if t.ID == taskID {
					return path.Join(ex.Directory, "tasks", taskID), nil
				}
			}
		}
	}
	return "", &fileError{http.StatusNotFound, "Task '" + taskID + "' has no sandbox on its agent (ended and forgotten?)"}
}

func (f *Files) get(ctx context.Context, a Agent, p string, q url.Values) (*http.Response, error) {
	u := strings.TrimSuffix(a.URL, "/") + p
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	return f.cfg.Client.Do(req)
}
