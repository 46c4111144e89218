package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// PodBackend is what /v2/pods needs of the scheduler beyond Backend
// (*scheduler.Scheduler has it). A Backend without it answers every pod
// route with Marathon's JSON 404.
type PodBackend interface {
	PutPod(ctx context.Context, pod marathon.Pod, create, force bool) (scheduler.PodResult, error)
	DeletePod(ctx context.Context, id marathon.PathID, force bool) (scheduler.PodResult, error)
	KillPodInstances(ctx context.Context, id marathon.PathID, ids []string, wipe bool) ([]state.Instance, error)
	PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error)
	PodVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (marathon.Pod, bool, error)
}

// podRoute is a request below /v2/pods split into the pod id and its
// suffix route (::status, ::versions, ::instances), which Marathon
// matches before the id: pod ids hold no ':'.
type podRoute struct {
	id     marathon.PathID
	suffix string // "", "status", "versions", "instances"
	arg    string // the version or instance id after the suffix
}

func parsePodRoute(rest string) podRoute {
	raw, suffix, _ := strings.Cut(strings.Trim(rest, "/"), "::")
	suffix, arg, _ := strings.Cut(suffix, "/")
	return podRoute{id: marathon.PathID("/" + strings.Trim(raw, "/")).Canonical(), suffix: suffix, arg: arg}
}

// pods serves /v2/pods.
func (s *server) pods(w http.ResponseWriter, r *http.Request) (any, error) {
	pb, ok := s.backend.(PodBackend)
	if !ok {
		return s.podsNotFound(w, r)
	}
	switch r.Method {
	case http.MethodHead:
		return reply{status: http.StatusOK}, nil
	case http.MethodGet:
		out := []marathon.Pod{}
		z := s.authzOf(r)
		for _, pv := range s.backend.View().Pods {
			if z.may(acl.View, pv.Pod.ID) {
				out = append(out, pv.Pod)
			}
		}
		return out, nil
	case http.MethodPost:
		return s.putPod(w, r, pb, "", true)
	}
	return s.methodNotAllowed(w, r)
}

// pod serves /v2/pods/{id}[::suffix].
func (s *server) pod(w http.ResponseWriter, r *http.Request) (any, error) {
	pb, ok := s.backend.(PodBackend)
	if !ok {
		return s.podsNotFound(w, r)
	}
	pr := parsePodRoute(r.PathValue("rest"))
	z := s.authzOf(r)
	switch {
	case pr.id == "/" && pr.suffix == "status" && r.Method == http.MethodGet:
		out := []marathon.PodStatus{}
		for _, pv := range s.backend.View().Pods {
			if z.may(acl.View, pv.Pod.ID) {
				out = append(out, s.podStatus(pv))
			}
		}
		return out, nil
	case pr.suffix == "" && r.Method == http.MethodGet:
		pv, err := s.viewPod(z, pr.id)
		if err != nil {
			return nil, err
		}
		return pv.Pod, nil
	case pr.suffix == "" && r.Method == http.MethodPut:
		return s.putPod(w, r, pb, pr.id, false)
	case pr.suffix == "" && r.Method == http.MethodDelete:
		return s.deletePod(w, r, pb, pr.id)
	case pr.suffix == "status" && r.Method == http.MethodGet:
		pv, err := s.viewPod(z, pr.id)
		if err != nil {
			return nil, err
		}
		return s.podStatus(pv), nil
	case pr.suffix == "versions" && r.Method == http.MethodGet:
		return s.podVersions(r, pb, z, pr)
	case pr.suffix == "instances" && r.Method == http.MethodDelete:
		return s.killPodInstances(r, pb, z, pr)
	}
	return s.methodNotAllowed(w, r)
}

// viewPod returns a pod the request may view, or Marathon's 404/403.
func (s *server) viewPod(z authz, id marathon.PathID) (*scheduler.PodView, error) {
	pv := s.backend.View().Pod(id)
	if pv == nil {
		return nil, podNotFound(id)
	}
	if err := z.check(acl.View, id); err != nil {
		return nil, err
	}
	return pv, nil
}

