package api

import (
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// wantsText reports whether the Accept header prefers text/plain over
// JSON (JSON wins ties, absent headers and */*, as Jersey picks the first
// declared producer).
func wantsText(r *http.Request) bool {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return false
	}
	var text, js float64 = -1, -1
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(qs, 64); err == nil {
					q = f
				}
			}
			switch mt {
			case "text/plain":
				text = max(text, q)
			case "application/json", "application/*", "*/*":
				js = max(js, q)
			case "text/*":
				text = max(text, q)
			}
		}
	}
	return text > 0 && text > js
}

// endpoints renders Marathon's text/plain task list: per app and service
// port one line "<app task prefix>\t<service port>\t<host:port>\t..." with
// the running tasks; an app without service ports gets one line with a
// blank port and the hosts.
func endpoints(apps []*scheduler.AppView) string {
	var b strings.Builder
	for _, av := range apps {
		name := av.App.ID.TaskPrefix()
		var running []state.Instance
		for _, in := range av.Instances {
			if isTask(&in) && taskState(&in) == marathon.TaskRunning {
				running = append(running, in)
			}
		}
		ports := av.App.ServicePorts()
		if len(ports) == 0 {
			b.WriteString(name + "\t \t")
			for _, in := range running {
				b.WriteString(in.Hostname + " ")
			}
			b.WriteString("\n")
			continue
		}
		for i, p := range ports {
			fmt.Fprintf(&b, "%s\t%d\t", name, p)
			for _, in := range running {
				var hp uint32
				if i < len(in.HostPorts) {
					hp = in.HostPorts[i]
				}
				fmt.Fprintf(&b, "%s:%d\t", in.Hostname, hp)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// statusFilter reads status= and status[]= of GET /v2/tasks. As in
// Marathon's TasksResource only running and staging (any case) filter;
// other values are ignored, and nil (no filter: every task) is returned
// when no known value is given.
func statusFilter(r *http.Request) map[marathon.TaskState]bool {
	q := r.URL.Query()
	vals := append(append([]string(nil), q["status"]...), q["status[]"]...)
	var set map[marathon.TaskState]bool
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "running":
				set = addState(set, marathon.TaskRunning)
			case "staging":
				set = addState(set, marathon.TaskStaging)
			}
		}
	}
	return set
}

func addState(set map[marathon.TaskState]bool, st marathon.TaskState) map[marathon.TaskState]bool {
	if set == nil {
		set = map[marathon.TaskState]bool{}
	}
	set[st] = true
	return set
}

// listTasks is GET /v2/tasks (JSON or text/plain).
func (s *server) listTasks(w http.ResponseWriter, r *http.Request) (any, error) {
	v := s.backend.View()
	apps := s.authzOf(r).viewable(v.Apps)
	if wantsText(r) {
		return plainText(endpoints(apps)), nil
	}
	return tasksBody{apps: apps, filter: statusFilter(r)}, nil
}

// appsOfPath returns the app, or with a trailing "*" segment the apps
// below a group, for /v2/apps/{id}/tasks; 404 for an unknown app.
func appsOfPath(v *scheduler.View, r *http.Request, z authz) ([]*scheduler.AppView, error) {
	raw := r.PathValue("id")
	if strings.HasSuffix(raw, "/*") {
		gid := marathon.PathID(strings.TrimSuffix(raw, "*")).Canonical()
		var out []*scheduler.AppView
		for _, av := range v.Apps {
			if av.App.ID.IsChildOf(gid) && z.may(acl.View, av.App.ID) {
				out = append(out, av)
			}
		}
		return out, nil
	}
	id := appID(r)
	av := v.App(id)
	if av == nil || !z.may(acl.View, id) {
		return nil, marathon.AppNotFound(id)
	}
	return []*scheduler.AppView{av}, nil
}

// getAppTasks is GET /v2/apps/{id}/tasks (JSON or text/plain).
func (s *server) getAppTasks(w http.ResponseWriter, r *http.Request) (any, error) {
	v := s.backend.View()
	apps, err := appsOfPath(v, r, s.authzOf(r))
	if err != nil {
		return nil, err
	}
	if wantsText(r) {
		return plainText(endpoints(apps)), nil
	}
	return tasksBody{apps: apps}, nil
}

// killOptions reads scale, wipe and force; scale and wipe exclude each
// other.
func killOptions(r *http.Request) (scheduler.KillOptions, error) {
	var o scheduler.KillOptions
	var err error
	if o.Scale, err = boolParam(r, "scale", false); err != nil {
		return o, err
	}
	if o.Wipe, err = boolParam(r, "wipe", false); err != nil {
		return o, err
	}
	if o.Force, err = boolParam(r, "force", false); err != nil {
		return o, err
	}
	if o.Scale && o.Wipe {
		return o, marathon.BadRequest("You cannot use scale and wipe at the same time.")
	}
	return o, nil
}

// killed answers a kill: the deployment with scale, else the tasks.
func killed(w http.ResponseWriter, res scheduler.KillResult, single bool) (any, error) {
	if res.Deployment != nil {
		return deployed(w, *res.Deployment), nil
	}
	if single {
		if len(res.Tasks) == 0 {
			return nil, fmt.Errorf("kill returned no task")
		}
		return marathon.TaskBody{Task: res.Tasks[0]}, nil
	}
	tasks := res.Tasks
	if tasks == nil {
		tasks = []marathon.Task{}
	}
	return marathon.TaskList{Tasks: tasks}, nil
}

// deleteAppTasks is DELETE /v2/apps/{id}/tasks: kills the app's tasks, or
// those on host= ("*" is every host).
func (s *server) deleteAppTasks(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := killOptions(r)
	if err != nil {
		return nil, err
	}
	id := appID(r)
	av := s.backend.View().App(id)
	z := s.authzOf(r)
	if av == nil || !z.may(acl.View, id) {
		return nil, marathon.AppNotFound(id)
	}
	if err := z.killAllowed(opts, id); err != nil {
		return nil, err
	}
	host, hasHost := r.URL.Query()["host"]
	var ids []string
	for _, in := range av.Instances {
		if !isTask(&in) {
			continue
		}
		if hasHost && host[0] != "*" && in.Hostname != host[0] {
			continue
		}
		ids = append(ids, in.TaskID)
	}
	res, err := s.backend.KillTasks(r.Context(), ids, opts)
	if err != nil {
		return nil, err
	}
	return killed(w, res, false)
}

// deleteAppTask is DELETE /v2/apps/{id}/tasks/{taskId}. Any task id of the
// instance (an older incarnation included) names its current task.
func (s *server) deleteAppTask(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := killOptions(r)
	if err != nil {
		return nil, err
	}
	id, taskID := appID(r), r.PathValue("taskId")
	av := s.backend.View().App(id)
	z := s.authzOf(r)
	if av == nil || !z.may(acl.View, id) {
		return nil, marathon.AppNotFound(id)
	}
	if err := z.killAllowed(opts, id); err != nil {
		return nil, err
	}
	inst := marathon.InstanceIDOfTask(taskID)
	var ids []string
	for _, in := range av.Instances {
		if in.ID == inst && isTask(&in) {
			ids = append(ids, in.TaskID)
		}
	}
	if len(ids) == 0 {
		return nil, marathon.TaskNotFound(taskID)
	}
	res, err := s.backend.KillTasks(r.Context(), ids, opts)
	if err != nil {
		return nil, err
	}
	return killed(w, res, true)
}

// deleteTasks is POST /v2/tasks/delete {"ids": [...]}. An id that is not
// a task id is a 400; well-formed ids of tasks that no longer exist are
// skipped, so that a batch listed a moment ago still kills the rest.
func (s *server) deleteTasks(w http.ResponseWriter, r *http.Request) (any, error) {
	opts, err := killOptions(r)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	req, err := marathon.Decode[marathon.TaskIDs](body)
	if err != nil {
		return nil, err
	}
	v := s.backend.View()
	byInstance := map[string]string{}
	appOf := map[string]marathon.PathID{}
	for _, av := range v.Apps {
		for _, in := range av.Instances {
			if isTask(&in) {
				byInstance[in.ID] = in.TaskID
				appOf[in.TaskID] = av.App.ID
			}
		}
	}
	seen := map[string]bool{}
	var ids []string
	for _, t := range req.IDs {
		_, inst, err := marathon.ParseTaskID(t)
		if err != nil {
			return nil, marathon.BadRequest(fmt.Sprintf("Invalid task id '%s'.", t))
		}
		if cur, ok := byInstance[inst]; ok && !seen[cur] {
			seen[cur] = true
			ids = append(ids, cur)
		}
	}
	sort.Strings(ids)
	z := s.authzOf(r)
	for _, id := range ids {
		if err := z.killAllowed(opts, appOf[id]); err != nil {
			return nil, err
		}
	}
	res, err := s.backend.KillTasks(r.Context(), ids, opts)
	if err != nil {
		return nil, err
	}
	return killed(w, res, false)
}
