package registrator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// verdict is the scheduler's view of a task's health.
type verdict struct {
	status Status
	output string
}

// taskHealth reads the task's health as Marathon's consumers do: healthy
// when every health check of the app has a result and all are alive; an
// app without health checks is healthy while running.
func taskHealth(app marathon.App, task marathon.Task) verdict {
	checks := len(app.HealthChecks)
	switch {
	case checks == 0:
		return verdict{StatusPassing, "running, the app has no health checks"}
	case task.IsHealthy(checks):
		return verdict{StatusPassing, "healthy in the scheduler"}
	case len(task.HealthCheckResults) == 0:
		return verdict{StatusCritical, "no health check result yet"}
	}
	for _, r := range task.HealthCheckResults {
		if !r.Alive {
			out := "unhealthy in the scheduler"
			if r.LastFailureCause != nil && *r.LastFailureCause != "" {
				out += ": " + *r.LastFailureCause
			}
			return verdict{StatusCritical, out}
		}
	}
	return verdict{StatusCritical, fmt.Sprintf("%d of %d health checks have a result", len(task.HealthCheckResults), checks)}
}

// statusCheck is the check that carries the scheduler's verdict on the
// task or pod instance of a service of the app or pod id: a TTL check on
// an agent, a plain status check in the catalog.
func statusCheck(id marathon.PathID, serviceID string, health verdict, opts Options) Check {
	c := Check{
		ID:     serviceID + ":health",
		Name:   "health of " + string(id) + " in the scheduler",
		Kind:   CheckStatus,
		Status: health.status,
		Output: health.output,
	}
	if opts.Mode == ModeAgent {
		c.TTL = opts.TTL
	}
	return c
}

// minInterval is Consul's smallest check interval.
const minInterval = time.Second

// serviceChecks returns the Consul checks of one service of a task: every
// health check of the app applies to every port's service, because the
// scheduler's verdict (and so the task's fate) is one for the whole task.
func serviceChecks(app marathon.App, serviceID string, ends []*endpoint, task marathon.Task, health verdict, opts Options) []Check {
	if len(app.HealthChecks) == 0 {
		return nil
	}
	var checks []Check
	needStatus := opts.Mode == ModeCatalog || opts.Health == HealthTTL
	if !needStatus {
		for i, hc := range app.HealthChecks {
			c, ok := mirror(hc, ends, task, opts.Address)
			if !ok {
				needStatus = true
				continue
			}
			c.ID = serviceID + ":check" + strconv.Itoa(i)
			c.Status, c.Output = health.status, health.output
			checks = append(checks, c)
		}
	}
	if needStatus {
		checks = append(checks, statusCheck(app.ID, serviceID, health, opts))
	}
	return checks
}

// mirror returns a Consul check that does what hc does, or false when
// Consul cannot (COMMAND, or a port the task does not expose).
func mirror(hc marathon.HealthCheck, ends []*endpoint, task marathon.Task, mode AddressMode) (Check, bool) {
	var target *endpoint
	switch {
	case hc.Port != nil:
		addr := task.Host
		if ip := taskIP(task); mode == AddressIP && ip != "" {
			addr = ip
		}
		target = &endpoint{address: addr, port: *hc.Port}
	case hc.PortIndex != nil && *hc.PortIndex >= 0 && *hc.PortIndex < len(ends):
		target = ends[*hc.PortIndex]
	}
	if target == nil {
		return Check{}, false
	}
	c := Check{Interval: max(minInterval, seconds(hc.IntervalSeconds)), Timeout: seconds(hc.TimeoutSeconds)}
	switch hc.Protocol {
	case marathon.ProtocolHTTP, marathon.ProtocolMesosHTTP, marathon.ProtocolHTTPS, marathon.ProtocolMesosHTTPS:
		scheme := "http"
		if hc.Protocol == marathon.ProtocolHTTPS || hc.Protocol == marathon.ProtocolMesosHTTPS {
			// Marathon does not verify the task's certificate either.
			scheme, c.TLSSkipVerify = "https", true
		}
		path := hc.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		// The path may carry a query: it is appended as written.
		c.Kind, c.HTTP = CheckHTTP, scheme+"://"+target.hostPort()+path
		c.Name = fmt.Sprintf("%s GET %s on port %d", hc.Protocol, path, target.port)
	case marathon.ProtocolTCP, marathon.ProtocolMesosTCP:
		c.Kind, c.TCP = CheckTCP, target.hostPort()
		c.Name = fmt.Sprintf("%s connect to port %d", hc.Protocol, target.port)
	default:
		return Check{}, false
	}
	return c, true
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }
