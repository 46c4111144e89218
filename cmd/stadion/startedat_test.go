package main

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// masterStatuses is the task statuses of the master's /master/state.
type masterStatuses struct {
	Frameworks []struct {
		Tasks []struct {
			ID       string `json:"id"`
			State    string `json:"state"`
			Statuses []struct {
				State     string  `json:"state"`
				Timestamp float64 `json:"timestamp"`
			} `json:"statuses"`
		} `json:"tasks"`
	} `json:"frameworks"`
}

// TestServeKeepsStartTimes kills stadion serve while Mesos starts the
// tasks it launched: the restarted serve hears of their TASK_RUNNING
// through its reconciliation first, and must show each task's startedAt
// as Mesos's TASK_RUNNING time, not the time it reconciled.
func TestServeKeepsStartTimes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startKillCluster(t)
	c.createApp(t, "/since", 20)
	// Kill serve as soon as Mesos stages a task: its TASK_RUNNING comes
	// while serve is down.
	deadline := time.Now().Add(10 * time.Second)
	for staging := false; !staging; {
		for _, state := range c.masterState(t).liveTasks() {
			staging = staging || state == "TASK_STAGING" || state == "TASK_STARTING"
		}
		if !staging && time.Now().After(deadline) {
			t.Fatal("mesos staged no task of /since within 10s")
		}
	}
	if err := c.serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.serve.done
	c.startServe(t)
	c.waitConverged(t)

	var st masterStatuses
	if code, body := getStatus("http://"+c.master+"/master/state", &st); code != http.StatusOK {
		t.Fatalf("master state %d %s", code, body)
	}
	runningAt := map[string]string{}
	for _, fw := range st.Frameworks {
		for _, task := range fw.Tasks {
			for _, s := range task.Statuses {
				if s.State == "TASK_RUNNING" {
					at := time.Unix(0, int64(s.Timestamp*float64(time.Second))).UTC()
					runningAt[task.ID] = at.Format("2006-01-02T15:04:05.000Z")
					break
				}
			}
		}
	}
	var a struct {
		App struct {
			Tasks []struct {
				ID        string `json:"id"`
				StartedAt string `json:"startedAt"`
			} `json:"tasks"`
		} `json:"app"`
	}
	if code, body := getStatus(c.api+"/v2/apps/since?embed=app.tasks", &a); code != http.StatusOK {
		t.Fatalf("GET /v2/apps/since: %d %s", code, body)
	}
	if len(a.App.Tasks) != 20 {
		t.Fatalf("%d tasks, want 20", len(a.App.Tasks))
	}
	var wrong []string
	for _, task := range a.App.Tasks {
		if want := runningAt[task.ID]; task.StartedAt != want {
			wrong = append(wrong, fmt.Sprintf("%s startedAt %s, mesos TASK_RUNNING at %s", task.ID, task.StartedAt, want))
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("%d of 20 tasks show another start time than Mesos's:\n%v", len(wrong), wrong)
	}
}