func podNotFound(id marathon.PathID) *marathon.Error {
	return &marathon.Error{Status: http.StatusNotFound, Message: "Pod '" + string(id) + "' does not exist"}
}

// podStatus is the body of ::status.
func (s *server) podStatus(pv *scheduler.PodView) marathon.PodStatus {
	obs := make([]marathon.PodInstanceObservation, 0, len(pv.Instances))
	for _, inst := range pv.Instances {
		obs = append(obs, scheduler.PodObservation(pv.Pod, inst))
	}
	return marathon.PodStatusOf(pv.Pod, obs, false, s.now())
}

// putPod is POST /v2/pods (id empty) and PUT /v2/pods/{id}.
func (s *server) putPod(w http.ResponseWriter, r *http.Request, pb PodBackend, id marathon.PathID, create bool) (any, error) {
	force, err := boolParam(r, "force", false)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	pod, err := marathon.DecodePod(body)
	if err != nil {
		return nil, err
	}
	if !create && pod.ID.Canonical() != id {
		if pod.ID == "" {
			pod.ID = id
		} else {
			return nil, &marathon.Error{Status: http.StatusBadRequest, Message: "'" + string(id) + "' does not match definition's id ('" + string(pod.ID.Canonical()) + "')"}
		}
	}
	pod, err = marathon.AdmitPod(pod, s.admitOptions(nil, ""))
	if err != nil {
		return nil, err
	}
	z := s.authzOf(r)
	action := acl.Create
	if !create && s.backend.View().Pod(pod.ID) != nil {
		action = acl.Update
	}
	if err := z.check(action, pod.ID); err != nil {
		return nil, err
	}
	res, err := pb.PutPod(r.Context(), pod, create, force)
	if err != nil {
		return nil, err
	}
	ev := marathon.EventPodUpdated
	status := http.StatusOK
	if res.Created {
		ev = marathon.EventPodCreated
	}
	if create {
		status = http.StatusCreated
		w.Header().Set("Location", string(res.Pod.ID))
	}
	s.podEvent(r, ev)
	w.Header().Set(marathon.DeploymentHeader, res.DeploymentID)
	return reply{status: status, body: res.Pod}, nil
}

// deletePod is DELETE /v2/pods/{id}: 202 without a body.
func (s *server) deletePod(w http.ResponseWriter, r *http.Request, pb PodBackend, id marathon.PathID) (any, error) {
	force, err := boolParam(r, "force", false)
	if err != nil {
		return nil, err
	}
	if s.backend.View().Pod(id) == nil {
		return nil, podNotFound(id)
	}
	if err := s.authzOf(r).check(acl.Delete, id); err != nil {
		return nil, err
	}
	res, err := pb.DeletePod(r.Context(), id, force)
	if err != nil {
		return nil, err
	}
	s.podEvent(r, marathon.EventPodDeleted)
	w.Header().Set("Location", res.DeploymentID)
	w.Header().Set(marathon.DeploymentHeader, res.DeploymentID)
	return reply{status: http.StatusAccepted}, nil
}

// podVersions is GET ::versions[/{version}].
func (s *server) podVersions(r *http.Request, pb PodBackend, z authz, pr podRoute) (any, error) {
	if err := z.check(acl.View, pr.id); err != nil {
		return nil, err
	}
	if pr.arg == "" {
		vs, err := pb.PodVersions(r.Context(), pr.id)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 && s.backend.View().Pod(pr.id) == nil {
			return nil, podNotFound(pr.id)
		}
		if vs == nil {
			vs = []marathon.Timestamp{}
		}
		return vs, nil
	}
	v, err := marathon.ParseTimestamp(pr.arg)
	if err != nil {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Pod '" + string(pr.id) + "' does not exist in version " + pr.arg}
	}
	pod, ok, err := pb.PodVersion(r.Context(), pr.id, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Pod '" + string(pr.id) + "' does not exist in version " + pr.arg}
	}
	return pod, nil
}

