package marathon

import (
	"errors"
	"strings"
	"testing"
)

func TestPodIDs(t *testing.T) {
	inst := NewInstanceID("/prod/web")
	if !strings.HasPrefix(inst, "prod_web.instance-") {
		t.Fatalf("instance id %q", inst)
	}
	uuid := strings.TrimPrefix(inst, "prod_web.instance-")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "executor id", got: PodExecutorID(inst), want: "instance-prod_web." + uuid},
		{name: "legacy executor id", got: PodExecutorID("a.marathon-u1"), want: "instance-a.u1"},
		{name: "task id", got: PodTaskID(inst, "sidecar", 3), want: inst + ".sidecar.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	task := PodTaskID(inst, "sidecar", 3)
	app, gotInst, err := ParseTaskID(task)
	if err != nil || app != "/prod/web" || gotInst != inst {
		t.Errorf("ParseTaskID(%q) = %q, %q, %v", task, app, gotInst, err)
	}
}

func TestTaskContainer(t *testing.T) {
	tests := []struct {
		name        string
		taskID      string
		container   string
		incarnation int
		ok          bool
	}{
		{name: "pod task", taskID: "a_b.instance-u1.web.2", container: "web", incarnation: 2, ok: true},
		{name: "pod task without incarnation", taskID: "a_b.instance-u1.web", container: "web", ok: true},
		{name: "app task", taskID: "a.instance-u1._app.1", container: "_app", incarnation: 1, ok: true},
		{name: "instance only", taskID: "a.instance-u1"},
		{name: "garbage", taskID: "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, n, ok := TaskContainer(tc.taskID)
			if c != tc.container || n != tc.incarnation || ok != tc.ok {
				t.Errorf("TaskContainer(%q) = %q, %d, %v; want %q, %d, %v", tc.taskID, c, n, ok, tc.container, tc.incarnation, tc.ok)
			}
		})
	}
}

func TestParseInstanceID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want PathID
		err  bool
	}{
		{name: "instance", id: "prod_web.instance-6ae2-11e7", want: "/prod/web"},
		{name: "legacy", id: "web.marathon-6ae2", want: "/web"},
		{name: "task id is not an instance id", id: "web.instance-u.c.1", err: true},
		{name: "no marker", id: "web.u", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInstanceID(tc.id)
			if tc.err {
				if !errors.Is(err, ErrBadTaskID) {
					t.Errorf("err = %v, want ErrBadTaskID", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseInstanceID(%q) = %q, %v; want %q", tc.id, got, err, tc.want)
			}
		})
	}
}
