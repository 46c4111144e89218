package scheduler

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// Readiness checks gate deployments, as in Marathon: while a deployment
// starts, scales or restarts an app with a readiness check, every running
// task of the target version is probed each intervalSeconds until it
// answers with one of httpStatusCodesForReady; the deployment counts a
// new instance only once it is healthy and ready. The results show in
// GET /v2/deployments (currentActions) and in the app's
// readinessCheckResults.

// readinessResult travels from a probe goroutine back to the loop.
type readinessResult struct {
	instanceID string
	taskID     string
	result     marathon.ReadinessCheckResult
}

// readinessProbe is the schedule and last result of one task's check.
type readinessProbe struct {
	taskID string
	appID  marathon.PathID
	due    time.Time
	busy   bool
	result *marathon.ReadinessCheckResult
}

// maxReadinessBody bounds the response body kept by preserveLastResponse.
const maxReadinessBody = 64 << 10

// checkReadiness starts the readiness probes that are due and returns when
// the next one is.
func (s *Scheduler) checkReadiness(ctx context.Context, now time.Time) time.Time {
	st := s.st
	var wake time.Time
	wanted := map[string]bool{}
	for _, d := range st.deployments {
		if d.Queued() || d.CurrentStep > len(d.Steps) {
			continue
		}
		for _, a := range d.Steps[max(d.CurrentStep, 1)-1].Actions {
			app, ok := st.apps[a.AppID]
			if !ok || len(app.ReadinessChecks) == 0 || a.Type == marathon.StopApplication {
				continue
			}
			rc := app.ReadinessChecks[0]
			for _, inst := range st.byApp[a.AppID] {
				if inst.Goal != state.GoalRunning || inst.State != mesos.TaskRunning || !inst.AppVersion.Equal(app.Version.Time) {
					continue
				}
				wanted[inst.ID] = true
				p := st.ready[inst.ID]
				if p == nil || p.taskID != inst.TaskID {
					p = &readinessProbe{taskID: inst.TaskID, appID: inst.AppID, due: now}
					st.ready[inst.ID] = p
				}
				if p.result != nil && p.result.Ready {
					continue
				}
				if !p.busy && !p.due.After(now) {
					p.busy = true
					p.due = now.Add(time.Duration(max(rc.IntervalSeconds, 1)) * time.Second)
					go s.probeReadiness(ctx, rc, app, *inst)
				}
				if !p.busy && (wake.IsZero() || p.due.Before(wake)) {
					wake = p.due
				}
			}
		}
	}
	for id, p := range st.ready {
		if !wanted[id] {
			delete(st.ready, id)
			st.dirty = st.dirty || p.result != nil
		}
	}
	return wake
}

// handleReadiness records a probe's result; a ready task lets its
// deployment go on.
func (s *Scheduler) handleReadiness(r readinessResult) {
	st := s.st
	p := st.ready[r.instanceID]
	if p == nil || p.taskID != r.taskID {
		return
	}
	p.busy = false
	res := r.result
	p.result = &res
	st.dirty = true
	inst := st.instances[r.instanceID]
	if inst == nil || inst.TaskID != r.taskID {
		return
	}
	if inst.Ready == nil || *inst.Ready != res.Ready {
		inst.Ready = new(res.Ready)
		st.putHealth(inst)
	}
}

// readinessResults lists the latest results for an app's tasks, by task id.
func (st *loopState) readinessResults(id marathon.PathID) []marathon.ReadinessCheckResult {
	var out []marathon.ReadinessCheckResult
	for _, p := range st.ready {
		if p.appID == id && p.result != nil {
			out = append(out, *p.result)
		}
	}
	slices.SortFunc(out, func(a, b marathon.ReadinessCheckResult) int { return compareStrings(a.TaskID, b.TaskID) })
	return out
}

// probeReadiness runs one readiness check and hands the result back.
func (s *Scheduler) probeReadiness(ctx context.Context, rc marathon.ReadinessCheck, app marathon.App, inst state.Instance) {
	res := marathon.ReadinessCheckResult{Name: rc.Name, TaskID: inst.TaskID}
	port, err := readinessPort(rc, app, inst)
	if err == nil {
		var resp marathon.ReadinessResponse
		resp, err = getReadiness(ctx, rc, inst.Hostname, port)
		res.Ready = err == nil && slices.Contains(rc.HTTPStatusCodesForReady, resp.Status)
		if err == nil && rc.PreserveLastResponse {
			res.LastResponse = &resp
		}
	}
	if err != nil {
		s.log.Debug("readiness check failed", "app_id", inst.AppID, "task_id", inst.TaskID, "error", err)
	}
	select {
	case s.readiness <- readinessResult{instanceID: inst.ID, taskID: inst.TaskID, result: res}:
	case <-ctx.Done():
	}
}

// readinessPort is the host port of the port named by the check.
func readinessPort(rc marathon.ReadinessCheck, app marathon.App, inst state.Instance) (int, error) {
	i := slices.Index(app.PortNames(), rc.PortName)
	if i < 0 || i >= len(inst.HostPorts) {
		return 0, fmt.Errorf("no host port named %q", rc.PortName)
	}
	return int(inst.HostPorts[i]), nil
}

// getReadiness sends the check's GET; redirects are not followed and
// certificates are not checked, as for health checks.
func getReadiness(ctx context.Context, rc marathon.ReadinessCheck, host string, port int) (marathon.ReadinessResponse, error) {
	timeout := time.Duration(max(rc.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	scheme := "http"
	if rc.Protocol == marathon.SchemeHTTPS {
		scheme = "https"
	}
	url := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + rc.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return marathon.ReadinessResponse{}, err
	}
	resp, err := readinessClient.Do(req)
	if err != nil {
		return marathon.ReadinessResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReadinessBody))
	if err != nil {
		return marathon.ReadinessResponse{}, err
	}
	return marathon.ReadinessResponse{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(body)}, nil
}

var readinessClient = &http.Client{
	Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as Marathon: task certificates are not checked
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
