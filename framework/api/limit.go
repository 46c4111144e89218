package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/stadionhq/stadion/internal/marathon"
)

// LimitRequests serves at most n requests of h at once and answers the
// others at once with 503 and Marathon's message, as Marathon's
// --http_max_concurrent_requests does (LimitConcurrentRequestsFilter: no
// queueing, no retry header). An event stream holds its slot only until
// it is attached, as a Jetty async servlet does. n <= 0 serves every
// request.
func LimitRequests(h http.Handler, n int) http.Handler {
	if n <= 0 {
		return h
	}
	slots := make(chan struct{}, n)
	tooMany := marathon.Message{Message: fmt.Sprintf("Too many concurrent requests! Allowed: %d.", n)}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			writeJSON(w, http.StatusServiceUnavailable, tooMany)
			return
		}
		release := sync.OnceFunc(func() { <-slots })
		defer release()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), slotKey{}, release)))
	})
}

type slotKey struct{}

// ReleaseSlot gives back the LimitRequests slot of the request, if any:
// a long-lived response (an event stream, or a standby's proxy of one)
// calls it once attached, so that streams do not fill the limit.
func ReleaseSlot(ctx context.Context) {
	if release, ok := ctx.Value(slotKey{}).(func()); ok {
		release()
	}
}
