package api

import (
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

func TestDeployments(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/foo","cmd":"x"}`))
	h.be.deployments = []scheduler.DeploymentView{{
		Deployment: state.Deployment{
			ID: "97c136bf", Version: marathon.NewTimestamp(t0),
			Steps: []state.Step{
				{Actions: []state.Action{{Type: marathon.ScaleApplication, AppID: "/foo"}}},
				{Actions: []state.Action{{Type: marathon.RestartApplication, AppID: "/foo"}}},
			},
		},
		CurrentActions: []scheduler.ActionView{{
			Action: state.Action{Type: marathon.ScaleApplication, AppID: "/foo"},
			ReadinessCheckResults: []marathon.ReadinessCheckResult{{Name: "myReadyCheck", TaskID: "foo.instance-c9de6033", Ready: false,
				LastResponse: &marathon.ReadinessResponse{Status: 500, ContentType: "application/json", Body: "{}"}}},
		}},
	}}
	r := h.do("GET", "/v2/deployments", "")
	h.expect(r, 200, `[{"id":"97c136bf","version":"2024-05-01T11:00:00.000Z","affectedApps":["/foo"],"affectedPods":[],
		"steps":[{"actions":[{"action":"ScaleApplication","app":"/foo"}]},{"actions":[{"action":"RestartApplication","app":"/foo"}]}],
		"currentActions":[{"action":"ScaleApplication","app":"/foo","readinessCheckResults":[{"name":"myReadyCheck","taskId":"foo.instance-c9de6033","ready":false,"lastResponse":{"status":500,"contentType":"application/json","body":"{}"}}]}],
		"currentStep":1,"totalSteps":2}]`)
	if m := missingPaths(t, readExample(t, "deployments.json"), r.body, "[].steps[].actions[].pod"); len(m) > 0 {
		t.Errorf("missing %v", m)
	}
	// The app shows its deployment.
	h.expect(h.do("GET", "/v2/apps?id=foo", ""), 200, "")

	r = h.do("DELETE", "/v2/deployments/97c136bf", "")
	h.expect(r, 200, "")
	if r.header.Get(marathon.DeploymentHeader) == "" {
		t.Error("no deployment header on rollback")
	}
	r = h.do("DELETE", "/v2/deployments/97c136bf?force=true", "")
	if r.status != 202 || len(r.body) != 0 {
		t.Errorf("force cancel %d %q", r.status, r.body)
	}
	h.expect(h.do("DELETE", "/v2/deployments/nope", ""), 404, `{"message":"DeploymentPlan nope does not exist"}`)
}

func TestQueue(t *testing.T) {
	h := newHarness(t)
	h.be.seed(mustApp(t, `{"id":"/tools/datadog-agent","cmd":"x","instances":5}`), mustApp(t, `{"id":"/foo","cmd":"x"}`))
	h.be.queue["/tools/datadog-agent"] = &scheduler.QueueView{Count: 1, Since: t0, ProcessedOffers: 123,
		Unplaced: map[string]int{"InsufficientCpus": 3}}
	h.be.queue["/foo"] = &scheduler.QueueView{Count: 1, Since: t0, DelayUntil: h.be.now.Add(1500 * time.Millisecond)}
	r := h.do("GET", "/v2/queue", "")
	h.expect(r, 200, "")
	if m := missingPaths(t, readExample(t, "queue.json"), r.body, ".queue[].app.",
		// Not tracked by the scheduler: the times of the last offers, and
		// the offers themselves (only with embed=lastUnusedOffers).
		".queue[].lastUnusedOffers", ".queue[].processedOffersSummary.lastU"); len(m) > 0 {
		t.Errorf("missing %v", m)
	}
	var q marathon.Queue
	mustUnmarshal(t, r.body, &q)
	if len(q.Queue) != 2 || q.Queue[0].App.ID != "/foo" || q.Queue[0].Delay != (marathon.Delay{TimeLeftSeconds: 2}) ||
		q.Queue[1].Delay != (marathon.Delay{Overdue: true}) {
		t.Errorf("queue %s", r.body)
	}
	// Every item carries both summaries with Marathon's whole funnel.
	for _, it := range q.Queue {
		sum := it.ProcessedOffersSummary
		if sum == nil || len(sum.RejectSummaryLastOffers) != len(marathon.RejectFunnel) || len(sum.RejectSummaryLaunchAttempt) != len(marathon.RejectFunnel) || it.LastUnusedOffers != nil {
			t.Errorf("item %s: summary %+v", it.App.ID, sum)
		}
	}
	if got := q.Queue[1].ProcessedOffersSummary.RejectSummaryLastOffers[4]; got != (marathon.RejectSummary{Reason: "InsufficientCpus", Declined: 3, Processed: 123}) {
		t.Errorf("cpus summary %+v", got)
	}
	if strings.Contains(string(r.body), "lastUnusedOffers") {
		t.Errorf("lastUnusedOffers without embed: %s", r.body)
	}
	r = h.do("GET", "/v2/queue?embed=lastUnusedOffers", "")
	h.expect(r, 200, "")
	if m := missingPaths(t, readExample(t, "queue.json"), r.body, ".queue[].app.", ".queue[].lastUnusedOffers[]", ".queue[].processedOffersSummary.lastU"); len(m) > 0 {
		t.Errorf("missing with embed %v", m)
	}
	r = h.do("DELETE", "/v2/queue/tools/datadog-agent/delay", "")
	if r.status != 204 || len(h.be.resets) != 1 || h.be.resets[0] != "/tools/datadog-agent" {
		t.Errorf("reset %d %v", r.status, h.be.resets)
	}
	h.expect(h.do("DELETE", "/v2/queue/nope/delay", ""), 404, `{"message":"Application /nope not found in tasks queue."}`)
	// An app that exists but waits for nothing is not in the queue.
	h.be.seed(mustApp(t, `{"id":"/idle","cmd":"x"}`))
	h.expect(h.do("DELETE", "/v2/queue/idle/delay", ""), 404, `{"message":"Application /idle not found in tasks queue."}`)
	if len(h.be.resets) != 1 {
		t.Errorf("resets %v", h.be.resets)
	}
}
