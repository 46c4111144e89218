package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/jobs"
	"github.com/stadionhq/stadion/jobs/server"
)

func TestCredentialsAndJSONOnly(t *testing.T) {
	e := start(t, func(c *server.ServerConfig) { c.HTTPCredentials = "ops:s3cret" })
	for _, tc := range []struct {
		name, method, path, user, pass, ctype, body string
		want                                        int
	}{
		{name: "ping needs nothing", method: "GET", path: "/ping", want: 200},
		{name: "no credentials", method: "GET", path: "/v1/scheduler/jobs", want: 401},
		{name: "wrong password", method: "GET", path: "/v1/scheduler/jobs", user: "ops", pass: "nope", want: 401},
		{name: "right credentials", method: "GET", path: "/v1/scheduler/jobs", user: "ops", pass: "s3cret", want: 200},
		{name: "text/plain body refused", method: "POST", path: "/v1/scheduler/iso8601", user: "ops", pass: "s3cret", ctype: "text/plain",
			body: `{"name":"x","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, want: 415},
		{name: "json body accepted", method: "POST", path: "/v1/scheduler/iso8601", user: "ops", pass: "s3cret", ctype: "application/json; charset=utf-8",
			body: `{"name":"x","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, want: 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(tc.body))
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("%d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == 401 && !strings.Contains(res.Header.Get("WWW-Authenticate"), `realm="Chronos"`) {
				t.Errorf("challenge %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestReadEndpoints(t *testing.T) {
	e := start(t)
	os.WriteFile(e.out("a.txt"), []byte("a"), 0o644)
	e.must("POST", "/v1/scheduler/iso8601", `{"name":"alpha","command":"echo alpha","schedule":"R/2099-01-01T00:00:00Z/P1D","fetch":[{"uri":"file://`+e.out("a.txt")+`","extract":false}]}`, 204)
	e.must("POST", "/scheduler/iso8601", `{"name":"beta","command":"echo beta","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, 204)
	e.must("POST", "/v1/scheduler/dependency", `{"name":"gamma","command":"echo gamma","parents":["alpha","beta"]}`, 204)
	e.must("PUT", "/v1/scheduler/job/alpha", "", 204)
	e.poll("alpha's run", func() error {
		if j := e.job("alpha"); j.SuccessCount != 1 {
			return fmt.Errorf("successCount %d", j.SuccessCount)
		}
		return nil
	})
	var list []map[string]any
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/jobs", "", 200)), &list)
	if len(list) != 3 {
		t.Fatalf("jobs %v", list)
	}
	if uris, _ := list[0]["uris"].([]any); len(uris) != 1 || uris[0] != "file://"+e.out("a.txt") {
		t.Errorf("the listing fills uris from fetch: %v", list[0]["uris"])
	}
	for _, key := range []string{"successCount", "errorCount", "lastSuccess", "lastError", "errorsSinceLastSuccess", "cpus", "mem", "disk", "shell", "retries", "schedule", "scheduleTimeZone"} {
		if _, ok := list[0][key]; !ok {
			t.Errorf("job JSON lacks %s: %v", key, list[0])
		}
	}
	if _, ok := list[2]["parents"]; !ok {
		t.Errorf("dependent job lacks parents: %v", list[2])
	}
	var found []jobs.Job
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/jobs/search?name=ALP", "", 200)), &found)
	if len(found) != 1 || found[0].Name != "alpha" {
		t.Errorf("search name=ALP: %+v", found)
	}
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/jobs/search?command=echo&limit=2&offset=1", "", 200)), &found)
	if len(found) != 2 || found[0].Name != "beta" {
		t.Errorf("search command=echo limit 2 offset 1: %+v", found)
	}
	var summary struct {
		Jobs []struct{ Name, Status, State string }
	}
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/jobs/summary", "", 200)), &summary)
	if len(summary.Jobs) != 3 || summary.Jobs[0].Status != "success" || summary.Jobs[1].Status != "fresh" || summary.Jobs[0].State != "idle" {
		t.Errorf("summary %+v", summary)
	}
	dot := e.must("GET", "/v1/scheduler/graph/dot", "", 200)
	for _, want := range []string{"digraph", `"alpha" -> "gamma"`, `"beta" -> "gamma"`, `"alpha" [fillcolor=green]`} {
		if !strings.Contains(dot, want) {
			t.Errorf("dot lacks %q:\n%s", want, dot)
		}
	}
	var stat struct {
		Histogram       map[string]float64
		TaskStatHistory []map[string]any
	}
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/job/stat/alpha", "", 200)), &stat)
	if stat.Histogram["count"] != 1 || len(stat.TaskStatHistory) != 1 || stat.TaskStatHistory[0]["status"] != "success" {
		t.Errorf("stat %+v", stat)
	}
	var leader struct{ Leader string }
	json.Unmarshal([]byte(e.must("GET", "/v1/scheduler/leader", "", 200)), &leader)
	if leader.Leader == "" || !strings.HasSuffix(e.url, leader.Leader[strings.Index(leader.Leader, ":"):]) {
		t.Errorf("leader %q, server %s", leader.Leader, e.url)
	}
	// gamma waits for beta: alpha alone released nothing.
	if j := e.job("gamma"); j.SuccessCount != 0 {
		t.Errorf("gamma ran with one parent done: %+v", j)
	}
	if b := e.must("PUT", "/v1/scheduler/job/success/beta", "", 200); b != "marked job beta as successful: true" {
		t.Errorf("mark success: %q", b)
	}
	e.poll("gamma released by both parents", func() error {
		if j := e.job("gamma"); j.SuccessCount != 1 {
			return fmt.Errorf("successCount %d", j.SuccessCount)
		}
		return nil
	})
}

func TestNotConcurrentAndAsync(t *testing.T) {
	e := start(t)
	// Two manual runs of a job that is not concurrent: the second waits
	// for the first.
	e.must("POST", "/v1/scheduler/iso8601", fmt.Sprintf(`{"name":"slow","command":"date +%%s%%N >> %s; sleep 1; date +%%s%%N >> %s; echo","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, e.out("slow"), e.out("slow")), 204)
	e.must("PUT", "/v1/scheduler/job/slow", "", 204)
	e.poll("first run running", func() error {
		if rs := e.runs("slow"); len(rs) == 0 || rs[0].State != jobs.RunRunning {
			return fmt.Errorf("runs %+v", rs)
		}
		return nil
	})
	e.must("PUT", "/v1/scheduler/job/slow?arguments=again", "", 204)
	e.poll("two runs", func() error {
		if j := e.job("slow"); j.SuccessCount != 2 {
			return fmt.Errorf("successCount %d", j.SuccessCount)
		}
		return nil
	})
	if ts := e.lines("slow"); len(ts) != 4 || ts[2] < ts[1] {
		t.Errorf("runs overlapped: start/end times %v", ts)
	}

	// async (2.x): a finished task waits for its callback.
	e.must("POST", "/scheduler/iso8601", `{"name":"cb","command":"true","async":true,"schedule":"R/2099-01-01T00:00:00Z/P1D"}`, 204)
	e.must("PUT", "/scheduler/job/cb", "", 204)
	var id string
	e.poll("the run awaiting its callback", func() error {
		rs := e.runs("cb")
		if len(rs) == 0 || rs[0].State != jobs.RunAwaiting {
			return fmt.Errorf("runs %+v", rs)
		}
		id = rs[0].TaskID
		return nil
	})
	if j := e.job("cb"); j.SuccessCount != 0 {
		t.Errorf("async job counted before its callback: %+v", j)
	}
	e.must("PUT", "/scheduler/task/"+id, `{"statusCode":1}`, 204)
	if j, rs := e.job("cb"), e.runs("cb"); j.ErrorCount != 0 || len(rs) < 2 || rs[1].TaskID != id || rs[1].State != jobs.RunFailure {
		t.Errorf("failed callback: %+v %+v", j, e.runs("cb"))
	}
	// retries default to 2: the failure is retried after --failure_retry.
	e.poll("the retry awaiting its callback", func() error {
		rs := e.runs("cb")
		if rs[0].State != jobs.RunAwaiting || rs[0].Attempt != 1 {
			return fmt.Errorf("runs %+v", rs)
		}
		id = rs[0].TaskID
		return nil
	})
	e.must("PUT", "/scheduler/task/"+id, `{"statusCode":0}`, 204)
	if j := e.job("cb"); j.SuccessCount != 1 {
		t.Errorf("successful callback: %+v", j)
	}
}

func TestDeleteRewiresChildren(t *testing.T) {
	e := start(t)
	e.must("POST", "/v1/scheduler/iso8601", `{"name":"root","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}`, 204)
	e.must("POST", "/v1/scheduler/dependency", `{"name":"mid","command":"true","parents":["root"]}`, 204)
	e.must("POST", "/v1/scheduler/dependency", `{"name":"leaf","command":"true","parents":["mid"]}`, 204)
	if code, body := e.do("POST", "/v1/scheduler/dependency", `{"name":"root","command":"true","parents":["leaf"]}`); code != 400 || !strings.Contains(body, "cycle") {
		t.Errorf("a cycle: %d %s", code, body)
	}
	e.must("DELETE", "/v1/scheduler/job/mid", "", 204)
	if leaf := e.job("leaf"); len(leaf.Parents) != 1 || leaf.Parents[0] != "root" {
		t.Errorf("leaf's parents after deleting mid: %v", leaf.Parents)
	}
	e.must("DELETE", "/v1/scheduler/job/root", "", 204)
	if leaf := e.job("leaf"); leaf.Dependent() || leaf.Schedule != "R/2099-01-01T00:00:00Z/P1D" {
		t.Errorf("leaf after deleting root: parents %v schedule %q", leaf.Parents, leaf.Schedule)
	}
}
