package server_test

import (
	"net/http"
	"testing"
)

// TestMarathonEventsOverSSE drives a group through /v2 with a client on
// /v2/events and checks the events Marathon publishes for it, with
// Marathon's fields: group_change_success (the group's parent, the
// deployment's version), add_health_check_event, instance_changed_event,
// group_change_failed for a change that fails, group_change_success of
// the root for a kill with scale, and
// remove_health_check_event when the app goes.
func TestMarathonEventsOverSSE(t *testing.T) {
	t.Parallel()
	e := start(t)
	s := e.stream("/v2/events")
	s.until("attached", func(f frame, _ map[string]any) bool { return f.event == "event_stream_attached" }, nil)

	res := e.deployed(e.do(http.MethodPost, "/v2/groups", `{"id": "/shop", "apps": [{"id": "web", "cmd": "sleep 300",
		"cpus": 0.01, "mem": 8, "instances": 1, "portDefinitions": [{"port": 0}],
		"healthChecks": [{"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 300, "intervalSeconds": 60}]}]}`), http.StatusCreated)

	s.until("group_change_success of POST /v2/groups", func(f frame, d map[string]any) bool {
		if f.event != "group_change_success" {
			return false
		}
		if d["groupId"] != "/" || d["version"] != res.Version || d["eventType"] != "group_change_success" || d["timestamp"] == nil {
			t.Fatalf("group_change_success %s, want groupId / and version %s", f.data, res.Version)
		}
		return true
	}, nil)
	s.until("add_health_check_event of /shop/web", func(f frame, d map[string]any) bool {
		if f.event != "add_health_check_event" {
			return false
		}
		hc, _ := d["healthCheck"].(map[string]any)
		if d["appId"] != "/shop/web" || d["version"] != res.Version || hc["protocol"] != "TCP" {
			t.Fatalf("add_health_check_event %s", f.data)
		}
		return true
	}, nil)
	s.until("instance_changed_event Running of /shop/web", func(f frame, d map[string]any) bool {
		if f.event != "instance_changed_event" || d["condition"] != "Running" {
			return false
		}
		if d["runSpecId"] != "/shop/web" || d["runSpecVersion"] != res.Version || d["instanceId"] == "" || d["agentId"] == "" || d["host"] == "" {
			t.Fatalf("instance_changed_event %s", f.data)
		}
		return true
	}, nil)

	e.want(e.do(http.MethodDelete, "/v2/apps/shop/nothing", ""), http.StatusNotFound)
	s.until("group_change_failed of a DELETE of an unknown app", func(f frame, d map[string]any) bool {
		if f.event != "group_change_failed" {
			return false
		}
		if d["groupId"] != "/shop" || d["reason"] == "" || d["version"] == "" {
			t.Fatalf("group_change_failed %s, want groupId /shop and a reason", f.data)
		}
		return true
	}, nil)

	// A kill with scale changes the root group in Marathon.
	tasks := e.getApp("/shop/web").Tasks
	if len(tasks) != 1 {
		t.Fatalf("%d tasks of /shop/web, want 1", len(tasks))
	}
	killed := e.deployed(e.do(http.MethodDelete, "/v2/apps/shop/web/tasks/"+tasks[0].ID+"?scale=true&force=true", ""), http.StatusOK)
	s.until("group_change_success of a kill with scale", func(f frame, d map[string]any) bool {
		if f.event != "group_change_success" || d["version"] != killed.Version {
			return false
		}
		if d["groupId"] != "/" {
			t.Fatalf("group_change_success %s, want groupId /", f.data)
		}
		return true
	}, nil)

	e.deployed(e.do(http.MethodDelete, "/v2/groups/shop?force=true", ""), http.StatusOK)
	s.until("remove_health_check_event of /shop/web", func(f frame, d map[string]any) bool {
		if f.event != "remove_health_check_event" {
			return false
		}
		if d["appId"] != "/shop/web" {
			t.Fatalf("remove_health_check_event %s", f.data)
		}
		return true
	}, nil)
}
