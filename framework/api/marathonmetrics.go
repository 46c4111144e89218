package api

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stadionhq/stadion/internal/marathon"
)

// marathonHTTP instruments the HTTP API under Marathon's metric names
// (docs/docs/metrics.md of Marathon 1.10): responses by status class,
// request durations by method, active requests and transferred bytes.
type marathonHTTP struct {
	active        atomic.Int64
	requestBytes  atomic.Uint64
	responseBytes atomic.Uint64
	streamBytes   atomic.Uint64
	// classes are the meters of 1xx to 5xx responses.
	classes  [5]*meter
	duration *timer
	methods  map[string]*timer // get, post, put, delete
}

func newMarathonHTTP(now func() time.Time) *marathonHTTP {
	m := &marathonHTTP{duration: newTimer(now), methods: map[string]*timer{}}
	for i := range m.classes {
		m.classes[i] = newMeter(now)
	}
	for _, method := range []string{"get", "post", "put", "delete"} {
		m.methods[method] = newTimer(now)
	}
	return m
}

// observe records one finished request. Event streams count their bytes
// apart and stay out of the durations, which they would swamp.
func (m *marathonHTTP) observe(route, method string, code int, reqBytes int64, respBytes uint64, took time.Duration) {
	if c := code/100 - 1; c >= 0 && c < len(m.classes) {
		m.classes[c].mark(1)
	}
	if reqBytes > 0 {
		m.requestBytes.Add(uint64(reqBytes))
	}
	m.responseBytes.Add(respBytes)
	if route == "/v2/events" {
		m.streamBytes.Add(respBytes)
		return
	}
	m.duration.update(took)
	if t := m.methods[strings.ToLower(method)]; t != nil {
		t.update(took)
	}
}

// marathonMetrics is the registry /metrics shows, in Marathon's names:
// the HTTP metrics, gauges of the current View and the scheduler's
// counters since this instance leads, then Stadion's own under stadion.*.
func (s *server) marathonMetrics() marathon.Metrics {
	now := s.now()
	v := s.backend.View()
	m := marathon.Metrics{
		Version:    marathon.MetricsVersion,
		Counters:   map[string]marathon.MetricCounter{},
		Gauges:     map[string]marathon.MetricGauge{},
		Histograms: map[string]marathon.MetricHistogram{},
		Meters:     map[string]marathon.MetricMeter{},
		Timers:     map[string]marathon.MetricTimer{},
	}
	gauge := func(name string, v float64) { m.Gauges["marathon."+name] = marathon.MetricGauge{Value: v} }
	counter := func(name string, n uint64) { m.Counters["marathon."+name] = marathon.MetricCounter{Count: int64(n)} }

	var running, staged int
	groups := map[marathon.PathID]bool{marathon.RootID: true}
	for _, av := range v.Apps {
		c := counts(av)
		running += c.Running
		staged += c.Staged
		for g := av.App.ID.Parent(); !groups[g]; g = g.Parent() {
			groups[g] = true
		}
	}
	for _, g := range v.Groups {
		for id := g.ID.Canonical(); !groups[id]; id = id.Parent() {
			groups[id] = true
		}
	}
	gauge("apps.active.gauge", float64(len(v.Apps)))
	gauge("groups.active.gauge", float64(len(groups)))
	gauge("pods.active.gauge", float64(len(v.Pods)))
	gauge("deployments.active.gauge", float64(len(v.Deployments)))
	gauge("instances.running.gauge", float64(running))
	gauge("instances.staged.gauge", float64(staged))
	gauge("uptime.gauge.seconds", now.Sub(s.started).Seconds())
	leading := 0.0
	if c := v.Counters; c != nil {
		leading = now.Sub(c.Started).Seconds()
		counter("deployments.counter", c.Deployments.Load())
		counter("tasks.launched.counter", c.TasksLaunched.Load())
		counter("mesos.offers.incoming.counter", c.OffersIncoming.Load())
		counter("mesos.offers.used.counter", c.OffersUsed.Load())
		counter("mesos.offers.declined.counter", c.OffersDeclined.Load())
		counter("mesos.calls.revive.counter", c.Revives.Load())
		counter("mesos.calls.suppress.counter", c.Suppresses.Load())
		for state, n := range c.Updates() {
			name := strings.ReplaceAll(strings.ToLower(string(state)), "_", "-")
			counter("mesos.task-updates."+name+".counter", n)
		}
	}
	gauge("leadership.duration.gauge.seconds", leading)

	h := s.marathonHTTP
	gauge("http.requests.active.gauge", float64(h.active.Load()))
	counter("http.requests.size.counter.bytes", h.requestBytes.Load())
	counter("http.responses.size.counter.bytes", h.responseBytes.Load())
	counter("http.responses.event-stream.size.counter.bytes", h.streamBytes.Load())
	for i, mt := range h.classes {
		m.Meters["marathon.http.responses."+string(rune('1'+i))+"xx.rate.meter"] = mt.snapshot()
	}
	m.Timers["marathon.http.requests.duration.timer.seconds"] = h.duration.snapshot()
	for method, t := range h.methods {
		m.Timers["marathon.http.requests."+method+".duration.timer.seconds"] = t.snapshot()
	}

	writable := 1.0
	if v.Store.Failing {
		writable = 0
	}
	m.Gauges["stadion.store.writable.gauge"] = marathon.MetricGauge{Value: writable}
	m.Counters["stadion.store.write-failures.counter"] = marathon.MetricCounter{Count: int64(v.Store.Failures)}
	return m
}

