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
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultPollInterval = time.Second
)

// Config configures a Deployer. The zero value of every field but Client
// means its default.
type Config struct {
	// Client talks to Marathon; required.
	Client *Client
	// Out receives what a person reads: the rendered definition, the
	// answers, progress and the outcome. Nil discards it.
	Out io.Writer
	// Terminal draws a live progress bar on Out (set it only when Out is
	// a terminal).
	Terminal bool
	// Force sends force=true with the create or update, cancelling a
	// deployment that holds the app.
	Force bool
	// Queue sends queue=true: the change waits behind a deployment that
	// holds the app instead of failing with 409 (Stadion; Marathon ignores
	// it).
	Queue bool
	// NoWait returns once the scheduler accepted the change, as the
	// original script did: no progress, no rollback.
	NoWait bool
	// Timeout bounds the wait for the deployment; DefaultTimeout when 0.
	Timeout time.Duration
	// NoRollback leaves a failed deployment as it is.
	NoRollback bool
	// RollbackTimeout bounds the wait for the rollback; Timeout when 0.
	RollbackTimeout time.Duration
	// PollInterval is the period of the progress polls; DefaultPollInterval
	// when 0.
	PollInterval time.Duration
	// Logger receives retries of failed polls (Warn) and requests
	// (Debug); nil discards them.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("deployer: client required")
	case c.Timeout < 0, c.RollbackTimeout < 0, c.PollInterval < 0:
		return errors.New("deployer: durations must not be negative")
	}
	return nil
}

// Deployer creates or updates apps and sees their deployments through.
type Deployer struct {
	cfg Config
	c   *Client
	out io.Writer
	log *slog.Logger
}

