package master_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
	"github.com/stadionhq/stadion/internal/testenv"
)

func TestSchedulerStatusCodes(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	s := subscribe(t, m, frameworkInfo())
	fw := s.frameworkID

	// A framework that is known but disconnected.
	info := frameworkInfo()
	info.FailoverTimeout = float(3600)
	gone := subscribe(t, m, info)
	gone.disconnect()
	deadline := time.Now().Add(waitTimeout)
	for {
		code, _ := gone.call(mesos.Call{Type: mesos.CallRevive})
		if code == http.StatusForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disconnected framework still answered %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}

	const (
		json      = "application/json"
		subscribe = `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"x"}}}`
	)
	stream := map[string]string{"Mesos-Stream-Id": s.streamID}
	tests := []struct {
		name        string
		method      string
		contentType string
		headers     map[string]string
		body        string
		wantCode    int
		wantBody    string
		bodyPrefix  bool
	}{
		{name: "get", method: "GET", wantCode: 405, wantBody: "Expecting one of { 'POST' }, but received 'GET'"},
		{name: "no content type", body: subscribe, wantCode: 400, wantBody: "Expecting 'Content-Type' to be present"},
		{name: "charset", contentType: "application/json; charset=utf-8", body: subscribe, wantCode: 415,
			wantBody: "Expecting 'Content-Type' of application/json or application/x-protobuf"},
		{name: "protobuf", contentType: "application/x-protobuf", body: subscribe, wantCode: 415,
			wantBody: "Expecting 'Content-Type' of application/json: this master does not support application/x-protobuf"},
		{name: "bad json", contentType: json, body: `{"type":`, wantCode: 400, wantBody: "Failed to parse body into JSON: ", bodyPrefix: true},
		{name: "missing user", contentType: json, body: `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x"}}}`, wantCode: 400,
			wantBody: "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info.user"},
		{name: "camel case", contentType: json, body: `{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{"user":"root","name":"x"}}}`, wantCode: 400,
			wantBody: "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info"},
		{name: "enum as number", contentType: json, body: `{"type":1,"subscribe":{"framework_info":{"user":"root","name":"x"}}}`, wantCode: 400,
			wantBody: "Failed to convert JSON into Call protobuf: Not expecting a JSON number for field 'type'"},
		{name: "no type", contentType: json, body: `{}`, wantCode: 400, wantBody: "Failed to validate scheduler::Call: Expecting 'type' to be present"},
		{name: "unknown type name", contentType: json, body: `{"type":"FOO"}`, wantCode: 400, wantBody: "Failed to validate scheduler::Call: Expecting 'type' to be present"},
		{name: "id differs", contentType: json, body: `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"x","id":{"value":"` + fw + `"}}}}`, wantCode: 400,
			wantBody: "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'"},
		{name: "no framework id", contentType: json, body: `{"type":"REVIVE"}`, wantCode: 400,
			wantBody: "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"},
		{name: "accept missing", contentType: json, body: `{"type":"ACCEPT","framework_id":{"value":"` + fw + `"}}`, wantCode: 400,
			wantBody: "Failed to validate scheduler::Call: Expecting 'accept' to be present"},
		{name: "ack fields missing", contentType: json, body: `{"type":"ACKNOWLEDGE","framework_id":{"value":"` + fw + `"},"acknowledge":{}}`, wantCode: 400,
			wantBody: "Failed to convert JSON into Call protobuf: Missing required fields: acknowledge.agent_id, acknowledge.task_id, acknowledge.uuid"},
		{name: "task name missing", contentType: json, body: `{"type":"ACCEPT","framework_id":{"value":"` + fw + `"},"accept":{"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"task_id":{"value":"a"},"agent_id":{"value":"b"}}]}}]}}`, wantCode: 400,
			wantBody: "Failed to convert JSON into Call protobuf: Missing required fields: accept.operations[0].launch.task_infos[0].name"},
		{name: "bad uuid", contentType: json, body: `{"type":"ACKNOWLEDGE","framework_id":{"value":"` + fw + `"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"AAAA"}}`, wantCode: 400,
			wantBody: "Failed to validate scheduler::Call: Not a valid UUID"},
		{name: "subscribe with stream id", contentType: json, headers: stream, body: subscribe, wantCode: 400,
			wantBody: "Subscribe calls should not include the 'Mesos-Stream-Id' header"},
		{name: "not acceptable", contentType: json, headers: map[string]string{"Accept": "text/html"}, body: subscribe, wantCode: 406,
			wantBody: "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"},
		{name: "protobuf only", contentType: json, headers: map[string]string{"Accept": "application/x-protobuf"}, body: subscribe, wantCode: 406,
			wantBody: "Expecting 'Accept' to allow 'application/json': this master does not stream application/x-protobuf"},
		{name: "unknown framework", contentType: json, headers: stream, body: `{"type":"TEARDOWN","framework_id":{"value":"nope"}}`, wantCode: 400,
			wantBody: "Framework cannot be found"},
		{name: "no stream id", contentType: json, body: `{"type":"REVIVE","framework_id":{"value":"` + fw + `"}}`, wantCode: 400,
			wantBody: "All non-subscribe calls should include the 'Mesos-Stream-Id' header"},
		{name: "wrong stream id", contentType: json, headers: map[string]string{"Mesos-Stream-Id": "bogus"}, body: `{"type":"REVIVE","framework_id":{"value":"` + fw + `"}}`, wantCode: 400,
			wantBody: "The stream ID 'bogus' included in this request didn't match the stream ID currently associated with framework ID " + fw},
		{name: "not subscribed", contentType: json, headers: map[string]string{"Mesos-Stream-Id": gone.streamID}, body: `{"type":"REVIVE","framework_id":{"value":"` + gone.frameworkID + `"}}`, wantCode: 403,
			wantBody: "Framework is not subscribed"},
		{name: "unknown call", contentType: json, headers: stream, body: `{"type":"UNKNOWN","framework_id":{"value":"` + fw + `"}}`, wantCode: 501},
		{name: "revive", contentType: json, headers: stream, body: `{"type":"REVIVE","framework_id":{"value":"` + fw + `"}}`, wantCode: 202},
		{name: "message ignored", contentType: json, headers: stream, body: `{"type":"MESSAGE","framework_id":{"value":"` + fw + `"},"message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"aGk="}}`, wantCode: 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			for _, path := range []string{"/api/v1/scheduler", "/master/api/v1/scheduler"} {
				code, header, body := post(t, m.URL()+path, method, tc.contentType, tc.headers, tc.body)
				if code != tc.wantCode {
					t.Fatalf("%s: status %d, want %d (body %q)", path, code, tc.wantCode, body)
				}
				if tc.bodyPrefix && !strings.HasPrefix(body, tc.wantBody) || !tc.bodyPrefix && body != tc.wantBody {
					t.Errorf("%s: body %q, want %q", path, body, tc.wantBody)
				}
				if code == 405 && header.Get("Allow") != "POST" {
					t.Errorf("Allow %q, want POST", header.Get("Allow"))
				}
			}
		})
	}
}

