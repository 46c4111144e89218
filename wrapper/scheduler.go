package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/stadionhq/stadion/internal/clientauth"
)

// RestartResult is the scheduler's answer to a restart: the deployment
// that replaces the app's instances and the app version it creates.
type RestartResult struct {
	DeploymentID string `json:"deploymentId"`
	Version      string `json:"version"`
}

// StatusError is a scheduler answer other than success.
type StatusError struct {
	// Op is the request: "restart" or "get app".
	Op     string
	Status int
	// Message is Marathon's "message" field, or the start of the body.
	Message string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("scheduler %s: %d %s: %s", e.Op, e.Status, http.StatusText(e.Status), e.Message)
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (credentials missing or refused: give them with MARATHON_CREDENTIALS, a credentials file or user:password@ in the scheduler URL)"
	case http.StatusForbidden:
		msg += " (the credentials may not do this)"
	}
	return msg
}

// Unauthorized reports whether the scheduler refused the credentials, or
// wanted some.
func (e *StatusError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// Temporary reports whether trying again later may succeed: the app is
// locked by another deployment (409), rate limits and server errors.
func (e *StatusError) Temporary() bool {
	return e.Status == http.StatusConflict || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// temporary reports whether err is worth retrying: anything but a
// permanent answer of the scheduler (404 for an unknown app, 4xx).
func temporary(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Temporary()
	}
	return true
}

// schedulerClient talks to a Marathon-compatible /v2 API.
type schedulerClient struct {
	// bases are the scheduler's addresses, "http://host:port", tried in
	// turn while one is unreachable.
	bases  []string
	app    string // the app id, "/group/app"
	client *http.Client
}

// parseSchedulerAddrs turns "host:port[,host:port]" (or URLs, which may
// carry user:password for basic authentication) into base URLs.
func parseSchedulerAddrs(s string) ([]*url.URL, error) {
	var out []*url.URL
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !strings.Contains(a, "://") {
			a = "http://" + a
		}
		u, err := url.Parse(a)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("scheduler address %q: want host:port or http(s)://host:port", clientauth.Redact(a))
		}
		u.Path = strings.TrimRight(u.Path, "/")
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no scheduler address")
	}
	if _, err := clientauth.Resolve(clientauth.Source{URLs: out}); err != nil {
		return nil, err
	}
	return out, nil
}

// newSchedulerClient returns the client of cfg's scheduler: cfg's
// credentials (else those of the URLs) go to the scheduler's URLs only,
// over a copy of cfg.HTTPClient with cfg's CA file.
func newSchedulerClient(cfg Config) (*schedulerClient, error) {
	urls, err := parseSchedulerAddrs(cfg.Scheduler)
	if err != nil {
		return nil, err
	}
	creds := cfg.SchedulerCredentials
	if creds.IsZero() {
		creds, _ = clientauth.Resolve(clientauth.Source{URLs: urls}) // checked by parseSchedulerAddrs
	}
	bases := make([]string, len(urls))
	for i, u := range urls {
		// Without user info: the transport adds the credentials, and
		// neither net/http nor an error gets them from the URL.
		urls[i] = clientauth.StripUser(u)
		bases[i] = urls[i].String()
	}
	hc, err := clientauth.Client(cfg.HTTPClient, clientauth.Config{Credentials: creds, Origins: urls, CAFile: cfg.SchedulerCAFile})
	if err != nil {
		return nil, fmt.Errorf("scheduler client: %w", err)
	}
	return &schedulerClient{bases: bases, app: cfg.App, client: hc}, nil
}

// appPath is the app id as a URL path, each segment escaped.
func appPath(app string) string {
	segs := strings.Split(strings.Trim(app, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/v2/apps/" + strings.Join(segs, "/")
}

// Restart asks for a rolling restart of the app: POST
// /v2/apps/{app}/restart.
func (c *schedulerClient) Restart(ctx context.Context) (RestartResult, error) {
	var res RestartResult
	err := c.do(ctx, "restart", http.MethodPost, appPath(c.app)+"/restart", &res)
	return res, err
}

// CheckApp asks whether the app exists: GET /v2/apps/{app}.
func (c *schedulerClient) CheckApp(ctx context.Context) error {
	return c.do(ctx, "get app", http.MethodGet, appPath(c.app), nil)
}

// do sends the request to each address in turn until one answers, and
// decodes a 2xx body into out.
func (c *schedulerClient) do(ctx context.Context, op, method, path string, out any) error {
	var errs []error
	for _, base := range c.bases {
		err := c.doOne(ctx, op, method, base+path, out)
		var se *StatusError
		if err == nil || (errors.As(err, &se) && se.Status != http.StatusServiceUnavailable) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *schedulerClient) doOne(ctx context.Context, op, method, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("scheduler %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("scheduler %s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("scheduler %s: read answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Op: op, Status: resp.StatusCode, Message: message(body)}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("scheduler %s: decode answer: %w", op, err)
		}
	}
	return nil
}

// message is Marathon's error message, or the start of the body.
func message(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return m.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// unauthorized reports whether err is the scheduler refusing the
// credentials.
func unauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Unauthorized()
}
