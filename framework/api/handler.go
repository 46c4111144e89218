package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// handlerFunc is a /v2 handler: it returns the value to write as JSON (or
// a reply for another status, content type or no body) or an error that
// wrap maps to Marathon's status and body. Handlers may set headers on w
// (Marathon-Deployment-Id, Location) but never write the body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// reply is a handler result other than 200 with a JSON body.
type reply struct {
	status int
	// body is written as JSON when not nil.
	body any
	// text, when set, is written as textType (default text/plain)
	// instead of body.
	text     *string
	textType string
}

func plainText(s string) reply { return reply{status: http.StatusOK, text: &s} }

// maxBody bounds request bodies (app and group definitions).
const maxBody = 8 << 20

// wrap turns a handlerFunc into an http.Handler: it writes the result and
// maps errors to Marathon's bodies, and instruments the route.
func (s *server) wrap(route string, fn handlerFunc) http.Handler {
	return s.instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(route, "/v2/") {
			if z := s.authzOf(r); z.on && z.anon {
				// An ACL without a principal: nothing is allowed.
				s.writeError(w, r, marathon.AccessDenied())
				return
			}
		}
		v, err := fn(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		rep, ok := v.(reply)
		if !ok {
			rep = reply{status: http.StatusOK, body: v}
		}
		switch {
		case rep.text != nil:
			ct := rep.textType
			if ct == "" {
				ct = "text/plain"
			}
			w.Header().Set("Content-Type", ct+"; charset=utf-8")
			w.WriteHeader(rep.status)
			io.WriteString(w, *rep.text)
		case rep.body == nil:
			w.WriteHeader(rep.status)
		default:
			if a, ok := rep.body.(jsonAppender); ok {
				writeAppended(w, rep.status, a)
				return
			}
			writeJSON(w, rep.status, rep.body)
		}
	}))
}

// writeJSON encodes v without HTML escaping, as Marathon does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		enc.Encode(marathon.Message{Message: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// writeError maps err to Marathon's status and body: a *marathon.Error
// keeps its own, a deadline is 503, anything else 500 {"message": ...}.
// Client errors are logged at Debug, server errors at Error.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var me *marathon.Error
	var status int
	var body any
	switch {
	case errors.As(err, &me):
		status, body = me.Status, me
	case errors.Is(err, context.DeadlineExceeded):
		status, body = http.StatusServiceUnavailable, marathon.Message{Message: "Timed out: " + err.Error()}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		status, body = 499, marathon.Message{Message: "Client closed request"}
	default:
		status, body = http.StatusInternalServerError, marathon.Message{Message: err.Error()}
	}
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		s.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, body)
}

// readBody reads a request body up to maxBody.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &marathon.Error{Status: http.StatusRequestEntityTooLarge, Message: "Request body too large"}
		}
		return nil, marathon.BadRequest("read body: " + err.Error())
	}
	return b, nil
}

// boolParam reads a boolean query parameter as Jersey does: absent or
// empty gives def; "true"/"false" in any case; anything else is a 400.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, marathon.BadRequest("Invalid boolean value '" + v + "' for query parameter " + name)
}

// deployed sets the Marathon-Deployment-Id header of a deployable call.
func deployed(w http.ResponseWriter, res marathon.DeploymentResult) marathon.DeploymentResult {
	w.Header().Set(marathon.DeploymentHeader, res.DeploymentID)
	return res
}

// methodNotAllowed answers a method the route does not serve.
func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) (any, error) {
	return nil, &marathon.Error{Status: http.StatusMethodNotAllowed, Message: "HTTP " + r.Method + " is not allowed"}
}

// clientIP is the host part of the request's remote address.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndex(host, ":"); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// since returns the seconds between t and now.
func (s *server) since(t time.Time) float64 { return s.now().Sub(t).Seconds() }
