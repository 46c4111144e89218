package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
	"github.com/stadionhq/stadion/jobs"
)

// jobsArgs are the arguments of a `stadion jobs --master local` on port
// with its state in dir.
func jobsArgs(t *testing.T, port int, dir string, extra ...string) []string {
	lo, hi := testenv.TaskPorts(t, 10)
	return append([]string{"jobs", "--master", "local", "--local_containerizers", "mesos", "--http_port", strconv.Itoa(port),
		"--hostname", "127.0.0.1", "--data_dir", dir, "--failure_retry", "500", "--mesos_task_mem", "32", "--mesos_task_disk", "32",
		"--local_resources", fmt.Sprintf("cpus:4;mem:2048;disk:2048;ports:[%d-%d]", lo, hi)}, extra...)
}

func postJob(t *testing.T, api, path, body string) {
	t.Helper()
	resp, err := http.Post(api+"/v1/scheduler"+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

func getJob(api, name string) (jobs.Job, error) {
	var j jobs.Job
	if code, body := getStatus(api+"/v1/scheduler/job/"+name, &j); code != http.StatusOK {
		return j, fmt.Errorf("GET job %s: %d %s", name, code, body)
	}
	return j, nil
}

// dueTimes reads the task ids a job's runs appended to file and returns
// their due times, checking that no task id appears twice.
func dueTimes(t *testing.T, file string) []int64 {
	t.Helper()
	b, _ := os.ReadFile(file)
	seen := map[string]bool{}
	var out []int64
	for _, id := range strings.Fields(string(b)) {
		if seen[id] {
			t.Errorf("task %s ran twice", id)
		}
		seen[id] = true
		due, _, _, _, ok := jobs.ParseTaskID(id)
		if !ok {
			t.Errorf("task id %q is not Chronos's", id)
		}
		out = append(out, due.UnixMilli())
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestJobsKill9KeepsJobsCountersAndSchedule kills `stadion jobs` with -9
// while a PT2S job runs and starts it again on the same data dir: the job,
// its counters and its schedule are there, nothing ran twice, and the
// periods missed while it was down collapse into one catch-up run.
func TestJobsKill9KeepsJobsCountersAndSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	port := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(port)
	args := jobsArgs(t, port, filepath.Join(dir, "jobs"))
	p := startStadion(t, "jobs", args...)
	waitHTTP(t, api+"/ping")
	out := filepath.Join(dir, "tick.out")
	postJob(t, api, "/iso8601", fmt.Sprintf(`{"name":"tick","command":"echo $mesos_task_id >> %s","schedule":"R/%s/PT2S"}`,
		out, time.Now().UTC().Format(time.RFC3339)))
	postJob(t, api, "/dependency", `{"name":"after","command":"true","parents":["tick"]}`)
	// Runs longer than its period, killed with the scheduler mid-run:
	// the agent keeps the task, the restarted scheduler adopts it.
	slow := filepath.Join(dir, "slow.out")
	postJob(t, api, "/iso8601", fmt.Sprintf(`{"name":"slow","command":"echo $mesos_task_id >> %s; sleep 3","schedule":"R/%s/PT2S"}`,
		slow, time.Now().UTC().Format(time.RFC3339)))
	var before jobs.Job
	poll(t, "three runs of tick", func() (err error) {
		if before, err = getJob(api, "tick"); err == nil && before.SuccessCount < 3 {
			err = fmt.Errorf("successCount %d", before.SuccessCount)
		}
		return err
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	down := time.Now()
	// Down for three periods.
	time.Sleep(6 * time.Second)
	restart := time.Now()
	p2 := startStadion(t, "jobs-again", args...)
	waitHTTP(t, api+"/ping")
	after, err := getJob(api, "tick")
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if after.SuccessCount < before.SuccessCount || after.Schedule == "" || after.Command != before.Command {
		t.Errorf("after the restart tick is %+v, before %+v", after, before)
	}
	if _, err := getJob(api, "after"); err != nil {
		t.Errorf("dependent job lost: %v", err)
	}
	poll(t, "three runs of tick after the restart, counted", func() error {
		b, _ := os.ReadFile(out)
		n := 0
		for _, id := range strings.Fields(string(b)) {
			if due, _, _, _, ok := jobs.ParseTaskID(id); ok && !due.Before(restart) {
				n++
			}
		}
		j, err := getJob(api, "tick")
		if err == nil && (n < 3 || j.SuccessCount < before.SuccessCount+3) {
			err = fmt.Errorf("%d runs since the restart, successCount %d", n, j.SuccessCount)
		}
		return err
	})
	poll(t, "slow running again after the restart", func() error {
		j, err := getJob(api, "slow")
		if err == nil && j.SuccessCount < 2 {
			err = fmt.Errorf("slow successCount %d", j.SuccessCount)
		}
		return err
	})
	dueTimes(t, slow) // no run of slow twice
	// Every run ran once, and the three periods missed collapse into one
	// catch-up run: after the restart, the catch-up may come close to the
	// next occurrence of the grid, but no other runs are closer than most
	// of a period.
	due := dueTimes(t, out)
	var since []int64
	for i, d := range due {
		if d >= restart.UnixMilli() {
			since = append(since, d)
			continue
		}
		if i > 0 && d-due[i-1] < 900 {
			t.Errorf("runs %d and %d only %d ms apart before the kill (due %v)", i-1, i, d-due[i-1], due)
		}
	}
	if len(since) < 3 {
		t.Fatalf("runs after the restart due %v", since)
	}
	for i := 2; i < len(since); i++ {
		if gap := since[i] - since[i-1]; gap < 900 {
			t.Errorf("runs after the restart only %d ms apart (due %v): a missed period ran more than once", gap, since)
		}
	}
	var inGap int
	for _, d := range due {
		if d > down.UnixMilli() && d < down.Add(6*time.Second).UnixMilli() {
			inGap++
		}
	}
	if inGap != 0 {
		t.Errorf("%d runs are due while the scheduler was down", inGap)
	}
	j, _ := getJob(api, "tick")
	// A run may have written its line and not have reported yet.
	if n := int64(len(due)); n < j.SuccessCount || n > j.SuccessCount+1 {
		t.Errorf("%d runs wrote output, successCount is %d", n, j.SuccessCount)
	}
	_ = p2
}

// TestJobsZooKeeperFailover runs two `stadion jobs --zk_hosts` against one
// Mesos master: the standby proxies to the leader, and when the leader is
// killed with -9 the standby takes over with every job and counter and
// keeps running the schedule.
func TestJobsZooKeeperFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	z := testenv.StartZooKeeper(t)
	dir := t.TempDir()
	masterPort := testenv.FreePort(t)
	master := "127.0.0.1:" + strconv.Itoa(masterPort)
	startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--work_dir", filepath.Join(dir, "master"), "--allocation_interval", "100ms")
	waitHTTP(t, "http://"+master+"/health")
	lo, hi := testenv.TaskPorts(t, 10)
	startStadion(t, "agent", "mesos", "agent", "--master", master, "--ip", "127.0.0.1",
		"--port", strconv.Itoa(testenv.FreePort(t)), "--work_dir", filepath.Join(dir, "agent"),
		"--resources", fmt.Sprintf("cpus:8;mem:4096;disk:4096;ports:[%d-%d]", lo, hi))
	type inst struct {
		api string
		p   *process
	}
	var insts []*inst
	for i := range 2 {
		port := testenv.FreePort(t)
		in := &inst{api: "http://127.0.0.1:" + strconv.Itoa(port)}
		in.p = startStadion(t, "jobs"+strconv.Itoa(i), "jobs", "--master", master, "--zk_hosts", strings.Join(z.Servers(), ","),
			"--zk_path", "/chronos-test", "--zk_timeout", "3000", "--http_address", "127.0.0.1", "--http_port", strconv.Itoa(port),
			"--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "jobs"+strconv.Itoa(i)), "--failure_retry", "500",
			"--mesos_task_mem", "32", "--mesos_task_disk", "32")
		waitHTTP(t, in.api+"/ping")
		insts = append(insts, in)
	}
	leaderOf := func() (lead, standby *inst) {
		poll(t, "a leader named by both", func() error {
			var names []string
			for _, in := range insts {
				var l struct{ Leader string }
				if code, body := getStatus(in.api+"/v1/scheduler/leader", &l); code != http.StatusOK {
					return fmt.Errorf("%s: %d %s", in.api, code, body)
				}
				names = append(names, l.Leader)
			}
			if names[0] != names[1] || names[0] == "" {
				return fmt.Errorf("leaders named: %v", names)
			}
			for i, in := range insts {
				if in.api == "http://"+names[0] {
					lead, standby = in, insts[1-i]
				}
			}
			return nil
		})
		return lead, standby
	}
	lead, standby := leaderOf()
	out := filepath.Join(dir, "tick.out")
	// Through the standby: it proxies to the leader.
	postJob(t, standby.api, "/iso8601", fmt.Sprintf(`{"name":"tick","command":"echo $mesos_task_id >> %s","schedule":"R/%s/PT2S"}`,
		out, time.Now().UTC().Format(time.RFC3339)))
	var before jobs.Job
	poll(t, "two runs", func() (err error) {
		if before, err = getJob(lead.api, "tick"); err == nil && before.SuccessCount < 2 {
			err = fmt.Errorf("successCount %d", before.SuccessCount)
		}
		return err
	})
	lead.p.cmd.Process.Signal(syscall.SIGKILL)
	<-lead.p.done
	insts = []*inst{standby}
	poll(t, "the standby leading", func() error {
		var l struct{ Leader string }
		if code, body := getStatus(standby.api+"/v1/scheduler/leader", &l); code != http.StatusOK || "http://"+l.Leader != standby.api {
			return fmt.Errorf("leader %q (%d %s)", l.Leader, code, body)
		}
		_, err := getJob(standby.api, "tick")
		return err
	})
	poll(t, "two more runs under the new leader", func() error {
		j, err := getJob(standby.api, "tick")
		if err == nil && j.SuccessCount < before.SuccessCount+2 {
			err = fmt.Errorf("successCount %d, was %d", j.SuccessCount, before.SuccessCount)
		}
		return err
	})
	dueTimes(t, out) // nothing ran twice
}
