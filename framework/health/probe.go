package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// IgnoredCause is the cause Probe returns, with ok false, for a 1xx answer
// to a check with ignoreHttp1xx. Such an outcome must not be observed:
// Marathon keeps the previous health (HealthCheckWorker's Ignored).
const IgnoredCause = "ignored informational response"

// Transports are shared; keep-alives are off so that every check opens a
// new connection, as Marathon's single-request client does.
var (
	httpTransport = &http.Transport{
		DisableKeepAlives: true,
	}
	// This is only a health check: Marathon accepts any certificate.
	httpsTransport = &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // Marathon semantics
	}
)

// Probe runs hc once against host:port. HTTP and HTTPS send a GET to the
// check's path without following redirects and succeed on a status in
// 200–399; HTTPS skips certificate verification. TCP succeeds when a
// connection opens. timeoutSeconds bounds the whole probe. cause is the
// HTTP status line or the error text when ok is false.
func Probe(ctx context.Context, hc marathon.HealthCheck, host string, port int) (ok bool, cause string) {
	timeout := time.Duration(hc.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = marathon.DefaultTimeoutSeconds * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	switch hc.Protocol {
	case marathon.ProtocolHTTP, "":
		return probeHTTP(ctx, httpTransport, "http://"+addr+path(hc.Path), hc.IgnoreHTTP1xx)
	case marathon.ProtocolHTTPS:
		// Marathon's https() has no Ignored branch: a 1xx fails.
		return probeHTTP(ctx, httpsTransport, "https://"+addr+path(hc.Path), false)
	case marathon.ProtocolTCP:
		return probeTCP(ctx, addr)
	}
	return false, fmt.Sprintf("unsupported protocol %s", hc.Protocol)
}

// Runs reports whether Probe runs checks of protocol p; the others run on
// the Mesos agent.
func Runs(p marathon.HealthCheckProtocol) bool {
	switch p {
	case marathon.ProtocolHTTP, marathon.ProtocolHTTPS, marathon.ProtocolTCP, "":
		return true
	}
	return false
}

func path(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}

func probeHTTP(ctx context.Context, rt http.RoundTripper, url string, ignore1xx bool) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	client := &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	// The body is not read: keep-alives are off, and a 101 body is the
	// raw connection.
	_ = resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c <= 399:
		return true, ""
	case c >= 100 && c <= 199 && ignore1xx:
		return false, IgnoredCause
	}
	return false, resp.Status
}

func probeTCP(ctx context.Context, addr string) (bool, string) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err.Error()
	}
	_ = conn.Close()
	return true, ""
}
