package registrator

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/docker"
)

// defaultCheckInterval is gliderlabs's interval of the checks Consul runs.
const defaultCheckInterval = 10 * time.Second

// maxCheckOutput bounds the HEALTHCHECK output copied into Consul.
const maxCheckOutput = 1024

// containerChecks returns the checks of one service of a container: the
// one its SERVICE_CHECK_* metadata describes (the first of http, https,
// script, ttl, tcp, grpc, as gliderlabs/registrator picks), and one that
// mirrors the container's Docker HEALTHCHECK, set by the registrator.
func containerChecks(c docker.Container, meta containerMeta, s Service, opts DockerOptions) ([]Check, error) {
	var checks []Check
	check, ok, err := metaCheck(meta, s)
	if err != nil {
		return nil, err
	}
	if ok {
		checks = append(checks, check)
	}
	if h := c.State.Health; h != nil {
		status, output := healthStatus(*h)
		checks = append(checks, Check{
			ID:     s.ID + ":docker-health",
			Name:   "Docker HEALTHCHECK of " + containerName(c),
			Kind:   CheckStatus,
			TTL:    opts.TTL,
			Status: status,
			Output: output,
			Notes:  "set by stadion registrator from the container's Docker HEALTHCHECK",
		})
	}
	return checks, nil
}

// healthStatus maps a HEALTHCHECK state to a check status: only healthy
// passes; a container still starting is not ready for traffic.
func healthStatus(h docker.Health) (Status, string) {
	out := "docker health: " + h.Status
	if n := len(h.Log); n > 0 {
		last := strings.TrimSpace(h.Log[n-1].Output)
		if len(last) > maxCheckOutput {
			last = last[:maxCheckOutput]
		}
		out += fmt.Sprintf(" (last run: exit %d: %s)", h.Log[n-1].ExitCode, last)
	}
	if h.Status == docker.HealthHealthy {
		return StatusPassing, out
	}
	return StatusCritical, out
}

// metaCheck builds the check of SERVICE_CHECK_*; false when there is none.
// Its id is Consul's own for a service's one check, "service:<id>", which
// is what a container passes its SERVICE_CHECK_TTL check with.
func metaCheck(meta containerMeta, s Service) (Check, bool, error) {
	target := net.JoinHostPort(s.Address, strconv.Itoa(s.Port))
	c := Check{ID: "service:" + s.ID, Interval: defaultCheckInterval}
	switch {
	case meta.get("check_http") != "":
		c.Kind, c.HTTP, c.Method = CheckHTTP, "http://"+target+meta.get("check_http"), meta.get("check_http_method")
		c.Name = "HTTP " + meta.get("check_http")
	case meta.get("check_https") != "":
		c.Kind, c.HTTP, c.Method = CheckHTTP, "https://"+target+meta.get("check_https"), meta.get("check_https_method")
		c.TLSSkipVerify = meta.get("check_tls_skip_verify") != ""
		c.Name = "HTTPS " + meta.get("check_https")
	case meta.get("check_script") != "":
		script := strings.NewReplacer("$SERVICE_IP", s.Address, "$SERVICE_PORT", strconv.Itoa(s.Port)).Replace(meta.get("check_script"))
		// gliderlabs sends the script as one argv element, which Consul
		// runs without a shell; a shell runs it as written.
		c.Kind, c.Args, c.Name = CheckScript, []string{"/bin/sh", "-c", script}, "script"
	case meta.get("check_ttl") != "":
		ttl, err := checkDuration(meta, "check_ttl")
		if err != nil {
			return Check{}, false, err
		}
		c.Kind, c.TTL, c.Interval, c.Name = CheckTTL, ttl, 0, "TTL "+ttl.String()
	case meta.get("check_tcp") != "":
		c.Kind, c.TCP, c.Name = CheckTCP, target, "TCP "+target
	case meta.get("check_grpc") != "":
		c.Kind, c.GRPC, c.Name = CheckGRPC, target, "gRPC "+target
		c.GRPCUseTLS = meta.get("check_grpc_use_tls") != ""
		c.TLSSkipVerify = c.GRPCUseTLS && meta.get("check_tls_skip_verify") != ""
	default:
		return Check{}, false, nil
	}
	var err error
	if c.Kind != CheckTTL && meta.get("check_interval") != "" {
		if c.Interval, err = checkDuration(meta, "check_interval"); err != nil {
			return Check{}, false, err
		}
	}
	if c.Timeout, err = checkDuration(meta, "check_timeout"); err != nil {
		return Check{}, false, err
	}
	if c.DeregisterAfter, err = checkDuration(meta, "check_deregister_after"); err != nil {
		return Check{}, false, err
	}
	switch st := Status(meta.get("check_initial_status")); st {
	case "", StatusPassing, StatusWarning, StatusCritical:
		c.InitialStatus = st
	default:
		return Check{}, false, fmt.Errorf("%w: SERVICE_CHECK_INITIAL_STATUS %q: want passing, warning or critical", ErrBadContainer, st)
	}
	return c, true, nil
}

// checkDuration parses a SERVICE_CHECK_* duration ("10s"); absent is 0.
func checkDuration(meta containerMeta, key string) (time.Duration, error) {
	v := meta.get(key)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: SERVICE_%s %q: want a duration such as 10s", ErrBadContainer, strings.ToUpper(key), v)
	}
	return d, nil
}
