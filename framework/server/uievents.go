package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/stadionhq/stadion/framework/api"
	"github.com/stadionhq/stadion/internal/httpserver"
)

// leaderPoll is how often an open UI event stream checks that the
// instance it comes from still leads.
const leaderPoll = time.Second

// uiEvents serves ui.EventsPath on the leader: the request goes to the
// API's own GET /v2/events (the same handler, so the same ACL filtering,
// redaction, backlog limits and concurrency slot release), with its query
// kept. The guard has already checked it as any request. The stream ends
// when this instance stops leading, since its bus then carries no more
// changes: the browser's EventSource reconnects, to the new leader.
func uiEvents(apiHandler http.Handler, l *leadership) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go endWhen(ctx, cancel, nil, func() bool { return !l.Elected() })
		u := *r.URL
		u.Path, u.RawPath = "/v2/events", ""
		r = r.WithContext(ctx)
		r.URL = &u
		apiHandler.ServeHTTP(w, r)
	})
}

// endWhen calls cancel once done is true (checked every leaderPoll) or
// closing is closed, unless ctx ends first.
func endWhen(ctx context.Context, cancel context.CancelFunc, closing <-chan struct{}, done func() bool) {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-closing:
			cancel()
			return
		case <-t.C:
			if done() {
				cancel()
				return
			}
		}
	}
}

// streamProxy is a standby's proxy of ui.EventsPath to the leader: each
// chunk the leader writes is flushed to the client at once, the server's
// write timeout is replaced by a bound on each write (as the leader's own
// stream does), the concurrency slot is given back once the leader has
// answered, and the stream ends when the client goes, when another
// instance leads, or when this one shuts down. The request is rewritten
// as the leader proxy's others: the client's Authorization header, which
// the guard has checked, travels to the leader, which checks it again.
type streamProxy struct {
	p            *leaderProxy
	proxy        *httputil.ReverseProxy
	writeTimeout time.Duration
	closing      <-chan struct{}
}

func newStreamProxy(p *leaderProxy, writeTimeout time.Duration, closing <-chan struct{}, log *slog.Logger) *streamProxy {
	proxy := &httputil.ReverseProxy{
		Rewrite:       p.proxy.Rewrite,
		Transport:     p.proxy.Transport,
		ErrorHandler:  p.proxy.ErrorHandler,
		FlushInterval: -1,
		ModifyResponse: func(res *http.Response) error {
			api.ReleaseSlot(res.Request.Context())
			return nil
		},
		// A stream cut by a client that went or by a change of leader
		// is the ordinary end of a proxied stream.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return &streamProxy{p: p, proxy: proxy, writeTimeout: writeTimeout, closing: closing}
}

// serve proxies r to the leader at target.
func (s *streamProxy) serve(w http.ResponseWriter, r *http.Request, target *url.URL) {
	ctx, cancel := context.WithCancel(contextWith(r, target))
	defer cancel()
	go endWhen(ctx, cancel, s.closing, func() bool {
		leader, ok := s.p.l.Leader()
		return s.p.l.Elected() || !ok || leader != target.Host
	})
	sw := streamWriter{ResponseWriter: w, stream: httpserver.NewStream(w, s.writeTimeout)}
	s.proxy.ServeHTTP(sw, r.WithContext(ctx))
}

// streamWriter writes and flushes each chunk within the stream's own
// timeout.
type streamWriter struct {
	http.ResponseWriter
	stream *httpserver.Stream
}

func (w streamWriter) Write(p []byte) (int, error) {
	if err := w.stream.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