// getMetrics is GET /metrics: Marathon's JSON.
func (s *server) getMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.marathonMetrics())
}

// marathonCollector exports the metrics of /metrics in Prometheus's text
// as Marathon's reporter does: dots and dashes become underscores, a
// meter is its count and rates as gauges, a timer a summary with its
// min, mean, max and stddev as gauges.
type marathonCollector struct{ s *server }

// Describe sends nothing: the metric names follow the task states seen,
// so the collector is unchecked.
func (marathonCollector) Describe(chan<- *prometheus.Desc) {}

func (c marathonCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.s.marathonMetrics()
	emit := func(name string, typ prometheus.ValueType, v float64) {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(promName(name), "Marathon metric "+name+".", nil, nil), typ, v)
	}
	for name, g := range m.Gauges {
		emit(name, prometheus.GaugeValue, g.Value)
	}
	for name, n := range m.Counters {
		emit(name, prometheus.CounterValue, float64(n.Count))
	}
	rates := func(name string, r marathon.MetricRates) {
		emit(name+"_mean_rate", prometheus.GaugeValue, r.MeanRate)
		emit(name+"_m1_rate", prometheus.GaugeValue, r.M1Rate)
		emit(name+"_m5_rate", prometheus.GaugeValue, r.M5Rate)
		emit(name+"_m15_rate", prometheus.GaugeValue, r.M15Rate)
	}
	for name, mt := range m.Meters {
		emit(name+"_count", prometheus.GaugeValue, float64(mt.Count))
		rates(name, mt.MetricRates)
	}
	for name, t := range m.Timers {
		quantiles := map[float64]float64{0.5: t.P50, 0.75: t.P75, 0.95: t.P95, 0.98: t.P98, 0.99: t.P99, 0.999: t.P999}
		ch <- prometheus.MustNewConstSummary(prometheus.NewDesc(promName(name), "Marathon timer "+name+".", nil, nil),
			uint64(t.Count), t.Mean*float64(t.Count), quantiles)
		emit(name+"_min", prometheus.GaugeValue, t.Min)
		emit(name+"_mean", prometheus.GaugeValue, t.Mean)
		emit(name+"_max", prometheus.GaugeValue, t.Max)
		emit(name+"_stddev", prometheus.GaugeValue, t.Stddev)
		rates(name, t.MetricRates)
	}
}

// promName is Marathon's Prometheus name of a metric: every character
// other than a letter, digit or underscore becomes an underscore.
func promName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// The moving averages of a meter, as Dropwizard's: updated every 5 s with
// the events of the interval.
const rateTick = 5 * time.Second

