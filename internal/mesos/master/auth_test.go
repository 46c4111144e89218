package master_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
	"github.com/stadionhq/stadion/internal/mesos/master"
)

func basic(principal, secret string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(principal+":"+secret))}
}

// authMaster is a master with framework authentication and two principals.
func authMaster(t *testing.T) *master.Master {
	t.Helper()
	cfg := fastConfig(t)
	cfg.AuthenticateFrameworks = true
	cfg.Credentials = []master.Credential{{Principal: "stadion", Secret: "s3cret"}, {Principal: "mallory", Secret: "m4llory"}}
	return startMaster(t, cfg)
}

func subscribeBody(t *testing.T, info mesos.FrameworkInfo) string {
	t.Helper()
	call := mesos.Call{Type: mesos.CallSubscribe, FrameworkID: info.ID, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}
	b, err := json.Marshal(call)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSubscribeNeedsCredentials(t *testing.T) {
	m := authMaster(t)
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{name: "no credentials", headers: nil},
		{name: "wrong secret", headers: basic("stadion", "guess")},
		{name: "unknown principal", headers: basic("nobody", "s3cret")},
		{name: "another principal's secret", headers: basic("stadion", "m4llory")},
		{name: "not basic", headers: map[string]string{"Authorization": "Bearer s3cret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := map[string]string{"Accept": "application/json"}
			for k, v := range tc.headers {
				headers[k] = v
			}
			code, h, body := post(t, m.URL()+"/api/v1/scheduler", http.MethodPost, "application/json", headers, subscribeBody(t, frameworkInfo()))
			if code != http.StatusUnauthorized {
				t.Fatalf("status %d (%s), want 401", code, body)
			}
			if got := h.Get("WWW-Authenticate"); got != `Basic realm="mesos-master-scheduler"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
}

func TestSubscribeWithCredentials(t *testing.T) {
	m := authMaster(t)
	// A principal in FrameworkInfo that is not the authenticated one is
	// refused as Mesos refuses it.
	info := frameworkInfo()
	info.Principal = "mallory"
	headers := basic("stadion", "s3cret")
	headers["Accept"] = "application/json"
	code, _, body := post(t, m.URL()+"/api/v1/scheduler", http.MethodPost, "application/json", headers, subscribeBody(t, info))
	want := "Failed to validate scheduler::Call: Authenticated principal 'stadion' does not match principal 'mallory' set in `FrameworkInfo`"
	if code != http.StatusBadRequest || body != want {
		t.Errorf("mismatched principal: %d %q, want 400 %q", code, body, want)
	}

	// Without a principal in FrameworkInfo, the framework takes the
	// authenticated one.
	s := subscribeWith(t, m, mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: frameworkInfo()}}, basic("stadion", "s3cret"))
	s.frameworkID = s.next(mesos.EventSubscribed).Subscribed.FrameworkID.Value
	code, _, state := post(t, m.URL()+"/master/state", http.MethodGet, "", nil, "")
	if code != http.StatusOK || !strings.Contains(state, `"principal":"stadion"`) {
		t.Errorf("/master/state: %d, want the framework with principal stadion: %s", code, state)
	}
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
}

func TestFrameworkCannotBeTakenOver(t *testing.T) {
	m := authMaster(t)
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribeWith(t, m, mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: frameworkInfo()}}, basic("stadion", "s3cret"))
	s.frameworkID = s.next(mesos.EventSubscribed).Subscribed.FrameworkID.Value
	launched(t, s, a, "web-1")
	id := &mesos.FrameworkID{Value: s.frameworkID}

	// Another principal subscribing with the framework's id gets an ERROR
	// and its stream ends; the framework's own stream stays.
	info := frameworkInfo()
	info.ID = id
	thief := subscribeWith(t, m, mesos.Call{Type: mesos.CallSubscribe, FrameworkID: id, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}, basic("mallory", "m4llory"))
	if ev := thief.next(mesos.EventError); ev.Error.Message != "Changing framework's principal is not allowed." {
		t.Errorf("thief's error %q", ev.Error.Message)
	}
	thief.closed()

	// Nor can it tear the framework down with the framework's stream id.
	teardown, _ := json.Marshal(mesos.Call{Type: mesos.CallTeardown, FrameworkID: id})
	headers := basic("mallory", "m4llory")
	headers["Mesos-Stream-Id"] = s.streamID
	code, _, body := post(t, m.URL()+"/api/v1/scheduler", http.MethodPost, "application/json", headers, string(teardown))
	want := "Authenticated principal 'mallory' does not match principal 'stadion' set in `FrameworkInfo`"
	if code != http.StatusBadRequest || body != want {
		t.Errorf("teardown by mallory: %d %q, want 400 %q", code, body, want)
	}
	// Nor without credentials.
	code, _, _ = post(t, m.URL()+"/api/v1/scheduler", http.MethodPost, "application/json", map[string]string{"Mesos-Stream-Id": s.streamID}, string(teardown))
	if code != http.StatusUnauthorized {
		t.Errorf("teardown without credentials: %d, want 401", code)
	}
	select {
	case sd := <-a.shutdowns:
		t.Fatalf("agent told to shut down framework %s", sd.FrameworkID.Value)
	default:
	}
	s.noEvent(200*time.Millisecond, mesos.EventError)
	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})

	// The framework's own principal may fail over to a new stream.
	info.Principal = "stadion"
	again := subscribeWith(t, m, mesos.Call{Type: mesos.CallSubscribe, FrameworkID: id, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}, basic("stadion", "s3cret"))
	if ev := again.next(mesos.EventSubscribed); ev.Subscribed.FrameworkID.Value != s.frameworkID {
		t.Errorf("failover subscribed as %s", ev.Subscribed.FrameworkID.Value)
	}
	if ev := s.next(mesos.EventError); ev.Error.Message != "Framework failed over" {
		t.Errorf("old stream error %q", ev.Error.Message)
	}
}

// Without authentication, a principal is still the framework's: a
// subscription with the framework's id and another principal, or none, is
// refused (Mesos's "Changing framework's principal is not allowed.").
func TestPrincipalCannotChangeWithoutAuthentication(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	info := frameworkInfo()
	info.Principal = "stadion"
	s := subscribe(t, m, info)
	info.ID = &mesos.FrameworkID{Value: s.frameworkID}
	for _, p := range []string{"", "mallory"} {
		info.Principal = p
		thief := subscribeRaw(t, m, mesos.Call{Type: mesos.CallSubscribe, FrameworkID: info.ID, Subscribe: &mesos.Subscribe{FrameworkInfo: info}})
		if ev := thief.next(mesos.EventError); ev.Error.Message != "Changing framework's principal is not allowed." {
			t.Errorf("principal %q: error %q", p, ev.Error.Message)
		}
	}
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
}

func TestInvalidTaskIDIsTaskError(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	offer := s.next(mesos.EventOffers).Offers.Offers[0]
	s.mustCall(launchCall(offer,
		commandTask("../../escape", offer, "cpus:0.1;mem:32"),
		commandTask("..", offer, "cpus:0.1;mem:32"),
	))
	want := map[string]string{
		"../../escape": "'../../escape' contains invalid characters",
		"..":           "'..' is disallowed",
	}
	// Both updates in one pass: waiting for one skips (drops) the other.
	got := map[string]mesos.TaskStatus{}
	for len(got) < len(want) {
		ev := s.next(mesos.EventUpdate)
		got[ev.Update.Status.TaskID.Value] = ev.Update.Status
	}
	for id, want := range want {
		st := got[id]
		if st.State != mesos.TaskError || st.Reason != mesos.ReasonTaskInvalid || st.Source != mesos.SourceMaster || st.Message != want {
			t.Errorf("task %q: %s %s %s %q, want TASK_ERROR REASON_TASK_INVALID %q", id, st.State, st.Reason, st.Source, st.Message, want)
		}
	}
	select {
	case run := <-a.runs:
		t.Fatalf("agent got task %q", run.Task.TaskID.Value)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestStatusUpdateNeedsTheAgentsToken(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, frameworkInfo())
	launched(t, s, a, "web-1")
	u := cluster.StatusUpdate{AgentID: a.id, FrameworkID: mesos.FrameworkID{Value: s.frameworkID},
		Status: mesos.TaskStatus{TaskID: mesos.TaskID{Value: "web-1"}, State: mesos.TaskFailed, UUID: make([]byte, 16)}}
	for _, token := range []string{"", "forged"} {
		err := cluster.Post(t.Context(), http.DefaultClient, m.URL(), cluster.PathStatus, token, u, nil)
		if se, ok := err.(*cluster.StatusError); !ok || se.Code != http.StatusUnauthorized {
			t.Errorf("status update with token %q: %v, want 401", token, err)
		}
	}
	s.noEvent(200*time.Millisecond, mesos.EventUpdate)
}

func TestAgentRegistrationNeedsCredentials(t *testing.T) {
	cfg := fastConfig(t)
	cfg.AuthenticateAgents = true
	cfg.Credentials = []master.Credential{{Principal: "agent", Secret: "4gent"}}
	m := startMaster(t, cfg)
	reg := cluster.Register{Hostname: "localhost", URL: "http://127.0.0.1:1", Token: cluster.NewToken()}
	err := cluster.PostBasic(t.Context(), http.DefaultClient, m.URL(), cluster.PathRegister, "agent", "wrong", reg, nil)
	if se, ok := err.(*cluster.StatusError); !ok || se.Code != http.StatusUnauthorized {
		t.Errorf("registration with a wrong secret: %v, want 401", err)
	}
	var out cluster.Registered
	if err := cluster.PostBasic(t.Context(), http.DefaultClient, m.URL(), cluster.PathRegister, "agent", "4gent", reg, &out); err != nil || out.AgentID == "" {
		t.Errorf("registration with the credential: %v %+v", err, out)
	}
	reg.Token = ""
	err = cluster.PostBasic(t.Context(), http.DefaultClient, m.URL(), cluster.PathRegister, "agent", "4gent", reg, nil)
	if se, ok := err.(*cluster.StatusError); !ok || se.Code != http.StatusBadRequest {
		t.Errorf("registration without a token: %v, want 400", err)
	}
}

func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		want    []master.Credential
		wantErr string
	}{
		{name: "mesos format", path: write("ok.json", `{"credentials":[{"principal":"a","secret":"x"},{"principal":"b","secret":"y"}]}`),
			want: []master.Credential{{Principal: "a", Secret: "x"}, {Principal: "b", Secret: "y"}}},
		{name: "file URL", path: "file://" + write("url.json", `{"credentials":[{"principal":"a","secret":"x"}]}`),
			want: []master.Credential{{Principal: "a", Secret: "x"}}},
		{name: "text format is not JSON", path: write("text", "a x\n"), wantErr: "invalid JSON"},
		{name: "empty secret", path: write("empty.json", `{"credentials":[{"principal":"a","secret":""}]}`), wantErr: "empty secret"},
		{name: "duplicate", path: write("dup.json", `{"credentials":[{"principal":"a","secret":"x"},{"principal":"a","secret":"y"}]}`), wantErr: "twice"},
		{name: "missing", path: filepath.Join(dir, "none"), wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := master.ReadCredentials(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\"x\"") {
					t.Errorf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d credentials, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("credential %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestRecoveredFrameworkKeepsItsPrincipal: after a master restart, the
// agents report each task's principal, and only that principal may
// resubscribe as the task's framework, authenticated or not.
func TestRecoveredFrameworkKeepsItsPrincipal(t *testing.T) {
	m := authMaster(t)
	a := startAgent(t, m, "cpus:2;mem:1024")
	res, _ := mesos.ParseResources("cpus:1;mem:128")
	total, _ := mesos.ParseResources("cpus:2;mem:1024")
	a.register(total, []cluster.Task{{
		FrameworkID: mesos.FrameworkID{Value: "old-master-0007"},
		Info:        mesos.TaskInfo{Name: "web", TaskID: mesos.TaskID{Value: "web.1"}, AgentID: mesos.AgentID{Value: a.id}, Resources: res},
		Status:      mesos.TaskStatus{TaskID: mesos.TaskID{Value: "web.1"}, State: mesos.TaskRunning},
		Principal:   "stadion",
	}})
	id := &mesos.FrameworkID{Value: "old-master-0007"}
	info := frameworkInfo()
	info.ID = id
	call := mesos.Call{Type: mesos.CallSubscribe, FrameworkID: id, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}
	thief := subscribeWith(t, m, call, basic("mallory", "m4llory"))
	if ev := thief.next(mesos.EventError); ev.Error.Message != "Changing framework's principal is not allowed." {
		t.Errorf("mallory's error %q", ev.Error.Message)
	}
	s := subscribeWith(t, m, call, basic("stadion", "s3cret"))
	if ev := s.next(mesos.EventSubscribed); ev.Subscribed.FrameworkID.Value != id.Value {
		t.Fatalf("subscribed as %s", ev.Subscribed.FrameworkID.Value)
	}
	s.frameworkID = id.Value
	s.mustCall(mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	if st := s.update("web.1"); st.State != mesos.TaskRunning {
		t.Errorf("recovered task %+v", st)
	}
}
