package master

import (
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos"
)

const (
	contentJSON     = "application/json"
	contentProtobuf = "application/x-protobuf"
	headerStreamID  = "Mesos-Stream-Id"
	maxCallBytes    = 64 << 20
)

func (m *Master) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/scheduler", m.handleScheduler)
	mux.HandleFunc("/master/api/v1/scheduler", m.handleScheduler)
	mux.HandleFunc("/master/state", m.handleState)
	mux.HandleFunc("/state", m.handleState)
	mux.HandleFunc("/redirect", m.handleRedirect)
	mux.HandleFunc("/master/redirect", m.handleRedirect)
	mux.HandleFunc("/health", m.handleHealth)
	mux.HandleFunc("/master/health", m.handleHealth)
	mux.HandleFunc("/cluster/v1/register", m.handleRegister)
	mux.HandleFunc("/cluster/v1/status", m.handleStatus)
	return mux
}

// plain answers with a plain-text body, as Mesos does for API errors.
func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// leaderLocation is the protocol-relative address of the leader,
// "//host:port", or "" when no leader is known.
func leaderLocation(l *mesos.MasterInfo) string {
	if l == nil {
		return ""
	}
	host, port := l.Hostname, int(l.Port)
	if l.Address != nil {
		if host == "" {
			host = l.Address.Hostname
		}
		if host == "" {
			host = l.Address.IP
		}
		if l.Address.Port != 0 {
			port = int(l.Address.Port)
		}
	}
	if host == "" {
		host = mesos.UnpackIP(l.IP).String()
	}
	return "//" + net.JoinHostPort(host, strconv.Itoa(port))
}

// serveAsLeader reports whether this master leads; otherwise it answers 307
// to the leader's path (protocol-relative) or 503 when no leader is known.
func (m *Master) serveAsLeader(w http.ResponseWriter, path string) bool {
	m.mu.Lock()
	leading, loc := m.leading, leaderLocation(m.leader)
	m.mu.Unlock()
	if leading {
		return true
	}
	if loc == "" {
		plain(w, http.StatusServiceUnavailable, "No leader elected")
		return false
	}
	w.Header().Set("Location", loc+path)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return false
}