var rateAlphas = [3]float64{
	1 - math.Exp(-rateTick.Seconds()/60),
	1 - math.Exp(-rateTick.Seconds()/300),
	1 - math.Exp(-rateTick.Seconds()/900),
}

// meter counts events and their rates. Its averages tick lazily, when it
// is marked or read.
type meter struct {
	now       func() time.Time
	mu        sync.Mutex
	start     time.Time
	lastTick  time.Time
	count     int64
	uncounted int64
	rates     [3]float64
	init      bool
}

func newMeter(now func() time.Time) *meter {
	t := now()
	return &meter{now: now, start: t, lastTick: t}
}

func (m *meter) mark(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tick()
	m.count += n
	m.uncounted += n
}

// tick folds the whole intervals since the last tick into the averages:
// the first with the uncounted events, the others with none.
func (m *meter) tick() {
	ticks := int(m.now().Sub(m.lastTick) / rateTick)
	if ticks <= 0 {
		return
	}
	m.lastTick = m.lastTick.Add(time.Duration(ticks) * rateTick)
	instant := float64(m.uncounted) / rateTick.Seconds()
	m.uncounted = 0
	for i, a := range rateAlphas {
		if m.init {
			m.rates[i] += a * (instant - m.rates[i])
		} else {
			m.rates[i] = instant
		}
		m.rates[i] *= math.Pow(1-a, float64(ticks-1))
	}
	m.init = true
}

func (m *meter) snapshot() marathon.MetricMeter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return marathon.MetricMeter{Count: m.count, MetricRates: m.ratesLocked(), Units: "events/second"}
}

func (m *meter) ratesLocked() marathon.MetricRates {
	m.tick()
	r := marathon.MetricRates{M1Rate: m.rates[0], M5Rate: m.rates[1], M15Rate: m.rates[2]}
	if el := m.now().Sub(m.start).Seconds(); el > 0 {
		r.MeanRate = float64(m.count) / el
	}
	return r
}

// timerSamples is how many recent durations a timer keeps for its
// quantiles (the size of Dropwizard's default reservoir).
const timerSamples = 1028

// timer is a meter of timed events with the distribution of their last
// timerSamples durations.
type timer struct {
	meter   *meter
	mu      sync.Mutex
	samples []float64 // seconds, a ring of timerSamples
	next    int
}

func newTimer(now func() time.Time) *timer { return &timer{meter: newMeter(now)} }

func (t *timer) update(d time.Duration) {
	t.meter.mark(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.samples) < timerSamples {
		t.samples = append(t.samples, d.Seconds())
		return
	}
	t.samples[t.next] = d.Seconds()
	t.next = (t.next + 1) % timerSamples
}

func (t *timer) snapshot() marathon.MetricTimer {
	t.meter.mu.Lock()
	count, rates := t.meter.count, t.meter.ratesLocked()
	t.meter.mu.Unlock()
	t.mu.Lock()
	values := slices.Clone(t.samples)
	t.mu.Unlock()
	return marathon.MetricTimer{
		MetricHistogram: histogram(count, values),
		MetricRates:     rates,
		DurationUnits:   "seconds",
		RateUnits:       "calls/second",
	}
}

// histogram summarises values; count is the number of all values seen.
func histogram(count int64, values []float64) marathon.MetricHistogram {
	h := marathon.MetricHistogram{Count: count}
	if len(values) == 0 {
		return h
	}
	slices.Sort(values)
	var sum float64
	for _, v := range values {
		sum += v
	}
	h.Min, h.Max, h.Mean = values[0], values[len(values)-1], sum/float64(len(values))
	var sq float64
	for _, v := range values {
		sq += (v - h.Mean) * (v - h.Mean)
	}
	if len(values) > 1 {
		h.Stddev = math.Sqrt(sq / float64(len(values)-1))
	}
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(values)))) - 1
		return values[max(0, min(i, len(values)-1))]
	}
	h.P50, h.P75, h.P95, h.P98, h.P99, h.P999 = q(.5), q(.75), q(.95), q(.98), q(.99), q(.999)
	return h
}
