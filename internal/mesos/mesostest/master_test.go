package mesostest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/mesostest"
	"github.com/stadionhq/stadion/internal/mesos/recordio"
)

const subscribeBody = `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"t"}}}`

func post(t *testing.T, url, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+mesos.SchedulerPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// subscribe opens a stream and returns its reader and response.
func subscribe(t *testing.T, m *mesostest.Master) (*recordio.Reader, *http.Response) {
	t.Helper()
	resp := post(t, m.URL(), subscribeBody, nil)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SUBSCRIBE answered %s", resp.Status)
	}
	return recordio.NewReader(resp.Body, 0), resp
}

func readEvent(t *testing.T, rd *recordio.Reader) mesos.Event {
	t.Helper()
	rec, err := rd.ReadRecord()
	if err != nil {
		t.Fatalf("read record: %v", err)
	}
	var ev mesos.Event
	if err := json.Unmarshal(rec, &ev); err != nil {
		t.Fatalf("decode %s: %v", rec, err)
	}
	return ev
}

func TestMasterStream(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{FrameworkID: "fw-1"})
	rd, resp := subscribe(t, m)
	if got := resp.Header.Get(mesos.StreamIDHeader); got == "" || got != m.StreamID() {
		t.Fatalf("stream id header %q, master says %q", got, m.StreamID())
	}
	if ev := readEvent(t, rd); ev.Type != mesos.EventSubscribed || ev.Subscribed.FrameworkID.Value != "fw-1" {
		t.Fatalf("first event %+v, want SUBSCRIBED for fw-1", ev)
	}
	if ev := readEvent(t, rd); ev.Type != mesos.EventHeartbeat {
		t.Fatalf("second event %s, want HEARTBEAT", ev.Type)
	}
	m.Send(mesos.Event{Type: mesos.EventRescind, Rescind: &mesos.Rescind{OfferID: mesos.OfferID{Value: "o1"}}})
	if ev := readEvent(t, rd); ev.Type != mesos.EventRescind || ev.Rescind.OfferID.Value != "o1" {
		t.Fatalf("sent event came back as %+v", ev)
	}
	m.DropStream()
	if _, err := rd.ReadRecord(); err != io.EOF {
		t.Fatalf("after DropStream: %v, want EOF", err)
	}
}

func TestMasterErrorReply(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	m.QueueSubscribe(mesostest.Reply{Error: "refused"})
	rd, _ := subscribe(t, m)
	if ev := readEvent(t, rd); ev.Type != mesos.EventError || ev.Error.Message != "refused" {
		t.Fatalf("event %+v, want ERROR refused", ev)
	}
	if _, err := rd.ReadRecord(); err != io.EOF {
		t.Fatalf("after ERROR: %v, want EOF", err)
	}
}

func TestMasterChecksRequests(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		header map[string]string
		want   int
	}{
		{name: "charset in content type", body: subscribeBody,
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, want: http.StatusUnsupportedMediaType},
		{name: "subscribe with stream id", body: subscribeBody,
			header: map[string]string{mesos.StreamIDHeader: "x"}, want: http.StatusBadRequest},
		{name: "resubscribe with one id", body: `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"t","id":{"value":"fw"}}}}`,
			want: http.StatusBadRequest},
		{name: "call without framework id", body: `{"type":"REVIVE"}`,
			header: map[string]string{mesos.StreamIDHeader: "x"}, want: http.StatusBadRequest},
		{name: "call without subscription", body: `{"type":"REVIVE","framework_id":{"value":"fw"}}`,
			header: map[string]string{mesos.StreamIDHeader: "x"}, want: http.StatusForbidden},
		{name: "not json", body: `{`, want: http.StatusBadRequest},
		{name: "good subscribe", body: subscribeBody, want: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mesostest.NewMaster(t, mesostest.Config{})
			resp := post(t, m.URL(), tc.body, tc.header)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("answered %s, want %d", resp.Status, tc.want)
			}
			if n := len(m.Requests()); n != 1 {
				t.Fatalf("%d requests recorded, want 1", n)
			}
		})
	}
}

func TestMasterCallReplies(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	_, resp := subscribe(t, m)
	stream := map[string]string{mesos.StreamIDHeader: resp.Header.Get(mesos.StreamIDHeader)}
	call := `{"type":"REVIVE","framework_id":{"value":"fake-framework-0000"}}`

	m.QueueCall(mesostest.Reply{Status: http.StatusServiceUnavailable, Body: "busy"})
	var got []int
	for _, h := range []map[string]string{stream, stream, {mesos.StreamIDHeader: "stale"}} {
		r := post(t, m.URL(), call, h)
		r.Body.Close()
		got = append(got, r.StatusCode)
	}
	want := []int{http.StatusServiceUnavailable, http.StatusAccepted, http.StatusBadRequest}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	for i := range 3 {
		if m.NextCall(mesos.CallRevive).Call.FrameworkID.Value != "fake-framework-0000" {
			t.Fatalf("REVIVE #%d not decoded", i+1)
		}
	}
}

func TestMasterRedirect(t *testing.T) {
	leader := mesostest.NewMaster(t, mesostest.Config{})
	m := mesostest.NewMaster(t, mesostest.Config{})
	m.RedirectTo(leader)
	resp := post(t, m.URL(), subscribeBody, nil)
	resp.Body.Close()
	want := "//" + leader.Addr() + "/master" + mesos.SchedulerPath
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("answered %s Location %q, want 307 %q", resp.Status, resp.Header.Get("Location"), want)
	}
}