// killPodInstances is DELETE ::instances[/{instanceId}].
func (s *server) killPodInstances(r *http.Request, pb PodBackend, z authz, pr podRoute) (any, error) {
	if s.backend.View().Pod(pr.id) == nil {
		return nil, podNotFound(pr.id)
	}
	if err := z.check(acl.Kill, pr.id); err != nil {
		return nil, err
	}
	var ids []string
	if pr.arg != "" {
		ids = []string{pr.arg}
	} else {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(body, &ids); err != nil || len(ids) == 0 {
			return nil, &marathon.Error{Status: http.StatusBadRequest, Message: "Invalid JSON: expected a non-empty array of instance ids"}
		}
		if len(ids) > maxPodInstanceIDs {
			return nil, &marathon.Error{Status: http.StatusBadRequest, Message: "Too many instance ids"}
		}
	}
	for _, id := range ids {
		if _, err := marathon.ParseInstanceID(id); err != nil {
			return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Task '" + id + "' does not exist"}
		}
	}
	wipe := r.URL.Query().Get("wipe") == "true"
	killed, err := pb.KillPodInstances(r.Context(), pr.id, ids, wipe)
	if err != nil {
		return nil, err
	}
	pod := s.backend.View().Pod(pr.id)
	if pod == nil {
		return nil, podNotFound(pr.id)
	}
	out := make([]podInstanceJSON, 0, len(killed))
	for _, inst := range killed {
		out = append(out, podInstanceOf(pod, inst, s))
	}
	if pr.arg != "" {
		return out[0], nil
	}
	return out, nil
}

// maxPodInstanceIDs bounds the ids of one ::instances kill.
const maxPodInstanceIDs = 10000

// podInstanceJSON is types/instance.raml Instance.
type podInstanceJSON struct {
	InstanceID struct {
		IDString string `json:"idString"`
	} `json:"instanceId"`
	State struct {
		Condition   string              `json:"condition"`
		Since       marathon.Timestamp  `json:"since"`
		ActiveSince *marathon.Timestamp `json:"activeSince,omitempty"`
		Healthy     *bool               `json:"healthy,omitempty"`
		Goal        string              `json:"goal"`
	} `json:"state"`
	AgentInfo *struct {
		Host       string `json:"host"`
		AgentID    string `json:"agentId,omitempty"`
		Attributes []any  `json:"attributes"`
	} `json:"agentInfo,omitempty"`
	RunSpecVersion      marathon.Timestamp           `json:"runSpecVersion"`
	UnreachableStrategy marathon.UnreachableStrategy `json:"unreachableStrategy"`
}

func podInstanceOf(pv *scheduler.PodView, inst state.Instance, s *server) podInstanceJSON {
	var out podInstanceJSON
	out.InstanceID.IDString = inst.ID
	is := marathon.PodInstanceStatusOf(pv.Pod, scheduler.PodObservation(pv.Pod, inst), s.now())
	out.State.Condition = podCondition(inst)
	out.State.Since = is.StatusSince
	out.State.Goal = "Running"
	if inst.Goal != state.GoalRunning {
		out.State.Goal = "Decommissioned"
	}
	if !inst.StagedAt.IsZero() {
		t := marathon.NewTimestamp(inst.StagedAt)
		out.State.ActiveSince = &t
	}
	if inst.AgentID != "" {
		out.AgentInfo = &struct {
			Host       string `json:"host"`
			AgentID    string `json:"agentId,omitempty"`
			Attributes []any  `json:"attributes"`
		}{Host: inst.Hostname, AgentID: inst.AgentID, Attributes: []any{}}
	}
	out.RunSpecVersion = inst.AppVersion
	out.UnreachableStrategy = pv.Pod.Scheduling.UnreachableStrategy
	return out
}

// podCondition is Marathon's condition name of an instance (Condition.scala).
func podCondition(inst state.Instance) string {
	if inst.State == "" {
		return "Scheduled"
	}
	name := strings.TrimPrefix(string(inst.State), "TASK_")
	return strings.ToUpper(name[:1]) + strings.ToLower(name[1:])
}

// podEvent publishes a pod event.
func (s *server) podEvent(r *http.Request, t marathon.EventType) {
	s.bus.Publish(marathon.PodEvent{ClientIP: clientIP(r), URI: r.URL.RequestURI(), EventMeta: marathon.Meta(t, s.now())})
}
