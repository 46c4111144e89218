package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// haServe is one `stadion serve --zk` of the ZooKeeper phase.
type haServe struct {
	name     string // serve0, serve1, ...
	hostPort string // what the election publishes and /v2/leader names
	api      *marathonClient
	proc     *process // the current incarnation
	starts   int      // incarnations so far, for the log names
}

// haSet is the `stadion serve --zk` instances sharing one ZooKeeper path,
// all with the same --zk_session_timeout.
type haSet struct {
	c              config
	workDir        string
	master         string // the cluster's master, host:port
	zk             string // zk://host:port/stadion
	sessionTimeout time.Duration
	serves         []*haServe
}

func newHASet(c config, workDir, master, zk string, sessionTimeout time.Duration) *haSet {
	return &haSet{c: c, workDir: workDir, master: master, zk: zk, sessionTimeout: sessionTimeout}
}

// add starts one more instance on a free port.
func (h *haSet) add(ctx context.Context) (*haServe, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(port)
	api := newMarathonClient("http://" + hostPort)
	// A standby without a leader answers after 2.5 s; an API that does
	// not answer within this is counted as a failed attempt.
	api.http.Timeout = 10 * time.Second
	s := &haServe{name: "serve" + strconv.Itoa(len(h.serves)), hostPort: hostPort, api: api}
	h.serves = append(h.serves, s)
	return s, h.start(ctx, s)
}

// start starts a new incarnation of s with the same flags and port, and
// waits until it answers /ping.
func (h *haSet) start(ctx context.Context, s *haServe) error {
	s.starts++
	name := fmt.Sprintf("zk-s%d-%s.%d", h.sessionTimeout.Milliseconds(), s.name, s.starts)
	_, port, _ := strings.Cut(s.hostPort, ":")
	args := []string{"serve", "--master", h.master, "--zk", h.zk,
		"--zk_session_timeout", strconv.FormatInt(h.sessionTimeout.Milliseconds(), 10),
		"--http_address", "127.0.0.1", "--http_port", port, "--hostname", "127.0.0.1",
		"--data_dir", filepath.Join(h.workDir, name+"-data"),
		// Info: the log lines the failover runs read (elected, leading,
		// subscribed); nothing per task is logged at Info.
		"--logging_level", "info"}
	if h.c.MaxPerOffer > 0 {
		args = append(args, "--max_instances_per_offer", strconv.Itoa(h.c.MaxPerOffer))
	}
	p, err := startProcess(h.c.Stadion, h.workDir, name, args, nil)
	if err != nil {
		return err
	}
	s.proc = p
	return waitHTTP(ctx, p, s.api.base+"/ping", 30*time.Second)
}

// running returns the instances whose process runs.
func (h *haSet) running() []*haServe {
	var out []*haServe
	for _, s := range h.serves {
		if s.proc != nil && !s.proc.Exited() {
			out = append(out, s)
		}
	}
	return out
}

// byHostPort returns the running instance that hostPort names, or nil.
func (h *haSet) byHostPort(hostPort string) *haServe {
	for _, s := range h.running() {
		if s.hostPort == hostPort {
			return s
		}
	}
	return nil
}

// stopAll stops every instance with SIGTERM.
func (h *haSet) stopAll() {
	for _, s := range h.serves {
		if s.proc != nil {
			s.proc.Stop(30 * time.Second)
		}
	}
}

// leaderOf asks s whom it names as the leader ("" when none).
func leaderOf(ctx context.Context, s *haServe) (string, error) {
	var l struct {
		Leader string `json:"leader"`
	}
	if err := s.api.getJSON(ctx, "/v2/leader", &l); err != nil {
		return "", err
	}
	return l.Leader, nil
}

// elected reports whether s says it leads with its state loaded.
func elected(ctx context.Context, s *haServe) (bool, error) {
	var info struct {
		Elected bool `json:"elected"`
	}
	if err := s.api.getJSON(ctx, "/v2/info", &info); err != nil {
		return false, err
	}
	return info.Elected, nil
}

