package statetest

import (
	"fmt"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// epoch is the time of version 0; versions are a second and a millisecond
// apart so that both the seconds and the milliseconds of keys are exercised.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ts returns version n.
func ts(n int) marathon.Timestamp {
	return marathon.NewTimestamp(epoch.Add(time.Duration(n) * (time.Second + time.Millisecond)))
}

// app returns a non-trivial app definition with the given id and version;
// cmd tells versions apart.
func app(id marathon.PathID, version marathon.Timestamp, cmd string) marathon.App {
	a := marathon.NewApp(id)
	a.Cmd = cmd
	a.Instances = 2
	a.Version = version
	a.VersionInfo = &marathon.VersionInfo{LastScalingAt: version, LastConfigChangeAt: version}
	a.Labels = map[string]string{"team": "platform", "HAPROXY_GROUP": "external"}
	a.Env = map[string]marathon.EnvVar{"PORT_NAME": {Value: "http"}, "DB_PASSWORD": {Secret: "db"}}
	a.Secrets = map[string]marathon.Secret{"db": {Source: "/db/password"}}
	a.PortDefinitions = []marathon.PortDefinition{{Port: 10000, Protocol: "tcp", Name: "http"}}
	a.Networks = []marathon.Network{{Mode: marathon.NetworkHost}}
	a.Role = marathon.DefaultRole
	return a
}

// group returns a group version holding the given app versions.
func group(id marathon.PathID, version marathon.Timestamp, apps map[marathon.PathID]marathon.Timestamp) state.Group {
	return state.Group{ID: id, Version: version, Apps: apps, Dependencies: []marathon.PathID{"/db"}}
}

// instance returns a running instance of appID; n tells instances apart.
func instance(appID marathon.PathID, version marathon.Timestamp, n int) state.Instance {
	healthy := n%2 == 0
	id := fmt.Sprintf("%s.instance-%08d", appID.TaskPrefix(), n)
	started := epoch.Add(time.Duration(n) * time.Millisecond)
	return state.Instance{
		ID:          id,
		AppID:       appID,
		AppVersion:  version,
		Goal:        state.GoalRunning,
		Incarnation: 1,
		TaskID:      id + "._app.1",
		State:       mesos.TaskRunning,
		AgentID:     "agent-" + fmt.Sprint(n%7),
		Hostname:    "host-" + fmt.Sprint(n%7),
		HostPorts:   []uint32{uint32(31000 + n%1000)},
		IPAddresses: []string{"10.0.0.1"},
		Healthy:     &healthy,
		Attributes:  map[string]string{"rack": "r" + fmt.Sprint(n%3)},
		LaunchedAt:  started.Add(-2 * time.Second),
		StagedAt:    started.Add(-time.Second),
		StartedAt:   started,
	}
}

// instances returns count instances of appID numbered from first.
func instances(appID marathon.PathID, version marathon.Timestamp, first, count int) []state.Instance {
	out := make([]state.Instance, 0, count)
	for n := first; n < first+count; n++ {
		out = append(out, instance(appID, version, n))
	}
	return out
}

// deployment returns a one-step deployment of appID from one version to
// another.
func deployment(id string, appID marathon.PathID, from, to marathon.Timestamp) state.Deployment {
	return state.Deployment{
		ID:      id,
		Version: to,
		Steps: []state.Step{{Actions: []state.Action{
			{Type: marathon.RestartApplication, AppID: appID},
		}}},
		Original:  map[marathon.PathID]marathon.Timestamp{appID: from},
		Target:    map[marathon.PathID]marathon.Timestamp{appID: to},
		Deadline:  epoch.Add(time.Hour),
		Rollback:  true,
		CreatedAt: epoch,
	}
}
