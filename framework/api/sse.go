package api

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// acceptsEventStream reports whether the Accept header names
// text/event-stream. Marathon (Jetty's EventSourceServlet) wants a header
// value equal to it and answers 405 otherwise; a list that contains it is
// accepted here too.
func acceptsEventStream(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept") {
		for _, part := range strings.Split(h, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
				return true
			}
		}
	}
	return false
}

// streamEvents is GET /v2/events: server-sent events until the client
// goes. event_type (repeatable) filters by type, plan-format=light drops
// the original and target groups of deployment plans. The stream starts
// with event_stream_attached (published to every subscriber, as Marathon
// does) and ends with event_stream_detached for the others. A "\r\n"
// keep-alive is written every Heartbeat, as Jetty's EventSourceServlet
// does. A subscriber that falls behind by the bus's buffer is dropped: the
// response ends and the client reconnects.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request) {
	if !acceptsEventStream(r) {
		s.writeError(w, r, &marathon.Error{Status: http.StatusMethodNotAllowed,
			Message: "HTTP method GET is not supported by this URL (Accept: text/event-stream required)"})
		return
	}
	q := r.URL.Query()
	var types []string
	for _, v := range q["event_type"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
	}
	light := q.Get("plan-format") == "light"
	sub := s.bus.Subscribe(types)
	remote := clientIP(r)
	defer func() {
		sub.Close()
		s.bus.Publish(marathon.StreamEvent{RemoteAddress: remote, EventMeta: marathon.Meta(marathon.EventStreamDetached, s.now())})
	}()

	rc := http.NewResponseController(w)
	// A server-wide write timeout must not cut the stream.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Debug("clear event stream write deadline", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream;charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	s.bus.Publish(marathon.StreamEvent{RemoteAddress: remote, EventMeta: marathon.Meta(marathon.EventStreamAttached, s.now())})
	s.log.Debug("event stream attached", "remote_address", remote, "event_types", types, "light", light)

	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		var frame []byte
		select {
		case <-r.Context().Done():
			return
		case m, ok := <-sub.C():
			if !ok {
				s.log.Debug("event stream dropped", "remote_address", remote)
				return
			}
			frame = m.Frame(light)
		case <-heartbeat.C:
			frame = []byte("\r\n")
		}
		if _, err := w.Write(frame); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
