package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/stadionhq/stadion/bench/internal/rig"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/registrator"
)

const (
	appID       = "/bench/echo"
	serviceName = "echo"
)

// sample is what happened to one task: the scheduler's event timestamps
// and the moments Consul's blocking queries showed the change.
type sample struct {
	running, healthy, killed  time.Time
	registered, passing, gone time.Time
}

// recorder collects samples from the event stream and from Consul.
type recorder struct {
	mu      sync.Mutex
	tasks   map[string]*sample
	present map[string]bool // task ids with a service in Consul now
}

func newRecorder() *recorder {
	return &recorder{tasks: map[string]*sample{}, present: map[string]bool{}}
}

func (r *recorder) task(id string) *sample {
	s := r.tasks[id]
	if s == nil {
		s = &sample{}
		r.tasks[id] = s
	}
	return s
}

func setOnce(t *time.Time, v time.Time) {
	if t.IsZero() {
		*t = v
	}
}

// event records a scheduler event, at the scheduler's timestamp.
func (r *recorder) event(e marathon.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := e.(type) {
	case *marathon.StatusUpdateEvent:
		s := r.task(e.TaskID)
		switch e.TaskStatus {
		case marathon.TaskRunning:
			setOnce(&s.running, e.Timestamp.Time)
		case marathon.TaskKilled, marathon.TaskKilling, marathon.TaskFinished, marathon.TaskFailed, marathon.TaskLost:
			setOnce(&s.killed, e.Timestamp.Time)
		}
	case *marathon.HealthStatusChangedEvent:
		if e.Alive && e.TaskID != "" {
			setOnce(&r.task(e.TaskID).healthy, e.Timestamp.Time)
		}
	}
}

// consul records what one answer of Consul showed, at now.
func (r *recorder) consul(entries []*api.ServiceEntry, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range entries {
		id := e.Service.Meta[registrator.MetaTaskID]
		if id == "" {
			continue
		}
		seen[id] = true
		s := r.task(id)
		setOnce(&s.registered, now)
		if e.Checks.AggregatedStatus() == api.HealthPassing {
			setOnce(&s.passing, now)
		}
	}
	for id := range r.present {
		if !seen[id] {
			setOnce(&r.task(id).gone, now)
		}
	}
	r.present = seen
}

// count returns how many tasks started after since are fully up (running,
// healthy, registered, passing) and how many of those are fully down.
func (r *recorder) count(since time.Time) (up, down int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.tasks {
		if s.running.Before(since) {
			continue
		}
		if !s.healthy.IsZero() && !s.registered.IsZero() && !s.passing.IsZero() {
			up++
			if !s.killed.IsZero() && !s.gone.IsZero() {
				down++
			}
		}
	}
	return up, down
}

// latencies returns the three series.
func (r *recorder) latencies() (toRegistered, toPassing, toGone []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.tasks {
		if !s.running.IsZero() && !s.registered.IsZero() {
			toRegistered = append(toRegistered, s.registered.Sub(s.running))
		}
		if !s.healthy.IsZero() && !s.passing.IsZero() {
			toPassing = append(toPassing, s.passing.Sub(s.healthy))
		}
		if !s.killed.IsZero() && !s.gone.IsZero() {
			toGone = append(toGone, s.gone.Sub(s.killed))
		}
	}
	for _, l := range [][]time.Duration{toRegistered, toPassing, toGone} {
		slices.Sort(l)
	}
	return toRegistered, toPassing, toGone
}

// watchConsul hands every change of the service's instances to record
// until ctx ends, with blocking queries.
func watchConsul(ctx context.Context, c *api.Client, record func([]*api.ServiceEntry, time.Time)) {
	var index uint64
	for ctx.Err() == nil {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: 30 * time.Second}).WithContext(ctx)
		entries, meta, err := c.Health().Service(serviceName, "", false, q)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		record(entries, time.Now())
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
	}
}

