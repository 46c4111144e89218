package registrator

import (
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// podInstance is an instance of podStatusOf: its agent host, the status
// of its containers, the host ports of its endpoints by endpoint name and
// the value of the "healthy" condition of its health-checked containers
// ("" for none).
type podInstance struct {
	id, host, status string
	ports            map[string]int
	healthy          string
}

// podStatusOf is the ::status of the pod body with its instances.
func podStatusOf(t *testing.T, body string, insts ...podInstance) marathon.PodStatus {
	t.Helper()
	pod, err := marathon.ParsePod([]byte(body), marathon.NormalizeOptions{})
	if err != nil {
		t.Fatalf("ParsePod: %v", err)
	}
	pod.Version = marathon.NewTimestamp(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	ps := marathon.PodStatus{ID: pod.ID, Spec: pod, Status: marathon.PodState("STABLE")}
	for _, in := range insts {
		is := marathon.PodInstanceStatus{ID: in.id, AgentHostname: in.host}
		for _, c := range pod.Containers {
			cs := marathon.ContainerStatus{Name: c.Name, Status: in.status}
			if c.HealthCheck != nil && in.healthy != "" {
				cs.Conditions = []marathon.StatusCondition{{Name: marathon.ConditionHealthy, Value: in.healthy}}
			}
			for _, e := range c.Endpoints {
				ep := marathon.ContainerEndpointStatus{Name: e.Name}
				if p, ok := in.ports[e.Name]; ok {
					ep.AllocatedHostPort = &p
				}
				cs.Endpoints = append(cs.Endpoints, ep)
			}
			is.Containers = append(is.Containers, cs)
		}
		ps.Instances = append(ps.Instances, is)
	}
	return ps
}

// TestRunPods: against a real Consul agent, every endpoint with a host
// port of a running pod container of this host is one service, named
// after the pod and the endpoint (or SERVICE_<endpoint>_NAME), and the
// services go when the pod is deleted (pod_deleted_event). Pod events and
// instance_changed_event ask for a new snapshot. A scheduler
// without /v2/pods (404) is a scheduler without pods.
func TestRunPods(t *testing.T) {
	consul, client := startConsul(t)
	f := newFakeMarathon(t)
	stop := runRegistrator(t, Config{
		Schedulers:     []string{f.url()},
		Consul:         ConsulConfig{Address: consul.HTTPAddr},
		Hostnames:      []string{"127.0.0.1"},
		Health:         HealthTTL,
		ResyncInterval: time.Hour,
		RetryMin:       50 * time.Millisecond,
		RetryMax:       500 * time.Millisecond,
		Logger:         testLogger(t),
	})
	defer stop()
	wantServices(t, client, "no pods (404)", map[string]string{})

	web := `{"id":"/shop/web","labels":{"SERVICE_ADMIN_NAME":"web-admin"},
		"containers":[
		{"name":"server","resources":{"cpus":0.1,"mem":16},"endpoints":[{"name":"http"},{"name":"metrics"}]},
		{"name":"sidecar","resources":{"cpus":0.1,"mem":16},"endpoints":[{"name":"admin"}]}]}`
	single := `{"id":"/cache","containers":[{"name":"c","resources":{"cpus":0.1,"mem":16},"endpoints":[{"name":"redis"}],
		"healthCheck":{"tcp":{"endpoint":"redis"}}}]}`
	f.setPods(
		podStatusOf(t, web,
			podInstance{id: "shop_web.instance-a", host: "127.0.0.1", status: "TASK_RUNNING", ports: map[string]int{"http": 31001, "metrics": 31002, "admin": 31003}},
			podInstance{id: "shop_web.instance-b", host: "127.0.0.1", status: "TASK_STAGING", ports: map[string]int{"http": 31004, "metrics": 31005, "admin": 31006}},
			podInstance{id: "shop_web.instance-c", host: "10.9.9.9", status: "TASK_RUNNING", ports: map[string]int{"http": 31007, "metrics": 31008, "admin": 31009}}),
		podStatusOf(t, single, podInstance{id: "cache.instance-d", host: "127.0.0.1", status: "TASK_RUNNING", ports: map[string]int{"redis": 31010}, healthy: "true"}),
	)
	f.publish(&marathon.PodEvent{URI: "/v2/pods/shop/web", EventMeta: marathon.Meta(marathon.EventPodCreated, time.Now())})
	wantServices(t, client, "pod endpoints registered", map[string]string{
		"shop_web.instance-a:http":    "web-http 127.0.0.1:31001 passing",
		"shop_web.instance-a:metrics": "web-metrics 127.0.0.1:31002 passing",
		"shop_web.instance-a:admin":   "web-admin 127.0.0.1:31003 passing",
		"cache.instance-d:redis":      "cache 127.0.0.1:31010 passing",
	})
	regs, err := client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if m := regs["shop_web.instance-a:http"].Meta; m[MetaAppID] != "/shop/web" || m[MetaTaskID] != "shop_web.instance-a" {
		t.Errorf("meta %v, want the pod id and instance id", m)
	}

	f.setPods(
		podStatusOf(t, web,
			podInstance{id: "shop_web.instance-a", host: "127.0.0.1", status: "TASK_RUNNING", ports: map[string]int{"http": 31001, "metrics": 31002, "admin": 31003}},
			podInstance{id: "shop_web.instance-b", host: "127.0.0.1", status: "TASK_RUNNING", ports: map[string]int{"http": 31004, "metrics": 31005, "admin": 31006}}),
		podStatusOf(t, single, podInstance{id: "cache.instance-d", host: "127.0.0.1", status: "TASK_RUNNING", ports: map[string]int{"redis": 31010}, healthy: "true"}),
	)
	f.publish(&marathon.InstanceChangedEvent{InstanceID: "shop_web.instance-b", Condition: "Running", RunSpecID: "/shop/web", Host: "127.0.0.1",
		EventMeta: marathon.Meta(marathon.EventInstanceChanged, time.Now())})
	wantServices(t, client, "a pod instance that runs is registered (instance_changed_event)", map[string]string{
		"shop_web.instance-a:http":    "web-http 127.0.0.1:31001 passing",
		"shop_web.instance-a:metrics": "web-metrics 127.0.0.1:31002 passing",
		"shop_web.instance-a:admin":   "web-admin 127.0.0.1:31003 passing",
		"shop_web.instance-b:http":    "web-http 127.0.0.1:31004 passing",
		"shop_web.instance-b:metrics": "web-metrics 127.0.0.1:31005 passing",
		"shop_web.instance-b:admin":   "web-admin 127.0.0.1:31006 passing",
		"cache.instance-d:redis":      "cache 127.0.0.1:31010 passing",
	})

	f.setPods(podStatusOf(t, single, podInstance{id: "cache.instance-d", host: "127.0.0.1", status: "TASK_RUNNING", ports: map[string]int{"redis": 31010}, healthy: "false"}))
	f.publish(&marathon.PodEvent{URI: "/v2/pods/shop/web", EventMeta: marathon.Meta(marathon.EventPodDeleted, time.Now())})
	wantServices(t, client, "deleted pod deregistered, the unhealthy instance critical", map[string]string{
		"cache.instance-d:redis": "cache 127.0.0.1:31010 critical",
	})
}