func TestSubscribeStream(t *testing.T) {
	cfg := fastConfig(t)
	cfg.HeartbeatInterval = 100 * time.Millisecond
	m := startMaster(t, cfg)
	body := `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"x"}}}`
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/scheduler", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if id := resp.Header.Get("Mesos-Stream-Id"); len(id) != 36 {
		t.Errorf("Mesos-Stream-Id %q is not a UUID", id)
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding %v, want chunked", resp.TransferEncoding)
	}
	r := recordio.NewReader(resp.Body, 0)
	rec, err := r.ReadRecord()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(rec, &raw)
	var ev mesos.Event
	if err := json.Unmarshal(rec, &ev); err != nil || ev.Type != mesos.EventSubscribed {
		t.Fatalf("first record %s", rec)
	}
	sub := ev.Subscribed
	if want := m.ID() + "-0000"; sub.FrameworkID.Value != want {
		t.Errorf("framework id %q, want %q", sub.FrameworkID.Value, want)
	}
	if sub.HeartbeatIntervalSeconds == nil || *sub.HeartbeatIntervalSeconds != 0.1 {
		t.Errorf("heartbeat_interval_seconds %v", sub.HeartbeatIntervalSeconds)
	}
	mi := sub.MasterInfo
	if mi == nil || mi.ID != m.ID() || mi.IP != 16777343 || mi.Address == nil || mi.Address.IP != "127.0.0.1" || mi.Version != "1.11.0" || !strings.HasPrefix(mi.PID, "master@127.0.0.1:") {
		t.Errorf("master_info %+v", mi)
	}
	for i := range 3 {
		rec, err := r.ReadRecord()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec, []byte(`{"type":"HEARTBEAT"}`)) {
			t.Fatalf("record %d after SUBSCRIBED: %s", i+1, rec)
		}
	}
}

func TestSubscribeInvalidFrameworkInfo(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	tests := []struct {
		name string
		info mesos.FrameworkInfo
		want string
	}{
		{name: "roles without multi role", info: mesos.FrameworkInfo{User: "u", Name: "n", Roles: []string{"a"}},
			want: "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"},
		{name: "role with multi role", info: mesos.FrameworkInfo{User: "u", Name: "n", Role: "a", Capabilities: []mesos.Capability{{Type: "MULTI_ROLE"}}},
			want: "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"},
		{name: "duplicate roles", info: mesos.FrameworkInfo{User: "u", Name: "n", Roles: []string{"a", "a"}, Capabilities: []mesos.Capability{{Type: "MULTI_ROLE"}}},
			want: "'FrameworkInfo.roles' contains duplicate items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := subscribeRaw(t, m, mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: tc.info}})
			if s.streamID == "" {
				t.Error("no Mesos-Stream-Id")
			}
			rec := <-s.raw
			want := `{"type":"ERROR","error":{"message":` + quote(tc.want) + `}}`
			if string(rec) != want {
				t.Errorf("record %s, want %s", rec, want)
			}
			s.closed()
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestRedirectAndHealth(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	host := strings.TrimPrefix(m.URL(), "http:")
	code, h, _ := post(t, m.URL()+"/redirect", http.MethodGet, "", nil, "")
	if code != 307 || h.Get("Location") != host {
		t.Errorf("/redirect: %d %q, want 307 %q", code, h.Get("Location"), host)
	}
	code, h, _ = post(t, m.URL()+"/master/redirect", http.MethodGet, "", nil, "")
	if code != 307 || h.Get("Location") != host {
		t.Errorf("/master/redirect: %d %q", code, h.Get("Location"))
	}
	if code, _, _ := post(t, m.URL()+"/health", http.MethodGet, "", nil, ""); code != 200 {
		t.Errorf("/health: %d", code)
	}
	if code, _, _ := post(t, m.URL()+"/master/state.json", http.MethodGet, "", nil, ""); code != 404 {
		t.Errorf("/master/state.json: %d, want 404", code)
	}
}

// TestNilLoggerDiscards checks that a master without a Logger logs nowhere,
// in particular not to slog.Default: loggers are injected.
func TestNilLoggerDiscards(t *testing.T) {
	var logs testenv.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	cfg := fastConfig(t)
	cfg.Logger = nil
	m := startMaster(t, cfg)
	subscribe(t, m, frameworkInfo())
	m.Stop()
	if s := logs.String(); s != "" {
		t.Errorf("the master logged to slog.Default:\n%s", s)
	}
}