// bench starts Consul, stadion serve and stadion registrator, then scales
// the app up and down c.Rounds times.
func bench(ctx context.Context, c config, workDir string, step func(string, ...any)) (results, error) {
	res := results{Date: time.Now(), Machine: readMachine(), Config: c, Load: rig.LoadAverage()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	step("building examples/test-server")
	server, err := buildTestServer(ctx, workDir)
	if err != nil {
		return res, err
	}
	res.ConsulVersion = consulVersion(ctx, c.Consul)
	step("starting %s", res.ConsulVersion)
	consul, consulAddr, err := startConsul(ctx, c.Consul, workDir, c.Timeout)
	if err != nil {
		return res, err
	}
	defer consul.Stop(10 * time.Second)

	port, err := freePort()
	if err != nil {
		return res, err
	}
	marathonURL := "http://127.0.0.1:" + strconv.Itoa(port)
	step("starting stadion serve --master local on %s", marathonURL)
	serve, err := startProcess(c.Stadion, workDir, "serve", "serve", "--master", "local", "--local_agents", "2",
		"--local_containerizers", "mesos", "--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port),
		"--hostname", "127.0.0.1", "--data_dir", filepath.Join(workDir, "serve"), "--logging_level", "warn")
	if err != nil {
		return res, err
	}
	defer serve.Stop(30 * time.Second)
	if err := waitFor(ctx, serve, c.Timeout, "stadion serve", func() error { _, err := get(marathonURL + "/ping"); return err }); err != nil {
		return res, err
	}

	step("starting stadion registrator --health %s", c.Health)
	// The two built-in agents are the hosts 127.0.0.2 and 127.0.0.3.
	reg, err := startProcess(c.Stadion, workDir, "registrator", "registrator", "--marathon", marathonURL, "--consul", consulAddr,
		"--hostname", "127.0.0.2,127.0.0.3", "--health", c.Health, "--log-level", c.LogLevel)
	if err != nil {
		return res, err
	}
	defer reg.Stop(10 * time.Second)

	cc, err := registrator.NewConsulClient(registrator.ConsulConfig{Address: consulAddr})
	if err != nil {
		return res, err
	}
	client, err := registrator.NewClient(registrator.ClientConfig{URLs: []string{marathonURL}})
	if err != nil {
		return res, err
	}
	rec := newRecorder()
	notices := make(chan registrator.Notice, 1024)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		_ = client.Follow(ctx, []marathon.EventType{marathon.EventStatusUpdate, marathon.EventHealthStatusChanged}, notices)
	})
	connected := make(chan struct{})
	wg.Go(func() {
		once := sync.OnceFunc(func() { close(connected) })
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-notices:
				if n.Connected {
					once()
				} else {
					rec.event(n.Event)
				}
			}
		}
	})
	wg.Go(func() { watchConsul(ctx, cc, rec.consul) })
	select {
	case <-connected:
	case <-time.After(c.Timeout):
		return res, fmt.Errorf("no event stream from %s", marathonURL)
	}

	if err := putApp(marathonURL, benchApp(server, 0), http.MethodPost); err != nil {
		return res, err
	}
	for round := range c.Rounds {
		start := time.Now()
		if err := scale(ctx, marathonURL, c.Instances, c.Timeout); err != nil {
			return res, fmt.Errorf("round %d: %w", round+1, err)
		}
		err := waitFor(ctx, reg, c.Timeout, fmt.Sprintf("round %d: %d tasks healthy and passing in Consul", round+1, c.Instances), func() error {
			if up, _ := rec.count(start); up < c.Instances {
				return fmt.Errorf("%d up", up)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		if err := scale(ctx, marathonURL, 0, c.Timeout); err != nil {
			return res, fmt.Errorf("round %d: %w", round+1, err)
		}
		err = waitFor(ctx, reg, c.Timeout, fmt.Sprintf("round %d: %d tasks gone from Consul", round+1, c.Instances), func() error {
			if _, down := rec.count(start); down < c.Instances {
				return fmt.Errorf("%d down", down)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		up, _ := rec.count(start)
		step("round %d/%d: %d tasks up and down", round+1, c.Rounds, up)
	}
	res.ToRegistered, res.ToPassing, res.ToGone = rec.latencies()
	res.RegistratorCPU, _ = cpuSeconds(reg.Cmd.Process.Pid)
	res.RegistratorRSS, _ = rssKB(reg.Cmd.Process.Pid)
	res.Elapsed = time.Since(res.Date)
	return res, nil
}

// benchApp is one test-server task per instance with an HTTP health check
// every second.
func benchApp(server string, instances int) map[string]any {
	return map[string]any{
		"id": appID, "cmd": server, "instances": instances, "cpus": 0.01, "mem": 16,
		"portDefinitions": []map[string]any{{"port": 0}},
		"labels":          map[string]string{"SERVICE_NAME": serviceName},
		"healthChecks": []map[string]any{{"protocol": "HTTP", "path": "/healthcheck", "portIndex": 0, "gracePeriodSeconds": 10,
			"intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 3, "delaySeconds": 0}},
	}
}

// scale sets the app's instances once no deployment runs.
func scale(ctx context.Context, marathonURL string, n int, timeout time.Duration) error {
	err := waitFor(ctx, nil, timeout, "no deployment", func() error {
		body, err := get(marathonURL + "/v2/deployments")
		if err != nil {
			return err
		}
		var deps []json.RawMessage
		if err := json.Unmarshal([]byte(body), &deps); err != nil {
			return err
		}
		if len(deps) > 0 {
			return fmt.Errorf("%d deployments", len(deps))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return putApp(marathonURL+"/v2/apps"+appID, map[string]any{"instances": n}, http.MethodPut)
}

// putApp sends body with method to url (POST /v2/apps or PUT /v2/apps/{id}).
func putApp(url string, body map[string]any, method string) error {
	if method == http.MethodPost {
		url += "/v2/apps"
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, out)
	}
	return nil
}
