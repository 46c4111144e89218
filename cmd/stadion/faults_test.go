package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// The fault suite (docs/reliability.md): faults injected into real
// processes, then every write answered 2xx must be there and every app
// must run exactly its instances.

// chaos returns n, or long under `make chaos` (STADION_CHAOS=1).
func chaos(n, long int) int {
	if os.Getenv("STADION_CHAOS") != "" {
		return long
	}
	return n
}

// outcome is what a client learnt of one write.
type outcome int

const (
	acked   outcome = iota // 2xx: stored
	refused                // a 4xx, or no connection: not stored
	unknown                // a 5xx, or the connection broke after the request went out
)

// write is one PUT of an app's instance count and what came of it.
type write struct {
	instances int
	outcome   outcome
}

// putApp creates or updates an app with n instances (PUT creates, as
// Marathon's does), forcing past deployments in the way.
func putApp(client *http.Client, api, id, cmd string, n int) (outcome, string) {
	body, _ := json.Marshal(map[string]any{"id": id, "cmd": cmd, "cpus": 0.01, "mem": 8, "instances": n})
	return putJSON(client, api+"/v2/apps"+id+"?force=true", body)
}

// putJSON sends one PUT and says what the client learnt of it.
func putJSON(client *http.Client, url string, body []byte) (outcome, string) {
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return refused, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return refused, "connection refused"
	case err != nil:
		return unknown, err.Error()
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode / 100 {
	case 2:
		return acked, ""
	case 5:
		// A 5xx promises nothing: with ZooKeeper a write whose
		// connection broke may have been committed.
		return unknown, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(text))
	}
	return refused, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(text))
}

// possible returns the instance counts an app may have after its writes:
// the last acknowledged one, or any whose outcome is unknown after it; an
// app never acknowledged may also not exist (-1).
func possible(writes []write) []int {
	out := []int{-1}
	for _, w := range writes {
		switch w.outcome {
		case acked:
			out = []int{w.instances}
		case unknown:
			out = append(out, w.instances)
		}
	}
	return out
}

// writers runs n clients that each PUT their own apps with random
// instance counts until stop is closed, and records every outcome.
type writers struct {
	mu     sync.Mutex
	writes map[string][]write
	wg     sync.WaitGroup
	stop   chan struct{}
}

func startWriters(api, cmd string, n, appsEach int) *writers {
	w := &writers{writes: map[string][]write{}, stop: make(chan struct{})}
	for i := range n {
		w.wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for {
				select {
				case <-w.stop:
					return
				case <-time.After(time.Duration(100+rng.IntN(200)) * time.Millisecond):
				}
				id := fmt.Sprintf("/w%02d-%d", i, rng.IntN(appsEach))
				count := rng.IntN(3)
				res, _ := putApp(client, api, id, cmd, count)
				w.mu.Lock()
				w.writes[id] = append(w.writes[id], write{instances: count, outcome: res})
				w.mu.Unlock()
			}
		})
	}
	return w
}

func (w *writers) finish() map[string][]write {
	close(w.stop)
	w.wg.Wait()
	return w.writes
}

func (w *writers) count(o outcome) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ws := range w.writes {
		for _, x := range ws {
			if x.outcome == o {
				n++
			}
		}
	}
	return n
}

// appInstances reads every app's instance count from /v2/apps.
func appInstances(t *testing.T, api string) map[string]int {
	t.Helper()
	var apps struct {
		Apps []struct {
			ID        string `json:"id"`
			Instances int    `json:"instances"`
		} `json:"apps"`
	}
	getJSON(t, api+"/v2/apps", &apps)
	out := map[string]int{}
	for _, a := range apps.Apps {
		out[a.ID] = a.Instances
	}
	return out
}

