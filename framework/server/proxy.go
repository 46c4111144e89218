package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/ui"
	"github.com/stadionhq/stadion/internal/marathon"
)

// Headers of Marathon's leader proxy (api/LeaderProxyFilter.scala).
const (
	headerLeader = "X-Marathon-Leader"
	headerVia    = "X-Marathon-Via"
)

// leaderWait bounds how long a standby waits for a leader to be known
// before it answers 503, as Marathon retries 10 × 250 ms.
const leaderWait = 2500 * time.Millisecond

// leaderProxy serves the API on the leader and sends requests to the
// leader elsewhere: a standby proxies every call, except /v2/events, which
// it redirects (302, as Marathon 1.7+), and what it answers itself:
// /ping, /metrics[/prometheus], GET /v2/leader, GET /v2/info (its own view:
// elected false and who leads) and the web UI's files (not its task files).
type leaderProxy struct {
	local  http.Handler
	l      *leadership
	scheme string // of this instance's and the leader's advertised address
	self   string // this instance's host:port
	proxy  *httputil.ReverseProxy
	log    *slog.Logger
}

// newLeaderProxy proxies to the leader at scheme://leader; over https it
// trusts the system's roots and this instance's own certificate (the
// instances of a cluster share theirs, or one CA). The client's
// Authorization header travels to the leader, which checks it again.
func newLeaderProxy(local http.Handler, l *leadership, scheme, self string, own *tls.Config, log *slog.Logger) *leaderProxy {
	p := &leaderProxy{local: local, l: l, scheme: scheme, self: self, log: log}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target := r.In.Context().Value(leaderKey{}).(*url.URL)
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
			r.Out.Header.Add(headerVia, "1.1 "+self)
		},
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: leaderProxyConnectTimeout}).DialContext,
			ResponseHeaderTimeout: leaderProxyReadTimeout,
			MaxIdleConnsPerHost:   64,
			TLSClientConfig:       proxyTLS(own),
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("proxy to the leader failed", "path", r.URL.Path, "error", err)
			writeError(w, http.StatusBadGateway, "Could not reach the current leader: "+err.Error())
		},
	}
	return p
}

// The leader proxy's timeouts, shown in /v2/info as Marathon's
// leader_proxy_connection_timeout_ms and leader_proxy_read_timeout_ms.
const (
	leaderProxyConnectTimeout = 5 * time.Second
	leaderProxyReadTimeout    = 60 * time.Second
)

type leaderKey struct{}

func (p *leaderProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.l.Elected() {
		w.Header().Set(headerLeader, p.scheme+"://"+p.self)
		p.local.ServeHTTP(w, r)
		return
	}
	if p.answersLocally(r) {
		p.local.ServeHTTP(w, r)
		return
	}
	leader, ok := p.waitLeader(r)
	switch {
	case ok && leader == p.self:
		// Elected meanwhile.
		w.Header().Set(headerLeader, p.scheme+"://"+p.self)
		p.local.ServeHTTP(w, r)
		return
	case !ok:
		writeError(w, http.StatusServiceUnavailable, "Could not determine the current leader")
		return
	}
	if slices.ContainsFunc(r.Header.Values(headerVia), func(v string) bool { return strings.Contains(v, p.self) }) {
		// Two instances each think the other leads.
		writeError(w, http.StatusServiceUnavailable, "Could not determine the current leader (proxy loop)")
		return
	}
	target := &url.URL{Scheme: p.scheme, Host: leader}
	w.Header().Set(headerLeader, target.String())
	if r.URL.Path == "/v2/events" {
		http.Redirect(w, r, target.String()+r.URL.RequestURI(), http.StatusFound)
		return
	}
	p.proxy.ServeHTTP(w, r.WithContext(contextWith(r, target)))
}

// answersLocally lists what a standby serves itself.
func (p *leaderProxy) answersLocally(r *http.Request) bool {
	if r.Method == http.MethodGet && (r.URL.Path == "/" || ui.IsStatic(r.URL.Path)) {
		// The UI's own files are the same on every instance.
		return true
	}
	switch r.URL.Path {
	case "/ping", "/metrics", "/metrics/prometheus":
		return true
	case "/v2/leader", "/v2/info":
		return r.Method == http.MethodGet
	}
	return false
}

// waitLeader returns the leader's host:port (this instance's own once its
// term serves), waiting briefly while the election is undecided or this
// instance's term is starting.
func (p *leaderProxy) waitLeader(r *http.Request) (string, bool) {
	deadline := time.Now().Add(leaderWait)
	for {
		if p.l.Elected() {
			return p.self, true
		}
		if leader, ok := p.l.Leader(); ok && leader != p.self {
			return leader, true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		select {
		case <-r.Context().Done():
			return "", false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// proxyTLS is the client TLS configuration of the proxy: nil without
// TLS, else the system roots plus own's certificates.
func proxyTLS(own *tls.Config) *tls.Config {
	if own == nil {
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, c := range own.Certificates {
		for _, der := range c.Certificate {
			if cert, err := x509.ParseCertificate(der); err == nil {
				pool.AddCert(cert)
			}
		}
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(marathon.Message{Message: msg})
}

func contextWith(r *http.Request, target *url.URL) context.Context {
	return context.WithValue(r.Context(), leaderKey{}, target)
}
