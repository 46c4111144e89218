package marathon

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var statusNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// statusPod is a host pod: a server with an HTTP check on its endpoint and
// a sidecar without a check.
func statusPod(t *testing.T, instances int) Pod {
	t.Helper()
	p := mustPod(t, `{"id":"/web","networks":[{"mode":"host"}],"scaling":{"instances":`+strconv.Itoa(instances)+`},"containers":[
		{"name":"server","resources":{"cpus":0.5,"mem":64},"endpoints":[{"name":"http"}],
		 "healthCheck":{"http":{"endpoint":"http"},"intervalSeconds":2,"timeoutSeconds":1}},
		{"name":"sidecar","resources":{"cpus":0.25,"mem":32}}]}`)
	p.Version = NewTimestamp(statusNow.Add(-time.Hour))
	return p
}

func boolp(b bool) *bool { return &b }

// observed builds an instance whose server and sidecar tasks are in the
// given states.
func observed(id, server, sidecar string, healthy *bool) PodInstanceObservation {
	started := statusNow.Add(-time.Minute)
	return PodInstanceObservation{
		ID: id, AgentID: "a1", AgentHostname: "h1", Role: "*", Since: started,
		RunSpecVersion: NewTimestamp(statusNow.Add(-time.Hour)),
		Tasks: []PodTaskObservation{
			{Container: "server", TaskID: id + ".server.1", State: server, Healthy: healthy, HostPorts: []uint32{31001}, StagedAt: started.Add(-time.Second), StartedAt: started},
			{Container: "sidecar", TaskID: id + ".sidecar.1", State: sidecar, StagedAt: started.Add(-time.Second), StartedAt: started},
		},
	}
}

func TestPodInstanceStatusOf(t *testing.T) {
	tests := []struct {
		name        string
		obs         PodInstanceObservation
		wantStatus  PodInstanceState
		wantMessage string
		wantCPUs    float64
	}{
		{name: "running and healthy", obs: observed("web.instance-1", "TASK_RUNNING", "TASK_RUNNING", boolp(true)),
			wantStatus: InstanceStable, wantCPUs: 0.85},
		{name: "health unreported", obs: observed("web.instance-1", "TASK_RUNNING", "TASK_RUNNING", nil),
			wantStatus: InstanceDegraded, wantMessage: msgContainerUnhealthy, wantCPUs: 0.85},
		{name: "unhealthy", obs: observed("web.instance-1", "TASK_RUNNING", "TASK_RUNNING", boolp(false)),
			wantStatus: InstanceDegraded, wantMessage: msgContainerUnhealthy, wantCPUs: 0.85},
		{name: "one container staging", obs: observed("web.instance-1", "TASK_RUNNING", "TASK_STAGING", boolp(true)),
			wantStatus: InstanceStaging, wantCPUs: 0.85},
		{name: "failed container, killed sidecar", obs: observed("web.instance-1", "TASK_FAILED", "TASK_KILLED", nil),
			wantStatus: InstanceTerminal, wantCPUs: 0.1},
		{name: "unreachable", obs: observed("web.instance-1", "TASK_UNREACHABLE", "TASK_UNREACHABLE", nil),
			wantStatus: InstanceDegraded, wantMessage: msgInstanceUnreachable, wantCPUs: 0.85},
		{name: "not launched", obs: PodInstanceObservation{ID: "web.instance-2", AgentID: "a1", RunSpecVersion: NewTimestamp(statusNow.Add(-time.Hour))},
			wantStatus: InstancePending, wantCPUs: 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodInstanceStatusOf(statusPod(t, 1), tc.obs, statusNow)
			if got.Status != tc.wantStatus || got.Message != tc.wantMessage {
				t.Errorf("status = %s %q, want %s %q", got.Status, got.Message, tc.wantStatus, tc.wantMessage)
			}
			if diff := cmp.Diff(tc.wantCPUs, got.Resources.Cpus, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
				t.Errorf("cpus (-want +got):\n%s", diff)
			}
			if got.SpecReference != "/v2/pods/web::versions/2026-12-07T11:00:00.000Z" {
				t.Errorf("specReference = %q", got.SpecReference)
			}
		})
	}
}

func TestContainerStatusOf(t *testing.T) {
	got := PodInstanceStatusOf(statusPod(t, 1), observed("web.instance-1", "TASK_RUNNING", "TASK_RUNNING", boolp(true)), statusNow)
	port := 31001
	started := NewTimestamp(statusNow.Add(-time.Minute))
	want := []ContainerStatus{
		{Name: "server", Status: "TASK_RUNNING", StatusSince: started, ContainerID: "web.instance-1.server.1",
			Conditions:  []StatusCondition{{Name: "healthy", Value: "true", Reason: reasonHealthReported, LastChanged: started, LastUpdated: NewTimestamp(statusNow)}},
			Endpoints:   []ContainerEndpointStatus{{Name: "http", AllocatedHostPort: &port, Healthy: boolp(true)}},
			Resources:   &PodResources{Cpus: 0.5, Mem: 64},
			LastUpdated: NewTimestamp(statusNow), LastChanged: started},
		{Name: "sidecar", Status: "TASK_RUNNING", StatusSince: started, ContainerID: "web.instance-1.sidecar.1",
			Conditions: []StatusCondition{}, Endpoints: []ContainerEndpointStatus{}, Resources: &PodResources{Cpus: 0.25, Mem: 32},
			LastUpdated: NewTimestamp(statusNow), LastChanged: started},
	}
	if diff := cmp.Diff(want, got.Containers); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
}

func TestPodStatusOf(t *testing.T) {
	stable := observed("web.instance-1", "TASK_RUNNING", "TASK_RUNNING", boolp(true))
	degraded := observed("web.instance-2", "TASK_RUNNING", "TASK_RUNNING", boolp(false))
	unplaced := PodInstanceObservation{ID: "web.instance-3"}
	tests := []struct {
		name          string
		instances     int
		obs           []PodInstanceObservation
		deleting      bool
		want          PodState
		wantInstances int
	}{
		{name: "enough stable instances", instances: 1, obs: []PodInstanceObservation{stable, degraded}, want: PodStable, wantInstances: 2},
		{name: "too few stable instances", instances: 2, obs: []PodInstanceObservation{stable, degraded, unplaced}, want: PodDegraded, wantInstances: 2},
		{name: "deleting", instances: 1, obs: []PodInstanceObservation{stable}, deleting: true, want: PodTerminal, wantInstances: 1},
		{name: "scaled to zero", instances: 0, want: PodStable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodStatusOf(statusPod(t, tc.instances), tc.obs, tc.deleting, statusNow)
			if got.Status != tc.want || len(got.Instances) != tc.wantInstances {
				t.Errorf("status %s with %d instances, want %s with %d", got.Status, len(got.Instances), tc.want, tc.wantInstances)
			}
			if got.LastChanged != got.StatusSince || got.LastUpdated != NewTimestamp(statusNow) {
				t.Errorf("times: %+v", got)
			}
		})
	}
}