// New returns a Deployer.
func New(cfg Config) (*Deployer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RollbackTimeout == 0 {
		cfg.RollbackTimeout = cfg.Timeout
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Deployer{cfg: cfg, c: cfg.Client, out: cfg.Out, log: cfg.Logger}, nil
}

// Outcome is what a successful Deploy did.
type Outcome struct {
	AppID marathon.PathID
	// Created is true when the app did not exist.
	Created bool
	// DeploymentID and Version are the scheduler's answer.
	DeploymentID string
	Version      marathon.Timestamp
	// Waited is true when the deployment was seen through.
	Waited bool
}

// RollbackState says what became of a failed deployment.
type RollbackState int

// Rollback states.
const (
	// NotRolledBack: rollback disabled (Config.NoRollback), or the app
	// was changed by a later deployment (ErrSuperseded).
	NotRolledBack RollbackState = iota
	// RolledBack: the previous version runs again (or the new app was
	// removed).
	RolledBack
	// RollbackFailed: the rollback could not be started or did not
	// finish; RollbackErr says why.
	RollbackFailed
)

// FailedError is a deployment that failed or timed out, with what the
// rollback did.
type FailedError struct {
	AppID        marathon.PathID
	DeploymentID string
	// Reason is ErrTimeout, ErrSuperseded or ErrAppGone, possibly wrapped.
	Reason error
	// Last is the last progress line seen.
	Last     string
	Rollback RollbackState
	// RollbackDeploymentID is the rollback's deployment, when it started.
	RollbackDeploymentID string
	RollbackErr          error
}

// Error implements error.
func (e *FailedError) Error() string {
	msg := fmt.Sprintf("deployment %s of %s failed: %v", e.DeploymentID, e.AppID, e.Reason)
	if e.Last != "" {
		msg += " (" + e.Last + ")"
	}
	switch e.Rollback {
	case RolledBack:
		msg += "; rolled back"
		if e.RollbackDeploymentID != "" {
			msg += fmt.Sprintf(" (deployment %s)", e.RollbackDeploymentID)
		}
	case RollbackFailed:
		msg += fmt.Sprintf("; rollback failed: %v", e.RollbackErr)
	default:
		msg += "; not rolled back"
	}
	return msg
}

// Unwrap gives errors.Is the reason.
func (e *FailedError) Unwrap() error { return e.Reason }

// Deploy prints the definition, creates the app (POST /v2/apps) or, when
// it exists (409), replaces its definition (PUT /v2/apps/{id} with
// partialUpdate=false: the template is the whole definition), prints the
// answers, then waits for the deployment unless NoWait. A deployment that
// fails or times out is rolled back unless NoRollback and reported as a
// *FailedError. A cancelled ctx stops the wait without a rollback.
func (d *Deployer) Deploy(ctx context.Context, def Definition) (Outcome, error) {
	d.printDefinition(def)
	w, previous, out, err := d.apply(ctx, def)
	if err != nil {
		return out, err
	}
	if d.cfg.NoWait {
		return out, nil
	}
	fmt.Fprintf(d.out, "stadion deploy: waiting for deployment %s of %s (timeout %v)\n", w.deploymentID, w.appID, d.cfg.Timeout)
	last, err := d.wait(ctx, w, d.cfg.Timeout, "deployment")
	if err == nil {
		out.Waited = true
		fmt.Fprintf(d.out, "stadion deploy: deployment %s of %s finished: %s\n", w.deploymentID, w.appID, last.summary())
		return out, nil
	}
	if ctx.Err() != nil {
		return out, err
	}
	fail := &FailedError{AppID: w.appID, DeploymentID: w.deploymentID, Reason: err, Last: last.summary()}
	if errors.Is(err, ErrReverted) {
		fmt.Fprintf(d.out, "stadion deploy: deployment %s failed: %v; waiting for %s to settle\n", w.deploymentID, err, w.appID)
		settle := target{appID: w.appID, version: last.Version}
		if last, err := d.wait(ctx, settle, d.cfg.RollbackTimeout, "rollback"); err != nil {
			fail.Rollback, fail.RollbackErr = RollbackFailed, fmt.Errorf("%w (%s)", err, last.summary())
			return out, fail
		}
		fail.Rollback = RolledBack
		fmt.Fprintf(d.out, "stadion deploy: %s is back at version %s\n", w.appID, last.Version)
		return out, fail
	}
	if d.cfg.NoRollback || errors.Is(err, ErrSuperseded) {
		fmt.Fprintf(d.out, "stadion deploy: deployment %s failed: %v; not rolling back\n", w.deploymentID, err)
		return out, fail
	}
	fmt.Fprintf(d.out, "stadion deploy: deployment %s failed: %v; rolling back\n", w.deploymentID, err)
	rb, err := d.rollback(ctx, w, previous)
	fail.RollbackDeploymentID = rb.deploymentID
	if err != nil {
		fail.Rollback, fail.RollbackErr = RollbackFailed, err
		fmt.Fprintf(d.out, "stadion deploy: rollback of %s failed: %v\n", w.appID, err)
		return out, fail
	}
	fail.Rollback = RolledBack
	if rb.removal {
		fmt.Fprintf(d.out, "stadion deploy: rolled back: %s removed (it did not exist before)\n", w.appID)
	} else {
		fmt.Fprintf(d.out, "stadion deploy: rolled back %s to its previous definition (deployment %s)\n", w.appID, rb.deploymentID)
	}
	return out, fail
}

// apply creates or updates the app and returns what to wait for and the
// version the app had before (zero for a create).
func (d *Deployer) apply(ctx context.Context, def Definition) (target, marathon.Timestamp, Outcome, error) {
	id := def.App.ID
	out := Outcome{AppID: id}
	opts := DeployOptions{Force: d.cfg.Force, Queue: d.cfg.Queue}
	res, err := d.c.CreateApp(ctx, def.JSON, opts)
	if err == nil {
		d.printAnswer("POST /v2/apps", res)
		return d.accepted(id, res, true, out)
	}
	if !IsStatus(err, http.StatusConflict) {
		d.printError("POST /v2/apps", err)
		return target{}, marathon.Timestamp{}, out, fmt.Errorf("create %s: %w", id, err)
	}
	d.printError("POST /v2/apps", err)
	fmt.Fprintf(d.out, "stadion deploy: %s exists; updating its definition\n", id)
	var previous marathon.Timestamp
	cur, err := d.c.App(ctx, id)
	switch {
	case err == nil:
		previous = cur.Version
	case !IsStatus(err, http.StatusNotFound): // removed since the POST: the PUT creates it
		return target{}, previous, out, fmt.Errorf("read %s before the update: %w", id, err)
	}
	path := "PUT /v2/apps" + string(id)
	res, err = d.c.UpdateApp(ctx, id, def.JSON, opts, false)
	if err != nil {
		d.printError(path, err)
		if IsStatus(err, http.StatusConflict) && !d.cfg.Force {
			err = fmt.Errorf("%w (a deployment holds the app: pass --queue to wait behind it, or --force to cancel it)", err)
		}
		return target{}, previous, out, fmt.Errorf("update %s: %w", id, err)
	}
	d.printAnswer(path, res)
	w, _, out, err := d.accepted(id, res, res.Status == http.StatusCreated, out)
	return w, previous, out, err
}

func (d *Deployer) accepted(id marathon.PathID, res Response, created bool, out Outcome) (target, marathon.Timestamp, Outcome, error) {
	r, err := res.Result()
	if err != nil {
		return target{}, marathon.Timestamp{}, out, err
	}
	out.Created, out.DeploymentID, out.Version = created, r.DeploymentID, r.Version
	return target{appID: id, deploymentID: r.DeploymentID, version: r.Version}, marathon.Timestamp{}, out, nil
}

// wait polls the deployment and the app until assess says done or failed,
// timeout passes (ErrTimeout) or ctx ends; it prints progress and returns
// the last status seen. Failed polls are logged and retried: a leader
// failover must not fail a deploy.
func (d *Deployer) wait(ctx context.Context, t target, timeout time.Duration, label string) (status, error) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := newProgress(d.out, d.cfg.Terminal, label, start)
	defer p.finish()
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	var last status
	seen := false
	for {
		dep, app, err := d.observe(wctx, t)
		switch {
		case err == nil:
			last = assess(t, seen, dep, app)
			seen = seen || last.Listed
			p.update(last, time.Now())
			if last.Done {
				return last, nil
			}
			if last.Failed != nil {
				return last, last.Failed
			}
		case wctx.Err() == nil:
			d.log.Warn("poll failed; retrying", "app_id", string(t.appID), "deployment_id", t.deploymentID, "error", err)
		}
		select {
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return last, err
			}
			return last, fmt.Errorf("%w (timeout %v)", ErrTimeout, timeout)
		case <-tick.C:
		}
	}
}

