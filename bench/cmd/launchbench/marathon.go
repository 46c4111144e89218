package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/loadgen"
)

// marathonClient drives `stadion serve` through the /v2 API.
type marathonClient struct {
	base string
	http *http.Client
}

func newMarathonClient(base string) *marathonClient {
	return &marathonClient{base: base, http: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
	}}
}

// benchApp is the app posted: a command task that the simulated
// containerizer never runs, with no host ports (portDefinitions empty, so
// Marathon's default of one dynamic port does not apply).
func benchApp(id string, instances int) map[string]any {
	return map[string]any{
		"id":              id,
		"cmd":             "sleep 3600",
		"cpus":            0.01,
		"mem":             8,
		"disk":            0,
		"instances":       instances,
		"portDefinitions": []any{},
	}
}

// appPath is the id of the i-th bench app.
func appPath(i int) string { return fmt.Sprintf("/bench/app-%03d", i) }

// postApps posts apps apps of instances instances each, with workers
// concurrent POST /v2/apps, and returns the latency of the POSTs.
func (c *marathonClient) postApps(ctx context.Context, apps, instances, workers int) (latency, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids := make(chan string)
	go func() {
		defer close(ids)
		for i := range apps {
			select {
			case ids <- appPath(i):
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg        sync.WaitGroup
		once      sync.Once
		first     error
		mu        sync.Mutex
		durations []time.Duration
	)
	for range workers {
		wg.Go(func() {
			for id := range ids {
				start := time.Now()
				if err := c.postApp(ctx, benchApp(id, instances)); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				d := time.Since(start)
				mu.Lock()
				durations = append(durations, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return latency{}, first
	}
	return latencyOf(durations, 0), nil
}

// latencyOf summarises durations (sorted in place); bytes is the body
// size of the requests.
func latencyOf(durations []time.Duration, bytes int) latency {
	if len(durations) == 0 {
		return latency{}
	}
	slices.Sort(durations)
	return latency{
		N:     len(durations),
		P50:   loadgen.Percentile(durations, 50),
		P99:   loadgen.Percentile(durations, 99),
		Max:   durations[len(durations)-1],
		Bytes: bytes,
	}
}

func (c *marathonClient) postApp(ctx context.Context, app map[string]any) error {
	body, err := json.Marshal(app)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v2/apps", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("post app %s: %w", app["id"], err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("post app %s: %s: %s", app["id"], resp.Status, b)
	}
	return nil
}

// getJSON decodes GET path into v.
func (c *marathonClient) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("get %s: %s: %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// running sums tasksRunning over every app (GET /v2/apps without embed:
// 100 small objects, cheap to poll).
func (c *marathonClient) running(ctx context.Context) (int, error) {
	var list struct {
		Apps []struct {
			TasksRunning int `json:"tasksRunning"`
		} `json:"apps"`
	}
	if err := c.getJSON(ctx, "/v2/apps", &list); err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list.Apps {
		n += a.TasksRunning
	}
	return n, nil
}

// deployments counts GET /v2/deployments.
func (c *marathonClient) deployments(ctx context.Context) (int, error) {
	var list []json.RawMessage
	if err := c.getJSON(ctx, "/v2/deployments", &list); err != nil {
		return 0, err
	}
	return len(list), nil
}

// tasks counts GET /v2/tasks by state.
func (c *marathonClient) tasks(ctx context.Context) (map[string]int, error) {
	var list struct {
		Tasks []struct {
			State string `json:"state"`
		} `json:"tasks"`
	}
	if err := c.getJSON(ctx, "/v2/tasks", &list); err != nil {
		return nil, err
	}
	states := map[string]int{}
	for _, t := range list.Tasks {
		states[t.State]++
	}
	return states, nil
}

// waitFor polls cond every interval until it reports true, and returns the
// time at which it did.
func waitFor(ctx context.Context, interval, timeout time.Duration, cond func() (bool, error)) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		now := time.Now()
		if err != nil {
			return now, err
		}
		if ok {
			return now, nil
		}
		if now.After(deadline) {
			return now, fmt.Errorf("not done within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return now, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// latency is the outcome of timing one request repeatedly.
type latency struct {
	N             int
	P50, P99, Max time.Duration
	Bytes         int
}

// measureGET times n sequential GETs of path, reading each body whole.
func (c *marathonClient) measureGET(ctx context.Context, path string, n int) (latency, error) {
	durations := make([]time.Duration, 0, n)
	size := 0
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
		if err != nil {
			return latency{}, err
		}
		start := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return latency{}, fmt.Errorf("get %s: %w", path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return latency{}, fmt.Errorf("read %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return latency{}, fmt.Errorf("get %s: %s", path, resp.Status)
		}
		durations = append(durations, d)
		size = len(b)
	}
	return latencyOf(durations, size), nil
}

// do sends method path with body as JSON (nil: none) and returns the
// status and the body; err is only a failure to get an answer.
func (c *marathonClient) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}
