package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Backend is what the API needs of the leading scheduler.
type Backend interface {
	// View is the leader's latest state; an empty View while none leads.
	View() *View
	// Do runs fn on the leader's loop (Scheduler.Do).
	Do(ctx context.Context, fn func(*Tx) error) error
	// Leader is the leader's host:port, "" when unknown.
	Leader() string
}

// APIConfig configures the API handler.
type APIConfig struct {
	Backend  Backend
	Defaults Defaults
	Logger   *slog.Logger
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// ErrNotLeader is returned by a Backend between terms.
var ErrNotLeader = errors.New("this instance is not the leader (any more); retry")

// api serves Chronos's REST API.
type api struct {
	b        Backend
	defaults Defaults
	log      *slog.Logger
}

// NewAPI returns the handler of Chronos 3's API under /v1/scheduler and
// of the unversioned /scheduler paths 2.x clients use, plus /ping.
func NewAPI(cfg APIConfig) http.Handler {
	a := &api{b: cfg.Backend, defaults: cfg.Defaults, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "pong\n")
	})
	for _, p := range []string{"/v1/scheduler", "/scheduler"} {
		mux.HandleFunc("GET "+p+"/leader", a.wrap(a.leader))
		mux.HandleFunc("GET "+p+"/jobs", a.wrap(a.list))
		mux.HandleFunc("GET "+p+"/jobs/search", a.wrap(a.search))
		mux.HandleFunc("GET "+p+"/jobs/summary", a.wrap(a.summary))
		mux.HandleFunc("GET "+p+"/job/{name}", a.wrap(a.get))
		mux.HandleFunc("GET "+p+"/job/{a}/{b}", a.wrap(a.stat))
		mux.HandleFunc("POST "+p+"/iso8601", a.wrap(a.put))
		mux.HandleFunc("PUT "+p+"/iso8601", a.wrap(a.put))
		mux.HandleFunc("POST "+p+"/dependency", a.wrap(a.put))
		mux.HandleFunc("PUT "+p+"/dependency", a.wrap(a.put))
		mux.HandleFunc("DELETE "+p+"/job/{name}", a.wrap(a.delete))
		mux.HandleFunc("PUT "+p+"/job/{name}", a.wrap(a.trigger))
		mux.HandleFunc("PUT "+p+"/job/success/{name}", a.markSuccess)
		mux.HandleFunc("DELETE "+p+"/task/kill/{name}", a.wrap(a.kill))
		mux.HandleFunc("PUT "+p+"/task/{taskId}", a.wrap(a.asyncResult))
		mux.HandleFunc("GET "+p+"/graph/dot", a.graphDot)
		mux.HandleFunc("GET "+p+"/graph/csv", a.graphCSV)
	}
	return cors(mux)
}

// cors sets Chronos's Access-Control-Allow-Origin: * (A/CorsFilter.scala).
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.ServeHTTP(w, r)
	})
}

// noContent is a handler's 204.
type noContent struct{}

// wrap writes a handler's value as JSON (204 for noContent) or its error
// as Chronos's {"message","status"}: 400 for a client's mistake, 503 when
// the store or the leader is away, 500 otherwise.
func (a *api) wrap(h func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if _, ok := v.(noContent); ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
}

