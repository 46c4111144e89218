package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// putPod creates or updates a pod of two containers running cmd with n
// instances (PUT creates, as Marathon's does), forcing past the pod's
// deployment.
func putPod(client *http.Client, api, id, cmd string, n int) (outcome, string) {
	container := func(name string) map[string]any {
		return map[string]any{"name": name, "resources": map[string]any{"cpus": 0.01, "mem": 8},
			"exec": map[string]any{"command": map[string]any{"shell": cmd}}}
	}
	body, _ := json.Marshal(map[string]any{"id": id, "scaling": map[string]any{"kind": "fixed", "instances": n},
		"containers": []any{container("a"), container("b")}})
	return putJSON(client, api+"/v2/pods"+id+"?force=true", body)
}

// TestFaultKill9LocalPods kills `stadion serve --master local` with
// SIGKILL at random moments while clients scale pods: in the end every
// pod runs the instances of its last acknowledged write (or of a write
// with unknown outcome after it), each instance stable with both of its
// containers, and exactly that many task process groups exist.
func TestFaultKill9LocalPods(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	sleep := fmt.Sprintf("sleep 319.%d", os.Getpid())
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })
	api, args, serve := startLocalServe(t, dir)

	var mu sync.Mutex
	writes := map[string][]write{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(100+rng.IntN(200)) * time.Millisecond):
				}
				id := fmt.Sprintf("/p%d-%d", i, rng.IntN(2))
				count := rng.IntN(3)
				res, _ := putPod(client, api, id, sleep, count)
				mu.Lock()
				writes[id] = append(writes[id], write{instances: count, outcome: res})
				mu.Unlock()
			}
		})
	}
	for i := range chaos(5, 30) {
		// The fault's moment, at random: not a wait for anything.
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		if err := serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-serve.done
		t.Logf("kill %d", i+1)
		serve = startStadion(t, "serve", args...)
		waitHTTP(t, api+"/ping")
	}
	close(stop)
	wg.Wait()
	acks := 0
	for _, ws := range writes {
		for _, w := range ws {
			if w.outcome == acked {
				acks++
			}
		}
	}
	if acks < 20 {
		t.Fatalf("only %d writes were acknowledged: the test did not exercise the scheduler", acks)
	}
	t.Logf("%d pods, %d writes acknowledged", len(writes), acks)

	var pods []struct {
		ID      string
		Scaling struct{ Instances int }
	}
	getJSON(t, api+"/v2/pods", &pods)
	got := map[string]int{}
	for _, p := range pods {
		got[p.ID] = p.Scaling.Instances
	}
	want := checkCounts(t, "pod", got, writes)
	waitConverged(t, 90*time.Second, func() string { return podsConverged(t, api, want, sleep) })
}

// podsConverged says what keeps the pods from running exactly want, or ""
// when they do: every pod's stable instances, and the task process groups
// on the machine (two per instance).
func podsConverged(t *testing.T, api string, want map[string]int, cmd string) string {
	t.Helper()
	var statuses []struct {
		ID        string
		Instances []struct {
			Status     string
			Containers []struct{ Status string }
		}
	}
	getJSON(t, api+"/v2/pods/::status", &statuses)
	var problems []string
	total := 0
	for _, st := range statuses {
		stable := 0
		for _, in := range st.Instances {
			if in.Status == "STABLE" && len(in.Containers) == 2 {
				stable++
			}
		}
		if stable != want[st.ID] || len(st.Instances) != want[st.ID] {
			problems = append(problems, fmt.Sprintf("%s: %d stable of %d instances, wants %d", st.ID, stable, len(st.Instances), want[st.ID]))
		}
		total += 2 * want[st.ID]
	}
	if groups := processGroups(taskProcesses(cmd)); len(groups) != total {
		problems = append(problems, fmt.Sprintf("%d task process groups, want %d", len(groups), total))
	}
	return strings.Join(problems, "; ")
}
