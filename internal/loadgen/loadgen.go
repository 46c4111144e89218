package loadgen

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// DefaultTimeout is the per-request timeout when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// maxErrors is how many failures a Result describes.
const maxErrors = 10

// maxBody bounds how much of an answer is read and handed to Check.
const maxBody = 1 << 20

// Config describes a run. The zero value of every optional field means its
// default.
type Config struct {
	// URL is requested with GET; http or https. Required.
	URL string
	// Host is the Host header when not empty.
	Host string
	// Rate is the number of requests per second, spread evenly. Each
	// request runs in its own goroutine, so a slow answer never slows the
	// rate. Required, at least 1.
	Rate int
	// Timeout bounds each request, from dial to the end of the body;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// KeepAlive reuses connections. False (the default) opens a new TCP
	// connection for every request: the hard case for a balancer reload,
	// where a closed listening socket refuses connections.
	KeepAlive bool
	// Check judges an answer; a non-nil error counts as a failure. Nil
	// accepts any 2xx status.
	Check func(status int, body []byte) error
	// TLS configures https URLs (for example the roots of a test
	// certificate); nil uses the system roots.
	TLS *tls.Config
}

// Validate checks the configuration.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("loadgen: parse URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("loadgen: URL %q: scheme must be http or https", c.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("loadgen: URL %q has no host", c.URL)
	}
	if c.Rate < 1 {
		return fmt.Errorf("loadgen: rate %d: must be at least 1", c.Rate)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("loadgen: timeout %v: must not be negative", c.Timeout)
	}
	return nil
}

// Result sums up the requests finished so far.
type Result struct {
	// Requests is the number of finished requests, failed or not;
	// Failures those that failed.
	Requests, Failures int
	// Latency percentiles and maximum over all finished requests.
	P50, P90, P99, Max time.Duration
	// Errors describes the first failures (at most 10), each with its
	// offset from the start of the run and its error or status.
	Errors []string
	// Elapsed is the time from Start to the Result.
	Elapsed time.Duration
}

// String sums r up on one line.
func (r Result) String() string {
	return fmt.Sprintf("requests %d, failures %d, p50 %s p90 %s p99 %s max %s",
		r.Requests, r.Failures, short(r.P50), short(r.P90), short(r.P99), short(r.Max))
}

// short rounds a latency for reading: 100µs steps from 1ms on, 1µs below.
func short(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Run is a load generator sending requests. Stop it with Stop.
type Run struct {
	cfg    Config
	client *http.Client
	start  time.Time

	stop     chan struct{} // closed by Stop: send no more
	sendDone chan struct{} // closed when the sending loop has returned
	inflight sync.WaitGroup
	stopOnce sync.Once
	final    Result

	mu        sync.Mutex
	latencies []time.Duration
	failures  int
	errs      []string
}

// Start validates cfg and begins sending: the first request at once, then
// one every second/Rate.
func Start(cfg Config) (*Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	tr := &http.Transport{
		DisableKeepAlives:   !cfg.KeepAlive,
		MaxIdleConnsPerHost: cfg.Rate, // enough for a second of requests
		TLSClientConfig:     cfg.TLS,
		// No proxy from the environment: the load goes where URL says.
		Proxy: nil,
	}
	r := &Run{
		cfg:      cfg,
		client:   &http.Client{Transport: tr, Timeout: cfg.Timeout},
		start:    time.Now(),
		stop:     make(chan struct{}),
		sendDone: make(chan struct{}),
	}
	go r.send()
	return r, nil
}

// send starts request i at start + i*interval. When it falls behind (a
// stalled scheduler) it catches up at once, so that the count over the run
// matches the rate.
func (r *Run) send() {
	defer close(r.sendDone)
	interval := time.Second / time.Duration(r.cfg.Rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; ; i++ {
		due := r.start.Add(time.Duration(i) * interval)
		timer.Reset(time.Until(due))
		select {
		case <-r.stop:
			return
		case <-timer.C:
		}
		r.inflight.Add(1)
		go r.request()
	}
}

// request sends one request and records its outcome.
func (r *Run) request() {
	defer r.inflight.Done()
	sent := time.Now()
	err := r.do()
	took := time.Since(sent)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, took)
	if err != nil {
		r.failures++
		if len(r.errs) < maxErrors {
			r.errs = append(r.errs, fmt.Sprintf("%s: %v", sent.Sub(r.start).Round(time.Millisecond), err))
		}
	}
}

// do sends one request and judges the answer.
func (r *Run) do() error {
	req, err := http.NewRequest(http.MethodGet, r.cfg.URL, nil)
	if err != nil {
		return err
	}
	if r.cfg.Host != "" {
		req.Host = r.cfg.Host
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("status %d: read body: %w", resp.StatusCode, err)
	}
	if r.cfg.Check != nil {
		if err := r.cfg.Check(resp.StatusCode, body); err != nil {
			return fmt.Errorf("status %d: check: %w", resp.StatusCode, err)
		}
		return nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// Stop stops sending, waits for the requests in flight (each ends by its
// timeout at the latest) and returns the Result. Later calls return the
// same Result.
func (r *Run) Stop() Result {
	r.stopOnce.Do(func() {
		close(r.stop)
		<-r.sendDone
		r.inflight.Wait()
		r.client.CloseIdleConnections()
		r.final = r.Snapshot()
	})
	return r.final
}

// Snapshot returns the figures of the requests finished so far, without
// stopping.
func (r *Run) Snapshot() Result {
	r.mu.Lock()
	lat := slices.Clone(r.latencies)
	res := Result{
		Requests: len(r.latencies),
		Failures: r.failures,
		Errors:   slices.Clone(r.errs),
		Elapsed:  time.Since(r.start),
	}
	r.mu.Unlock()
	slices.Sort(lat)
	res.P50 = Percentile(lat, 50)
	res.P90 = Percentile(lat, 90)
	res.P99 = Percentile(lat, 99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	return res
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value that at least p percent of the
// values do not exceed. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p*n/100), compared in p*n (exact for whole p) so that
	// no rounding of p/100 moves it.
	rank := int(p * float64(n) / 100)
	if float64(rank)*100 < p*float64(n) {
		rank++
	}
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}
