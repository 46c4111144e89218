package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestCheckReferences(t *testing.T) {
	v := func(n int) marathon.Timestamp {
		return marathon.NewTimestamp(time.Date(2026, 1, 1, 0, 0, n, 0, time.UTC))
	}
	app := func(id marathon.PathID, version marathon.Timestamp) marathon.App {
		a := marathon.NewApp(id)
		a.Version = version
		return a
	}
	inst := func(id string, appID marathon.PathID, goal Goal) Instance {
		return Instance{ID: id, AppID: appID, Goal: goal}
	}
	// stored holds the old versions the lookup knows.
	stored := map[string]bool{"/web@" + v(1).String(): true}
	lookup := func(id marathon.PathID, version marathon.Timestamp) (bool, error) {
		return stored[string(id)+"@"+version.String()], nil
	}
	tests := []struct {
		name string
		snap Snapshot
		want []string
	}{
		{name: "empty", snap: Snapshot{}},
		{name: "consistent", snap: Snapshot{
			Apps:        []marathon.App{app("/web", v(2))},
			Groups:      []Group{{ID: "/", Version: v(2), Apps: map[marathon.PathID]marathon.Timestamp{"/web": v(2)}}},
			Instances:   []Instance{inst("web.instance-1", "/web", GoalRunning), inst("old.instance-1", "/old", GoalDecommissioned)},
			Deployments: []Deployment{{ID: "d1", Target: map[marathon.PathID]marathon.Timestamp{"/web": v(2)}, Original: map[marathon.PathID]marathon.Timestamp{"/gone": v(1)}}},
		}},
		{name: "old group version stored", snap: Snapshot{
			Apps:   []marathon.App{app("/web", v(2))},
			Groups: []Group{{ID: "/", Version: v(1), Apps: map[marathon.PathID]marathon.Timestamp{"/web": v(1)}}},
		}},
		{name: "instance of unknown app", snap: Snapshot{
			Instances: []Instance{inst("db.instance-1", "/db", GoalRunning)},
		}, want: []string{"instance db.instance-1: app /db is unknown"}},
		{name: "deployment of unknown app", snap: Snapshot{
			Deployments: []Deployment{{ID: "d1", Target: map[marathon.PathID]marathon.Timestamp{"/db": v(1)}}},
		}, want: []string{"deployment d1: target app /db is unknown"}},
		{name: "queued deployment names apps to come", snap: Snapshot{
			Deployments: []Deployment{{ID: "d2", WaitsFor: []string{"d1"}, Target: map[marathon.PathID]marathon.Timestamp{"/new": v(1)}}},
		}},
		{name: "group names missing version", snap: Snapshot{
			Apps:   []marathon.App{app("/web", v(2))},
			Groups: []Group{{ID: "/", Version: v(3), Apps: map[marathon.PathID]marathon.Timestamp{"/web": v(3), "/db": v(1)}}},
		}, want: []string{
			"group / version " + v(3).String() + ": app /db version " + v(1).String() + " is not stored",
			"group / version " + v(3).String() + ": app /web version " + v(3).String() + " is not stored",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckReferences(tc.snap, lookup)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CheckReferences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckReferencesLookupError(t *testing.T) {
	boom := errors.New("boom")
	snap := Snapshot{Groups: []Group{{ID: "/", Apps: map[marathon.PathID]marathon.Timestamp{"/web": marathon.NewTimestamp(time.Unix(1, 0))}}}}
	_, err := CheckReferences(snap, func(marathon.PathID, marathon.Timestamp) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestDescribeDecodeError(t *testing.T) {
	decode := func(data string) error {
		var in Instance
		return json.Unmarshal([]byte(data), &in)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "syntax", err: decode(`{"id": "x", "secret`), want: "invalid JSON at byte 19"},
		{name: "type", err: decode(`{"incarnation": "hunter2"}`), want: "field incarnation: a JSON string does not fit int"},
		{name: "other error quotes nothing", err: fmt.Errorf("bad value %q", "hunter2"), want: `bad value "…"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DescribeDecodeError(tc.err); got != tc.want {
				t.Errorf("DescribeDecodeError = %q, want %q", got, tc.want)
			}
		})
	}
}
