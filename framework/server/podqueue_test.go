package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestPodQueueAndEvents: a pod whose instances do not fit is in
// /v2/queue under "pod" (types/queue.raml QueuePod) with its count and
// role, and leaves it when it fits; a pod instance's condition changes
// are instance_changed_events with the instance id, pod id and version.
func TestPodQueueAndEvents(t *testing.T) {
	t.Parallel()
	e := start(t)
	s := e.stream("/v2/events")
	s.until("attached", func(f frame, _ map[string]any) bool { return f.event == "event_stream_attached" }, nil)

	big := `{"id":"/big","scaling":{"kind":"fixed","instances":2},"containers":[{"name":"c","resources":{"cpus":1000,"mem":16},"exec":{"command":{"shell":"sleep 600"}}}]}`
	e.want(e.do(http.MethodPost, "/v2/pods", big), http.StatusCreated)
	type queueItem struct {
		App   json.RawMessage
		Pod   *struct{ ID, Role string }
		Count int
		Role  string
		Delay struct {
			TimeLeftSeconds int
			Overdue         bool
		}
		ProcessedOffersSummary *struct{ ProcessedOffersCount int }
	}
	queue := func() []queueItem {
		var q struct{ Queue []queueItem }
		e.wantJSON(e.do(http.MethodGet, "/v2/queue", ""), http.StatusOK, &q)
		return q.Queue
	}
	e.eventually("the pod is queued", func() error {
		q := queue()
		if len(q) != 1 || q[0].Pod == nil {
			return fmt.Errorf("queue %+v, want the pod", q)
		}
		it := q[0]
		if it.App != nil || it.Pod.ID != "/big" || it.Count != 2 || it.Role != it.Pod.Role || it.Role == "" || !it.Delay.Overdue || it.ProcessedOffersSummary == nil {
			return fmt.Errorf("queue item %+v (pod %+v, app %s)", it, *it.Pod, it.App)
		}
		return nil
	})

	e.want(e.do(http.MethodPut, "/v2/pods/big?force=true", `{"id":"/big","scaling":{"kind":"fixed","instances":2},"containers":[{"name":"c","resources":{"cpus":0.05,"mem":16},"exec":{"command":{"shell":"sleep 600"}}}]}`), http.StatusOK)
	var version string
	if err := json.Unmarshal(e.do(http.MethodGet, "/v2/pods/big", "").body, &struct{ Version *string }{&version}); err != nil {
		t.Fatal(err)
	}
	s.until("instance_changed_event Running of a /big instance", func(f frame, d map[string]any) bool {
		if f.event != "instance_changed_event" || d["condition"] != "Running" {
			return false
		}
		id, _ := d["instanceId"].(string)
		if d["runSpecId"] != "/big" || d["runSpecVersion"] != version || len(id) < len("big.instance-") || id[:len("big.instance-")] != "big.instance-" || d["agentId"] == "" || d["host"] == "" {
			t.Fatalf("instance_changed_event %s, want /big at %s", f.data, version)
		}
		return true
	}, nil)
	e.eventually("the queue empties once the pod fits", func() error {
		if q := queue(); len(q) != 0 {
			return fmt.Errorf("queue %+v", q)
		}
		return nil
	})
}