// checkAcked checks that every app is as its writes allow and sets the
// cluster's expected instances from what is there.
func (c *killCluster) checkAcked(t *testing.T, writes map[string][]write) {
	t.Helper()
	have := appInstances(t, c.api)
	for id, ws := range writes {
		got, ok := have[id]
		if !ok {
			got = -1
		}
		if want := possible(ws); !slices.Contains(want, got) {
			t.Errorf("app %s has %d instances (-1: missing), its writes allow %v: %+v", id, got, want, ws)
		}
		if ok {
			c.instances[id] = got
		}
	}
	for id := range have {
		if _, ok := writes[id]; !ok {
			t.Errorf("app %s exists, nobody wrote it", id)
		}
	}
}

// TestFaultKill9UnderWriters kills `stadion serve` with SIGKILL at 10
// random moments while 20 clients write; after each restart the clients
// go on. In the end every write answered 2xx is there, and every app runs
// exactly its instances, as Mesos and Stadion agree, within 30 s.
func TestFaultKill9UnderWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startKillCluster(t)
	w := startWriters(c.api, c.sleepCmd, 20, 2)
	for i := range chaos(10, 50) {
		// The fault's moment, at random: not a wait for anything.
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		c.kill9(t)
		t.Logf("kill %d: %d writes acknowledged so far, %d with unknown outcome", i+1, w.count(acked), w.count(unknown))
		c.startServe(t)
	}
	writes := w.finish()
	t.Logf("%d apps, %d writes acknowledged, %d refused, %d with unknown outcome", len(writes), w.count(acked), w.count(refused), w.count(unknown))
	if w.count(acked) < 100 {
		t.Fatalf("only %d writes were acknowledged: the test did not exercise the scheduler", w.count(acked))
	}
	c.checkAcked(t, writes)
	start := time.Now()
	c.waitConverged(t)
	t.Logf("converged %s after the last restart", time.Since(start).Round(time.Millisecond))
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if testenv.InCI() {
			t.Fatal("the full-disk test mounts a tmpfs and needs root")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestFaultFullDisk runs serve with its data dir on a 2 MB tmpfs and
// writes until the disk is full: every write is answered 2xx or 503,
// /ping and /v2/info report the store, and after kill -9 and a restart
// every app answered 2xx is there and no app answered 503 is. Once space
// is freed, writes succeed again.
func TestFaultFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := mountTmpfs(t, 2<<20)
	c := startKillCluster(t, "--data_dir", dir)
	// Written once serve has its database: a data dir holding other
	// files but no database is refused as lost state (docs/state.md).
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 256<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}

	// Labels make each app a few KB, so that the disk fills in a few
	// hundred writes.
	label := strings.Repeat("x", 2000)
	post := func(id string) (int, string) {
		app := map[string]any{"id": id, "cmd": c.sleepCmd, "cpus": 0.01, "mem": 8, "instances": 0,
			"labels": map[string]string{"a": label, "b": label}}
		body, _ := json.Marshal(app)
		resp, err := client.Post(c.api+"/v2/apps", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", id, err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(text)
	}
	var ok, failed []string
	for i := 0; len(failed) < 20; i++ {
		if i == 2000 {
			t.Fatalf("the disk never filled: %d apps created", len(ok))
		}
		id := fmt.Sprintf("/full-%04d", i)
		switch code, body := post(id); code {
		case http.StatusCreated:
			ok = append(ok, id)
		case http.StatusServiceUnavailable:
			failed = append(failed, id)
			if !strings.Contains(body, `"message"`) {
				t.Errorf("503 body is not Marathon's error: %s", body)
			}
		default:
			t.Fatalf("POST %s: %d %s, want 201 or 503", id, code, body)
		}
	}
	t.Logf("%d apps created, %d refused with 503", len(ok), len(failed))
	if len(ok) == 0 {
		t.Fatal("no app was created before the disk filled")
	}
	// A write that fails frees what it took, so that a smaller one may
	// pass: fill the rest of the disk to keep every write failing while
	// the reports are read.
	filler := fillDisk(t, dir)
	if code, body := post("/full-filled"); code != http.StatusServiceUnavailable {
		t.Fatalf("POST on a filled disk: %d %s, want 503", code, body)
	}
	failed = append(failed, "/full-filled")
	checkStoreReported(t, c.api)

	c.kill9(t)
	c.serve = startStadion(c.top, "serve", c.serveArgs...)
	have := map[string]int{}
	poll(t, "the restarted serve lists its apps", func() error {
		code, body := getStatus(c.api+"/v2/apps", &struct{}{})
		if code != http.StatusOK {
			return fmt.Errorf("GET /v2/apps: %d %s", code, body)
		}
		have = appInstances(t, c.api)
		return nil
	})
	for _, id := range ok {
		if _, found := have[id]; !found {
			t.Errorf("app %s was answered 201 and is gone after the restart", id)
		}
	}
	for _, id := range failed {
		if _, found := have[id]; found {
			t.Errorf("app %s was answered 503 and exists after the restart", id)
		}
	}

	for _, f := range []string{ballast, filler} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "a write succeeds once space is freed", func() error {
		if code, body := post("/after-free"); code != http.StatusCreated {
			return fmt.Errorf("POST: %d %s", code, body)
		}
		return nil
	})
	waitHTTP(t, c.api+"/ping")
}

