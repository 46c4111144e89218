package registrator

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/marathon/marathontest"
)

func TestDecodeSnapshot(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []view // of Compute in catalog mode
		bad     []string
		wantErr bool
	}{
		{
			name: "canonical fields (Marathon 1.5+ and Stadion)",
			body: `{"apps":[{"id":"/web","portDefinitions":[{"port":10000},{"port":10001}],"labels":{"SERVICE_NAME":"w"},
				"tasks":[{"id":"web.1","host":"h1","ports":[31000,31001],"state":"TASK_RUNNING"}]}]}`,
			want: []view{
				{ID: "web.1:10000", Name: "w", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Node: "stadion-h1"},
				{ID: "web.1:10001", Name: "w", Tags: []string{"stadion"}, Address: "h1", Port: 31001, Node: "stadion-h1"},
			},
		},
		{
			name: "legacy docker bridge fields (Marathon before 1.5) are normalised",
			body: `{"apps":[{"id":"/app/test-server","container":{"type":"DOCKER","docker":{"image":"x","network":"BRIDGE",
				"portMappings":[{"containerPort":3000,"hostPort":0},{"containerPort":3010,"hostPort":0}]}},
				"tasks":[{"id":"app_test-server.1","host":"h1","ports":[31000,31001],"state":"TASK_RUNNING"}]}]}`,
			want: []view{
				{ID: "app_test-server.1:3000", Name: "test-server-3000", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Node: "stadion-h1"},
				{ID: "app_test-server.1:3010", Name: "test-server-3010", Tags: []string{"stadion"}, Address: "h1", Port: 31001, Node: "stadion-h1"},
			},
		},
		{
			name: "legacy ports field",
			body: `{"apps":[{"id":"/web","ports":[10000],"tasks":[{"id":"web.1","host":"h1","ports":[31000],"state":"TASK_RUNNING"}]}]}`,
			want: []view{{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Node: "stadion-h1"}},
		},
		{
			name: "an app that does not decode is skipped, not the others",
			body: `{"apps":[{"id":"/bad","instances":"many"},{"id":"/web","portDefinitions":[{"port":10000}],
				"tasks":[{"id":"web.1","host":"h1","ports":[31000],"state":"TASK_RUNNING"}]}]}`,
			want: []view{{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Node: "stadion-h1"}},
			bad:  []string{"/bad"},
		},
		{name: "not json", body: `<html>`, wantErr: true},
		{name: "no apps list", body: `{"app":{}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := DecodeSnapshot([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, viewOf(Compute(snap, catalogOpts()).Services)); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			var bad []string
			for _, s := range snap.Bad {
				if !errors.Is(s.Err, ErrBadApp) {
					t.Errorf("bad app %s: %v is not ErrBadApp", s.AppID, s.Err)
				}
				bad = append(bad, string(s.AppID))
			}
			if diff := cmp.Diff(tc.bad, bad); diff != "" {
				t.Errorf("bad apps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeSnapshotMarathonTasks reads the tasks of Marathon's own example
// of GET /v2/tasks embedded in apps, as /v2/apps?embed=apps.tasks has them.
func TestDecodeSnapshotMarathonTasks(t *testing.T) {
	var list struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := json.Unmarshal(marathontest.Example(t, "tasks.json"), &list); err != nil {
		t.Fatal(err)
	}
	byApp := map[string][]json.RawMessage{}
	for _, raw := range list.Tasks {
		var task struct {
			AppID        string `json:"appId"`
			ServicePorts []int  `json:"servicePorts"`
		}
		if err := json.Unmarshal(raw, &task); err != nil {
			t.Fatal(err)
		}
		byApp[task.AppID] = append(byApp[task.AppID], raw)
	}
	apps := []map[string]any{
		{"id": "/frontend-foosball", "portDefinitions": []any{map[string]any{"port": 10019}}, "tasks": byApp["/frontend-foosball"]},
		{"id": "/tools/docker/registry", "portDefinitions": []any{map[string]any{"port": 5000}}, "tasks": byApp["/tools/docker/registry"]},
	}
	body, err := json.Marshal(map[string]any{"apps": apps})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := DecodeSnapshot(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []view{ // sorted by node
		{ID: "tools_docker_registry.002b4d28-46b9-11e5-b731-525400cce7ed:5000", Name: "registry", Tags: []string{"stadion"},
			Address: "srv2.example.com", Port: 31721, Node: "stadion-srv2.example.com"},
		{ID: "frontend-foosball.083be411-5d1f-11e5-88f7-56b91e7a505b:10019", Name: "frontend-foosball", Tags: []string{"stadion"},
			Address: "srv4.example.com", Port: 31292, Node: "stadion-srv4.example.com"},
	}
	got := Compute(snap, catalogOpts())
	if diff := cmp.Diff(want, viewOf(got.Services)); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if v := got.Services[1].Meta[MetaVersion]; v != "2015-09-17T09:32:36.583Z" {
		t.Errorf("version meta %q, want the task's version", v)
	}
}

// TestDecodeSnapshotRoundTrip: what Stadion's API writes reads back.
func TestDecodeSnapshotRoundTrip(t *testing.T) {
	in := snapshot(app(id("/web"), bridge(3000), labels("SERVICE_TAGS", "a"), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h")),
		tasks(with(task("web.1", "h1", 31000), results(true), ip("10.0.0.1")))))
	body, err := json.Marshal(marathon.AppList{Apps: in.Apps})
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeSnapshot(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{agentOpts(), ttlOpts(), catalogOpts(), ipOpts()} {
		want, got := Compute(in, o), Compute(out, o)
		if diff := cmp.Diff(want.Services, got.Services); diff != "" {
			t.Errorf("%s/%s: services after a round trip (-want +got):\n%s", o.Mode, o.Health, diff)
		}
	}
}
