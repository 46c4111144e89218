package mesos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/internal/mesos/recordio"
)

// Defaults of Config.
const (
	DefaultMissedHeartbeats = 5
	DefaultMinBackoff       = time.Second
	DefaultMaxBackoff       = 15 * time.Second
	DefaultCallTimeout      = 10 * time.Second
)

const (
	// SchedulerPath is the scheduler endpoint below a master's base URL.
	SchedulerPath = "/api/v1/scheduler"
	// StreamIDHeader carries the subscription's id: answered to SUBSCRIBE,
	// sent with every other call.
	StreamIDHeader = "Mesos-Stream-Id"

	// contentType is compared by plain string equality on the master: a
	// charset parameter gets 415.
	contentType = "application/json"

	// defaultHeartbeatInterval applies when SUBSCRIBED names none; Mesos
	// hard-codes 15 s.
	defaultHeartbeatInterval = 15 * time.Second
	// maxRedirects caps the 307 hops of one request.
	maxRedirects = 5
	// maxErrorBody caps how much of an error answer is kept in APIError.
	maxErrorBody = 64 << 10
)

// FrameworkIDStore keeps the framework id across restarts of the scheduler,
// so that it resubscribes as the same framework and keeps its tasks.
type FrameworkIDStore interface {
	// LoadFrameworkID returns the stored id, "" when there is none yet.
	LoadFrameworkID(ctx context.Context) (string, error)
	// SaveFrameworkID stores id durably.
	SaveFrameworkID(ctx context.Context, id string) error
}

// Config configures a Client. The zero value of every optional field means
// its default.
type Config struct {
	// Detector finds the leading master. Required.
	Detector Detector
	// Framework is sent with SUBSCRIBE; User and Name are required. Its ID
	// is used when Store holds none, and is replaced by the id the master
	// assigns.
	Framework FrameworkInfo
	// Store persists the framework id. Nil keeps it in memory only, so a
	// restarted scheduler registers as a new framework.
	Store FrameworkIDStore
	// HTTPClient sends every request. It must not have a Timeout because
	// the subscription stream never ends; its CheckRedirect is replaced so
	// that redirects are followed by the client itself. Nil uses a client
	// with dial and TLS handshake timeouts.
	HTTPClient *http.Client
	// Principal and Secret are HTTP Basic credentials for a master started
	// with --authenticate_http_frameworks. Principal also fills
	// Framework.Principal when that is empty. Secret is never logged. The
	// credentials go only to URLs with the scheme of the master the
	// Detector named: a 307 to another host keeps them (the leader is
	// elsewhere), one to another scheme (http after https) drops them for
	// the rest of that chain and for the leader it leads to.
	Principal string
	Secret    string
	// MissedHeartbeats is how many heartbeat intervals may pass without a
	// record before the subscription is considered dead. Default 5.
	MissedHeartbeats int
	// MinBackoff and MaxBackoff bound the wait before a resubscription: it
	// doubles from MinBackoff on each failure up to MaxBackoff, with
	// jitter, and starts over after a SUBSCRIBED. Defaults 1s and 15s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// CallTimeout bounds each call other than SUBSCRIBE, the wait for the
	// SUBSCRIBE answer's headers and for its first record, and each use of
	// Store. Default 10s.
	CallTimeout time.Duration
	// Logger receives the client's logs. Nil discards them.
	Logger *slog.Logger
}

// withDefaults returns cfg with every unset optional field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.MissedHeartbeats == 0 {
		cfg.MissedHeartbeats = DefaultMissedHeartbeats
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Framework.Principal == "" {
		cfg.Framework.Principal = cfg.Principal
	}
	return cfg
}

// Validate reports every problem of cfg at once.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Detector == nil {
		errs = append(errs, errors.New("detector is required"))
	}
	if cfg.Framework.User == "" {
		errs = append(errs, errors.New("framework user is required"))
	}
	if cfg.Framework.Name == "" {
		errs = append(errs, errors.New("framework name is required"))
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Timeout != 0 {
		errs = append(errs, errors.New("http client must not have a timeout: the subscription stream is endless"))
	}
	if cfg.Secret != "" && cfg.Principal == "" {
		errs = append(errs, errors.New("secret given without principal"))
	}
	if cfg.Principal != "" && cfg.Framework.Principal != "" && cfg.Principal != cfg.Framework.Principal {
		errs = append(errs, errors.New("framework principal differs from the authentication principal"))
	}
	if cfg.MissedHeartbeats < 0 {
		errs = append(errs, errors.New("missed heartbeats must not be negative"))
	}
	if cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 || cfg.CallTimeout < 0 {
		errs = append(errs, errors.New("backoffs and call timeout must not be negative"))
	}
	if d := cfg.withDefaults(); d.MinBackoff > d.MaxBackoff {
		errs = append(errs, fmt.Errorf("min backoff %s exceeds max backoff %s", d.MinBackoff, d.MaxBackoff))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mesos: invalid client config: %w", err)
	}
	return nil
}

