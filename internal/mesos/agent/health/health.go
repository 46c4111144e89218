package health

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Config configures the health checks of one task.
type Config struct {
	// Check is the task's health check; unset durations and counts take
	// the proto defaults (mesos.DefaultHealth*).
	Check mesos.HealthCheck
	// Host is the address HTTP and TCP checks connect to: 127.0.0.1 for
	// tasks on the agent's network, the container's IP for a container on
	// a bridge.
	Host string
	// Exec runs a COMMAND check where the task runs; it returns an error
	// when the command fails.
	Exec func(ctx context.Context, cmd *mesos.CommandInfo) error
	// Logger receives the checker's debug logs; nil discards them.
	Logger *slog.Logger
}

// Result is what Run reports.
type Result struct {
	// Healthy is the task's health after this check.
	Healthy bool
	// Changed is true when Healthy differs from the last report, and on
	// the first report.
	Changed bool
	// Kill is true when the task failed too many checks in a row; Run
	// returns after reporting it.
	Kill bool
	// Message describes the last failure; "" when healthy.
	Message string
}

// Policy is a HealthCheck's timing with defaults applied.
type Policy struct {
	Delay, Interval, Timeout, Grace time.Duration
	ConsecutiveFailures             int
}

// PolicyOf applies the proto defaults to hc.
func PolicyOf(hc mesos.HealthCheck) Policy {
	sec := func(v *float64, def float64) time.Duration {
		if v == nil || *v < 0 {
			return time.Duration(def * float64(time.Second))
		}
		return time.Duration(*v * float64(time.Second))
	}
	p := Policy{
		Delay:               sec(hc.DelaySeconds, mesos.DefaultHealthDelaySeconds),
		Interval:            sec(hc.IntervalSeconds, mesos.DefaultHealthIntervalSeconds),
		Timeout:             sec(hc.TimeoutSeconds, mesos.DefaultHealthTimeoutSeconds),
		Grace:               sec(hc.GracePeriodSeconds, mesos.DefaultHealthGracePeriodSeconds),
		ConsecutiveFailures: mesos.DefaultHealthConsecutiveFailures,
	}
	if hc.ConsecutiveFailures != nil {
		p.ConsecutiveFailures = int(*hc.ConsecutiveFailures)
	}
	return p
}

// Tracker applies Mesos's rules to a sequence of check outcomes. It does no
// I/O and receives time as an argument. The zero value is not usable: use
// NewTracker.
type Tracker struct {
	policy   Policy
	start    time.Time
	reported bool // a result was reported
	healthy  bool // last reported health
	passed   bool // a check has succeeded once, which ends the grace period
	failures int  // consecutive failures that count
}

// NewTracker starts tracking a task launched at start.
func NewTracker(p Policy, start time.Time) *Tracker {
	return &Tracker{policy: p, start: start}
}

// Observe takes one check outcome at now (err nil = success) and returns
// the result to report, if any. Failures within the grace period, before
// the first success, are ignored.
func (t *Tracker) Observe(err error, now time.Time) (Result, bool) {
	if err == nil {
		t.passed = true
		t.failures = 0
		changed := !t.reported || !t.healthy
		t.reported, t.healthy = true, true
		return Result{Healthy: true, Changed: changed}, changed
	}
	if !t.passed && now.Sub(t.start) < t.policy.Grace {
		return Result{}, false
	}
	t.failures++
	changed := !t.reported || t.healthy
	t.reported, t.healthy = true, false
	kill := t.policy.ConsecutiveFailures > 0 && t.failures >= t.policy.ConsecutiveFailures
	r := Result{Healthy: false, Changed: changed, Kill: kill, Message: err.Error()}
	return r, changed || kill
}

// Run checks the task until ctx ends or the task must be killed, calling
// report on every change of health and on the kill. The task is taken to
// start now: checks begin after the delay, the grace period counts from
// now.
func Run(ctx context.Context, cfg Config, report func(Result)) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := PolicyOf(cfg.Check)
	tr := NewTracker(p, time.Now())
	timer := time.NewTimer(p.Delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := Probe(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Debug("health check failed", "error", err)
		}
		if r, ok := tr.Observe(err, time.Now()); ok {
			report(r)
			if r.Kill {
				return
			}
		}
		timer.Reset(max(p.Interval, 10*time.Millisecond))
	}
}

// Probe runs one check with its timeout and returns nil when it passes.
func Probe(ctx context.Context, cfg Config) error {
	p := PolicyOf(cfg.Check)
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	hc := cfg.Check
	switch hc.Type {
	case mesos.HealthCheckHTTP:
		if hc.HTTP == nil {
			return errors.New("HTTP health check without http")
		}
		return probeHTTP(ctx, cfg.Host, hc.HTTP)
	case mesos.HealthCheckTCP:
		if hc.TCP == nil {
			return errors.New("TCP health check without tcp")
		}
		return probeTCP(ctx, cfg.Host, hc.TCP)
	case mesos.HealthCheckCommand:
		if cfg.Exec == nil {
			return errors.New("COMMAND health checks are not supported here")
		}
		return cfg.Exec(ctx, hc.Command)
	case "":
		// Before Mesos 1.2 the type was implied by the field set.
		switch {
		case hc.Command != nil && cfg.Exec != nil:
			return cfg.Exec(ctx, hc.Command)
		case hc.HTTP != nil:
			return probeHTTP(ctx, cfg.Host, hc.HTTP)
		case hc.TCP != nil:
			return probeTCP(ctx, cfg.Host, hc.TCP)
		}
	}
	return fmt.Errorf("unsupported health check type %q", hc.Type)
}

// checkClient is shared by HTTP checks; it never follows redirects (a 3xx is
// healthy) and accepts any certificate, as Mesos's curl -k does.
var checkClient = &http.Client{
	Transport: &http.Transport{
		Proxy:             nil,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func host(h, protocol string) string {
	if protocol == "IPv6" && (h == "" || h == "127.0.0.1") {
		return "::1"
	}
	if h == "" {
		return "127.0.0.1"
	}
	return h
}

func probeHTTP(ctx context.Context, h string, c *mesos.HTTPCheckInfo) error {
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path := c.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := scheme + "://" + net.JoinHostPort(host(h, c.Protocol), strconv.Itoa(int(c.Port))) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "stadion-agent-health-check")
	resp, err := checkClient.Do(req)
	if err != nil {
		return fmt.Errorf("HTTP health check: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 400
	if len(c.Statuses) > 0 {
		ok = slices.Contains(c.Statuses, uint32(resp.StatusCode))
	}
	if !ok {
		return fmt.Errorf("HTTP health check: GET %s answered %d", url, resp.StatusCode)
	}
	return nil
}

func probeTCP(ctx context.Context, h string, c *mesos.TCPCheckInfo) error {
	addr := net.JoinHostPort(host(h, c.Protocol), strconv.Itoa(int(c.Port)))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("TCP health check: %w", err)
	}
	conn.Close()
	return nil
}
