package marathon

import "encoding/json"

// Health check defaults (healthCheck.raml).
const (
	DefaultGracePeriodSeconds     = 300
	DefaultIntervalSeconds        = 60
	DefaultTimeoutSeconds         = 20
	DefaultMaxConsecutiveFailures = 3
	DefaultDelaySeconds           = 15
)

// HealthCheck is one entry of app.healthChecks.
type HealthCheck struct {
	// Protocol defaults to HTTP.
	Protocol HealthCheckProtocol `json:"protocol"`
	// Path is the HTTP(S) request path.
	Path string `json:"path,omitempty"`
	// PortIndex addresses the app's ports; Normalize sets 0 when neither
	// PortIndex nor Port is given and the app has ports.
	PortIndex *int `json:"portIndex,omitempty"`
	// Port is a fixed port to check instead of PortIndex.
	Port *int `json:"port,omitempty"`
	// Command is required for COMMAND checks.
	Command                *CommandCheck `json:"command,omitempty"`
	GracePeriodSeconds     int           `json:"gracePeriodSeconds"`
	IntervalSeconds        int           `json:"intervalSeconds"`
	TimeoutSeconds         int           `json:"timeoutSeconds"`
	MaxConsecutiveFailures int           `json:"maxConsecutiveFailures"`
	DelaySeconds           int           `json:"delaySeconds"`
	IgnoreHTTP1xx          bool          `json:"ignoreHttp1xx"`
	IPProtocol             IPProtocol    `json:"ipProtocol"`
}

// NewHealthCheck returns a check of protocol p with Marathon's defaults.
func NewHealthCheck(p HealthCheckProtocol) HealthCheck {
	return HealthCheck{
		Protocol:               p,
		GracePeriodSeconds:     DefaultGracePeriodSeconds,
		IntervalSeconds:        DefaultIntervalSeconds,
		TimeoutSeconds:         DefaultTimeoutSeconds,
		MaxConsecutiveFailures: DefaultMaxConsecutiveFailures,
		DelaySeconds:           DefaultDelaySeconds,
		IPProtocol:             IPv4,
	}
}

// UnmarshalJSON applies the defaults.
func (h *HealthCheck) UnmarshalJSON(b []byte) error {
	type plain HealthCheck
	p := plain(NewHealthCheck(ProtocolHTTP))
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*h = HealthCheck(p)
	return nil
}

// CommandCheck is healthChecks[].command.
type CommandCheck struct {
	Value string `json:"value" required:"true"`
}

// Readiness check defaults (readinessCheck.raml).
const (
	DefaultReadinessName     = "readinessCheck"
	DefaultReadinessPath     = "/"
	DefaultReadinessPortName = "http-api"
	DefaultReadinessInterval = 30
	DefaultReadinessTimeout  = 10
)

// ReadinessCheck gates a deployment step until new tasks answer ready.
type ReadinessCheck struct {
	Name                    string     `json:"name"`
	Protocol                HTTPScheme `json:"protocol"`
	Path                    string     `json:"path"`
	PortName                string     `json:"portName"`
	IntervalSeconds         int        `json:"intervalSeconds"`
	TimeoutSeconds          int        `json:"timeoutSeconds"`
	HTTPStatusCodesForReady []int      `json:"httpStatusCodesForReady"`
	PreserveLastResponse    bool       `json:"preserveLastResponse"`
}

// UnmarshalJSON applies the defaults; status codes default in Normalize.
func (c *ReadinessCheck) UnmarshalJSON(b []byte) error {
	type plain ReadinessCheck
	p := plain{
		Name:            DefaultReadinessName,
		Protocol:        SchemeHTTP,
		Path:            DefaultReadinessPath,
		PortName:        DefaultReadinessPortName,
		IntervalSeconds: DefaultReadinessInterval,
		TimeoutSeconds:  DefaultReadinessTimeout,
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = ReadinessCheck(p)
	return nil
}

// Check is app.check, a Mesos check whose result is only reported.
type Check struct {
	HTTP            *HTTPCheck `json:"http,omitempty"`
	TCP             *TCPCheck  `json:"tcp,omitempty"`
	Exec            *ExecCheck `json:"exec,omitempty"`
	IntervalSeconds int        `json:"intervalSeconds"`
	TimeoutSeconds  int        `json:"timeoutSeconds"`
	DelaySeconds    int        `json:"delaySeconds"`
}

// UnmarshalJSON applies the defaults.
func (c *Check) UnmarshalJSON(b []byte) error {
	type plain Check
	p := plain{IntervalSeconds: DefaultIntervalSeconds, TimeoutSeconds: DefaultTimeoutSeconds, DelaySeconds: DefaultDelaySeconds}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Check(p)
	return nil
}

// HTTPCheck is check.http.
type HTTPCheck struct {
	PortIndex *int       `json:"portIndex,omitempty"`
	Path      string     `json:"path,omitempty"`
	Scheme    HTTPScheme `json:"scheme,omitempty"`
}

// TCPCheck is check.tcp.
type TCPCheck struct {
	PortIndex *int `json:"portIndex,omitempty"`
}

// ExecCheck is check.exec.
type ExecCheck struct {
	Command MesosCommand `json:"command"`
}

// MesosCommand is a shell command or an argv.
type MesosCommand struct {
	Shell string   `json:"shell,omitempty"`
	Argv  []string `json:"argv,omitempty"`
}