func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, text := http.StatusInternalServerError, "Internal Server Error"
	var re *RequestError
	switch {
	case errors.As(err, &re):
		status, text = http.StatusBadRequest, "Bad Request"
	case errors.Is(err, ErrStore), errors.Is(err, ErrNotLeader), errors.Is(err, ErrStopped):
		status, text = http.StatusServiceUnavailable, "Service Unavailable"
	}
	if status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	} else {
		a.log.Debug("bad request", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": err.Error(), "status": text})
}

func (a *api) leader(*http.Request) (any, error) {
	return map[string]string{"leader": a.b.Leader()}, nil
}

// list is GET /jobs; only the listing fills in the missing one of uris
// and fetch from the other, as Chronos does.
func (a *api) list(*http.Request) (any, error) {
	v := a.b.View()
	out := make([]Job, 0, len(v.Jobs))
	for _, j := range v.Jobs {
		c := *j
		switch {
		case len(c.URIs) == 0 && len(c.Fetch) > 0:
			for _, f := range c.Fetch {
				c.URIs = append(c.URIs, f.URI)
			}
		case len(c.Fetch) == 0 && len(c.URIs) > 0:
			for _, u := range c.URIs {
				c.Fetch = append(c.Fetch, Fetch{URI: u, Extract: true})
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// search is GET /jobs/search?name=&command=&any=&limit=&offset=:
// case-insensitive substrings; limit 10 and offset 0 by default.
func (a *api) search(r *http.Request) (any, error) {
	q := r.URL.Query()
	name, command, anyOf := strings.ToLower(q.Get("name")), strings.ToLower(q.Get("command")), strings.ToLower(q.Get("any"))
	limit, offset := 10, 0
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return nil, badRequest("limit %q: want a number", s)
		}
		limit = v
	}
	if s := q.Get("offset"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return nil, badRequest("offset %q: want a number", s)
		}
		offset = v
	}
	out := []*Job{}
	for _, j := range a.b.View().Jobs {
		n, c := strings.ToLower(j.Name), strings.ToLower(j.Command)
		ok := strings.Contains(n, name) && strings.Contains(c, command)
		if anyOf != "" && (strings.Contains(n, anyOf) || strings.Contains(c, anyOf)) {
			ok = true
		} else if anyOf != "" && name == "" && command == "" {
			ok = false
		}
		if ok {
			out = append(out, j)
		}
	}
	if offset >= len(out) {
		return []*Job{}, nil
	}
	out = out[offset:]
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// summaryEntry is an entry of GET /jobs/summary.
type summaryEntry struct {
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	State    string   `json:"state"`
	Schedule string   `json:"schedule"`
	Parents  []string `json:"parents"`
	Disabled bool     `json:"disabled"`
}

func (a *api) summary(*http.Request) (any, error) {
	v := a.b.View()
	out := struct {
		Jobs []summaryEntry `json:"jobs"`
	}{Jobs: []summaryEntry{}}
	for _, j := range v.Jobs {
		e := summaryEntry{Name: j.Name, Status: j.Status(), State: v.State(j.Name), Schedule: j.Schedule, Parents: j.Parents, Disabled: j.Disabled}
		if e.Parents == nil {
			e.Parents = []string{}
		}
		out.Jobs = append(out.Jobs, e)
	}
	return out, nil
}

func (a *api) job(name string) (*Job, error) {
	j, ok := a.b.View().Job(name)
	if !ok {
		return nil, errNotFound(name)
	}
	return j, nil
}

func (a *api) get(r *http.Request) (any, error) { return a.job(r.PathValue("name")) }

// put is POST (and 2.x PUT) /iso8601 and /dependency: the body decides
// the job's kind.
func (a *api) put(r *http.Request) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, badRequest("read the body: %v", err)
	}
	j, err := Decode(body, a.defaults)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	if strings.HasSuffix(r.URL.Path, "/dependency") && !j.Dependent() {
		if _, ok := fieldsOf(body)["parents"]; ok {
			return nil, badRequest("requirement failed: Error, parent does not exist")
		}
	}
	return noContent{}, a.b.Do(r.Context(), func(tx *Tx) error { return tx.Put(r.Context(), j) })
}

func fieldsOf(body []byte) fields {
	var f fields
	json.Unmarshal(body, &f)
	return f
}

func (a *api) delete(r *http.Request) (any, error) {
	name := r.PathValue("name")
	return noContent{}, a.b.Do(r.Context(), func(tx *Tx) error { return tx.Delete(r.Context(), name) })
}

// trigger is PUT /job/{name}?arguments=: a manual run.
func (a *api) trigger(r *http.Request) (any, error) {
	name, args := r.PathValue("name"), strings.TrimSpace(r.URL.Query().Get("arguments"))
	if len(args) > maxTextLen {
		return nil, badRequest("arguments longer than %d bytes", maxTextLen)
	}
	return noContent{}, a.b.Do(r.Context(), func(tx *Tx) error { return tx.Trigger(r.Context(), name, args) })
}

// markSuccess is PUT /job/success/{name}: 200 with a text body, as
// Chronos.
func (a *api) markSuccess(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := a.b.Do(r.Context(), func(tx *Tx) error { return tx.MarkSuccess(r.Context(), name) })
	var re *RequestError
	if err != nil && !errors.As(err, &re) {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "marked job %s as successful: %t", name, err == nil)
}

func (a *api) kill(r *http.Request) (any, error) {
	name := r.PathValue("name")
	return noContent{}, a.b.Do(r.Context(), func(tx *Tx) error { return tx.Kill(r.Context(), name) })
}

// asyncResult is 2.x's PUT /task/{taskId} {"statusCode": n}.
func (a *api) asyncResult(r *http.Request) (any, error) {
	var body struct {
		StatusCode *int `json:"statusCode"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody)).Decode(&body); err != nil || body.StatusCode == nil {
		return nil, badRequest("want {\"statusCode\": n}")
	}
	id := r.PathValue("taskId")
	return noContent{}, a.b.Do(r.Context(), func(tx *Tx) error { return tx.AsyncResult(r.Context(), id, *body.StatusCode) })
}

// stat serves GET /job/stat/{name} and Stadion's GET /job/{name}/runs.
func (a *api) stat(r *http.Request) (any, error) {
	first, second := r.PathValue("a"), r.PathValue("b")
	switch {
	case first == "stat":
		return a.jobStat(second)
	case second == "runs":
		if _, err := a.job(first); err != nil {
			return nil, err
		}
		runs := a.b.View().Runs(first)
		if runs == nil {
			runs = []Run{}
		}
		return runs, nil
	}
	return nil, badRequest("no such resource: /job/%s/%s", first, second)
}

// statTime is Chronos's MM/dd/yy HH:mm:ss.
func statTime(t *time.Time) string {
	if t == nil {
		return "N/A"
	}
	return t.UTC().Format("01/02/06 15:04:05")
}

// jobStat is Chronos's {"histogram", "taskStatHistory"}, from the stored
// runs; the histogram is over successful runs' durations in seconds.
func (a *api) jobStat(name string) (any, error) {
	if _, err := a.job(name); err != nil {
		return nil, err
	}
	type entry struct {
		TaskID               string `json:"taskId"`
		JobName              string `json:"jobName"`
		SlaveID              string `json:"slaveId"`
		StartTime            string `json:"startTime"`
		EndTime              string `json:"endTime"`
		Duration             string `json:"duration"`
		Status               string `json:"status"`
		NumElementsProcessed int64  `json:"numElementsProcessed"`
	}
	var durations []float64
	history := []entry{}
	for _, r := range a.b.View().Runs(name) {
		e := entry{TaskID: r.TaskID, JobName: r.Job, SlaveID: r.AgentID, StartTime: statTime(r.Start), EndTime: statTime(r.End), Duration: "N/A"}
		switch r.State {
		case RunSuccess:
			e.Status = "success"
		case RunFailure, RunKilled, RunSkipped:
			e.Status = "fail"
		case RunQueued:
			e.Status = "idle"
		default:
			e.Status = "running"
		}
		if r.Start != nil && r.End != nil {
			d := r.End.Sub(*r.Start)
			e.Duration = d.Round(time.Millisecond).String()
			if r.State == RunSuccess {
				durations = append(durations, d.Seconds())
			}
		}
		history = append(history, e)
	}
	sort.Float64s(durations)
	pct := func(p float64) float64 {
		if len(durations) == 0 {
			return 0
		}
		return durations[min(len(durations)-1, int(p*float64(len(durations))))]
	}
	var mean float64
	for _, d := range durations {
		mean += d
	}
	if len(durations) > 0 {
		mean /= float64(len(durations))
	}
	return map[string]any{
		"histogram": map[string]any{
			"75thPercentile": pct(0.75), "95thPercentile": pct(0.95), "98thPercentile": pct(0.98), "99thPercentile": pct(0.99),
			"median": pct(0.5), "mean": mean, "count": len(durations),
		},
		"taskStatHistory": history,
	}, nil
}

// graphDot is GET /graph/dot: the dependency graph in DOT, nodes coloured
// by their last outcome.
func (a *api) graphDot(w http.ResponseWriter, _ *http.Request) {
	v := a.b.View()
	var sb strings.Builder
	sb.WriteString("digraph G {\n  node [style=filled];\n")
	colour := map[string]string{"success": "green", "failure": "red", "fresh": "lightgrey"}
	for _, j := range v.Jobs {
		fmt.Fprintf(&sb, "  %q [fillcolor=%s];\n", j.Name, colour[j.Status()])
	}
	for _, j := range v.Jobs {
		for _, p := range sortedCopy(j.Parents) {
			fmt.Fprintf(&sb, "  %q -> %q;\n", p, j.Name)
		}
	}
	sb.WriteString("}\n")
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, sb.String())
}

// graphCSV is GET /graph/csv: node,<job>,<status>,<state> and
// link,<parent>,<child> lines (J/graph/Exporter.scala).
func (a *api) graphCSV(w http.ResponseWriter, _ *http.Request) {
	v := a.b.View()
	var sb strings.Builder
	for _, j := range v.Jobs {
		fmt.Fprintf(&sb, "node,%s,%s,%s\n", j.Name, j.Status(), v.State(j.Name))
	}
	for _, j := range v.Jobs {
		for _, p := range sortedCopy(j.Parents) {
			fmt.Fprintf(&sb, "link,%s,%s\n", p, j.Name)
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, sb.String())
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
