package main

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"
)

// startedAts returns the startedAt of every task of app id as s shows it.
func startedAts(s *haServe, id string) (map[string]string, error) {
	var a struct {
		App struct {
			Tasks []struct {
				ID        string `json:"id"`
				StartedAt string `json:"startedAt"`
			} `json:"tasks"`
		} `json:"app"`
	}
	if code, body := getStatus(s.api+"/v2/apps"+id+"?embed=app.tasks", &a); code != http.StatusOK {
		return nil, fmt.Errorf("%s: %d %s", s.name, code, body)
	}
	out := map[string]string{}
	for _, task := range a.App.Tasks {
		out[task.ID] = task.StartedAt
	}
	return out, nil
}

// TestHAFailoverKeepsFacts kills the leader with -9: the new leader shows
// the tasks it adopted with the start times they had (not the time its
// reconciliation heard of them), and a standby's /v2/info names the
// framework id, as the leader's does.
func TestHAFailoverKeepsFacts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startHACluster(t)
	lead := c.leader(t)
	if code, body := doJSON(t, http.MethodPost, lead.api+"/v2/apps", c.app("1", 2)); code != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %d %s", code, body)
	}
	ids := c.converged(t, "/ha", 2)
	before, err := startedAts(lead, "/ha")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if before[id] == "" {
			t.Fatalf("task %s has no startedAt", id)
		}
	}

	var leaderInfo struct {
		FrameworkID string `json:"frameworkId"`
	}
	getJSON(t, lead.api+"/v2/info", &leaderInfo)
	if leaderInfo.FrameworkID == "" {
		t.Fatal("the leader's /v2/info has no frameworkId")
	}
	for _, s := range c.running() {
		if s == lead {
			continue
		}
		var info struct {
			FrameworkID string `json:"frameworkId"`
			Elected     bool   `json:"elected"`
		}
		getJSON(t, s.api+"/v2/info", &info)
		if info.Elected || info.FrameworkID != leaderInfo.FrameworkID {
			t.Fatalf("standby %s /v2/info: elected %v frameworkId %q, want the leader's %q",
				s.name, info.Elected, info.FrameworkID, leaderInfo.FrameworkID)
		}
	}

	c.kill9(t, lead)
	next := c.leader(t)
	if after := c.converged(t, "/ha", 2); !slices.Equal(after, ids) {
		t.Fatalf("tasks changed across the failover: %v, then %v", ids, after)
	}
	// The new leader reconciles at once and again after
	// --reconciliation_initial_delay (500ms): the start times must hold
	// through both.
	until := time.Now().Add(3 * time.Second)
	for time.Now().Before(until) {
		after, err := startedAts(next, "/ha")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(after, before) {
			t.Fatalf("startedAt changed across the failover:\nbefore %v\nafter  %v", before, after)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
