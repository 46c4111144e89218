package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/framework/taskinfo"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/testenv"
)

// podJSON is a host-networked pod: an HTTP server with a health check on
// its endpoint, and a sidecar that calls it on localhost (bash's
// /dev/tcp: no client program needed) and leaves the answer in the
// shared ephemeral volume. Without an image, argv needs
// overrideEntrypoint: Marathon sets the command's value from argv[0] only
// then, and Mesos has nothing to run without it.
func podJSON(server string) string {
	return `{"id":"/prod/web","networks":[{"mode":"host"}],"volumes":[{"name":"shared"}],"containers":[
		{"name":"server","resources":{"cpus":0.2,"mem":32},
		 "exec":{"command":{"shell":"LISTEN_PORT=$ENDPOINT_HTTP exec ` + server + `"}},
		 "endpoints":[{"name":"http","protocol":["tcp"]}],
		 "healthCheck":{"http":{"endpoint":"http","path":"/healthcheck"},"intervalSeconds":1,"timeoutSeconds":0,"gracePeriodSeconds":30,"delaySeconds":0}},
		{"name":"sidecar","resources":{"cpus":0.1,"mem":32},
		 "exec":{"command":{"argv":["bash","-c","until exec 3<>/dev/tcp/127.0.0.1/$ENDPOINT_HTTP; do sleep 0.1; done; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3 > shared/answer; sleep 60"]},"overrideEntrypoint":true},
		 "volumeMounts":[{"name":"shared","mountPath":"shared"}]}]}`
}

// matched takes from an offer what the pod's instance needs: executor
// and container scalars and one host port per endpoint.
func matched(t *testing.T, p marathon.Pod, offer mesos.Offer) ([]mesos.Resource, []uint32) {
	t.Helper()
	res := mesos.Resources(offer.Resources)
	cpus, mem, disk := p.ExecutorResources.Cpus, p.ExecutorResources.Mem, p.ExecutorResources.Disk
	for _, c := range p.Containers {
		cpus, mem, disk = cpus+c.Resources.Cpus, mem+c.Resources.Mem, disk+c.Resources.Disk
	}
	port := uint32(res.Ranges("ports")[0].Begin)
	scalar := func(name string, v float64) mesos.Resource {
		return mesos.Resource{Name: name, Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: v}}
	}
	return []mesos.Resource{scalar("cpus", cpus), scalar("mem", mem), scalar("disk", disk),
		{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: []mesos.Range{{Begin: uint64(port), End: uint64(port)}}}}}, []uint32{port}
}

// TestPodInstance launches a pod instance as Marathon does, one
// LAUNCH_GROUP under the DEFAULT executor, on the built-in cluster: both
// containers run, the server turns healthy, the sidecar reaches it on
// localhost through the shared network namespace and writes into the
// shared volume; killing the server tears the instance down.
func TestPodInstance(t *testing.T) {
	server := testenv.TestServer(t)
	cfg := clusterConfig(t, 1)
	c := startCluster(t, cfg)
	s := startScheduler(t, c.URL(), framework(60, mesos.CapabilityPartitionAware, mesos.CapabilityTaskKillingState), &memStore{})
	sub := s.subscribed()
	p, err := marathon.ParsePod([]byte(podJSON(server)), marathon.NormalizeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Version = marathon.NewTimestamp(p.Version.Time)
	offer := s.offer("")
	resources, hostPorts := matched(t, p, offer)
	inst := "prod_web.instance-u1"
	lg, err := taskinfo.BuildGroup(taskinfo.GroupInput{
		Pod: p, InstanceID: inst, Incarnation: 1, FrameworkID: sub.FrameworkID.Value,
		AgentID: offer.AgentID, Hostname: offer.Hostname, Resources: resources, HostPorts: hostPorts,
	})
	if err != nil {
		t.Fatal(err)
	}
	op, err := mesos.LaunchGroupOperation(lg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.client.Accept(context.Background(), mesos.Accept{OfferIDs: []mesos.OfferID{offer.ID}, Operations: []mesos.Operation{op}}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	serverTask, sidecarTask := marathon.PodTaskID(inst, "server", 1), marathon.PodTaskID(inst, "sidecar", 1)
	s.update(sidecarTask, mesos.TaskRunning)
	healthy := s.next("the server healthy", func(ev mesos.Event) bool {
		st := ev.Update
		return ev.Type == mesos.EventUpdate && st.Status.TaskID.Value == serverTask && st.Status.Healthy != nil && *st.Status.Healthy
	}).Update.Status
	if healthy.ExecutorID == nil || healthy.ExecutorID.Value != marathon.PodExecutorID(inst) {
		t.Errorf("executor of the server's status: %v", healthy.ExecutorID)
	}
	// The sidecar's answer, in the executor's volume.
	var answer string
	poll(t, "the sidecar's answer", func() error {
		var matches []string
		_ = filepath.WalkDir(cfg.WorkDir, func(path string, _ os.DirEntry, _ error) error {
			if strings.HasSuffix(path, filepath.Join("executors", marathon.PodExecutorID(inst), "runs")) {
				m, _ := filepath.Glob(filepath.Join(path, "*", "volumes", "shared", "answer"))
				matches = append(matches, m...)
			}
			return nil
		})
		if len(matches) != 1 {
			return fmt.Errorf("%d answers", len(matches))
		}
		b, err := os.ReadFile(matches[0])
		if answer = string(b); err != nil || !strings.Contains(answer, "200 OK") {
			return fmt.Errorf("answer %q: %v", answer, err)
		}
		return nil
	})
	if !strings.Contains(answer, "MARATHON_CONTAINER_ID=server") {
		t.Errorf("the sidecar did not reach the server's environment page: %q", answer)
	}
	if err := s.client.Kill(context.Background(), mesos.TaskID{Value: serverTask}, &offer.AgentID, nil); err != nil {
		t.Fatalf("kill: %v", err)
	}
	s.update(serverTask, mesos.TaskKilled)
	s.update(sidecarTask, mesos.TaskKilled)
}
