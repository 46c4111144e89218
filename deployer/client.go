package deployer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/clientauth"
	"github.com/stadionhq/stadion/internal/marathon"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// URL is Marathon's base URL, such as http://marathon:8080; it may
	// carry user:password@ (basic auth, when Credentials is zero) and a
	// path prefix. Required.
	URL string
	// Credentials are sent as HTTP Basic authentication to URL's scheme,
	// host and port only: a redirect elsewhere is followed without them.
	Credentials clientauth.Credentials
	// CAFile is a PEM file of the CAs of an https URL's certificate;
	// empty uses the system's.
	CAFile string
	// HTTP sends the requests; nil means a client with a 30s timeout.
	// The client gets a copy whose transport adds the credentials and
	// CAFile.
	HTTP *http.Client
	// Logger receives one debug line per request; nil discards them.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c ClientConfig) Validate() error {
	if c.URL == "" {
		return errors.New("deployer client: marathon URL required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("deployer client: marathon URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("deployer client: marathon URL %q: want http(s)://host:port", redact(c.URL))
	}
	return nil
}

// Client makes the /v2 calls of a deploy. Failed calls return a
// *marathon.Error with the HTTP status and Marathon's message.
type Client struct {
	base string
	http *http.Client
	log  *slog.Logger
}

// NewClient returns a client of the Marathon at cfg.URL.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	u, _ := url.Parse(cfg.URL) // checked by Validate
	creds := cfg.Credentials
	if creds.IsZero() {
		creds = clientauth.FromURL(u)
	}
	// The transport adds the credentials; a URL without user info keeps
	// net/http from adding them itself, and from errors.
	u = clientauth.StripUser(u)
	hc, err := clientauth.Client(hc, clientauth.Config{Credentials: creds, Origins: []*url.URL{u}, CAFile: cfg.CAFile})
	if err != nil {
		return nil, fmt.Errorf("deployer client: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), http: hc, log: log}, nil
}

// URL is the base URL, without user info.
func (c *Client) URL() string { return c.base }

// Response is a successful answer: status, body and the
// Marathon-Deployment-Id header of deployable calls.
type Response struct {
	Status       int
	Body         []byte
	DeploymentID string
}

// Result decodes the {"deploymentId", "version"} of a deployable answer;
// a POST /v2/apps answer (the app) gives the header's id and the app's
// version.
func (r Response) Result() (marathon.DeploymentResult, error) {
	var body struct {
		DeploymentID string             `json:"deploymentId"`
		Version      marathon.Timestamp `json:"version"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return marathon.DeploymentResult{}, fmt.Errorf("read deployment result: %w", err)
	}
	res := marathon.DeploymentResult{DeploymentID: body.DeploymentID, Version: body.Version}
	if res.DeploymentID == "" {
		res.DeploymentID = r.DeploymentID
	}
	if res.DeploymentID == "" {
		return res, errors.New("read deployment result: no deployment id in the answer")
	}
	return res, nil
}

func appPath(id marathon.PathID) string { return "/v2/apps" + string(id.Canonical()) }

// DeployOptions are the query parameters of calls that deploy.
type DeployOptions struct {
	// Force cancels the deployments that hold the app (force=true).
	Force bool
	// Queue waits behind them instead of answering 409 (queue=true, a
	// Stadion extension that Marathon ignores).
	Queue bool
}

func (o DeployOptions) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if o.Force {
		q.Set("force", "true")
	}
	if o.Queue {
		q.Set("queue", "true")
	}
	return q
}

// CreateApp is POST /v2/apps.
func (c *Client) CreateApp(ctx context.Context, body []byte, opts DeployOptions) (Response, error) {
	return c.do(ctx, http.MethodPost, "/v2/apps", opts.query(nil), body)
}

// UpdateApp is PUT /v2/apps/{id}. With partial false the body replaces
// the whole definition (partialUpdate=false); otherwise absent fields
// keep their values, Marathon's default.
func (c *Client) UpdateApp(ctx context.Context, id marathon.PathID, body []byte, opts DeployOptions, partial bool) (Response, error) {
	q := opts.query(url.Values{"partialUpdate": {strconv.FormatBool(partial)}})
	return c.do(ctx, http.MethodPut, appPath(id), q, body)
}

// DeleteApp is DELETE /v2/apps/{id}.
func (c *Client) DeleteApp(ctx context.Context, id marathon.PathID, opts DeployOptions) (Response, error) {
	return c.do(ctx, http.MethodDelete, appPath(id), opts.query(nil), nil)
}

// App is GET /v2/apps/{id}?embed=app.tasks: the app with its tasks and
// counts; a *marathon.Error with status 404 when it does not exist.
func (c *Client) App(ctx context.Context, id marathon.PathID) (marathon.AppInfo, error) {
	res, err := c.do(ctx, http.MethodGet, appPath(id), url.Values{"embed": {"app.tasks", "app.deployments"}}, nil)
	if err != nil {
		return marathon.AppInfo{}, err
	}
	var body marathon.AppBody
	if err := json.Unmarshal(res.Body, &body); err != nil {
		return marathon.AppInfo{}, fmt.Errorf("read app %s: %w", id, err)
	}
	return body.App, nil
}

// AppVersion is GET /v2/apps/{id}/versions/{version}: the definition at
// that version, as the server wrote it.
func (c *Client) AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) ([]byte, error) {
	res, err := c.do(ctx, http.MethodGet, appPath(id)+"/versions/"+url.PathEscape(version.String()), nil, nil)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// Deployments is GET /v2/deployments.
func (c *Client) Deployments(ctx context.Context) ([]marathon.Deployment, error) {
	res, err := c.do(ctx, http.MethodGet, "/v2/deployments", nil, nil)
	if err != nil {
		return nil, err
	}
	var out []marathon.Deployment
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return nil, fmt.Errorf("read deployments: %w", err)
	}
	return out, nil
}

// DeleteDeployment is DELETE /v2/deployments/{id}: without force the
// deployment is cancelled and a rollback deployment starts, whose result
// is returned; with force it is only cancelled.
func (c *Client) DeleteDeployment(ctx context.Context, id string, force bool) (Response, error) {
	return c.do(ctx, http.MethodDelete, "/v2/deployments/"+url.PathEscape(id), DeployOptions{Force: force}.query(nil), nil)
}

// maxBody bounds the answers read: an app list with tasks of one app.
const maxBody = 32 << 20

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte) (Response, error) {
	target := c.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	c.log.Debug("marathon request", "method", method, "path", path, "status", res.StatusCode, "duration", time.Since(start))
	if res.StatusCode/100 != 2 {
		return Response{}, apiError(res.StatusCode, b)
	}
	return Response{Status: res.StatusCode, Body: b, DeploymentID: res.Header.Get(marathon.DeploymentHeader)}, nil
}

// apiError reads Marathon's error body; a body that is not one (a proxy's
// page) becomes the message.
func apiError(status int, body []byte) *marathon.Error {
	e := &marathon.Error{}
	if json.Unmarshal(body, e) != nil || e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
	}
	e.Status = status
	return e
}

// IsStatus reports whether err is a *marathon.Error with that status.
func IsStatus(err error, status int) bool {
	var me *marathon.Error
	return errors.As(err, &me) && me.Status == status
}
