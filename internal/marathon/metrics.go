package marathon

// Metrics is the body of GET /metrics: Marathon 1.10's NewMetrics, a
// Dropwizard registry by metric type. Durations are in seconds, rates per
// second.
type Metrics struct {
	Version    string                     `json:"version"`
	Counters   map[string]MetricCounter   `json:"counters"`
	Gauges     map[string]MetricGauge     `json:"gauges"`
	Histograms map[string]MetricHistogram `json:"histograms"`
	Meters     map[string]MetricMeter     `json:"meters"`
	Timers     map[string]MetricTimer     `json:"timers"`
}

// MetricsVersion is the version Marathon writes in its metrics.
const MetricsVersion = "4.0.0"

// MetricCounter is a count since the instance started or leads.
type MetricCounter struct {
	Count int64 `json:"count"`
}

// MetricGauge is a current value.
type MetricGauge struct {
	Value float64 `json:"value"`
}

// MetricHistogram is a distribution of recent values.
type MetricHistogram struct {
	Count  int64   `json:"count"`
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	Max    float64 `json:"max"`
	P50    float64 `json:"p50"`
	P75    float64 `json:"p75"`
	P95    float64 `json:"p95"`
	P98    float64 `json:"p98"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p999"`
	Stddev float64 `json:"stddev"`
}

// MetricRates are the rates of a meter or timer, per second: the moving
// averages over 1, 5 and 15 minutes and the mean since it started.
type MetricRates struct {
	M1Rate   float64 `json:"m1_rate"`
	M5Rate   float64 `json:"m5_rate"`
	M15Rate  float64 `json:"m15_rate"`
	MeanRate float64 `json:"mean_rate"`
}

// MetricMeter is a count and its rates; Units is "events/second".
type MetricMeter struct {
	Count int64 `json:"count"`
	MetricRates
	Units string `json:"units"`
}

// MetricTimer is a histogram of durations in seconds with the rates of
// the timed events.
type MetricTimer struct {
	MetricHistogram
	MetricRates
	DurationUnits string `json:"duration_units"`
	RateUnits     string `json:"rate_units"`
}
