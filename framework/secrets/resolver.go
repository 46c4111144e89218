package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/consul"
	"github.com/stadionhq/stadion/internal/marathon"
)

// Defaults.
const (
	// DefaultTimeout bounds one fetch.
	DefaultTimeout = 5 * time.Second
	// DefaultTTL is how long a value serves launches before it is
	// fetched again (a rotated secret reaches new tasks after at most
	// this long).
	DefaultTTL = 30 * time.Second
	// DefaultRetry is how long a failed fetch is remembered before the
	// next try.
	DefaultRetry = 5 * time.Second
	// maxFileSize bounds a secret file.
	maxFileSize = 1 << 20
)

// ErrNotFound is wrapped when a source has no value: no such key or file.
var ErrNotFound = errors.New("secret not found")

// ErrNoDir is wrapped for a file: source without Config.Dir.
var ErrNoDir = errors.New("file secrets need --secrets_dir")

// Config configures a Resolver. The zero value of every field means its
// default.
type Config struct {
	// Dir holds the file: secrets (serve's --secrets_dir); "" refuses
	// them.
	Dir string
	// ConsulAddr is the Consul agent, host:port or a URL; default
	// CONSUL_HTTP_ADDR or 127.0.0.1:8500. ConsulToken overrides
	// CONSUL_HTTP_TOKEN. TLS and the other settings come from the
	// CONSUL_* environment variables.
	ConsulAddr  string
	ConsulToken string
	// Timeout, TTL and Retry: DefaultTimeout, DefaultTTL, DefaultRetry.
	Timeout time.Duration
	TTL     time.Duration
	Retry   time.Duration
	// Logger gets the failures (sources and errors, never values);
	// default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Validate reports a Config that cannot be used.
func (c Config) Validate() error {
	if c.Timeout < 0 || c.TTL < 0 || c.Retry < 0 {
		return errors.New("secrets: durations must not be negative")
	}
	if c.Dir != "" {
		fi, err := os.Stat(c.Dir)
		if err != nil {
			return fmt.Errorf("secrets dir: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("secrets dir %s is not a directory", c.Dir)
		}
	}
	return nil
}

// Resolver fetches secret values in the background and caches them. Its
// methods never wait on I/O, so the scheduler loop may call them.
type Resolver struct {
	cfg     Config
	kv      *api.KV
	dir     *os.Root
	changed chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	entries map[marathon.SecretSource]*entry
}

// entry is what the Resolver knows of one source.
type entry struct {
	value    string
	has      bool
	err      error     // the last fetch's failure, nil after a success
	at       time.Time // end of the last fetch
	inflight bool
}

// New returns a Resolver; Close stops its fetches.
func New(cfg Config) (*Resolver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Retry == 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The tools' Consul setup: CONSUL_HTTP_* and CONSUL_* TLS variables,
	// the address and token given over them.
	cc, err := consul.APIConfig(consul.Config{Address: cfg.ConsulAddr, Token: cfg.ConsulToken})
	if err != nil {
		return nil, err
	}
	client, err := api.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("create consul client: %w", err)
	}
	r := &Resolver{cfg: cfg, kv: client.KV(), changed: make(chan struct{}, 1), entries: map[marathon.SecretSource]*entry{}}
	if cfg.Dir != "" {
		// os.Root keeps every open under Dir, symbolic links included.
		if r.dir, err = os.OpenRoot(cfg.Dir); err != nil {
			return nil, fmt.Errorf("open secrets dir: %w", err)
		}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Close stops the fetches under way and waits for them.
func (r *Resolver) Close() {
	r.cancel()
	r.wg.Wait()
	if r.dir != nil {
		r.dir.Close()
	}
}

// Changed is signalled (coalesced) whenever a fetch ends: what Value
// answered may have changed.
func (r *Resolver) Changed() <-chan struct{} { return r.changed }

// Value returns the value of source when it is known. Otherwise ok is
// false, a fetch is under way or will be retried, and err is the last
// fetch's failure, if any. A value older than the TTL is still returned
// while it is fetched again; a failed refresh keeps it.
func (r *Resolver) Value(source string) (value string, ok bool, err error) {
	src, err := marathon.ParseSecretSource(source)
	if err != nil {
		return "", false, err
	}
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[src]
	if e == nil {
		e = &entry{}
		r.entries[src] = e
	}
	due := false
	switch {
	case e.has:
		due = now.Sub(e.at) >= r.cfg.TTL
	case e.err != nil:
		due = now.Sub(e.at) >= r.cfg.Retry
	default:
		due = true
	}
	if due && !e.inflight && r.ctx.Err() == nil {
		e.inflight = true
		r.wg.Add(1)
		go r.fetch(src)
	}
	return e.value, e.has, e.err
}

// fetch reads src and records the outcome.
func (r *Resolver) fetch(src marathon.SecretSource) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	value, err := r.read(ctx, src)
	cancel()
	r.mu.Lock()
	e := r.entries[src]
	e.inflight, e.at, e.err = false, r.cfg.Now(), err
	if err == nil {
		e.value, e.has = value, true
	}
	r.mu.Unlock()
	if err != nil {
		r.cfg.Logger.Warn("cannot resolve secret", "source", src.String(), "error", err)
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// read fetches the value of src.
func (r *Resolver) read(ctx context.Context, src marathon.SecretSource) (string, error) {
	switch src.Kind {
	case marathon.SecretConsul:
		pair, _, err := r.kv.Get(src.Ref, (&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			return "", fmt.Errorf("read consul kv %s: %w", src.Ref, err)
		}
		if pair == nil {
			return "", fmt.Errorf("consul kv %s: %w", src.Ref, ErrNotFound)
		}
		return string(pair.Value), nil
	case marathon.SecretFile:
		if r.dir == nil {
			return "", fmt.Errorf("%s: %w", src, ErrNoDir)
		}
		f, err := r.dir.Open(filepath.FromSlash(src.Ref))
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("secret file %s: %w", src.Ref, ErrNotFound)
		}
		if err != nil {
			return "", fmt.Errorf("open secret file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
		if err != nil {
			return "", fmt.Errorf("read secret file %s: %w", src.Ref, err)
		}
		if len(b) > maxFileSize {
			return "", fmt.Errorf("secret file %s is larger than %d bytes", src.Ref, maxFileSize)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("secret source kind %q", src.Kind)
}
