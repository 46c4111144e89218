package api

import (
	"net/http"
	"strconv"
	"sync"
	"weak"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
)

// The app and task endpoints (GET /v2/apps, /v2/apps/{id},
// /v2/apps/{group}/*, /v2/tasks, /v2/apps/{id}/tasks) write their bodies
// without encoding/json's reflection over AppInfo and Task, which
// validated and compacted every nested MarshalJSON output again: each
// app's definition comes from defCache, and the runtime fields and tasks
// are appended by marathon.AppInfo.AppendJSON and Task.AppendJSON, into
// one pooled buffer. The bytes are those encoding/json writes for the same
// values (testdata/golden holds them).

// jsonAppender is a handler result that appends its own JSON body; wrap
// writes it as writeJSON writes other values.
type jsonAppender interface {
	appendJSON(dst []byte) ([]byte, error)
}

// jsonStreamer is a jsonAppender whose body may be large: between its
// items it hands what it has appended to spill, which writes it out once
// it passes spillAt and returns the buffer to append to next. A body
// that stays below spillAt is written whole with its Content-Length; a
// larger one is sent as it is built (chunked), so that the server never
// holds it whole (44 MB for GET /v2/apps?embed=apps.tasks at 100,000
// tasks, issue 17) and the client reads while the rest is built.
type jsonStreamer interface {
	appendJSONStream(dst []byte, spill func([]byte) []byte) ([]byte, error)
}

// spillAt is the body size from which a jsonStreamer's body is streamed.
var spillAt = 1 << 20

// noSpill keeps everything in the buffer.
func noSpill(b []byte) []byte { return b }

// bodyPool holds response buffers. A buffer of GET /v2/apps at 10,000
// tasks is about 4 MB; sync.Pool drops buffers that stay unused over two
// garbage collections, so an idle server does not keep them.
var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer put back in bodyPool.
const maxPooledBody = 64 << 20

// writeAppended writes v's body with Content-Length, as writeJSON does,
// or, for a large body of a jsonStreamer, as it is built.
func writeAppended(w http.ResponseWriter, status int, v jsonAppender) {
	bp := bodyPool.Get().(*[]byte)
	started := false
	spill := func(b []byte) []byte {
		if len(b) < spillAt {
			return b
		}
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
		}
		w.Write(b)
		return b[:0]
	}
	var (
		b   []byte
		err error
	)
	if st, ok := v.(jsonStreamer); ok {
		b, err = st.appendJSONStream((*bp)[:0], spill)
	} else {
		b, err = v.appendJSON((*bp)[:0])
	}
	switch {
	case err != nil && started:
		// Part of a 200 is out: end the connection, so that the client
		// sees a broken body, not a short one.
		panic(http.ErrAbortHandler)
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, marathon.Message{Message: "encode response: " + err.Error()})
		return
	}
	b = append(b, '\n')
	if !started {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
	}
	w.Write(b)
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		bodyPool.Put(bp)
	}
}

// appsBody is a body of app infos: {"apps": [...]}, {"*": [...]}, or with
// one the single app {"app": {...}}.
type appsBody struct {
	s    *server
	v    *scheduler.View
	apps []*scheduler.AppView
	e    appEmbed
	// key is the member name; single writes apps[0] as an object.
	key    string
	single bool
	// z redacts the env values of apps whose secrets it hides.
	z authz
}

func (b appsBody) appendJSON(dst []byte) ([]byte, error) { return b.appendJSONStream(dst, noSpill) }

