package registrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/internal/backoff"
	"github.com/stadionhq/stadion/internal/clientauth"
	"github.com/stadionhq/stadion/internal/marathon"
)

// HTTPError is an answer of the scheduler other than the one asked for.
type HTTPError struct {
	// URL is the request's URL without its password.
	URL    string
	Status int
	// Body is the start of the answer's body.
	Body string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: %d %s: %s", e.URL, e.Status, http.StatusText(e.Status), e.Body)
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (credentials missing or refused: give them with MARATHON_CREDENTIALS, a credentials file or user:password@ in the URL)"
	case http.StatusForbidden:
		msg += " (the credentials may not read apps and events)"
	}
	return msg
}

// ErrStreamEnded is returned when the scheduler closed the event stream.
var ErrStreamEnded = errors.New("event stream ended")

// ClientConfig configures a Client.
type ClientConfig struct {
	// URLs are the base URLs of the scheduler's instances
	// ("http://m1:8080"); at least one. User info in a URL is sent as
	// basic authentication when Credentials is zero, and never logged.
	URLs []string
	// Credentials are sent as HTTP Basic authentication to the URLs, and
	// only to them: a redirect to another scheme, host or port (a leader
	// not among URLs) is followed without them.
	Credentials clientauth.Credentials
	// CAFile is a PEM file of the CAs that sign the schedulers' https
	// certificates; empty uses the system's.
	CAFile string
	// TLSSkipVerify accepts any https certificate.
	TLSSkipVerify bool
	// RequestTimeout bounds each /v2/apps request; 0 is 30s.
	RequestTimeout time.Duration
	// IdleTimeout ends an event stream that sent nothing, not even a
	// keep-alive, for that long; 0 is 60s (Marathon and Stadion send a
	// keep-alive every 10s).
	IdleTimeout time.Duration
	// RetryMin and RetryMax bound the jittered wait before reconnecting
	// the stream; 0 is 100ms and 10s.
	RetryMin, RetryMax time.Duration
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
}

// Validate reports the first unusable field.
func (c ClientConfig) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("registrator: no scheduler URL")
	}
	urls := make([]*url.URL, 0, len(c.URLs))
	for _, s := range c.URLs {
		u, err := parseSchedulerURL(s)
		if err != nil {
			return err
		}
		urls = append(urls, u)
	}
	if _, err := clientauth.Resolve(clientauth.Source{URLs: urls}); err != nil {
		return fmt.Errorf("registrator: %w", err)
	}
	if c.RequestTimeout < 0 || c.IdleTimeout < 0 || c.RetryMin < 0 || c.RetryMax < 0 {
		return errors.New("registrator: client durations must not be negative")
	}
	return nil
}

func parseSchedulerURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registrator: scheduler URL %q: want http(s)://host:port", redact(s))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// redact hides the password of a URL given as text.
func redact(s string) string { return clientauth.Redact(s) }

// Client reads a Marathon-compatible scheduler: full snapshots of
// /v2/apps?embed=apps.tasks and the /v2/events stream. It uses only what
// Marathon serves too. With several URLs (an HA cluster) it keeps using the
// one that answered last and moves to the next when it fails: standbys
// proxy the API to the leader and answer the event stream with a redirect
// to it, which the client follows.
type Client struct {
	urls   []*url.URL
	api    *http.Client
	stream *http.Client
	cfg    ClientConfig
	log    *slog.Logger

	mu  sync.Mutex
	cur int // index of the URL to try first
}

// NewClient returns a client of the schedulers at cfg.URLs.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin = 100 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, log: cfg.Logger}
	var withUser []*url.URL
	for _, s := range cfg.URLs {
		u, _ := parseSchedulerURL(s) // checked by Validate
		withUser = append(withUser, u)
		// The transport adds the credentials; a URL without user info
		// keeps net/http from adding them to requests itself.
		c.urls = append(c.urls, clientauth.StripUser(u))
	}
	creds := cfg.Credentials
	if creds.IsZero() {
		creds, _ = clientauth.Resolve(clientauth.Source{URLs: withUser}) // checked by Validate
	}
	transport, err := clientauth.NewTransport(clientauth.Config{
		Credentials:   creds,
		Origins:       c.urls,
		CAFile:        cfg.CAFile,
		TLSSkipVerify: cfg.TLSSkipVerify,
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler TLS: %w", err)
	}
	c.api = &http.Client{Transport: transport, Timeout: cfg.RequestTimeout}
	// The stream has no overall timeout; IdleTimeout watches it instead.
	c.stream = &http.Client{Transport: transport}
	return c, nil
}

// order returns the URLs, the one to try first first.
func (c *Client) order() []*url.URL {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*url.URL, 0, len(c.urls))
	for i := range c.urls {
		out = append(out, c.urls[(c.cur+i)%len(c.urls)])
	}
	return out
}

// prefer makes u the URL to try first.
func (c *Client) prefer(u *url.URL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.urls {
		if x == u {
			c.cur = i
		}
	}
}