func (m *Master) handleRedirect(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	loc := leaderLocation(m.leader)
	m.mu.Unlock()
	if loc == "" {
		plain(w, http.StatusServiceUnavailable, "No leader elected")
		return
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

func (m *Master) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}

// handleScheduler serves the v1 scheduler API with Mesos's checks in Mesos's
// order: leadership, method, Content-Type, JSON, required fields, call
// validation, then per-call checks.
//
// With AuthenticateFrameworks, authentication comes first, as libprocess
// authenticates a request before its handler runs.
func (m *Master) handleScheduler(w http.ResponseWriter, r *http.Request) {
	principal := ""
	if m.cfg.AuthenticateFrameworks {
		p, ok := m.auth.principal(r)
		if !ok {
			m.log.Debug("scheduler call unauthenticated", "status", 401, "remote_addr", r.RemoteAddr)
			unauthorized(w, Realm)
			return
		}
		principal = p
	}
	if !m.serveAsLeader(w, "/master/api/v1/scheduler") {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "Expecting one of { 'POST' }, but received '"+r.Method+"'")
		return
	}
	cts := r.Header.Values("Content-Type")
	if len(cts) == 0 {
		plain(w, http.StatusBadRequest, "Expecting 'Content-Type' to be present")
		return
	}
	switch ct := cts[0]; ct {
	case contentJSON:
	case contentProtobuf:
		plain(w, http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of application/json: this master does not support application/x-protobuf")
		return
	default:
		plain(w, http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of application/json or application/x-protobuf")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallBytes))
	if err != nil {
		plain(w, http.StatusBadRequest, "Failed to read body: "+err.Error())
		return
	}
	call, msg := parseCall(body)
	if msg != "" {
		m.log.Debug("scheduler call refused", "status", 400, "error", msg)
		plain(w, http.StatusBadRequest, msg)
		return
	}
	if msg := validateCall(call, principal); msg != "" {
		m.log.Debug("scheduler call refused", "status", 400, "error", msg)
		plain(w, http.StatusBadRequest, "Failed to validate scheduler::Call: "+msg)
		return
	}
	if call.Type == mesos.CallSubscribe {
		if principal != "" && call.Subscribe.FrameworkInfo.Principal == "" {
			// As Mesos: the authenticated principal is the framework's.
			call.Subscribe.FrameworkInfo.Principal = principal
		}
		m.handleSubscribe(w, r, call)
		return
	}
	code, msg := m.dispatch(r.Header.Values(headerStreamID), principal, call)
	if msg != "" {
		m.log.Debug("scheduler call refused", "call", call.Type, "framework_id", call.FrameworkID.Value, "status", code, "error", msg)
		plain(w, code, msg)
		return
	}
	w.WriteHeader(code)
}

func (m *Master) handleSubscribe(w http.ResponseWriter, r *http.Request, call *mesos.Call) {
	json, proto := acceptable(r.Header.Values("Accept"))
	if !json {
		msg := "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"
		if proto {
			msg = "Expecting 'Accept' to allow 'application/json': this master does not stream application/x-protobuf"
		}
		plain(w, http.StatusNotAcceptable, msg)
		return
	}
	if len(r.Header.Values(headerStreamID)) > 0 {
		plain(w, http.StatusBadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
		return
	}
	sub := m.subscribe(call.Subscribe)
	m.serveStream(w, r, sub)
}

// acceptable reports whether the Accept headers allow JSON and protobuf. No
// Accept header allows everything.
func acceptable(values []string) (json, proto bool) {
	if len(values) == 0 {
		return true, true
	}
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f <= 0 {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*":
				json, proto = true, true
			case contentJSON:
				json = true
			case contentProtobuf:
				proto = true
			}
		}
	}
	return json, proto
}

// dispatch checks the framework, the principal and the stream id of a
// non-SUBSCRIBE call and carries it out. principal is the authenticated one,
// "" without authentication. It returns the status code and, for errors,
// the body.
func (m *Master) dispatch(streamIDs []string, principal string, call *mesos.Call) (int, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	fw := st.frameworks[call.FrameworkID.Value]
	if fw == nil {
		return http.StatusBadRequest, "Framework cannot be found"
	}
	if principal != "" && principal != fw.info.Principal {
		return http.StatusBadRequest, "Authenticated principal '" + principal + "' does not match principal '" + fw.info.Principal + "' set in `FrameworkInfo`"
	}
	if fw.sub == nil {
		return http.StatusForbidden, "Framework is not subscribed"
	}
	if len(streamIDs) == 0 {
		return http.StatusBadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
	}
	if streamIDs[0] != fw.sub.streamID {
		return http.StatusBadRequest, "The stream ID '" + streamIDs[0] + "' included in this request didn't match the stream ID currently associated with framework ID " + fw.id
	}
	switch call.Type {
	case mesos.CallTeardown:
		m.log.Info("framework torn down", "framework_id", fw.id)
		m.removeFramework(st, fw)
	case mesos.CallAccept:
		m.accept(st, fw, call.Accept)
	case mesos.CallDecline:
		m.decline(st, fw, call.Decline)
	case mesos.CallRevive:
		m.revive(fw)
	case mesos.CallSuppress:
		fw.suppressed = true
	case mesos.CallKill:
		m.kill(st, fw, call.Kill)
	case mesos.CallAcknowledge:
		m.acknowledge(st, fw, call.Acknowledge)
	case mesos.CallReconcile:
		m.reconcile(st, fw, call.Reconcile.Tasks)
	case mesos.CallUpdateFramework:
		if msg := validateFrameworkInfo(&call.UpdateFramework.FrameworkInfo); msg != "" {
			return http.StatusBadRequest, msg
		}
		if msg := m.updateFramework(fw, call.UpdateFramework.FrameworkInfo, call.UpdateFramework.SuppressedRoles); msg != "" {
			return http.StatusBadRequest, msg
		}
		return http.StatusOK, ""
	case mesos.CallUnknown:
		return http.StatusNotImplemented, ""
	default:
		// SHUTDOWN, MESSAGE, REQUEST and the inverse offer and operation
		// calls: no custom executors, no maintenance, no operations.
		m.log.Debug("scheduler call ignored", "call", call.Type, "framework_id", fw.id)
	}
	return http.StatusAccepted, ""
}
