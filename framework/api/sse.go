package api

import (
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/internal/httpserver"
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
// does. The server's write timeout does not apply; each write is bounded
// by StreamWriteTimeout instead, and a write that fails ends the stream. A
// subscriber that falls behind by the bus's backlog (events or bytes) is
// dropped: the write in progress is cut, the response ends and the client
// reconnects. When the server shuts down (Config.Closing) the stream
// returns, so that the response ends cleanly with its final chunk.
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
	p, authenticated := auth.FromContext(r.Context())
	if z := s.authzFor(p, authenticated); z.on && z.anon {
		s.writeError(w, r, marathon.AccessDenied())
		return
	}
	// The ACL is read again for each event, so that a reload applies to
	// open streams.
	var keep func(*events.Message) bool
	if s.cfg.ACL != nil {
		keep = func(m *events.Message) bool { return s.authzFor(p, authenticated).mayViewAll(m.Apps) }
	}
	sub := s.bus.SubscribeFunc(types, keep)
	remote := clientIP(r)
	defer func() {
		sub.Close()
		s.bus.Publish(marathon.StreamEvent{RemoteAddress: remote, EventMeta: marathon.Meta(marathon.EventStreamDetached, s.now())})
	}()

	stream := httpserver.NewStream(w, s.cfg.StreamWriteTimeout)
	// A drop cuts a write blocked on a client that does not read, so that
	// the goroutine and the event it holds go at once.
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() {
		select {
		case <-sub.Gone():
			stream.Interrupt()
		case <-stop:
		}
	})
	defer func() {
		close(stop)
		watch.Wait()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream;charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := stream.Write(nil); err != nil {
		return
	}
	ReleaseSlot(r.Context())
	s.bus.Publish(marathon.StreamEvent{RemoteAddress: remote, EventMeta: marathon.Meta(marathon.EventStreamAttached, s.now())})
	s.log.Debug("event stream attached", "remote_address", remote, "event_types", types, "light", light)

	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.cfg.Closing:
			s.log.Debug("event stream closed at shutdown", "remote_address", remote)
			return
		case m, ok := <-sub.C():
			if !ok {
				s.log.Debug("event stream dropped", "remote_address", remote)
				return
			}
			err := stream.Write(m.Frame(light, s.redactsEvent(p, authenticated, m)))
			sub.Done(m)
			if err != nil {
				s.log.Debug("event stream write failed", "remote_address", remote, "err", err)
				return
			}
		case <-heartbeat.C:
			if err := stream.Write([]byte("\r\n")); err != nil {
				s.log.Debug("event stream write failed", "remote_address", remote, "err", err)
				return
			}
		}
	}
}

// redactsEvent reports whether the principal gets m's env values
// redacted: it may not see the secrets of one of m's apps.
func (s *server) redactsEvent(p auth.Principal, ok bool, m *events.Message) bool {
	if m.Redacted == nil {
		return false
	}
	z := s.authzFor(p, ok)
	for _, id := range m.Apps {
		if z.redacts(id) {
			return true
		}
	}
	return false
}
