package loadgen

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond every 10ms until it holds, failing the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// start is Start that fails the test on error and stops the run at cleanup.
func start(t *testing.T, cfg Config) *Run {
	t.Helper()
	r, err := Start(cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { r.Stop() })
	return r
}

// TestRate counts what a server receives while the generator sends at 100
// requests per second for a measured interval.
func TestRate(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
	}))
	defer srv.Close()

	r := start(t, Config{URL: srv.URL, Rate: 100})
	waitFor(t, 5*time.Second, "first request", func() bool { return got.Load() > 0 })
	from, t0 := got.Load(), time.Now()
	waitFor(t, 5*time.Second, "a second of load", func() bool { return time.Since(t0) >= time.Second })
	n, secs := got.Load()-from, time.Since(t0).Seconds()
	res := r.Stop()

	// 100 per second; generous bounds for a busy 2-core machine.
	if rate := float64(n) / secs; rate < 70 || rate > 130 {
		t.Errorf("rate %.0f/s over %.2fs, want about 100/s", rate, secs)
	}
	if res.Failures != 0 || int64(res.Requests) != got.Load() {
		t.Errorf("result %v, server saw %d requests", res, got.Load())
	}
	if want := float64(res.Requests) / res.Elapsed.Seconds(); want < 70 || want > 130 {
		t.Errorf("%d requests in %v, want about 100/s", res.Requests, res.Elapsed)
	}
}

// TestSlowAnswersKeepRate holds every answer back: the requests must still
// leave at the rate.
func TestSlowAnswersKeepRate(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for handlers

	r := start(t, Config{URL: srv.URL, Rate: 100})
	t0 := time.Now()
	waitFor(t, 5*time.Second, "50 requests in flight", func() bool { return got.Load() >= 50 })
	// 50 at 100/s take 0.5s; answers that set the pace would stop at 1.
	if d := time.Since(t0); d > 1500*time.Millisecond {
		t.Errorf("50 unanswered requests took %v, want about 0.5s", d)
	}
	if s := r.Snapshot(); s.Requests != 0 {
		t.Errorf("snapshot counts %d finished requests, none has an answer", s.Requests)
	}
}

// TestFailures checks what counts as a failure and how it is reported.
func TestFailures(t *testing.T) {
	refused := func(t *testing.T) string {
		// A port nothing listens on: bind one and close it.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/"
	}
	serve := func(status int, body string) func(t *testing.T) string {
		return func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}
	}
	wantBody := func(status int, body []byte) error {
		if string(body) != "ok" {
			return errors.New("body is not ok")
		}
		return nil
	}
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		check   func(int, []byte) error
		failing bool
		errText string // in every reported error
	}{
		{name: "2xx", url: serve(http.StatusNoContent, "")},
		{name: "5xx", url: serve(http.StatusServiceUnavailable, "down"), failing: true, errText: "status 503 Service Unavailable"},
		{name: "4xx", url: serve(http.StatusNotFound, ""), failing: true, errText: "status 404"},
		{name: "connection refused", url: refused, failing: true, errText: "connection refused"},
		{name: "check passes", url: serve(http.StatusOK, "ok"), check: wantBody},
		{name: "check fails", url: serve(http.StatusOK, "nok"), check: wantBody, failing: true, errText: "status 200: check: body is not ok"},
		{name: "check accepts a 503", url: serve(http.StatusServiceUnavailable, "ok"), check: wantBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, Config{URL: tc.url(t), Rate: 200, Check: tc.check})
			waitFor(t, 5*time.Second, "15 finished requests", func() bool { return r.Snapshot().Requests >= 15 })
			res := r.Stop()
			t.Log(res)
			want := 0
			if tc.failing {
				want = res.Requests
			}
			if res.Failures != want {
				t.Fatalf("failures %d of %d requests, want %d", res.Failures, res.Requests, want)
			}
			if len(res.Errors) != min(res.Failures, 10) {
				t.Fatalf("%d errors reported for %d failures, want %d", len(res.Errors), res.Failures, min(res.Failures, 10))
			}
			for _, e := range res.Errors {
				if !strings.Contains(e, tc.errText) {
					t.Errorf("error %q lacks %q", e, tc.errText)
				}
				// Each starts with its offset from the start.
				off, _, ok := strings.Cut(e, ": ")
				if d, err := time.ParseDuration(off); !ok || err != nil || d < 0 || d > res.Elapsed {
					t.Errorf("error %q does not start with an offset within %v", e, res.Elapsed)
				}
			}
		})
	}
}