// Client is a Mesos v1 scheduler API client. Run keeps a subscription open;
// Call and its convenience wrappers send calls on it. Call is safe for
// concurrent use; Run must not be called twice at the same time.
type Client struct {
	cfg    Config
	log    *slog.Logger
	http   *http.Client
	jitter func() float64

	running atomic.Bool

	// Touched by the Run goroutine only.
	loaded  bool   // Store has been read
	savedID string // the id known to be in Store

	mu     sync.Mutex
	leader *url.URL // scheduler endpoint of the leader; nil: ask the Detector
	// authScheme is the scheme of the Detector's last answer, the only
	// one Basic credentials are sent over.
	authScheme  string
	frameworkID string
	streamID    string // of the live subscription; "" when there is none
	// roles replace Config.Framework.Roles once UpdateFramework set them.
	roles []string
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc = http.Client{Transport: defaultTransport()}
	}
	// Redirects are followed by post, which learns the leader from them and
	// keeps the Authorization header across hosts of the same scheme.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "mesos"),
		http:   &hc,
		jitter: rand.Float64,
	}
	if cfg.Framework.ID != nil {
		c.frameworkID = cfg.Framework.ID.Value
	}
	return c, nil
}

func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Above the calls a scheduler has in flight at once (its caller
		// sends on 21 queues): with fewer idle connections kept, every call
		// beyond them opened a new connection and closed it after, which
		// paced acknowledgements at scale (issue 17).
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}
}

// FrameworkID returns the current framework id, "" before the first
// SUBSCRIBED unless the Store or Config.Framework.ID supplied one.
func (c *Client) FrameworkID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frameworkID
}

// Run subscribes and resubscribes until ctx ends. Every event of every
// subscription is sent to events in order, including SUBSCRIBED (after the
// framework id has been saved to the Store), HEARTBEAT, ERROR and types this
// package does not know. Transport errors, non-200 answers, the end of the
// stream and a heartbeat timeout lead to a resubscription after a backoff.
// Run returns ctx.Err() when ctx ends, or a *FrameworkError after an ERROR
// event. The client keeps the framework id after a FrameworkError, so a
// framework that was removed registers anew only through a new Client whose
// Store no longer holds the old id.
func (c *Client) Run(ctx context.Context, events chan<- Event) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("mesos: client is already running")
	}
	defer c.running.Store(false)
	failures := 0
	for {
		subscribed, err := c.subscribe(ctx, events)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fe := (*FrameworkError)(nil); errors.As(err, &fe) {
			return err
		}
		if subscribed {
			failures = 0
		}
		delay := Backoff(failures, c.cfg.MinBackoff, c.cfg.MaxBackoff, c.jitter())
		failures++
		c.log.Warn("subscription failed, resubscribing", "error", err, "backoff", delay, "framework_id", c.FrameworkID())
		if !wait(ctx, delay) {
			return ctx.Err()
		}
	}
}

// Backoff returns the wait before retry number attempt (0 for the first
// retry after a success): d = lo·2^attempt capped at hi, and a point in
// [d/2, d] picked by jitter (in [0, 1)), but never less than lo.
func Backoff(attempt int, lo, hi time.Duration, jitter float64) time.Duration {
	if lo <= 0 {
		return 0
	}
	hi = max(hi, lo)
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		if d > hi/2 {
			d = hi
			break
		}
		d *= 2
	}
	d = min(d, hi)
	jitter = min(max(jitter, 0), 1)
	return max(d/2+time.Duration(jitter*float64(d-d/2)), lo)
}