// settle waits for the steady state a failover run starts from and
// returns the leader: every running instance names the same leader, which
// is one of them and elected; it shows want tasks running and no
// deployment; and the Mesos master has the framework active with want
// running tasks (the leader's subscription is live, nothing was lost or
// launched twice).
func (h *haSet) settle(ctx context.Context, want int) (*haServe, error) {
	var (
		lead *haServe
		why  string
	)
	_, err := waitFor(ctx, 200*time.Millisecond, h.c.Timeout, func() (bool, error) {
		lead, why = nil, ""
		names := map[string]bool{}
		for _, s := range h.running() {
			l, err := leaderOf(ctx, s)
			if err != nil {
				why = fmt.Sprintf("%s: %v", s.name, err)
				return false, nil
			}
			names[l] = true
		}
		if len(names) != 1 {
			why = fmt.Sprintf("leaders named: %v", names)
			return false, nil
		}
		for name := range names {
			lead = h.byHostPort(name)
		}
		if lead == nil {
			why = fmt.Sprintf("the leader named, %v, is none of the running instances", names)
			return false, nil
		}
		if ok, err := elected(ctx, lead); !ok {
			why = fmt.Sprintf("%s is not elected yet (%v)", lead.name, err)
			return false, nil
		}
		if n, err := lead.api.running(ctx); n != want {
			why = fmt.Sprintf("%s shows %d of %d tasks running (%v)", lead.name, n, want, err)
			return false, nil
		}
		if n, err := lead.api.deployments(ctx); n != 0 {
			why = fmt.Sprintf("%s shows %d deployments (%v)", lead.name, n, err)
			return false, nil
		}
		active, running, err := masterFramework(ctx, h.master)
		if !active || running != want {
			why = fmt.Sprintf("mesos: framework active %v, %d of %d tasks running (%v)", active, running, want, err)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("wait for a steady leader: %w: %s", err, why)
	}
	return lead, nil
}

// masterFramework reads the master's state: whether its one framework is
// active (subscribed) and how many of its tasks are TASK_RUNNING.
func masterFramework(ctx context.Context, master string) (active bool, running int, err error) {
	var st struct {
		Frameworks []struct {
			Active bool `json:"active"`
			Tasks  []struct {
				State string `json:"state"`
			} `json:"tasks"`
		} `json:"frameworks"`
	}
	if err := newMarathonClient("http://"+master).getJSON(ctx, "/master/state", &st); err != nil {
		return false, 0, err
	}
	if len(st.Frameworks) != 1 {
		return false, 0, fmt.Errorf("%d frameworks", len(st.Frameworks))
	}
	for _, t := range st.Frameworks[0].Tasks {
		if t.State == "TASK_RUNNING" {
			running++
		}
	}
	return st.Frameworks[0].Active, running, nil
}

// failoverRun is one leader kill and what followed, each time from the
// kill (SIGKILL sent).
type failoverRun struct {
	Killed, Via, NewLeader string // instance names
	App                    string // the app posted after the kill

	// Seen through the API, polled every -poll.
	Named   time.Duration // a survivor's GET /v2/leader names a survivor
	Elected time.Duration // that one's GET /v2/info says elected (state loaded)
	Write   time.Duration // first 2xx of POST /v2/apps through Via
	Running time.Duration // the posted app's task TASK_RUNNING in GET /v2/apps/{id} through Via

	Attempts int            // POSTs sent until the 2xx, the 2xx included
	Failures map[string]int // the answers before it: status code or error

	// From the new leader's log (zero when the line is missing).
	Log leaderLog

	TasksAfter int // tasks running in Mesos and Stadion once settled again
}

// failover kills lead with SIGKILL and times the takeover: a leader named,
// its state loaded, a POST /v2/apps through the first other instance
// answered 2xx, and that app's task running. want is the number of tasks
// that run afterwards (the posted one included).
func (h *haSet) failover(ctx context.Context, lead *haServe, appID string, want int) (failoverRun, error) {
	var survivors []*haServe
	for _, s := range h.running() {
		if s != lead {
			survivors = append(survivors, s)
		}
	}
	if len(survivors) == 0 {
		return failoverRun{}, errors.New("no instance survives the leader")
	}
	via := survivors[0]
	logOffsets := map[*haServe]int64{}
	for _, s := range survivors {
		if fi, err := os.Stat(s.proc.Log); err == nil {
			logOffsets[s] = fi.Size()
		}
	}
	run := failoverRun{Killed: lead.name, Via: via.name, App: appID, Failures: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctx, h.c.Timeout)
	defer cancel()

	killed := time.Now()
	if err := lead.proc.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return run, fmt.Errorf("kill %s: %w", lead.name, err)
	}
	var (
		wg                 sync.WaitGroup
		watchErr, writeErr error
		next               *haServe
	)
	wg.Go(func() {
		next, run.Named, run.Elected, watchErr = h.watchLeader(ctx, survivors, killed)
	})
	wg.Go(func() {
		run.Write, run.Running, run.Attempts, writeErr = h.writeThrough(ctx, via, appID, killed, run.Failures)
	})
	wg.Wait()
	<-lead.proc.Done()
	if err := errors.Join(watchErr, writeErr); err != nil {
		return run, err
	}
	run.NewLeader = next.name
	if b, err := readFrom(next.proc.Log, logOffsets[next]); err == nil {
		run.Log = parseLeaderLog(b).since(killed)
	}
	if _, err := h.settle(ctx, want); err != nil {
		return run, fmt.Errorf("after the failover: %w", err)
	}
	run.TasksAfter = want
	// Back as a standby, for the next run.
	if err := h.start(ctx, lead); err != nil {
		return run, fmt.Errorf("restart %s: %w", lead.name, err)
	}
	return run, nil
}

// watchLeader polls the survivors' /v2/leader until one names a survivor,
// then that one's /v2/info until it says elected.
func (h *haSet) watchLeader(ctx context.Context, survivors []*haServe, killed time.Time) (*haServe, time.Duration, time.Duration, error) {
	var next *haServe
	at, err := waitFor(ctx, h.c.PollInterval, h.c.Timeout, func() (bool, error) {
		for _, s := range survivors {
			l, err := leaderOf(ctx, s)
			if err != nil {
				continue
			}
			if i := slices.IndexFunc(survivors, func(o *haServe) bool { return o.hostPort == l }); i >= 0 {
				next = survivors[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("wait for a survivor to be named leader: %w", err)
	}
	named := at.Sub(killed)
	at, err = waitFor(ctx, h.c.PollInterval, h.c.Timeout, func() (bool, error) {
		ok, _ := elected(ctx, next)
		return ok, nil
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("wait for %s to be elected: %w\n%s", next.name, err, next.proc.Tail(20))
	}
	return next, named, at.Sub(killed), nil
}

// writeThrough posts a one-instance app through via until the answer is
// 2xx, then polls the app through via until its task runs. failures
// counts the answers before the 2xx.
func (h *haSet) writeThrough(ctx context.Context, via *haServe, appID string, killed time.Time, failures map[string]int) (write, running time.Duration, attempts int, err error) {
	at, err := waitFor(ctx, h.c.PollInterval, h.c.Timeout, func() (bool, error) {
		attempts++
		status, body, err := via.api.do(ctx, http.MethodPost, "/v2/apps", benchApp(appID, 1))
		switch {
		case err != nil:
			failures[errorKind(err)]++
			return false, nil
		case status/100 == 2:
			return true, nil
		case status == http.StatusConflict:
			// An earlier attempt was applied although it got no 2xx.
			return false, fmt.Errorf("POST /v2/apps %s answered 409 after %d attempts: %s", appID, attempts, body)
		default:
			failures[strconv.Itoa(status)]++
			return false, nil
		}
	})
	if err != nil {
		return 0, 0, attempts, fmt.Errorf("post %s through %s: %w\n%s", appID, via.name, err, via.proc.Tail(20))
	}
	write = at.Sub(killed)
	at, err = waitFor(ctx, h.c.PollInterval, h.c.Timeout, func() (bool, error) {
		var a struct {
			App struct {
				TasksRunning int `json:"tasksRunning"`
			} `json:"app"`
		}
		if err := via.api.getJSON(ctx, "/v2/apps"+appID, &a); err != nil {
			return false, nil
		}
		return a.App.TasksRunning >= 1, nil
	})
	if err != nil {
		return 0, 0, attempts, fmt.Errorf("wait for the task of %s: %w", appID, err)
	}
	return write, at.Sub(killed), attempts, nil
}

// errorKind names a failed request for the failure counts.
func errorKind(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	default:
		return "error"
	}
}

// readFrom returns the file from offset on.
func readFrom(path string, offset int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", err
	}
	b, err := io.ReadAll(f)
	return string(b), err
}

// leaderLog is what a new leader's log tells of its takeover, as durations
// from the kill once since has been applied.
type leaderLog struct {
	Elected    time.Duration // "elected leader": its election node is the lowest
	Ready      time.Duration // "leading": its scheduler loaded the state and serves
	ReadyIn    time.Duration // the ready_in of that line: election to loaded, as the server times it
	Subscribed time.Duration // "subscribed to mesos": SUBSCRIBED handled by the scheduler
}

// leaderLogTimes are the wall-clock times of those lines.
type leaderLogTimes struct {
	Elected, Ready, Subscribed time.Time
	ReadyIn                    time.Duration
}

// since turns the times into durations from t; a missing line stays zero.
func (l leaderLogTimes) since(t time.Time) leaderLog {
	d := func(at time.Time) time.Duration {
		if at.IsZero() {
			return 0
		}
		return at.Sub(t)
	}
	return leaderLog{Elected: d(l.Elected), Ready: d(l.Ready), ReadyIn: l.ReadyIn, Subscribed: d(l.Subscribed)}
}

// parseLeaderLog finds the first "elected leader", "leading" and
// "subscribed to mesos" lines of a stadion serve log (slog's text format:
// time=... level=... msg=... key=value...).
func parseLeaderLog(log string) leaderLogTimes {
	var out leaderLogTimes
	for line := range strings.SplitSeq(log, "\n") {
		kv := logfmt(line)
		at, err := time.Parse(time.RFC3339Nano, kv["time"])
		if err != nil {
			continue
		}
		switch kv["msg"] {
		case "elected leader":
			if out.Elected.IsZero() {
				out.Elected = at
			}
		case "leading":
			if out.Ready.IsZero() {
				out.Ready = at
				out.ReadyIn, _ = time.ParseDuration(kv["ready_in"])
			}
		case "subscribed to mesos":
			if out.Subscribed.IsZero() {
				out.Subscribed = at
			}
		}
	}
	return out
}

// logfmt splits a line of key=value pairs, values either bare or quoted
// as by strconv.Quote.
func logfmt(line string) map[string]string {
	kv := map[string]string{}
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimLeft(line, " ") {
		key, rest, ok := strings.Cut(line, "=")
		if !ok || strings.Contains(key, " ") {
			return kv
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(rest) {
				return kv
			}
			var err error
			if value, err = strconv.Unquote(rest[:end+1]); err != nil {
				return kv
			}
			line = rest[end+1:]
		} else {
			value, line, _ = strings.Cut(rest, " ")
		}
		kv[key] = value
	}
	return kv
}