// fillDisk writes a file in dir until the file system is full and
// returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			return path
		}
	}
}

// checkStoreReported checks that /ping and /v2/info say the store cannot
// write, and /metrics counts it.
func checkStoreReported(t *testing.T, api string) {
	t.Helper()
	if code, body := getStatus(api+"/ping", nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "store cannot write") {
		t.Errorf("GET /ping after a failed write: %d %q, want 503 store cannot write", code, body)
	}
	var info struct {
		Store *struct {
			Writable      bool   `json:"writable"`
			Error         string `json:"error"`
			WriteFailures int    `json:"writeFailures"`
		} `json:"store"`
	}
	getJSON(t, api+"/v2/info", &info)
	if info.Store == nil || info.Store.Writable || info.Store.Error == "" || info.Store.WriteFailures == 0 {
		t.Errorf("/v2/info store = %+v, want not writable with an error", info.Store)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/metrics/prometheus", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(text, []byte("stadion_store_writable 0")) || !bytes.Contains(text, []byte("stadion_store_write_failures_total")) {
		t.Errorf("/metrics/prometheus does not report the failing store")
	}
}

// TestFaultZooKeeperSessionLoss runs serve with the ZooKeeper store and
// stops ZooKeeper for longer than the session timeout while 20 clients
// write: writes fail while it is away, serve leads again once it is back,
// and every write answered 2xx is there and every app converges.
func TestFaultZooKeeperSessionLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	zk := testenv.StartZooKeeper(t)
	c := startKillCluster(t, "--zk", zk.URL("/stadion"), "--zk_session_timeout", "2000", "--zk_timeout", "2000")
	w := startWriters(c.api, c.sleepCmd, 20, 2)
	poll(t, "writes acknowledged before the outage", func() error {
		if n := w.count(acked); n < 50 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	zk.Stop(t)
	outage := time.Now()
	// The outage outlasts the session: the fault itself, not a wait.
	time.Sleep(5 * time.Second)
	zk.Start(t)
	t.Logf("ZooKeeper back after %s; %d writes acknowledged, %d with unknown outcome", time.Since(outage).Round(time.Millisecond), w.count(acked), w.count(unknown))
	before := w.count(acked)
	poll(t, "writes acknowledged again", func() error {
		if n := w.count(acked); n < before+50 {
			return fmt.Errorf("%d acknowledged since ZooKeeper came back", n-before)
		}
		return nil
	})
	writes := w.finish()
	t.Logf("%d apps, %d writes acknowledged, %d refused, %d with unknown outcome", len(writes), w.count(acked), w.count(refused), w.count(unknown))
	c.checkAcked(t, writes)
	c.waitConverged(t)
}

// TestFaultKill9LocalUnderWriters is TestFaultKill9UnderWriters with
// `stadion serve --master local`: each kill -9 takes the in-process Mesos
// master and agent with it. The agent recovers its tasks from its
// checkpoint under its old id, the new master learns them, and the
// scheduler adopts them: in the end every app runs exactly its instances,
// and exactly that many task processes exist (no orphan, nothing twice).
func TestFaultKill9LocalUnderWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	sleep := fmt.Sprintf("sleep 317.%d", os.Getpid())
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })
	api, args, serve := startLocalServe(t, dir, "--max_instances_per_offer", "3")

	w := startWriters(api, sleep, 20, 2)
	for i := range chaos(10, 50) {
		// The fault's moment, at random: not a wait for anything.
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		if err := serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-serve.done
		t.Logf("kill %d: %d writes acknowledged so far, %d with unknown outcome", i+1, w.count(acked), w.count(unknown))
		serve = startStadion(t, "serve", args...)
		waitHTTP(t, api+"/ping")
	}
	writes := w.finish()
	t.Logf("%d apps, %d writes acknowledged, %d refused, %d with unknown outcome", len(writes), w.count(acked), w.count(refused), w.count(unknown))
	if w.count(acked) < 100 {
		t.Fatalf("only %d writes were acknowledged: the test did not exercise the scheduler", w.count(acked))
	}
	want := checkCounts(t, "app", appInstances(t, api), writes)
	waitConverged(t, 60*time.Second, func() string { return localConverged(t, api, want, sleep) })
}

