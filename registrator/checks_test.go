package registrator

import (
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestTaskHealth(t *testing.T) {
	one := checks(healthCheck(marathon.ProtocolHTTP, 0, "/"))
	two := checks(healthCheck(marathon.ProtocolHTTP, 0, "/"), healthCheck(marathon.ProtocolTCP, 0, ""))
	tests := []struct {
		name   string
		app    marathon.AppInfo
		status Status
		output string
	}{
		{name: "no checks", app: app(tasks(task("t", "h", 1))), status: StatusPassing, output: "running, the app has no health checks"},
		{name: "alive", app: app(one, tasks(with(task("t", "h", 1), results(true)))), status: StatusPassing, output: "healthy in the scheduler"},
		{name: "no result yet", app: app(one, tasks(task("t", "h", 1))), status: StatusCritical, output: "no health check result yet"},
		{name: "failing with a cause", app: app(one, tasks(with(task("t", "h", 1), results(false)))), status: StatusCritical, output: "unhealthy in the scheduler: 503"},
		{name: "one result of two", app: app(two, tasks(with(task("t", "h", 1), results(true)))), status: StatusCritical, output: "1 of 2 health checks have a result"},
		{name: "one of two failing", app: app(two, tasks(with(task("t", "h", 1), results(true, false)))), status: StatusCritical, output: "unhealthy in the scheduler: 503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := taskHealth(tc.app.App, tc.app.Tasks[0])
			if got.status != tc.status || got.output != tc.output {
				t.Errorf("verdict %s %q, want %s %q", got.status, got.output, tc.status, tc.output)
			}
		})
	}
}

func TestMirror(t *testing.T) {
	ends := []*endpoint{{address: "h1", port: 31000}, nil}
	ipv6 := []*endpoint{{address: "fd00::1", port: 3000}}
	hc := func(p marathon.HealthCheckProtocol, index int, path string, interval int) marathon.HealthCheck {
		c := healthCheck(p, index, path)
		c.IntervalSeconds = interval
		return c
	}
	tests := []struct {
		name string
		hc   marathon.HealthCheck
		ends []*endpoint
		// want is checkView's form, or "" when Consul cannot run it.
		want string
	}{
		{name: "http", hc: hc(marathon.ProtocolHTTP, 0, "/health", 10), ends: ends, want: "http http://h1:31000/health 10s/2s "},
		{name: "path without slash", hc: hc(marathon.ProtocolMesosHTTP, 0, "health", 10), ends: ends, want: "http http://h1:31000/health 10s/2s "},
		{name: "https, at least 1s apart", hc: hc(marathon.ProtocolHTTPS, 0, "", 0), ends: ends, want: "http https://h1:31000/ insecure 1s/2s "},
		{name: "tcp on ipv6", hc: hc(marathon.ProtocolMesosTCP, 0, "", 5), ends: ipv6, want: "tcp [fd00::1]:3000 5s/2s "},
		{name: "command", hc: commandCheck(), ends: ends},
		{name: "a port without an endpoint", hc: hc(marathon.ProtocolTCP, 1, "", 5), ends: ends},
		{name: "an index out of range", hc: hc(marathon.ProtocolTCP, 7, "", 5), ends: ends},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := mirror(tc.hc, tc.ends, task("t", "h1", 31000), AddressHost)
			got := ""
			if ok {
				got = checkView(c)
			}
			if got != tc.want {
				t.Errorf("check %q, want %q", got, tc.want)
			}
		})
	}
}