// subscribe runs one subscription: it posts SUBSCRIBE, reads the stream until
// it ends and reports whether a SUBSCRIBED arrived. The returned error says
// why the subscription ended; it is never nil.
func (c *Client) subscribe(ctx context.Context, events chan<- Event) (bool, error) {
	if err := c.loadFrameworkID(ctx); err != nil {
		return false, err
	}
	endpoint, err := c.endpoint(ctx)
	if err != nil {
		return false, err
	}
	body, err := json.Marshal(c.subscribeCall())
	if err != nil {
		return false, fmt.Errorf("encode subscribe: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	headers := time.AfterFunc(c.cfg.CallTimeout, cancel)
	resp, endpoint, err := c.post(ctx, endpoint, body, "", CallSubscribe)
	if !headers.Stop() {
		if err == nil {
			drainClose(resp.Body)
		}
		err = fmt.Errorf("subscribe: no answer within %s", c.cfg.CallTimeout)
	}
	if err != nil {
		c.forgetLeader()
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.forgetLeader()
		return false, apiError(resp, CallSubscribe)
	}
	streamID := resp.Header.Get(StreamIDHeader)
	if streamID == "" {
		c.forgetLeader()
		return false, fmt.Errorf("subscribe: answer from %s has no %s header", endpoint.Redacted(), StreamIDHeader)
	}
	c.setLeader(endpoint)
	c.log.Debug("subscription opened", "master_url", endpoint.Redacted(), "stream_id", streamID)

	subscribed, err := c.readStream(ctx, resp.Body, streamID, events)
	c.endStream(streamID)
	if fe := (*FrameworkError)(nil); !errors.As(err, &fe) {
		// The master may have lost its leadership; ask the Detector again.
		c.forgetLeader()
	}
	return subscribed, err
}

// readStream reads the subscription's records until the stream ends. It is
// the only reader of body; the watchdog closes body when no record arrives
// in time.
func (c *Client) readStream(ctx context.Context, body io.ReadCloser, streamID string, events chan<- Event) (bool, error) {
	rd := recordio.NewReader(body, 0)
	wd := newWatchdog(body)
	defer wd.disarm()
	// SUBSCRIBED is the first record and comes at once.
	deadline := c.cfg.CallTimeout
	subscribed := false
	for first := true; ; first = false {
		wd.arm(deadline)
		rec, err := rd.ReadRecord()
		wd.disarm()
		switch {
		case err != nil && wd.expired():
			return subscribed, fmt.Errorf("%w: no record for %s", ErrHeartbeatTimeout, deadline)
		case err != nil && ctx.Err() != nil:
			return subscribed, ctx.Err()
		case errors.Is(err, io.EOF):
			return subscribed, errors.New("mesos: subscription stream closed by the master")
		case err != nil:
			return subscribed, fmt.Errorf("read event: %w", err)
		}

		var ev Event
		if err := json.Unmarshal(rec, &ev); err != nil {
			if first {
				return false, fmt.Errorf("decode first event: %w", err)
			}
			c.log.Error("skipping undecodable event", "error", err, "stream_id", streamID)
			continue
		}
		c.log.Debug("event received", "event_type", ev.Type, "stream_id", streamID)
		if first && ev.Type != EventSubscribed && ev.Type != EventError {
			return false, fmt.Errorf("subscribe: first event is %s, want SUBSCRIBED or ERROR", ev.Type)
		}
		switch ev.Type {
		case EventSubscribed:
			if deadline, err = c.subscribed(ctx, ev.Subscribed, streamID); err != nil {
				return subscribed, err
			}
			subscribed = true
		case EventError:
			return subscribed, c.frameworkError(ctx, ev, events)
		}
		if err := deliver(ctx, events, ev); err != nil {
			return subscribed, err
		}
	}
}

// subscribed records a SUBSCRIBED: it saves the framework id, opens the
// subscription for calls and returns the watchdog's deadline.
func (c *Client) subscribed(ctx context.Context, sub *Subscribed, streamID string) (time.Duration, error) {
	if sub == nil || sub.FrameworkID.Value == "" {
		return 0, errors.New("subscribe: SUBSCRIBED without framework id")
	}
	id := sub.FrameworkID.Value
	c.mu.Lock()
	c.frameworkID = id
	c.mu.Unlock()
	if c.cfg.Store != nil && id != c.savedID {
		sctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		err := c.cfg.Store.SaveFrameworkID(sctx, id)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("save framework id: %w", err)
		}
		c.savedID = id
	}
	interval := defaultHeartbeatInterval
	if s := sub.HeartbeatIntervalSeconds; s != nil && *s > 0 {
		interval = time.Duration(*s * float64(time.Second))
	}
	c.mu.Lock()
	c.streamID = streamID
	c.mu.Unlock()
	c.log.Info("subscribed", "framework_id", id, "stream_id", streamID, "heartbeat_interval", interval)
	return time.Duration(c.cfg.MissedHeartbeats) * interval, nil
}

// frameworkError delivers an ERROR event and returns it as a *FrameworkError.
func (c *Client) frameworkError(ctx context.Context, ev Event, events chan<- Event) error {
	var msg string
	if ev.Error != nil {
		msg = ev.Error.Message
	}
	if err := deliver(ctx, events, ev); err != nil {
		return err
	}
	return &FrameworkError{Message: msg}
}

func deliver(ctx context.Context, events chan<- Event, ev Event) error {
	select {
	case events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loadFrameworkID reads the Store once per Client. A failed read is retried
// by the next subscription attempt: subscribing without the stored id would
// register a new framework and orphan the tasks of the old one.
func (c *Client) loadFrameworkID(ctx context.Context) error {
	if c.cfg.Store == nil || c.loaded {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	id, err := c.cfg.Store.LoadFrameworkID(ctx)
	if err != nil {
		return fmt.Errorf("load framework id: %w", err)
	}
	c.loaded = true
	c.savedID = id
	if id != "" {
		c.mu.Lock()
		c.frameworkID = id
		c.mu.Unlock()
	}
	return nil
}

// subscribeCall builds SUBSCRIBE; a resubscription carries the framework id
// both in the envelope and in framework_info, as the master requires.
func (c *Client) subscribeCall() Call {
	info := c.frameworkInfo()
	info.ID = nil
	call := Call{Type: CallSubscribe, Subscribe: &Subscribe{FrameworkInfo: info}}
	if id := c.FrameworkID(); id != "" {
		call.FrameworkID = &FrameworkID{Value: id}
		call.Subscribe.FrameworkInfo.ID = &FrameworkID{Value: id}
	}
	return call
}

// frameworkInfo is Config.Framework with the roles UpdateFramework set.
func (c *Client) frameworkInfo() FrameworkInfo {
	info := c.cfg.Framework
	c.mu.Lock()
	if c.roles != nil {
		info.Roles = slices.Clone(c.roles)
	}
	c.mu.Unlock()
	return info
}

// UpdateFramework sets the roles of a MULTI_ROLE framework
// (FrameworkInfo.roles): every later SUBSCRIBE carries them, and the live
// subscription is updated with UPDATE_FRAMEWORK (Mesos 1.9+), which is how
// Marathon 1.9+ adds the roles of its apps. Without a live subscription it
// returns ErrNotSubscribed; the roles are kept all the same.
func (c *Client) UpdateFramework(ctx context.Context, roles []string) error {
	c.mu.Lock()
	c.roles = slices.Clone(roles)
	c.mu.Unlock()
	info := c.frameworkInfo()
	if id := c.FrameworkID(); id != "" {
		info.ID = &FrameworkID{Value: id}
	}
	return c.Call(ctx, Call{Type: CallUpdateFramework, UpdateFramework: &UpdateFramework{FrameworkInfo: info}})
}

// Call sends one call other than SUBSCRIBE on the live subscription: to the
// leader, with its Mesos-Stream-Id and the framework id. It returns nil when
// the master answers 200 or 202, an *APIError for any other answer, and
// ErrNotSubscribed when there is no live subscription.
func (c *Client) Call(ctx context.Context, call Call) error {
	if call.Type == CallSubscribe || call.Type == "" {
		return fmt.Errorf("mesos: call type %q cannot be sent with Call", call.Type)
	}
	c.mu.Lock()
	streamID, id, endpoint := c.streamID, c.frameworkID, c.leader
	c.mu.Unlock()
	if streamID == "" || endpoint == nil {
		return ErrNotSubscribed
	}
	call.FrameworkID = &FrameworkID{Value: id}
	body, err := json.Marshal(call)
	if err != nil {
		return fmt.Errorf("encode %s: %w", call.Type, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	resp, final, err := c.post(ctx, endpoint, body, streamID, call.Type)
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if final != endpoint {
		c.setLeader(final)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return apiError(resp, call.Type)
	}
	c.log.Debug("call accepted", "call_type", call.Type, "framework_id", id)
	return nil
}

// post sends body to endpoint and follows 307 redirects to the leader. It
// returns the final answer, which is never a 307, and the URL that gave it.
// Basic credentials are sent while the URL keeps the scheme of the master
// the Detector named; once a redirect changes it they are not sent again on
// this chain (Location "//host/path" keeps the scheme by construction).
func (c *Client) post(ctx context.Context, endpoint *url.URL, body []byte, streamID string, typ CallType) (*http.Response, *url.URL, error) {
	c.mu.Lock()
	authScheme := c.authScheme
	c.mu.Unlock()
	auth := c.cfg.Principal != ""
	for hops := 0; ; hops++ {
		auth = auth && strings.EqualFold(endpoint.Scheme, authScheme)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
		if err != nil {
			return nil, endpoint, fmt.Errorf("build %s request: %w", typ, err)
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", contentType)
		if streamID != "" {
			req.Header.Set(StreamIDHeader, streamID)
		}
		if auth {
			req.SetBasicAuth(c.cfg.Principal, c.cfg.Secret)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, endpoint, fmt.Errorf("send %s: %w", typ, err)
		}
		if resp.StatusCode != http.StatusTemporaryRedirect {
			return resp, endpoint, nil
		}
		loc := resp.Header.Get("Location")
		drainClose(resp.Body)
		if hops >= maxRedirects {
			return nil, endpoint, fmt.Errorf("%w: %s redirected %d times", ErrTooManyRedirects, typ, hops+1)
		}
		if loc == "" {
			return nil, endpoint, fmt.Errorf("send %s: redirect from %s without Location", typ, endpoint.Redacted())
		}
		// A master redirects to "//leader:port/master/api/v1/scheduler";
		// resolving keeps the scheme of the request.
		next, err := endpoint.Parse(loc)
		if err != nil {
			return nil, endpoint, fmt.Errorf("send %s: bad redirect location %q: %w", typ, loc, err)
		}
		c.log.Debug("following redirect to the leading master", "call_type", typ, "master_url", next.Redacted())
		endpoint = next
	}
}

// endpoint returns the scheduler endpoint of the remembered leader, or asks
// the Detector.
func (c *Client) endpoint(ctx context.Context) (*url.URL, error) {
	c.mu.Lock()
	leader := c.leader
	c.mu.Unlock()
	if leader != nil {
		return leader, nil
	}
	leaderURL, err := c.cfg.Detector.Leader(ctx)
	if err != nil {
		return nil, fmt.Errorf("detect leading master: %w", err)
	}
	// Accept "host:port" from a Detector as StaticDetector does.
	base, err := normaliseMaster(leaderURL)
	if err != nil {
		return nil, fmt.Errorf("detect leading master: %w", err)
	}
	u, err := url.Parse(base + SchedulerPath)
	if err != nil {
		return nil, fmt.Errorf("detect leading master: %w", err)
	}
	c.mu.Lock()
	c.authScheme = u.Scheme
	c.mu.Unlock()
	return u, nil
}

func (c *Client) setLeader(u *url.URL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leader = u
}

func (c *Client) forgetLeader() { c.setLeader(nil) }

// endStream closes the subscription for calls unless a newer one took over.
func (c *Client) endStream(streamID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streamID == streamID {
		c.streamID = ""
	}
}

func apiError(resp *http.Response, typ CallType) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &APIError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b)), Call: typ}
}

// drainClose reads a little of body so that the connection can be reused,
// then closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
	_ = body.Close()
}

// watchdog closes a subscription's body when it is armed for longer than
// its deadline, which unblocks the reader.
type watchdog struct {
	timer *time.Timer
	fired atomic.Bool
}

func newWatchdog(body io.Closer) *watchdog {
	w := &watchdog{}
	w.timer = time.AfterFunc(time.Hour, func() {
		w.fired.Store(true)
		_ = body.Close()
	})
	w.timer.Stop()
	return w
}

func (w *watchdog) arm(d time.Duration) { w.timer.Reset(d) }
func (w *watchdog) disarm()             { w.timer.Stop() }
func (w *watchdog) expired() bool       { return w.fired.Load() }

// wait waits for d or until ctx ends, and reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
