package master

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
)

// subscription is one framework's event stream. The master queues encoded
// events without blocking; the HTTP handler that owns the response writes
// them out.
type subscription struct {
	streamID    string
	frameworkID string
	q           *queue[[]byte]
}

func newSubscription(frameworkID string) *subscription {
	return &subscription{streamID: newUUID(), frameworkID: frameworkID, q: newQueue[[]byte]()}
}

func (s *subscription) send(ev mesos.Event) {
	data, err := json.Marshal(ev)
	if err != nil {
		panic("master: encode event: " + err.Error()) // the types always encode
	}
	s.q.push(data)
}

// close ends the stream once what is queued has been written.
func (s *subscription) close() { s.q.close() }

var heartbeat = []byte(`{"type":"HEARTBEAT"}`)

// serveStream writes sub's events as a chunked RecordIO stream until the
// master closes it or the client goes away; the latter disconnects the
// framework.
func (m *Master) serveStream(w http.ResponseWriter, r *http.Request, sub *subscription) {
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set(headerStreamID, sub.streamID)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	rw := recordio.NewWriter(w)
	ticker := time.NewTicker(m.cfg.HeartbeatInterval)
	defer ticker.Stop()
	write := func(records ...[]byte) bool {
		for _, rec := range records {
			if err := rw.WriteRecord(rec); err != nil {
				return false
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		return true
	}
	for {
		records, closed := sub.q.take()
		if !write(records...) {
			break
		}
		if closed {
			return
		}
		select {
		case <-sub.q.wake:
		case <-ticker.C:
			if !write(heartbeat) {
				m.streamGone(sub)
				return
			}
		case <-r.Context().Done():
			m.streamGone(sub)
			return
		}
	}
	m.streamGone(sub)
}