func (b appsBody) appendJSONStream(dst []byte, spill func([]byte) []byte) ([]byte, error) {
	dst = append(dst, '{')
	dst = appendKey(dst, b.key)
	if !b.single {
		dst = append(dst, '[')
	}
	tb := taskBufPool.Get().(*taskBuf)
	defer putTaskBuf(tb)
	for i, av := range b.apps {
		if i > 0 {
			dst = append(dst, ',')
		}
		def, err := b.s.defs.get(av)
		if err != nil {
			return nil, err
		}
		info := b.s.appInfoBuf(b.v, av, b.e, tb)
		if b.z.redacts(av.App.ID) && marathon.HasEnvValues(&av.App) {
			def, info.App = nil, marathon.RedactEnv(info.App)
		}
		if dst, err = info.AppendJSON(dst, def); err != nil {
			return nil, err
		}
		dst = spill(dst)
	}
	if !b.single {
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// appendKey appends "key": for the fixed member names of appsBody.
func appendKey(dst []byte, key string) []byte {
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// tasksBody is a body of tasks, {"tasks": [...]}: those of apps whose
// state is in filter, or all when filter is nil.
type tasksBody struct {
	apps   []*scheduler.AppView
	filter map[marathon.TaskState]bool
}

func (b tasksBody) appendJSON(dst []byte) ([]byte, error) { return b.appendJSONStream(dst, noSpill) }

func (b tasksBody) appendJSONStream(dst []byte, spill func([]byte) []byte) ([]byte, error) {
	dst = append(dst, `{"tasks":[`...)
	tb := taskBufPool.Get().(*taskBuf)
	defer putTaskBuf(tb)
	first := true
	for _, av := range b.apps {
		tasks := tb.tasksOf(av)
		for i := range tasks {
			if b.filter != nil && !b.filter[tasks[i].State] {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = tasks[i].AppendJSON(dst)
		}
		dst = spill(dst)
	}
	return append(dst, "]}"...), nil
}

// taskBufPool holds the task buffers of appsBody (their size follows the
// largest app).
var taskBufPool = sync.Pool{New: func() any { return new(taskBuf) }}

func putTaskBuf(b *taskBuf) {
	b.release()
	taskBufPool.Put(b)
}

// defCache keeps each app's definition as App.MarshalJSON writes it, and
// its task counts, per AppView: a View is immutable, so an AppView's
// definition and counts never change, and apps that a new View shares with
// the previous one (scheduler.publish) keep them. Counting walked every
// instance of every app on each GET /v2/apps: at 100,000 tasks, polled
// every 50 ms, that was most of the API's CPU (issue 17). The keys are
// weak: the cache keeps no View alive, and entries of collected AppViews
// are dropped as the cache grows.
type defCache struct {
	mu      sync.Mutex
	entries map[weak.Pointer[scheduler.AppView]]*defEntry
	// sweepAt is the size at which the next sweep of dead entries runs.
	sweepAt int
}

// defEntry is what defCache keeps of one AppView; a nil field is not
// computed yet.
type defEntry struct {
	def    []byte
	counts *marathon.TaskCounts
}

// entry returns av's entry, adding an empty one; the caller holds c.mu.
func (c *defCache) entry(av *scheduler.AppView) *defEntry {
	key := weak.Make(av)
	if e, ok := c.entries[key]; ok {
		return e
	}
	if c.entries == nil {
		c.entries = map[weak.Pointer[scheduler.AppView]]*defEntry{}
	}
	if len(c.entries) >= c.sweepAt {
		for k := range c.entries {
			if k.Value() == nil {
				delete(c.entries, k)
			}
		}
		c.sweepAt = max(2*len(c.entries), 256)
	}
	e := &defEntry{}
	c.entries[key] = e
	return e
}

// get returns av's definition JSON; the caller must not modify it.
func (c *defCache) get(av *scheduler.AppView) ([]byte, error) {
	c.mu.Lock()
	def := c.entry(av).def
	c.mu.Unlock()
	if def != nil {
		return def, nil
	}
	def, err := av.App.MarshalJSON()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entry(av).def = def
	c.mu.Unlock()
	return def, nil
}

// counts returns av's task counts (counts).
func (c *defCache) counts(av *scheduler.AppView) marathon.TaskCounts {
	c.mu.Lock()
	n := c.entry(av).counts
	c.mu.Unlock()
	if n != nil {
		return *n
	}
	tc := counts(av)
	c.mu.Lock()
	c.entry(av).counts = &tc
	c.mu.Unlock()
	return tc
}