// TestTimeout fails requests whose answer takes longer than Timeout.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)

	r := start(t, Config{URL: srv.URL, Rate: 50, Timeout: 100 * time.Millisecond})
	waitFor(t, 5*time.Second, "5 timed out requests", func() bool { return r.Snapshot().Failures >= 5 })
	res := r.Stop()
	if res.Failures != res.Requests {
		t.Errorf("%d of %d requests failed, want all", res.Failures, res.Requests)
	}
	if res.P50 < 100*time.Millisecond || res.Max > 2*time.Second {
		t.Errorf("latencies p50 %v max %v, want about the 100ms timeout", res.P50, res.Max)
	}
	if !strings.Contains(res.Errors[0], "Client.Timeout exceeded") {
		t.Errorf("error %q does not name the timeout", res.Errors[0])
	}
}

// TestConnections checks the Host header and that KeepAlive false opens a
// connection per request, KeepAlive true reuses them.
func TestConnections(t *testing.T) {
	tests := []struct {
		name      string
		keepAlive bool
	}{
		{name: "new connection per request"},
		{name: "keep-alive", keepAlive: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			hosts := map[string]int{}
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hosts[r.Host]++
				mu.Unlock()
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()

			r := start(t, Config{URL: srv.URL + "/x", Host: "web.test", Rate: 100, KeepAlive: tc.keepAlive})
			waitFor(t, 5*time.Second, "30 finished requests", func() bool { return r.Snapshot().Requests >= 30 })
			res := r.Stop()
			mu.Lock()
			defer mu.Unlock()
			if len(hosts) != 1 || hosts["web.test"] != res.Requests {
				t.Errorf("hosts %v, want web.test %d times", hosts, res.Requests)
			}
			n := int(conns.Load())
			if !tc.keepAlive && n != res.Requests {
				t.Errorf("%d connections for %d requests, want one each", n, res.Requests)
			}
			// Kept-alive connections are reused: fewer connections than
			// requests. How many fewer depends on how loaded the machine
			// is (a slow answer overlaps the next request), so the test
			// asks only for reuse, which a closed connection never gives.
			if tc.keepAlive && n >= res.Requests {
				t.Errorf("%d connections for %d requests, want them reused", n, res.Requests)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "empty", sorted: nil, p: 50, want: 0},
		{name: "one value", sorted: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "median of odd count", sorted: ms(1, 2, 3, 4, 5), p: 50, want: 3 * time.Millisecond},
		{name: "median of even count is the lower", sorted: ms(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "p90 of 10", sorted: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 90, want: 9 * time.Millisecond},
		{name: "p99 of 10 is the max", sorted: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), p: 99, want: 10 * time.Millisecond},
		{name: "p50 of 1..100", sorted: ms(hundred...), p: 50, want: 50 * time.Millisecond},
		{name: "p99 of 1..100", sorted: ms(hundred...), p: 99, want: 99 * time.Millisecond},
		{name: "p100 is the max", sorted: ms(hundred...), p: 100, want: 100 * time.Millisecond},
		{name: "p1 of 1..100", sorted: ms(hundred...), p: 1, want: 1 * time.Millisecond},
		{name: "tail outlier", sorted: ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 900), p: 90, want: 1 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" for valid
	}{
		{name: "valid", cfg: Config{URL: "http://127.0.0.1:3000/", Rate: 1}},
		{name: "https", cfg: Config{URL: "https://127.0.0.1/", Rate: 200, Timeout: time.Second}},
		{name: "no rate", cfg: Config{URL: "http://127.0.0.1/"}, wantErr: "rate 0"},
		{name: "no scheme", cfg: Config{URL: "ftp://127.0.0.1/", Rate: 1}, wantErr: "scheme"},
		{name: "no host", cfg: Config{URL: "http:///x", Rate: 1}, wantErr: "no host"},
		{name: "negative timeout", cfg: Config{URL: "http://127.0.0.1/", Rate: 1, Timeout: -1}, wantErr: "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate = %v, want an error with %q", err, tc.wantErr)
			}
			if tc.wantErr != "" {
				if r, err := Start(tc.cfg); err == nil {
					r.Stop()
					t.Fatal("Start accepted an invalid configuration")
				}
			}
		})
	}
}

func TestResultString(t *testing.T) {
	r := Result{Requests: 2400, Failures: 3, P50: 1234567 * time.Nanosecond, P90: 2 * time.Millisecond, P99: 845 * time.Microsecond, Max: 1500 * time.Millisecond}
	want := "requests 2400, failures 3, p50 1.2ms p90 2ms p99 845µs max 1.5s"
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
