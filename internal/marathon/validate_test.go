package marathon

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string][]string
	}{
		{name: "minimal valid", body: `{"id":"/a","cmd":"x"}`},
		{name: "args only", body: `{"id":"/a","args":["x"]}`},
		{name: "image only", body: `{"id":"/a","container":{"docker":{"image":"nginx"}}}`},
		{name: "reserved id suffix", body: `{"id":"/a/tasks","cmd":"x"}`,
			want: map[string][]string{"/id": {"must not end with any of the following reserved keywords: restart, tasks, versions, ., .."}}},
		{name: "bad id", body: `{"id":"/A","cmd":"x"}`,
			want: map[string][]string{"/id": {"must fully match regular expression '" + segmentPattern + "'"}}},
		{name: "no command", body: `{"id":"/a"}`, want: map[string][]string{"/": {msgCmdArgsContainer}}},
		{name: "cmd and args", body: `{"id":"/a","cmd":"x","args":["y"]}`, want: map[string][]string{"/": {msgCmdArgsContainer}}},
		{name: "resources", body: `{"id":"/a","cmd":"x","cpus":0,"mem":-1,"disk":-1,"gpus":-1,"instances":-1,"backoffSeconds":-1,"backoffFactor":0.5,"maxLaunchDelaySeconds":-1,"taskKillGracePeriodSeconds":-1}`,
			want: map[string][]string{
				"/cpus": {"is less than 0.001"}, "/mem": {"is less than 0"}, "/disk": {"is less than 0"}, "/gpus": {"is less than 0"},
				"/instances": {"is less than 0"}, "/backoffSeconds": {"is less than 0"}, "/backoffFactor": {"is less than 1"},
				"/maxLaunchDelaySeconds": {"is less than 0"}, "/taskKillGracePeriodSeconds": {"is less than 0"},
			}},
		{name: "upgrade strategy", body: `{"id":"/a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1.5,"maximumOverCapacity":-0.1}}`,
			want: map[string][]string{
				"/upgradeStrategy/minimumHealthCapacity": {"is greater than 1"},
				"/upgradeStrategy/maximumOverCapacity":   {"is less than 0"},
			}},
		{name: "constraints", body: `{"id":"/a","cmd":"x","constraints":[
				["hostname","UNIQUE"],["hostname","UNIQUE","x"],["rack","CLUSTER"],["rack","GROUP_BY"],["rack","GROUP_BY","a"],
				["rack","MAX_PER"],["rack","MAX_PER","2"],["rack","LIKE"],["rack","LIKE","("],["rack","UNLIKE","r[0-9]"],
				["rack","IS"],["rack","IS","a"],["rack","NEAR","a"],["rack"],["","UNIQUE"],["a","UNIQUE","",""]]}`,
			want: map[string][]string{
				"/constraints(1)":  {"Value specified but not used"},
				"/constraints(2)":  {"Missing value"},
				"/constraints(4)":  {"Value was specified but is not a number"},
				"/constraints(5)":  {"Value was not specified or is not a number"},
				"/constraints(7)":  {"A regular expression value must be provided"},
				"/constraints(8)":  {"'(' is not a valid regular expression"},
				"/constraints(10)": {"Missing value"},
				"/constraints(12)": {msgOperators},
				"/constraints(13)": {msgConstraintArity},
				"/constraints(14)": {"Missing field and operator"},
				"/constraints(15)": {msgConstraintArity},
			}},
		{name: "old fixture UNIQUE with empty value", body: `{"id":"/a","cmd":"x","constraints":[["hostname","UNIQUE",""]]}`},
		{name: "health checks", body: `{"id":"/a","cmd":"x","portDefinitions":[{"port":0},{"port":0}],"healthChecks":[
				{"protocol":"HTTP","portIndex":2},
				{"protocol":"TCP","port":80,"portIndex":0},
				{"protocol":"COMMAND"},
				{"protocol":"MESOS_HTTP","path":"health"},
				{"protocol":"MESOS_TCP","intervalSeconds":-1},
				{"protocol":"HTTP","ipProtocol":"IPv6"}]}`,
			want: map[string][]string{
				"/healthChecks(0)":                 {msgPortIndex},
				"/healthChecks(1)":                 {"Health check must not specify both port and portIndex"},
				"/healthChecks(2)/command":         {"not defined"},
				"/healthChecks(3)/path":            {"must start with '/'"},
				"/healthChecks(4)/intervalSeconds": {"is less than 0"},
				"/healthChecks(5)":                 {msgIPv6Check},
				"/":                                {msgOneMesosCheck},
			}},
		{name: "health check without ports", body: `{"id":"/a","cmd":"x","portDefinitions":[],"healthChecks":[{"protocol":"HTTP"}]}`,
			want: map[string][]string{"/healthChecks(0)": {msgPortIndex}}},
		{name: "duplicate port names and ports", body: `{"id":"/a","cmd":"x","portDefinitions":[{"port":80,"name":"http"},{"port":80,"name":"http"},{"port":0},{"port":0},{"port":70000,"protocol":"sctp"}]}`,
			want: map[string][]string{
				"/portDefinitions":             {msgPortNamesUnique, msgPortsUnique},
				"/portDefinitions(4)/port":     {"is greater than 65535"},
				"/portDefinitions(4)/protocol": {"is not one of (tcp,udp,udp,tcp)"},
			}},
		{name: "duplicate mapping names", body: `{"id":"/a","networks":[{"mode":"container/bridge"}],"container":{"docker":{"image":"i"},"portMappings":[{"name":"a"},{"name":"a"}]}}`,
			want: map[string][]string{"/container/portMappings": {msgPortNamesUnique}}},
		{name: "readiness", body: `{"id":"/a","cmd":"x","portDefinitions":[{"name":"http"}],"readinessChecks":[{"portName":"web","timeoutSeconds":30,"intervalSeconds":30},{"portName":"http"}]}`,
			want: map[string][]string{
				"/readinessChecks":                   {"is greater than 1"},
				"/readinessChecks(0)/portName":       {"No port definition reference for portName web"},
				"/readinessChecks(0)/timeoutSeconds": {"must be less than intervalSeconds"},
			}},
		{name: "dependencies", body: `{"id":"/a","cmd":"x","dependencies":["/B"]}`,
			want: map[string][]string{"/dependencies(0)": {"must fully match regular expression '" + segmentPattern + "'"}}},
		{name: "unreachable order", body: `{"id":"/a","cmd":"x","unreachableStrategy":{"inactiveAfterSeconds":10,"expungeAfterSeconds":5}}`,
			want: map[string][]string{"/unreachableStrategy": {msgUnreachableOrder}}},
		{name: "unreachable disabled", body: `{"id":"/a","cmd":"x","unreachableStrategy":"disabled"}`},
		{name: "secret source without a kind", body: `{"id":"/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"pw":{"source":"/db/password"}}}`,
			want: map[string][]string{"/secrets/pw/source": {"must be consul:<key in Consul KV> or file:<path under --secrets_dir>"}}},
		{name: "secret file escaping the directory", body: `{"id":"/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"pw":{"source":"file:../etc/shadow"}}}`,
			want: map[string][]string{"/secrets/pw/source": {"file: needs a relative path that stays under --secrets_dir"}}},
		{name: "secret absolute file", body: `{"id":"/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"pw":{"source":"file:/etc/shadow"}}}`,
			want: map[string][]string{"/secrets/pw/source": {"file: needs a relative path that stays under --secrets_dir"}}},
		{name: "secret consul folder", body: `{"id":"/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"pw":{"source":"consul:db/"}}}`,
			want: map[string][]string{"/secrets/pw/source": {"consul: needs a key, not a folder"}}},
		{name: "env secret must exist", body: `{"id":"/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"other":{"source":"consul:x"}}}`,
			want: map[string][]string{"/env/P": {"references an undefined secret named 'pw'"}}},
		{name: "docker image empty", body: `{"id":"/a","container":{"docker":{"image":""}}}`,
			want: map[string][]string{"/container/docker/image": {"must not be empty"}}},
		{name: "docker container without docker", body: `{"id":"/a","cmd":"x","container":{"type":"DOCKER"}}`,
			want: map[string][]string{"/container/docker": {"not defined"}}},
		{name: "gpus with docker", body: `{"id":"/a","gpus":1,"container":{"docker":{"image":"i"}}}`,
			want: map[string][]string{"/": {msgGPUFeature, msgGPUDocker}}},
		{name: "gpus need a feature Stadion has not", body: `{"id":"/a","cmd":"x","gpus":1}`,
			want: map[string][]string{"/": {msgGPUFeature}}},
		{name: "persistent volume", body: `{"id":"/a","cmd":"x","container":{"type":"MESOS","volumes":[{"containerPath":"data","mode":"RW","persistent":{"size":10}}]}}`,
			want: map[string][]string{"/container/volumes(0)/persistent": {msgPersistentVolume}}},
		{name: "secret volume", body: `{"id":"/a","cmd":"x","secrets":{"pw":{"source":"consul:db/pw"}},"container":{"type":"MESOS","volumes":[{"containerPath":"pw","secret":"pw"}]}}`,
			want: map[string][]string{"/container/volumes(0)/secret": {msgSecretVolume}}},
		{name: "external volume", body: `{"id":"/a","cmd":"x","container":{"type":"MESOS","volumes":[{"containerPath":"data","mode":"RW","external":{"name":"v","provider":"dvdi"}}]}}`,
			want: map[string][]string{"/container/volumes(0)/external": {msgExternalVolume}}},
		{name: "host network mixed", body: `{"id":"/a","cmd":"x","networks":[{"mode":"host"},{"mode":"container","name":"a"}],"container":{"type":"MESOS"}}`,
			want: map[string][]string{"/networks": {msgHostNetworkMixed}}},
		{name: "single instance label", body: `{"id":"/a","cmd":"x","instances":2,"labels":{"MARATHON_SINGLE_INSTANCE_APP":"true"}}`,
			want: map[string][]string{"/": {msgSingleInstance}}},
		{name: "empty accepted roles", body: `{"id":"/a","cmd":"x","acceptedResourceRoles":[]}`,
			want: map[string][]string{"/acceptedResourceRoles": {"must not be empty"}}},
		{name: "volume", body: `{"id":"/a","container":{"docker":{"image":"i"},"volumes":[{"hostPath":"/x","mode":"RW"}]}}`,
			want: map[string][]string{"/container/volumes(0)/containerPath": {"must not be empty"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeApp([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			n, err := Normalize(a, NormalizeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, details(t, Validate(n))); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateGoBuiltApp(t *testing.T) {
	a := App{ID: "/a", Cmd: "x", Cpus: 1, BackoffFactor: 1, KillSelection: "RANDOM"}
	want := map[string][]string{"/killSelection": {"is not one of (YOUNGEST_FIRST,OLDEST_FIRST)"}}
	if diff := cmp.Diff(want, details(t, Validate(a))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAdmitJoinsNormalizeAndValidate(t *testing.T) {
	_, err := ParseApp([]byte(`{"id":"/a","uris":["http://a"],"fetch":[{"uri":"http://b"}]}`), NormalizeOptions{})
	status, _ := errBody(t, err)
	if status != 422 {
		t.Errorf("status = %d", status)
	}
	want := map[string][]string{"/uris": {"may not be set in conjunction with fetch"}, "/": {msgCmdArgsContainer}}
	if diff := cmp.Diff(want, details(t, err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAdmitMarathonRules: the checks that Marathon makes before or outside
// its validators: cmd's RAML minLength, ids ending in "." or ".." as sent,
// fetch URI syntax.
func TestAdmitMarathonRules(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		want   map[string][]string
	}{
		{name: "empty cmd", body: `{"id":"/a","cmd":""}`, status: 422,
			want: map[string][]string{"/cmd": {"error.minLength"}}},
		{name: "empty cmd beside args", body: `{"id":"/a","cmd":"","args":["x"]}`, status: 422,
			want: map[string][]string{"/cmd": {"error.minLength"}}},
		{name: "id ending in dot", body: `{"id":"/a/.","cmd":"x"}`, status: 422,
			want: map[string][]string{"/id": {msgReserved}}},
		{name: "id dot", body: `{"id":".","cmd":"x"}`, status: 422,
			want: map[string][]string{"/id": {msgReserved, "must not be root"}}},
		{name: "id ending in dot dot", body: `{"id":"/a/b/..","cmd":"x"}`, status: 422,
			want: map[string][]string{"/id": {msgReserved}}},
		{name: "dots inside are resolved", body: `{"id":"/a/./b/../c","cmd":"x"}`},
		{name: "fetch uri syntax", body: `{"id":"/a","cmd":"x","fetch":[{"uri":"http://h/ok"},{"uri":"http://h/a b"}]}`, status: 422,
			want: map[string][]string{"/fetch(1)/uri": {msgURISyntax}}},
		{name: "legacy uris", body: `{"id":"/a","cmd":"x","uris":["http://h/%zz"]}`, status: 422,
			want: map[string][]string{"/fetch(0)/uri": {msgURISyntax}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseApp([]byte(tc.body), NormalizeOptions{})
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("ParseApp: %v", err)
				}
				return
			}
			var e *Error
			if err == nil || !errors.As(err, &e) || e.Status != tc.status {
				t.Fatalf("ParseApp: %v, want status %d", err, tc.status)
			}
			if diff := cmp.Diff(tc.want, details(t, err)); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}
