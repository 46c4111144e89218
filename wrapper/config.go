package wrapper

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/clientauth"
)

// RestartMode says what a configuration change does.
type RestartMode string

const (
	// RestartScheduler asks the scheduler for one rolling restart of the
	// app per change, whichever instance sees it first.
	RestartScheduler RestartMode = "scheduler"
	// RestartLocal restarts the command in place with the new
	// environment, in every instance (use --splay to spread them).
	RestartLocal RestartMode = "local"
	// RestartNone reads the KV once at start and never watches it.
	RestartNone RestartMode = "none"
)

// Defaults for the zero values of Config.
const (
	DefaultKillTimeout = 5 * time.Second
	DefaultRetryMin    = 500 * time.Millisecond
	DefaultRetryMax    = 30 * time.Second
	// DefaultLockKeyPrefix is where the lock keys live, one per app:
	// <prefix>/<app id>/restart.
	DefaultLockKeyPrefix = "stadion/wrap"
	// DefaultBlockingWait is the longest one blocking query waits.
	DefaultBlockingWait = 60 * time.Second
	// DefaultSessionTTL bounds how long a dead instance holds the lock.
	DefaultSessionTTL = 10 * time.Second
	// DefaultAttemptTimeout bounds one read of the KV at start.
	DefaultAttemptTimeout = 10 * time.Second
)

// Config configures Run. The zero value of every field but Prefix, Command
// and (with RestartScheduler) Scheduler means its default.
type Config struct {
	// Scheduler is the Marathon-compatible API: "host:port" or a URL,
	// several separated by commas. Required with RestartScheduler.
	Scheduler string
	// SchedulerCredentials are sent as HTTP Basic authentication to the
	// Scheduler URLs, and only to them; zero uses their user info.
	SchedulerCredentials clientauth.Credentials
	// SchedulerCAFile is a PEM file of the CAs of the scheduler's https
	// certificate; empty uses the system's.
	SchedulerCAFile string
	// Consul is the Consul agent's HTTP address, "host:port" or a URL;
	// empty means CONSUL_HTTP_ADDR, else 127.0.0.1:8500. The other
	// CONSUL_HTTP_* variables (token, TLS) apply as usual.
	Consul string
	// ConsulToken overrides CONSUL_HTTP_TOKEN.
	ConsulToken string
	// Prefix is the KV prefix; its keys, recursively and relative to it,
	// become environment variables.
	Prefix string
	// App is the app id to restart; empty means "/" + Prefix (the
	// original convention).
	App string
	// Command is the command and its arguments.
	Command []string
	// Env names environment variables after keys.
	Env EnvOptions
	// RestartMode is what a change does; empty means RestartScheduler.
	RestartMode RestartMode
	// KillTimeout is how long the command may take to exit after SIGTERM
	// (or SIGINT) before it is killed with SIGKILL.
	KillTimeout time.Duration
	// WaitMin and WaitMax are the quiescence of changes: act once the
	// KV has been still for WaitMin, or WaitMax after the first change
	// at the latest. Zero acts at once.
	WaitMin, WaitMax time.Duration
	// Splay is the upper bound of a random delay before acting on a
	// change, so that instances do not all restart at once.
	Splay time.Duration
	// AllowStale starts the command with the last environment read from
	// Consul (CacheFile) when Consul cannot be read at start, instead
	// of waiting for it. It also makes the wrapper keep that cache.
	AllowStale bool
	// CacheFile is where the last environment read is kept (mode 0600:
	// it holds the values); empty means DefaultCacheFile(Prefix).
	CacheFile string
	// LockKey is the Consul key the instances agree through; empty
	// means DefaultLockKeyPrefix/<app id>/restart. It must lie outside
	// Prefix.
	LockKey string
	// RetryMin and RetryMax bound the backoff of every retry.
	RetryMin, RetryMax time.Duration
	// Reap reaps every child that ends, orphans included: needed as
	// PID 1 (a container's entrypoint) or as a child subreaper.
	Reap bool
	// Signals delivers the signals to forward to the command. SIGTERM
	// and SIGINT also stop the wrapper: it waits for the command, then
	// ends with its status.
	Signals <-chan os.Signal
	// BaseEnv is the environment the command inherits, before the KV;
	// nil means os.Environ().
	BaseEnv []string
	// Stdin, Stdout and Stderr of the command; nil means the wrapper's.
	Stdin, Stdout, Stderr *os.File
	// Logger receives the wrapper's log; nil discards. KV values are
	// never logged, keys only at Debug.
	Logger *slog.Logger
	// HTTPClient calls the scheduler; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client

	// blockingWait, sessionTTL and attemptTimeout are fixed but for
	// tests.
	blockingWait, sessionTTL, attemptTimeout time.Duration
}

