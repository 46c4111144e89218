package local_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestDockerBridgeTask launches a DOCKER task in BRIDGE mode from an image
// built FROM scratch and reaches it on its host port.
func TestDockerBridgeTask(t *testing.T) {
	image := testenv.WebServerImage(t)
	cfg := clusterConfig(t, 1)
	cfg.Agent.Containerizers = []string{"mesos", "docker"}
	cfg.Agent.DockerHost = testenv.DockerHost()
	c := startCluster(t, cfg)
	s := startScheduler(t, c.URL(), framework(60, mesos.CapabilityPartitionAware, mesos.CapabilityTaskKillingState), &memStore{})
	s.subscribed()
	offer := s.offer("")

	hostPort := mesos.Resources(offer.Resources).Ranges("ports")[0].Begin
	shell := false
	task := mesos.TaskInfo{
		Name:    "web",
		TaskID:  mesos.TaskID{Value: "web"},
		Command: &mesos.CommandInfo{Shell: &shell},
		Resources: mesos.Resources{
			{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.1}},
			{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 32}},
			{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: []mesos.Range{{Begin: hostPort, End: hostPort}}}},
		},
		Container: &mesos.ContainerInfo{
			Type: mesos.ContainerDocker,
			Docker: &mesos.DockerInfo{
				Image:        image,
				Network:      mesos.NetworkBridge,
				PortMappings: []mesos.PortMapping{{HostPort: uint32(hostPort), ContainerPort: 8080, Protocol: "tcp"}},
			},
		},
	}
	s.launch(offer, task)
	running := s.update("web", mesos.TaskRunning)
	ip := ""
	if cs := running.ContainerStatus; cs != nil && len(cs.NetworkInfos) > 0 && len(cs.NetworkInfos[0].IPAddresses) > 0 {
		ip = cs.NetworkInfos[0].IPAddresses[0].IPAddress
	}
	if ip == "" || ip == "127.0.0.1" {
		t.Errorf("TASK_RUNNING container IP %q, want the container's bridge address", ip)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/", hostPort)
	poll(t, "the container to answer on its host port", func() error {
		body, err := httpGet(url)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(body, "ok ") {
			return fmt.Errorf("unexpected body %q", body)
		}
		return nil
	})

	if err := s.client.Kill(context.Background(), mesos.TaskID{Value: "web"}, &offer.AgentID, nil); err != nil {
		t.Fatal(err)
	}
	s.update("web", mesos.TaskKilled)
	poll(t, "the host port to close", func() error {
		if _, err := httpGet(url); err == nil {
			return errNotYet
		}
		return nil
	})
}