// observe reads the deployment (with no id: the first that affects the
// app), then the app (nil when it does not exist): once the deployment
// is no longer listed, the app read after it shows its outcome.
func (d *Deployer) observe(ctx context.Context, t target) (*marathon.Deployment, *marathon.AppInfo, error) {
	deps, err := d.c.Deployments(ctx)
	if err != nil {
		return nil, nil, err
	}
	var dep *marathon.Deployment
	for i := range deps {
		if deps[i].ID == t.deploymentID || t.deploymentID == "" && slices.Contains(deps[i].AffectedApps, t.appID) {
			dep = &deps[i]
			break
		}
	}
	app, err := d.c.App(ctx, t.appID)
	switch {
	case err == nil:
		return dep, &app, nil
	case IsStatus(err, http.StatusNotFound):
		return dep, nil, nil
	}
	return nil, nil, err
}

// rollback undoes a failed deployment and waits for the rollback
// deployment.
func (d *Deployer) rollback(ctx context.Context, w target, previous marathon.Timestamp) (target, error) {
	rctx, cancel := context.WithTimeout(ctx, d.cfg.RollbackTimeout)
	defer cancel()
	rb := target{appID: w.appID, removal: previous.IsZero()}
	res, cancelled, err := d.startRollback(rctx, w, previous)
	if err != nil {
		return rb, err
	}
	if cancelled {
		rb.restores = previous
	}
	r, err := res.Result()
	if err != nil {
		return rb, err
	}
	rb.deploymentID, rb.version = r.DeploymentID, r.Version
	fmt.Fprintf(d.out, "stadion deploy: waiting for rollback deployment %s (timeout %v)\n", rb.deploymentID, d.cfg.RollbackTimeout)
	last, err := d.wait(ctx, rb, d.cfg.RollbackTimeout, "rollback")
	if err != nil {
		return rb, fmt.Errorf("rollback deployment %s: %w (%s)", rb.deploymentID, err, last.summary())
	}
	return rb, nil
}

