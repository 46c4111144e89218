package marathon

import (
	"errors"
	"regexp"
	"testing"
)

func TestNewTaskID(t *testing.T) {
	id := NewTaskID("/prod/web")
	re := regexp.MustCompile(`^prod_web\.instance-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\._app\.1$`)
	if !re.MatchString(id) {
		t.Fatalf("NewTaskID = %q", id)
	}
	app, inst, err := ParseTaskID(id)
	if err != nil || app != "/prod/web" || inst+"._app.1" != id {
		t.Errorf("ParseTaskID(%q) = %q, %q, %v", id, app, inst, err)
	}
	if NewTaskID("/a") == NewTaskID("/a") {
		t.Error("task ids repeat")
	}
}

func TestParseTaskID(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		app      PathID
		instance string
		bad      bool
	}{
		{name: "1.8+", id: "a_b.instance-564bd685-4c30-11e5-98c1-be5b2935a987._app.3", app: "/a/b", instance: "a_b.instance-564bd685-4c30-11e5-98c1-be5b2935a987"},
		{name: "1.4 with container", id: "a.instance-564bd685._app", app: "/a", instance: "a.instance-564bd685"},
		{name: "instance only", id: "minecraft_survival-world.instance-564bd685-4c30-11e5-98c1-be5b2935a987", app: "/minecraft/survival-world", instance: "minecraft_survival-world.instance-564bd685-4c30-11e5-98c1-be5b2935a987"},
		{name: "legacy", id: "frontend-foosball.083be411-5d1f-11e5-88f7-56b91e7a505b", app: "/frontend-foosball", instance: "frontend-foosball.marathon-083be411-5d1f-11e5-88f7-56b91e7a505b"},
		{name: "legacy nested", id: "tools_docker_registry.002b4d28-46b9-11e5-b731-525400cce7ed", app: "/tools/docker/registry", instance: "tools_docker_registry.marathon-002b4d28-46b9-11e5-b731-525400cce7ed"},
		{name: "dotted app name", id: "my.app.instance-abc._app.1", app: "/my.app", instance: "my.app.instance-abc"},
		{name: "marathon- instance", id: "a.marathon-abc", app: "/a", instance: "a.marathon-abc"},
		{name: "no separator", id: "abc", bad: true},
		{name: "empty uuid", id: "a.instance-._app.1", bad: true},
		{name: "bad incarnation", id: "a.instance-x._app.z", bad: true},
		{name: "empty", id: "", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, inst, err := ParseTaskID(tc.id)
			if tc.bad {
				if !errors.Is(err, ErrBadTaskID) {
					t.Errorf("err = %v, want ErrBadTaskID", err)
				}
				return
			}
			if err != nil || app != tc.app || inst != tc.instance {
				t.Errorf("got %q, %q, %v; want %q, %q", app, inst, err, tc.app, tc.instance)
			}
		})
	}
}
