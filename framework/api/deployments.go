package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
)

// listDeployments is GET /v2/deployments.
func (s *server) listDeployments(w http.ResponseWriter, r *http.Request) (any, error) {
	v := s.backend.View()
	z := s.authzOf(r)
	out := make([]marathon.Deployment, 0, len(v.Deployments))
	for _, d := range v.Deployments {
		// A deployment shows the ids of all its apps: it is listed to
		// those who may view every one.
		if !z.mayViewAll(d.AffectedApps()) {
			continue
		}
		out = append(out, deploymentOf(d))
	}
	for _, d := range v.PodDeployments {
		if z.mayViewAll(d.AffectedPods) {
			out = append(out, d)
		}
	}
	return out, nil
}

// deleteDeployment is DELETE /v2/deployments/{id}: without force a
// rollback deployment (200 with its result), with force only the cancel
// (202, no body).
func (s *server) deleteDeployment(w http.ResponseWriter, r *http.Request) (any, error) {
	id := r.PathValue("id")
	force, err := boolParam(r, "force", false)
	if err != nil {
		return nil, err
	}
	var apps []marathon.PathID
	found := false
	for _, d := range s.backend.View().Deployments {
		if d.ID == id {
			found, apps = true, d.AffectedApps()
			break
		}
	}
	z := s.authzOf(r)
	if !found || !z.mayViewAll(apps) {
		return nil, marathon.DeploymentNotFound(id)
	}
	if err := z.check(acl.Update, apps...); err != nil {
		return nil, err
	}
	res, err := s.backend.CancelDeployment(r.Context(), id, force)
	if err != nil {
		return nil, err
	}
	if force || res == nil {
		return reply{status: http.StatusAccepted}, nil
	}
	return deployed(w, *res), nil
}

// getQueue is GET /v2/queue.
func (s *server) getQueue(w http.ResponseWriter, r *http.Request) (any, error) {
	v := s.backend.View()
	now := s.now()
	z := s.authzOf(r)
	out := marathon.Queue{Queue: []marathon.QueueItem{}}
	lastUnused := false
	for _, e := range r.URL.Query()["embed"] {
		lastUnused = lastUnused || e == "lastUnusedOffers"
	}
	for _, av := range z.viewable(v.Apps) {
		if av.Queue == nil {
			continue
		}
		app := z.app(av.App)
		out.Queue = append(out.Queue, queueItem(marathon.QueueItem{App: &app, Role: av.App.Role}, av.Queue, now, lastUnused))
	}
	for _, pv := range v.Pods {
		if pv.Queue == nil || !z.may(acl.View, pv.Pod.ID) {
			continue
		}
		pod := pv.Pod
		out.Queue = append(out.Queue, queueItem(marathon.QueueItem{Pod: &pod, Role: pod.Role}, pv.Queue, now, lastUnused))
	}
	return out, nil
}

// queueItem completes the queue entry item of an app or pod from its
// QueueView q.
func queueItem(item marathon.QueueItem, q *scheduler.QueueView, now time.Time, lastUnused bool) marathon.QueueItem {
	item.Count = q.Count
	item.Since = marathon.NewTimestamp(q.Since)
	item.Delay = marathon.Delay{Overdue: true}
	if left := q.DelayUntil.Sub(now); left > 0 {
		item.Delay = marathon.Delay{TimeLeftSeconds: int(math.Ceil(left.Seconds()))}
	}
	// Both summaries list Marathon's whole reason funnel. The scheduler
	// keeps the reasons of its last placement pass only, so the launch
	// attempt's summary shows the same counts as the last offers'.
	item.ProcessedOffersSummary = &marathon.OffersSummary{
		ProcessedOffersCount:       q.ProcessedOffers,
		UnusedOffersCount:          q.UnusedOffers,
		RejectSummaryLastOffers:    marathon.RejectSummaries(q.ProcessedOffers, q.Unplaced),
		RejectSummaryLaunchAttempt: marathon.RejectSummaries(q.ProcessedOffers, q.Unplaced),
	}
	if lastUnused {
		// Stadion does not keep the offers it declined.
		item.LastUnusedOffers = []json.RawMessage{}
	}
	return item
}

// resetDelay is DELETE /v2/queue/{id}/delay (204).
func (s *server) resetDelay(w http.ResponseWriter, r *http.Request) (any, error) {
	rest := strings.Trim(r.PathValue("rest"), "/")
	raw, ok := strings.CutSuffix(rest, "/delay")
	if !ok || raw == "" {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Not found"}
	}
	id := marathon.PathID("/" + raw).Canonical()
	z := s.authzOf(r)
	// Marathon resets only the delay of an app with instances waiting for
	// a task (QueueResource.resetDelay); any other app is not in the queue.
	if av := s.backend.View().App(id); av == nil || av.Queue == nil || !z.may(acl.View, id) {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Application " + string(id) + " not found in tasks queue."}
	}
	if err := z.check(acl.Update, id); err != nil {
		return nil, err
	}
	if err := s.backend.ResetDelay(r.Context(), id); err != nil {
		return nil, err
	}
	return reply{status: http.StatusNoContent}, nil
}
