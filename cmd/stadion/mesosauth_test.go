package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
	"github.com/stadionhq/stadion/internal/testenv"
)

// schedulerPost sends a call to a master's scheduler API as principal (""
// sends no credentials) and returns the answer, open for reading.
func schedulerPost(t *testing.T, master string, call mesos.Call, principal, secret string, headers map[string]string) *http.Response {
	t.Helper()
	body, err := json.Marshal(call)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, master+"/api/v1/scheduler", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if principal != "" {
		req.SetBasicAuth(principal, secret)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", call.Type, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func subscribeCall(id string) mesos.Call {
	info := mesos.FrameworkInfo{User: "root", Name: "intruder"}
	c := mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}
	if id != "" {
		c.FrameworkID = &mesos.FrameworkID{Value: id}
		c.Subscribe.FrameworkInfo.ID = c.FrameworkID
	}
	return c
}

// firstEvent reads the first event of a subscription stream.
func firstEvent(t *testing.T, resp *http.Response) mesos.Event {
	t.Helper()
	rec, err := recordio.NewReader(resp.Body, 0).ReadRecord()
	if err != nil {
		t.Fatalf("read the first event: %v", err)
	}
	var ev mesos.Event
	if err := json.Unmarshal(rec, &ev); err != nil {
		t.Fatalf("decode %s: %v", rec, err)
	}
	return ev
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBuiltInClusterAuthentication runs `stadion mesos master` with
// framework and agent authentication, `stadion mesos agent` with its
// credential, and `stadion serve` with its principal and secret file; then
// plays the intruder on the same host.
func TestBuiltInClusterAuthentication(t *testing.T) {
	dir := t.TempDir()
	stadionSecret := "stadion-" + cluster.NewToken()[:24]
	agentSecret := "agent-" + cluster.NewToken()[:24]
	creds := writeFile(t, filepath.Join(dir, "credentials.json"), fmt.Sprintf(
		`{"credentials": [{"principal": "stadion", "secret": %q}, {"principal": "mallory", "secret": "m4llory"}, {"principal": "agent", "secret": %q}]}`,
		stadionSecret, agentSecret))
	agentCred := writeFile(t, filepath.Join(dir, "agent-credential.json"), fmt.Sprintf(`{"principal": "agent", "secret": %q}`, agentSecret))
	secretFile := writeFile(t, filepath.Join(dir, "secret"), stadionSecret+"\n")
	sleep := fmt.Sprintf("sleep 302.%d", os.Getpid())
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })

	masterPort := testenv.FreePort(t)
	master := "http://127.0.0.1:" + strconv.Itoa(masterPort)
	mp := startStadion(t, "master", "mesos", "master", "--ip", "127.0.0.1", "--port", strconv.Itoa(masterPort),
		"--allocation_interval", "100ms", "--authenticate_frameworks", "--authenticate_agents", "--credentials", creds)
	waitHTTP(t, master+"/health")
	agentPort := testenv.FreePort(t)
	agentURL := "http://127.0.0.1:" + strconv.Itoa(agentPort)
	ap := startStadion(t, "agent", "mesos", "agent", "--master", master, "--ip", "127.0.0.1", "--port", strconv.Itoa(agentPort),
		"--work_dir", filepath.Join(dir, "agent"), "--resources", "cpus:4;mem:1024;disk:512;ports:[31000-31099]",
		"--credential", agentCred)

	// No credentials, wrong ones: 401 with Mesos's challenge.
	for _, tc := range []struct{ name, principal, secret string }{
		{name: "no credentials"}, {name: "wrong secret", principal: "stadion", secret: "guess"},
	} {
		resp := schedulerPost(t, master, subscribeCall(""), tc.principal, tc.secret, nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="mesos-master-scheduler"` {
			t.Errorf("SUBSCRIBE with %s: %d %q, want 401 with a Basic challenge", tc.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}

	// stadion serve with its principal and secret file runs a task.
	httpPort := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	sp := startStadion(t, "serve", "serve", "--master", "127.0.0.1:"+strconv.Itoa(masterPort), "--http_address", "127.0.0.1",
		"--http_port", strconv.Itoa(httpPort), "--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"),
		"--mesos_authentication_principal", "stadion", "--mesos_authentication_secret_file", secretFile)
	waitHTTP(t, api+"/ping")
	app := map[string]any{"id": "/guarded", "cmd": sleep, "cpus": 0.01, "mem": 8, "instances": 1}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	var frameworkID string
	poll(t, "the task running", func() error {
		var info struct {
			FrameworkID string `json:"frameworkId"`
		}
		getJSON(t, api+"/v2/info", &info)
		frameworkID = info.FrameworkID
		var a struct {
			App struct {
				TasksRunning int `json:"tasksRunning"`
			} `json:"app"`
		}
		getJSON(t, api+"/v2/apps/guarded", &a)
		if a.App.TasksRunning != 1 || frameworkID == "" {
			return fmt.Errorf("framework %q, %d tasks running", frameworkID, a.App.TasksRunning)
		}
		return nil
	})

	// Another principal subscribing with serve's framework id is refused.
	resp := schedulerPost(t, master, subscribeCall(frameworkID), "mallory", "m4llory", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mallory's SUBSCRIBE: %d", resp.StatusCode)
	}
	if ev := firstEvent(t, resp); ev.Type != mesos.EventError || ev.Error.Message != "Changing framework's principal is not allowed." {
		t.Errorf("mallory's SUBSCRIBE: %+v, want ERROR \"Changing framework's principal is not allowed.\"", ev)
	}
	// As is mallory's TEARDOWN of it, whatever the stream id.
	teardown := mesos.Call{Type: mesos.CallTeardown, FrameworkID: &mesos.FrameworkID{Value: frameworkID}}
	resp = schedulerPost(t, master, teardown, "mallory", "m4llory", map[string]string{"Mesos-Stream-Id": "00000000-0000-4000-8000-000000000000"})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "does not match principal 'stadion'") {
		t.Errorf("mallory's TEARDOWN: %d %s, want 400", resp.StatusCode, body)
	}

	// The agent takes a launch only from its master.
	run := cluster.Run{FrameworkID: mesos.FrameworkID{Value: frameworkID}, FrameworkInfo: mesos.FrameworkInfo{User: "root", Name: "x"},
		Task: mesos.TaskInfo{Name: "evil", TaskID: mesos.TaskID{Value: "../../evil"}, Command: &mesos.CommandInfo{Value: &sleep}}}
	err := cluster.Post(t.Context(), http.DefaultClient, agentURL, cluster.PathRun, "", run, nil)
	if se, ok := err.(*cluster.StatusError); !ok || se.Code != http.StatusUnauthorized {
		t.Errorf("run posted to the agent directly: %v, want 401", err)
	}

	// serve kept running, subscribed, with its task.
	select {
	case <-sp.done:
		t.Fatal("stadion serve exited")
	default:
	}
	var st struct {
		Frameworks []struct {
			ID     string `json:"id"`
			Active bool   `json:"active"`
			Tasks  []struct {
				State string `json:"state"`
			} `json:"tasks"`
		} `json:"frameworks"`
	}
	getJSON(t, master+"/master/state", &st)
	if len(st.Frameworks) != 1 || st.Frameworks[0].ID != frameworkID || !st.Frameworks[0].Active ||
		len(st.Frameworks[0].Tasks) != 1 || st.Frameworks[0].Tasks[0].State != string(mesos.TaskRunning) {
		t.Errorf("master state after the intrusions: %+v", st.Frameworks)
	}

	// No secret in any log.
	for name, p := range map[string]*process{"master": mp, "agent": ap, "serve": sp} {
		for _, secret := range []string{stadionSecret, agentSecret, "m4llory"} {
			if strings.Contains(p.output(), secret) {
				t.Errorf("%s's log shows a secret", name)
			}
		}
		if p.output() == "" {
			t.Errorf("%s logged nothing: the grep proves nothing", name)
		}
	}
}

// TestServeLocalIsLockedDown: with --master local, the in-process master
// takes only the in-process scheduler, and the agent only its master.
func TestServeLocalIsLockedDown(t *testing.T) {
	dir := t.TempDir()
	httpPort := testenv.FreePort(t)
	api := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	sleep := fmt.Sprintf("sleep 303.%d", os.Getpid())
	t.Cleanup(func() { checkNoTaskProcesses(t, sleep) })
	sp := startStadion(t, "serve", "serve", "--master", "local", "--local_containerizers", "mesos", "--http_address", "127.0.0.1",
		"--http_port", strconv.Itoa(httpPort), "--hostname", "127.0.0.1", "--data_dir", filepath.Join(dir, "serve"))
	waitHTTP(t, api+"/ping")
	app := map[string]any{"id": "/local", "cmd": sleep, "cpus": 0.01, "mem": 8, "instances": 1}
	if code, body := doJSON(t, http.MethodPost, api+"/v2/apps", app); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	poll(t, "the task running", func() error {
		var a struct {
			App struct {
				TasksRunning int `json:"tasksRunning"`
			} `json:"app"`
		}
		getJSON(t, api+"/v2/apps/local", &a)
		if a.App.TasksRunning != 1 {
			return fmt.Errorf("%d tasks running", a.App.TasksRunning)
		}
		return nil
	})
	m := regexp.MustCompile(`built-in mesos cluster started.* master=(http://[0-9.:]+)`).FindStringSubmatch(sp.output())
	if m == nil {
		t.Fatalf("no master URL in serve's log")
	}
	master := m[1]
	resp := schedulerPost(t, master, subscribeCall(""), "", "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("SUBSCRIBE to the built-in master without credentials: %d, want 401", resp.StatusCode)
	}
	var st struct {
		Slaves []struct {
			PID string `json:"pid"`
		} `json:"slaves"`
	}
	getJSON(t, master+"/master/state", &st)
	if len(st.Slaves) != 1 {
		t.Fatalf("agents %+v", st.Slaves)
	}
	agentURL := "http://" + st.Slaves[0].PID[strings.Index(st.Slaves[0].PID, "@")+1:]
	run := cluster.Run{FrameworkID: mesos.FrameworkID{Value: "f"}, Task: mesos.TaskInfo{Name: "evil", TaskID: mesos.TaskID{Value: "evil"}, Command: &mesos.CommandInfo{Value: &sleep}}}
	err := cluster.Post(t.Context(), http.DefaultClient, agentURL, cluster.PathRun, "", run, nil)
	if se, ok := err.(*cluster.StatusError); !ok || se.Code != http.StatusUnauthorized {
		t.Errorf("run posted to the built-in agent: %v, want 401", err)
	}
	// A registration without the in-memory agent credential is refused.
	reg := cluster.Register{Hostname: "127.0.0.1", URL: "http://127.0.0.1:1", Token: cluster.NewToken()}
	err = cluster.Post(t.Context(), http.DefaultClient, master, cluster.PathRegister, "", reg, nil)
	if se, ok := err.(*cluster.StatusError); !ok || se.Code != http.StatusUnauthorized {
		t.Errorf("agent registration without credentials: %v, want 401", err)
	}
}
