package statetest

import (
	"fmt"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// pod returns a two-container pod definition with the given id and
// version; cmd tells versions apart.
func pod(id marathon.PathID, version marathon.Timestamp, cmd string) marathon.Pod {
	p := marathon.NewPod(id)
	p.Version = version
	p.Role = marathon.DefaultRole
	p.Labels = map[string]string{"team": "platform"}
	p.Environment = map[string]marathon.EnvVar{"MODE": {Value: "prod"}, "TOKEN": {Secret: "tok"}}
	p.Secrets = map[string]marathon.Secret{"tok": {Source: "/pods/token"}}
	p.Networks = []marathon.PodNetwork{{Mode: marathon.NetworkHost}}
	p.Volumes = []marathon.PodVolume{{Name: "shared"}}
	hostPort := 0
	p.Containers = []marathon.PodContainer{
		{
			Name:         "web",
			Exec:         &marathon.MesosExec{Command: marathon.MesosCommand{Shell: cmd}},
			Resources:    marathon.PodResources{Cpus: 0.5, Mem: 64},
			Endpoints:    []marathon.Endpoint{{Name: "http", HostPort: &hostPort, Protocol: []string{"tcp"}}},
			VolumeMounts: []marathon.VolumeMount{{Name: "shared", MountPath: "/shared"}},
			HealthCheck: &marathon.PodHealthCheck{HTTP: &marathon.PodHTTPCheck{Endpoint: "http", Path: "/health", Scheme: marathon.SchemeHTTP},
				GracePeriodSeconds: 30, IntervalSeconds: 5, MaxConsecutiveFailures: 3, TimeoutSeconds: 2, DelaySeconds: 1},
		},
		{
			Name:         "sidecar",
			Exec:         &marathon.MesosExec{Command: marathon.MesosCommand{Argv: []string{"/bin/poll", "http://localhost"}}},
			Resources:    marathon.PodResources{Cpus: 0.1, Mem: 32},
			VolumeMounts: []marathon.VolumeMount{{Name: "shared", MountPath: "/shared"}},
		},
	}
	p.Scaling.Instances = 2
	return p
}

// checkPodVersions is checkAppVersions for pods.
func checkPodVersions(t *testing.T, s state.Store, id marathon.PathID, want ...marathon.Pod) {
	t.Helper()
	checkVersions(t, "Pod", id, s.PodVersions, s.PodVersion, func(p marathon.Pod) marathon.Timestamp { return p.Version }, want)
}

func checkNoPodVersion(t *testing.T, s state.Store, id marathon.PathID, version marathon.Timestamp) {
	t.Helper()
	if _, ok, err := s.PodVersion(t.Context(), id, version); ok || err != nil {
		t.Errorf("PodVersion(%s, %s) = ok %v, err %v; want no version", id, version, ok, err)
	}
}

// testPods: pods are stored with their versions beside apps, an app and a
// pod may not be confused even with the same id, and both survive a
// reopen.
func testPods(t *testing.T, h harness) {
	s := h.open(t)
	web1, web2 := pod("/prod/web", ts(1), "serve v1"), pod("/prod/web", ts(2), "serve v2")
	other := app("/prod/web", ts(1), "an app of the same id")
	apply(t, s, state.Change{PutPods: []marathon.Pod{web1}, PutApps: []marathon.App{other}})
	apply(t, s, state.Change{PutPods: []marathon.Pod{web2}})
	want := state.Snapshot{Apps: []marathon.App{other}, Pods: []marathon.Pod{web2}}
	checkLoad(t, s, want)
	checkPodVersions(t, s, "/prod/web", web1, web2)
	checkAppVersions(t, s, "/prod/web", other)
	checkPodVersions(t, s, "/absent")
	checkNoPodVersion(t, s, "/prod/web", ts(3))

	s = h.reopen(t, s)
	checkLoad(t, s, want)
	checkPodVersions(t, s, "/prod/web", web1, web2)
}

func testPodVersionLimit(t *testing.T, h harness) {
	s := h.open(t)
	var all []marathon.Pod
	for n := 1; n <= MaxVersions+2; n++ {
		p := pod("/web", ts(n), fmt.Sprintf("serve v%d", n))
		all = append(all, p)
		apply(t, s, state.Change{PutPods: []marathon.Pod{p}})
	}
	checkPodVersions(t, s, "/web", all[2:]...)
	checkNoPodVersion(t, s, "/web", ts(1))
	checkNoPodVersion(t, s, "/web", ts(2))

	// More versions than the limit in one Change.
	var burst []marathon.Pod
	for n := 10; n < 10+2*MaxVersions; n++ {
		burst = append(burst, pod("/api", ts(n), fmt.Sprintf("api v%d", n)))
	}
	apply(t, s, state.Change{PutPods: burst})
	checkPodVersions(t, s, "/api", burst[len(burst)-MaxVersions:]...)
	checkLoad(t, s, state.Snapshot{Pods: []marathon.Pod{burst[len(burst)-1], all[len(all)-1]}})
}

func testDeletePod(t *testing.T, h harness) {
	s := h.open(t)
	web1, web2 := pod("/web", ts(1), "v1"), pod("/web", ts(2), "v2")
	api := pod("/api", ts(1), "api")
	apply(t, s, state.Change{PutPods: []marathon.Pod{web1, api}})
	apply(t, s, state.Change{PutPods: []marathon.Pod{web2}})
	apply(t, s, state.Change{DeletePods: []marathon.PathID{"/web", "/absent"}})
	checkLoad(t, s, state.Snapshot{Pods: []marathon.Pod{api}})
	checkPodVersions(t, s, "/web")
	checkNoPodVersion(t, s, "/web", ts(1))
	checkPodVersions(t, s, "/api", api)

	// Delete and put of one id in one Change: only the new version stays.
	apply(t, s, state.Change{PutPods: []marathon.Pod{web1}})
	web3 := pod("/web", ts(3), "v3")
	apply(t, s, state.Change{DeletePods: []marathon.PathID{"/web"}, PutPods: []marathon.Pod{web3}})
	checkLoad(t, s, state.Snapshot{Pods: []marathon.Pod{api, web3}})
	checkPodVersions(t, s, "/web", web3)

	// A pod without an id or version is refused, and nothing is written.
	bad := pod("/bad", marathon.Timestamp{}, "x")
	if err := s.Apply(t.Context(), state.Change{PutPods: []marathon.Pod{bad, pod("/ok", ts(4), "y")}}); err == nil {
		t.Fatal("Apply of a pod without a version succeeded")
	}
	checkLoad(t, s, state.Snapshot{Pods: []marathon.Pod{api, web3}})
}
