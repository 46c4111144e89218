package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the request counters and latencies by route pattern.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stadion_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stadion_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route pattern and method (event streams: until the client leaves).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// registerStoreMetrics exports whether the state store takes writes, as
// the backend's View says at each scrape.
func registerStoreMetrics(reg prometheus.Registerer, backend Backend) error {
	writable := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stadion_store_writable",
		Help: "1 while the state store takes writes, 0 from a failed write until a write succeeds.",
	}, func() float64 {
		if backend.View().Store.Failing {
			return 0
		}
		return 1
	})
	failures := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "stadion_store_write_failures_total",
		Help: "Writes of the state store that failed (each answered 503 or undone) since the scheduler started.",
	}, func() float64 { return float64(backend.View().Store.Failures) })
	for _, c := range []prometheus.Collector{writable, failures} {
		if _, err := register(reg, c); err != nil {
			return err
		}
	}
	return nil
}

// register adds c to reg, reusing a collector that an earlier handler
// registered in the same registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// statusRecorder captures the status code written by a handler and passes
// Flush through for the event stream.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  uint64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += uint64(n)
	return n, err
}

func (r *statusRecorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts and times requests under route.
func (s *server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		s.marathonHTTP.active.Add(1)
		func() {
			defer s.marathonHTTP.active.Add(-1)
			h.ServeHTTP(rec, r)
		}()
		code := rec.status
		if code == 0 {
			code = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method).Observe(took.Seconds())
		s.marathonHTTP.observe(route, r.Method, code, r.ContentLength, rec.bytes, took)
	})
}