// Apps returns a full snapshot: GET /v2/apps?embed=apps.tasks and GET
// /v2/pods/::status of the first URL that answers.
func (c *Client) Apps(ctx context.Context) (Snapshot, error) {
	var errs []error
	for _, u := range c.order() {
		snap, err := c.apps(ctx, u)
		if err == nil {
			c.prefer(u)
			return snap, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return Snapshot{}, fmt.Errorf("fetch apps: %w", errors.Join(errs...))
}

func (c *Client) apps(ctx context.Context, base *url.URL) (Snapshot, error) {
	u := *base
	u.Path += "/v2/apps"
	u.RawQuery = "embed=apps.tasks"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Snapshot{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.api.Do(req)
	if err != nil {
		return Snapshot{}, redactErr(err, &u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Snapshot{}, httpError(resp, &u)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%s: read body: %w", u.Redacted(), err)
	}
	snap, err := DecodeSnapshot(body)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	pods, bad, err := c.pods(ctx, base)
	if err != nil && !errors.Is(err, errNoPods) {
		return Snapshot{}, err
	}
	snap.Pods = pods
	snap.Bad = append(snap.Bad, bad...)
	return snap, nil
}

// pods reads GET /v2/pods/::status; a 404 (a scheduler without pods, as
// Marathon before 1.4) is errNoPods.
func (c *Client) pods(ctx context.Context, base *url.URL) ([]marathon.PodStatus, []Skip, error) {
	u := *base
	u.Path += "/v2/pods/::status"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.api.Do(req)
	if err != nil {
		return nil, nil, redactErr(err, &u)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, nil, errNoPods
	default:
		return nil, nil, httpError(resp, &u)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read body: %w", u.Redacted(), err)
	}
	pods, bad, err := DecodePodStatuses(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	return pods, bad, nil
}

// httpError reads the start of an unexpected answer.
func httpError(resp *http.Response, u *url.URL) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &HTTPError{URL: u.Redacted(), Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
}

// redactErr replaces the *url.Error of a failed request, whose text holds
// the URL with its password, by one with the redacted URL.
func redactErr(err error, u *url.URL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, u.Redacted(), ue.Err)
	}
	return err
}

// Notice is what Follow reports: a (re)connection of the stream, after
// which events may have been missed, or one event.
type Notice struct {
	// Connected is set on each successful connection; URL is the
	// instance that serves the stream (the leader, after redirects).
	Connected bool
	URL       string
	// Event is an event of the asked types.
	Event marathon.Event
}

// resetAfter is how long a stream must have lasted for the reconnection
// backoff to start again from its minimum.
const resetAfter = 10 * time.Second

// Follow reads the event stream of the given types until ctx ends, and
// sends what it reads to out. A stream that fails or ends is opened again
// after a capped, jittered backoff, on the next URL when the connection
// itself failed. It returns ctx.Err().
func (c *Client) Follow(ctx context.Context, types []marathon.EventType, out chan<- Notice) error {
	b := backoff.New(c.cfg.RetryMin, c.cfg.RetryMax)
	for {
		urls := c.order()
		start := time.Now()
		connected, err := c.follow(ctx, urls[0], types, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !connected && len(urls) > 1 {
			c.prefer(urls[1])
		}
		if connected && time.Since(start) >= resetAfter {
			b.Reset()
		}
		d := b.Next()
		c.log.Warn("event stream lost, reconnecting", "url", urls[0].Redacted(), "error", err, "retry_in", d)
		if backoff.Sleep(ctx, d) != nil {
			return ctx.Err()
		}
	}
}

// follow reads one connection of the stream. connected reports whether the
// scheduler accepted it.
func (c *Client) follow(ctx context.Context, base *url.URL, types []marathon.EventType, out chan<- Notice) (connected bool, err error) {
	u := *base
	u.Path += "/v2/events"
	q := url.Values{"plan-format": {"light"}}
	for _, t := range types {
		q.Add("event_type", string(t))
	}
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	// The redirect of a standby to the leader is followed by the client;
	// the transport sends the credentials only to the URLs given.
	resp, err := c.stream.Do(req)
	if err != nil {
		return false, redactErr(err, &u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, httpError(resp, &u)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("%s: content type %q, want text/event-stream", u.Redacted(), resp.Header.Get("Content-Type"))
	}
	served := resp.Request.URL.Redacted()
	if !send(ctx, out, Notice{Connected: true, URL: served}) {
		return true, ctx.Err()
	}
	c.log.Info("following the event stream", "url", served)

	var idled atomic.Bool
	idle := time.AfterFunc(c.cfg.IdleTimeout, func() { idled.Store(true); cancel() })
	defer idle.Stop()
	// Any byte, keep-alives included, shows the stream is alive.
	r := newSSEReader(touchReader{r: resp.Body, touch: func() { idle.Reset(c.cfg.IdleTimeout) }})
	for {
		name, data, err := r.next()
		if err != nil {
			switch {
			case idled.Load():
				err = fmt.Errorf("nothing received for %v", c.cfg.IdleTimeout)
			case errors.Is(err, io.EOF):
				err = ErrStreamEnded
			}
			return true, err
		}
		e, derr := marathon.DecodeEvent(data)
		if derr != nil {
			c.log.Debug("undecodable event skipped", "event", name, "error", derr)
			continue
		}
		if !send(ctx, out, Notice{Event: e}) {
			return true, ctx.Err()
		}
	}
}

// touchReader calls touch after every read that returned bytes.
type touchReader struct {
	r     io.Reader
	touch func()
}

func (t touchReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.touch()
	}
	return n, err
}

// send delivers n unless ctx ends first.
func send(ctx context.Context, out chan<- Notice, n Notice) bool {
	select {
	case out <- n:
		return true
	case <-ctx.Done():
		return false
	}
}