// startRollback asks for the rollback, Marathon's way: while the
// deployment is still listed, DELETE /v2/deployments/{id} (cancelled is
// true) makes the scheduler deploy the original versions back (and remove
// an app the deployment created); once it has ended (404), the previous
// version's definition (GET /v2/apps/{id}/versions/{v}) is PUT back with
// force, or the app the deploy created is deleted.
func (d *Deployer) startRollback(ctx context.Context, w target, previous marathon.Timestamp) (res Response, cancelled bool, err error) {
	call := "DELETE /v2/deployments/" + w.deploymentID
	res, err = d.c.DeleteDeployment(ctx, w.deploymentID, false)
	if err == nil {
		d.printAnswer(call, res)
		return res, true, nil
	}
	d.printError(call, err)
	if !IsStatus(err, http.StatusNotFound) {
		return Response{}, false, fmt.Errorf("%s: %w", call, err)
	}
	if previous.IsZero() {
		call = "DELETE /v2/apps" + string(w.appID)
		res, err = d.c.DeleteApp(ctx, w.appID, DeployOptions{Force: true})
	} else {
		body, verr := d.c.AppVersion(ctx, w.appID, previous)
		if verr != nil {
			return Response{}, false, fmt.Errorf("read version %s of %s: %w", previous, w.appID, verr)
		}
		call = "PUT /v2/apps" + string(w.appID)
		res, err = d.c.UpdateApp(ctx, w.appID, body, DeployOptions{Force: true}, false)
	}
	if err != nil {
		d.printError(call, err)
		return Response{}, false, fmt.Errorf("%s: %w", call, err)
	}
	d.printAnswer(call, res)
	return res, false, nil
}

func (d *Deployer) printDefinition(def Definition) { PrintDefinition(d.out, def) }

// PrintDefinition prints the rendered definition, indented, and its
// warnings.
func PrintDefinition(w io.Writer, def Definition) {
	fmt.Fprintf(w, "stadion deploy: rendered %s from %s:\n%s\n", def.App.ID, def.Source, indentJSON(def.JSON))
	for _, p := range def.Warnings {
		fmt.Fprintf(w, "stadion deploy: warning: %s:%s\n", def.Source, p)
	}
}

func (d *Deployer) printAnswer(call string, res Response) {
	fmt.Fprintf(d.out, "stadion deploy: %s: %d %s\n%s\n", call, res.Status, http.StatusText(res.Status), indentJSON(res.Body))
}

func (d *Deployer) printError(call string, err error) {
	var me *marathon.Error
	if !errors.As(err, &me) {
		fmt.Fprintf(d.out, "stadion deploy: %s: %v\n", call, err)
		return
	}
	body, _ := me.MarshalJSON()
	fmt.Fprintf(d.out, "stadion deploy: %s: %d %s\n%s\n", call, me.Status, http.StatusText(me.Status), indentJSON(body))
}

// indentJSON indents a JSON text for reading; other text is returned as
// it is.
func indentJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, bytes.TrimSpace(b), "", "  ") != nil {
		return string(bytes.TrimSpace(b))
	}
	return buf.String()
}