// checkCounts checks that every runnable has a count its writes allow
// and that none its writes created is missing; it returns the counts.
func checkCounts(t *testing.T, kind string, got map[string]int, writes map[string][]write) map[string]int {
	t.Helper()
	for id, n := range got {
		if ok := slices.Contains(possible(writes[id]), n); !ok {
			t.Errorf("%s %s has %d instances, its writes allow %v", kind, id, n, possible(writes[id]))
		}
	}
	for id, ws := range writes {
		if _, ok := got[id]; !ok && !slices.Contains(possible(ws), -1) {
			t.Errorf("%s %s is missing, its writes allow %v", kind, id, possible(ws))
		}
	}
	return got
}

// waitConverged waits until problem has said "" for 2 s in a row, or
// fails with its last answer after d.
func waitConverged(t *testing.T, d time.Duration, problem func() string) {
	t.Helper()
	start := time.Now()
	var since time.Time
	deadline := start.Add(d)
	for {
		p := problem()
		switch {
		case p != "":
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= 2*time.Second:
			t.Logf("converged %s after the last restart", since.Sub(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged %s after the last restart: %s", d, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// localConverged says what keeps the apps of a `serve --master local` from
// running exactly want, or "" when they do: every app's running tasks, no
// deployment, and the task processes on the machine.
func localConverged(t *testing.T, api string, want map[string]int, cmd string) string {
	t.Helper()
	var apps struct {
		Apps []struct {
			ID           string `json:"id"`
			Instances    int    `json:"instances"`
			TasksRunning int    `json:"tasksRunning"`
			Tasks        []struct {
				ID string `json:"id"`
			} `json:"tasks"`
		} `json:"apps"`
	}
	getJSON(t, api+"/v2/apps?embed=apps.tasks", &apps)
	total := 0
	var problems []string
	for _, a := range apps.Apps {
		if a.TasksRunning != want[a.ID] || len(a.Tasks) != want[a.ID] {
			problems = append(problems, fmt.Sprintf("%s runs %d of %d tasks, wants %d", a.ID, a.TasksRunning, len(a.Tasks), want[a.ID]))
		}
		total += want[a.ID]
	}
	var deployments []struct{ ID string }
	getJSON(t, api+"/v2/deployments", &deployments)
	if len(deployments) > 0 {
		problems = append(problems, fmt.Sprintf("%d deployments", len(deployments)))
	}
	// Each task leads a process group of its own (sh and its command).
	if groups := processGroups(taskProcesses(cmd)); len(groups) != total {
		problems = append(problems, fmt.Sprintf("%d task process groups, want %d", len(groups), total))
	}
	return strings.Join(problems, "; ")
}

// processGroups returns the process groups of pids.
func processGroups(pids []int) map[int]bool {
	out := map[int]bool{}
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 {
			if pgid, err := strconv.Atoi(f[2]); err == nil {
				out[pgid] = true
			}
		}
	}
	return out
}