// Validate reports a configuration Run cannot use.
func (c Config) Validate() error {
	var errs []error
	prefix := strings.Trim(c.Prefix, "/")
	if prefix == "" {
		errs = append(errs, errors.New("no KV prefix"))
	}
	if len(c.Command) == 0 || c.Command[0] == "" {
		errs = append(errs, errors.New("no command"))
	}
	switch c.RestartMode {
	case "", RestartScheduler:
		if _, err := parseSchedulerAddrs(c.Scheduler); err != nil {
			errs = append(errs, err)
		}
	case RestartLocal, RestartNone:
	default:
		errs = append(errs, fmt.Errorf("restart mode %q: want scheduler, local or none", c.RestartMode))
	}
	if c.KillTimeout < 0 || c.WaitMin < 0 || c.WaitMax < 0 || c.Splay < 0 || c.RetryMin < 0 || c.RetryMax < 0 {
		errs = append(errs, errors.New("negative duration"))
	}
	if c.WaitMax != 0 && c.WaitMax < c.WaitMin {
		errs = append(errs, fmt.Errorf("wait max %v below wait min %v", c.WaitMax, c.WaitMin))
	}
	if c.RetryMax != 0 && c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("retry max %v below retry min %v", c.RetryMax, c.RetryMin))
	}
	if prefix != "" {
		key := strings.Trim(c.withDefaults().LockKey, "/")
		if key == prefix || strings.HasPrefix(key, prefix+"/") {
			errs = append(errs, fmt.Errorf("lock key %q lies under the watched prefix %q: its writes would look like changes", key, prefix))
		}
	}
	return errors.Join(errs...)
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.App == "" {
		c.App = "/" + c.Prefix
	}
	if !strings.HasPrefix(c.App, "/") {
		c.App = "/" + c.App
	}
	if c.RestartMode == "" {
		c.RestartMode = RestartScheduler
	}
	if c.KillTimeout == 0 {
		c.KillTimeout = DefaultKillTimeout
	}
	if c.WaitMax == 0 {
		c.WaitMax = c.WaitMin
	}
	if c.CacheFile == "" {
		c.CacheFile = DefaultCacheFile(c.Prefix)
	}
	if c.LockKey == "" {
		c.LockKey = DefaultLockKeyPrefix + c.App + "/restart"
	}
	c.LockKey = strings.Trim(c.LockKey, "/")
	if c.RetryMin == 0 {
		c.RetryMin = DefaultRetryMin
		if c.RetryMax != 0 {
			c.RetryMin = min(c.RetryMin, c.RetryMax)
		}
	}
	if c.RetryMax == 0 {
		c.RetryMax = max(DefaultRetryMax, c.RetryMin)
	}
	if c.BaseEnv == nil {
		c.BaseEnv = os.Environ()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.blockingWait == 0 {
		c.blockingWait = DefaultBlockingWait
	}
	if c.sessionTTL == 0 {
		c.sessionTTL = DefaultSessionTTL
	}
	if c.attemptTimeout == 0 {
		c.attemptTimeout = DefaultAttemptTimeout
	}
	return c
}
