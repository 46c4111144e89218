package marathon

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTaskEnv(t *testing.T) {
	long := strings.Repeat("x", 600)
	tests := []struct {
		name      string
		body      string
		hostPorts []uint32
		prefix    string
		want      map[string]string
	}{
		{
			name:      "host networking with names and requested ports",
			body:      `{"id":"/prod/web","cmd":"x","cpus":0.5,"mem":64,"version":"2015-09-17T09:32:36.583Z","portDefinitions":[{"port":0,"name":"http"},{"port":10005}],"env":{"A":"1","S":{"secret":"s"}},"secrets":{"s":{"source":"consul:x"}},"labels":{"HAPROXY_GROUP":"ext","a.b-c":"v","big":"` + long + `"}}`,
			hostPorts: []uint32{31000, 31001},
			want: map[string]string{
				"MARATHON_APP_ID": "/prod/web", "MARATHON_APP_VERSION": "2015-09-17T09:32:36.583Z",
				"MARATHON_APP_RESOURCE_CPUS": "0.5", "MARATHON_APP_RESOURCE_MEM": "64.0", "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0",
				"MARATHON_APP_LABELS": "A_B_C HAPROXY_GROUP", "MARATHON_APP_LABEL_HAPROXY_GROUP": "ext", "MARATHON_APP_LABEL_A_B_C": "v",
				"PORT0": "31000", "PORT1": "31001", "PORT": "31000", "PORTS": "31000,31001",
				"PORT_HTTP": "31000", "PORT_31000": "31000", "PORT_10005": "31001",
				"HOST": "agent1", "A": "1",
			},
		},
		{
			name:      "prefix applies to ports and HOST only; user env wins",
			body:      `{"id":"/a","cmd":"x","version":"2015-09-17T09:32:36.583Z","portDefinitions":[{"port":0}],"env":{"MARATHON_APP_ID":"mine"}}`,
			hostPorts: []uint32{31000},
			prefix:    "APP_",
			want: map[string]string{
				"MARATHON_APP_ID": "mine", "MARATHON_APP_VERSION": "2015-09-17T09:32:36.583Z",
				"MARATHON_APP_RESOURCE_CPUS": "1.0", "MARATHON_APP_RESOURCE_MEM": "128.0", "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0",
				"MARATHON_APP_LABELS": "",
				"APP_PORT0":           "31000", "APP_PORT": "31000", "APP_PORTS": "31000", "APP_PORT_31000": "31000", "APP_HOST": "agent1",
			},
		},
		{
			name:      "docker bridge uses container ports",
			body:      `{"id":"/a","version":"2015-09-17T09:32:36.583Z","container":{"docker":{"image":"nginx:1","network":"BRIDGE","portMappings":[{"containerPort":80,"name":"web"}]}}}`,
			hostPorts: []uint32{31005},
			want: map[string]string{
				"MARATHON_APP_ID": "/a", "MARATHON_APP_VERSION": "2015-09-17T09:32:36.583Z", "MARATHON_APP_DOCKER_IMAGE": "nginx:1",
				"MARATHON_APP_RESOURCE_CPUS": "1.0", "MARATHON_APP_RESOURCE_MEM": "128.0", "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0",
				"MARATHON_APP_LABELS": "",
				"PORT0":               "31005", "PORT": "31005", "PORTS": "31005", "PORT_80": "31005", "PORT_WEB": "31005", "HOST": "agent1",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := mustApp(t, tc.body)
			got := TaskEnv(app, tc.hostPorts, "agent1", tc.prefix)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
