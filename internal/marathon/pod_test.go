package marathon

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// podBody builds a pod body around containers and extra top-level fields.
func podBody(extra string, containers ...string) string {
	if len(containers) == 0 {
		containers = []string{`{"name":"c"}`}
	}
	b := `{"id":"/p","containers":[` + strings.Join(containers, ",") + `]`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

func mustPod(t *testing.T, body string) Pod {
	t.Helper()
	p, err := ParsePod([]byte(body), NormalizeOptions{})
	if err != nil {
		t.Fatalf("ParsePod(%s): %v", body, err)
	}
	return p
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(encode(t, v), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPodDefaults checks the echo of a minimal pod: every default of the
// RAML and PodNormalization, and every collection written.
func TestPodDefaults(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "minimal",
			body: podBody(""),
			want: `{"id":"/p","labels":{},"environment":{},"secrets":{},"volumes":[],"networks":[],
				"containers":[{"name":"c","resources":{"cpus":1,"mem":128,"disk":0,"gpus":0},"endpoints":[],"environment":{},"volumeMounts":[],"artifacts":[],"labels":{}}],
				"scaling":{"kind":"fixed","instances":1},
				"scheduling":{"backoff":{"backoff":1,"backoffFactor":1.15,"maxLaunchDelay":300},"upgrade":{"minimumHealthCapacity":1,"maximumOverCapacity":1},
					"placement":{"constraints":[],"acceptedResourceRoles":[]},"killSelection":"YOUNGEST_FIRST","unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}},
				"executorResources":{"cpus":0.1,"mem":32,"disk":10},"role":"*"}`,
		},
		{
			name: "host endpoint gets hostPort 0, health check defaults",
			body: podBody(`"networks":[{"mode":"host"}]`,
				`{"name":"web","endpoints":[{"name":"http"}],"healthCheck":{"http":{"endpoint":"http","path":"/"}}}`),
			want: `{"id":"/p","labels":{},"environment":{},"secrets":{},"volumes":[],"networks":[{"mode":"host","labels":{}}],
				"containers":[{"name":"web","resources":{"cpus":1,"mem":128,"disk":0,"gpus":0},"endpoints":[{"name":"http","hostPort":0,"labels":{}}],"environment":{},
					"healthCheck":{"http":{"endpoint":"http","path":"/","scheme":"HTTP"},"gracePeriodSeconds":300,"intervalSeconds":60,"maxConsecutiveFailures":3,"timeoutSeconds":20,"delaySeconds":15},
					"volumeMounts":[],"artifacts":[],"labels":{}}],
				"scaling":{"kind":"fixed","instances":1},
				"scheduling":{"backoff":{"backoff":1,"backoffFactor":1.15,"maxLaunchDelay":300},"upgrade":{"minimumHealthCapacity":1,"maximumOverCapacity":1},
					"placement":{"constraints":[],"acceptedResourceRoles":[]},"killSelection":"YOUNGEST_FIRST","unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}},
				"executorResources":{"cpus":0.1,"mem":32,"disk":10},"role":"*"}`,
		},
		{
			name: "resident pod gets resident scheduling",
			body: podBody(`"volumes":[{"name":"data","persistent":{"size":10}}]`,
				`{"name":"c","volumeMounts":[{"name":"data","mountPath":"data"}]}`),
			want: `{"id":"/p","labels":{},"environment":{},"secrets":{},"volumes":[{"name":"data","persistent":{"size":10}}],"networks":[],
				"containers":[{"name":"c","resources":{"cpus":1,"mem":128,"disk":0,"gpus":0},"endpoints":[],"environment":{},"volumeMounts":[{"name":"data","mountPath":"data"}],"artifacts":[],"labels":{}}],
				"scaling":{"kind":"fixed","instances":1},
				"scheduling":{"backoff":{"backoff":1,"backoffFactor":1.15,"maxLaunchDelay":300},"upgrade":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0},
					"placement":{"constraints":[],"acceptedResourceRoles":[]},"killSelection":"YOUNGEST_FIRST","unreachableStrategy":"disabled"},
				"executorResources":{"cpus":0.1,"mem":32,"disk":10},"role":"*"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := asMap(t, mustPod(t, tc.body))
			var want map[string]any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("echo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPodExample decodes Marathon's pods.raml example and echoes every
// field with the value it had, except scaling.maxInstances, which Marathon
// removed from the schema (its readers ignore it, as ours do).
func TestPodExample(t *testing.T) {
	data := readExample(t, "pod.json")
	p, err := DecodePod(data)
	if err != nil {
		t.Fatal(err)
	}
	p = NormalizePod(p, NormalizeOptions{})
	var want, got any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(encode(t, p), &got); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	compareLeaves("", want, got, &diffs)
	if d := strings.Join(diffs, "\n"); d != "/scaling/maxInstances: absent" {
		t.Errorf("echo differs from the example:\n%s", d)
	}
}

// compareLeaves reports every value of want that got lacks or has changed.
func compareLeaves(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, v := range w {
			e, ok := g[k]
			if !ok {
				*diffs = append(*diffs, path+"/"+k+": absent")
				continue
			}
			compareLeaves(path+"/"+k, v, e, diffs)
		}
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			*diffs = append(*diffs, path+": length differs")
			return
		}
		for i := range w {
			compareLeaves(path+"[]", w[i], g[i], diffs)
		}
	default:
		if !cmp.Equal(want, got) {
			*diffs = append(*diffs, path+": differs")
		}
	}
}

// TestPodExampleAdmission: the example's health check has timeoutSeconds
// 20 and intervalSeconds 2, which Marathon's PodsValidation rejects
// (timeoutSeconds should be < intervalSeconds); so does Stadion, with no
// other complaint.
func TestPodExampleAdmission(t *testing.T) {
	_, err := ParsePod(readExample(t, "pod.json"), NormalizeOptions{})
	want := []Detail{{Path: "/containers(0)/healthCheck/timeoutSeconds", Errors: []string{"got 20, expected less than 2"}}}
	var e *Error
	if !errors.As(err, &e) || e.Status != 422 {
		t.Fatalf("err = %v, want a 422", err)
	}
	if diff := cmp.Diff(want, e.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

// TestPodValidation checks Marathon's messages for invalid pods.
func TestPodValidation(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Detail
	}{
		{name: "relative id", body: `{"id":"p","containers":[{"name":"c"}]}`,
			want: []Detail{{Path: "/id", Errors: []string{"Path needs to be absolute"}}}},
		{name: "reserved id", body: `{"id":"/a/versions","containers":[{"name":"c"}]}`,
			want: []Detail{{Path: "/id", Errors: []string{msgReserved}}}},
		{name: "no containers", body: `{"id":"/p","containers":[]}`,
			want: []Detail{{Path: "/containers", Errors: []string{msgNotEmpty}}}},
		{name: "duplicate container names", body: podBody("", `{"name":"c"}`, `{"name":"c"}`),
			want: []Detail{{Path: "/containers", Errors: []string{msgContainerNamesUnique}}}},
		{name: "bad container name", body: podBody("", `{"name":"C_1"}`),
			want: []Detail{{Path: "/containers(0)/name", Errors: []string{"must fully match regular expression '" + namePattern + "'"}}}},
		{name: "negative resources", body: podBody("", `{"name":"c","resources":{"cpus":-1,"mem":-2,"disk":-3,"gpus":-1}}`),
			want: []Detail{
				{Path: "/containers(0)/resources/cpus", Errors: []string{"is less than 0"}},
				{Path: "/containers(0)/resources/disk", Errors: []string{"is less than 0"}},
				{Path: "/containers(0)/resources/gpus", Errors: []string{"is less than 0"}},
				{Path: "/containers(0)/resources/mem", Errors: []string{"is less than 0"}},
			}},
		{name: "resource limit below request", body: podBody("", `{"name":"c","resources":{"cpus":1,"mem":128},"resourceLimits":{"cpus":0.5,"mem":"unlimited"}}`),
			want: []Detail{{Path: "/containers(0)/resourceLimits/cpus", Errors: []string{"resource limit must be greater than or equal to requested resource (1.0)"}}}},
		{name: "limits with legacy cgroups", body: podBody(`"legacySharedCgroups":true`, `{"name":"c","resourceLimits":{"cpus":"unlimited"}}`),
			want: []Detail{{Path: "/containers(0)/resourceLimits", Errors: []string{msgLimitsLegacyCgroups}}}},
		{name: "duplicate endpoint names", body: podBody(`"networks":[{"mode":"host"}]`,
			`{"name":"a","endpoints":[{"name":"e"}]}`, `{"name":"b","endpoints":[{"name":"e"}]}`),
			want: []Detail{{Path: "/", Errors: []string{msgEndpointNamesUnique}}}},
		{name: "duplicate ports", body: podBody(`"networks":[{"mode":"container/bridge"}]`,
			`{"name":"a","endpoints":[{"name":"e1","containerPort":80,"hostPort":8080}]}`,
			`{"name":"b","endpoints":[{"name":"e2","containerPort":80,"hostPort":8080}]}`),
			want: []Detail{{Path: "/", Errors: []string{msgContainerPortsUnique, msgHostPortsUnique}}}},
		{name: "containerPort in host mode", body: podBody(`"networks":[{"mode":"host"}]`, `{"name":"a","endpoints":[{"name":"e","containerPort":80}]}`),
			want: []Detail{{Path: "/containers(0)/endpoints(0)/containerPort", Errors: []string{msgContainerPortHost}}}},
		{name: "containerPort missing in container mode", body: podBody(`"networks":[{"name":"n1"}]`, `{"name":"a","endpoints":[{"name":"e"}]}`),
			want: []Detail{{Path: "/containers(0)/endpoints(0)/containerPort", Errors: []string{msgContainerPortRequired}}}},
		{name: "hostPort with two container networks", body: podBody(`"networks":[{"name":"n1"},{"name":"n2"}]`,
			`{"name":"a","endpoints":[{"name":"e","containerPort":80,"hostPort":0}]}`),
			want: []Detail{{Path: "/containers(0)/endpoints(0)", Errors: []string{msgNetworkNameSingle}}}},
		{name: "undeclared network name", body: podBody(`"networks":[{"name":"n1"}]`,
			`{"name":"a","endpoints":[{"name":"e","containerPort":80,"networkNames":["n2"]}]}`),
			want: []Detail{{Path: "/containers(0)/endpoints(0)/networkNames(0)", Errors: []string{"is not one of (n1)"}}}},
		{name: "duplicate protocols", body: podBody(`"networks":[{"mode":"host"}]`, `{"name":"a","endpoints":[{"name":"e","protocol":["tcp","tcp"]}]}`),
			want: []Detail{{Path: "/containers(0)/endpoints(0)/protocol", Errors: []string{msgDuplicateProtocols}}}},
		{name: "named host network", body: podBody(`"networks":[{"mode":"host","name":"x"}]`),
			want: []Detail{{Path: "/networks", Errors: []string{msgHostNetworkNamed}}}},
		{name: "named bridge network", body: podBody(`"networks":[{"mode":"container/bridge","name":"x"}]`),
			want: []Detail{{Path: "/networks", Errors: []string{msgBridgeNetworkNamed}}}},
		{name: "host and bridge", body: podBody(`"networks":[{"mode":"host"},{"mode":"container/bridge"}]`),
			want: []Detail{{Path: "/networks", Errors: []string{msgNetworkCombination}}}},
		{name: "duplicate container networks", body: podBody(`"networks":[{"name":"n"},{"name":"n"}]`),
			want: []Detail{{Path: "/networks", Errors: []string{msgDuplicateNetworks}}}},
		{name: "unnamed container network without default", body: podBody(`"networks":[{"mode":"container"}]`),
			want: []Detail{{Path: "/networks", Errors: []string{msgNetworkNameRequired}}}},
		{name: "two health check kinds", body: podBody(`"networks":[{"mode":"host"}]`,
			`{"name":"a","endpoints":[{"name":"e"}],"healthCheck":{"http":{"endpoint":"e"},"tcp":{"endpoint":"e"}}}`),
			want: []Detail{{Path: "/containers(0)/healthCheck", Errors: []string{msgOneHealthCheckKind}}}},
		{name: "health check on unknown endpoint", body: podBody("", `{"name":"a","healthCheck":{"tcp":{"endpoint":"x"}}}`),
			want: []Detail{{Path: "/containers(0)/healthCheck/tcp/endpoint", Errors: []string{msgInContainerEndpoints}}}},
		{name: "volume unmounted and mount of unknown volume", body: podBody(`"volumes":[{"name":"v"}]`,
			`{"name":"a","volumeMounts":[{"name":"w","mountPath":"/w"}]}`),
			want: []Detail{
				{Path: "/containers(0)/volumeMounts(0)/name", Errors: []string{msgVolumeMountMissing}},
				{Path: "/volumes(0)", Errors: []string{msgVolumeUnreferenced}},
			}},
		{name: "duplicate volumes", body: podBody(`"volumes":[{"name":"v"},{"name":"v"}]`, `{"name":"a","volumeMounts":[{"name":"v","mountPath":"/v"}]}`),
			want: []Detail{{Path: "/volumes", Errors: []string{msgVolumeNamesUnique}}}},
		{name: "secret volume without secret", body: podBody(`"volumes":[{"name":"v","secret":"s"}]`, `{"name":"a","volumeMounts":[{"name":"v","mountPath":"/v"}]}`),
			want: []Detail{{Path: "/volumes(0)/secret", Errors: []string{msgSecretVolume}}}},
		{name: "pullConfig without secret", body: podBody("", `{"name":"a","image":{"kind":"DOCKER","id":"i","pullConfig":{"secret":"s"}}}`),
			want: []Detail{{Path: "/containers(0)/image/pullConfig", Errors: []string{msgPullConfigSecret}}}},
		{name: "shell and argv", body: podBody("", `{"name":"a","exec":{"command":{"shell":"x","argv":["y"]}}}`),
			want: []Detail{{Path: "/containers(0)/exec/command", Errors: []string{msgShellOrArgv}}}},
		{name: "not fixed scaling", body: podBody(`"scaling":{"kind":"auto","instances":-1}`),
			want: []Detail{{Path: "/scaling", Errors: []string{msgNotFixedScaling}}, {Path: "/scaling/instances", Errors: []string{"is less than 0"}}}},
		{name: "constraints", body: podBody(`"scheduling":{"placement":{"constraints":[
				{"fieldName":"hostname","operator":"UNIQUE","value":"x"},
				{"fieldName":"hostname","operator":"MAX_PER","value":"a"},
				{"fieldName":"hostname","operator":"LIKE"},
				{"fieldName":"","operator":"CLUSTER"},
				{"fieldName":"rack","operator":"GROUP_BY","value":"z"},
				{"fieldName":"rack","operator":"IS","value":"[1-2]"},
				{"fieldName":"rack","operator":"NEAR"}]}}`),
			want: []Detail{
				{Path: "/scheduling/placement/constraints(0)", Errors: []string{msgUniqueNoValue}},
				{Path: "/scheduling/placement/constraints(1)", Errors: []string{msgMaxPerInt}},
				{Path: "/scheduling/placement/constraints(2)", Errors: []string{msgLikeRegexp}},
				{Path: "/scheduling/placement/constraints(3)", Errors: []string{msgConstraintField}},
				{Path: "/scheduling/placement/constraints(4)", Errors: []string{msgGroupByInt}},
				{Path: "/scheduling/placement/constraints(5)", Errors: []string{msgIsText}},
				{Path: "/scheduling/placement/constraints(6)/operator", Errors: []string{msgConstraintOperator}},
			}},
		{name: "accepted roles", body: podBody(`"role":"*","scheduling":{"placement":{"acceptedResourceRoles":["*","other"]}}`),
			want: []Detail{{Path: "/scheduling/placement/acceptedResourceRoles", Errors: []string{"acceptedResourceRoles can only contain *"}}}},
		{name: "scheduling bounds", body: podBody(`"scheduling":{"backoff":{"backoff":-1},"upgrade":{"minimumHealthCapacity":2,"maximumOverCapacity":-0.5},"unreachableStrategy":{"inactiveAfterSeconds":10,"expungeAfterSeconds":5}}`),
			want: []Detail{
				{Path: "/scheduling/backoff/backoff", Errors: []string{"is less than 0"}},
				{Path: "/scheduling/unreachableStrategy", Errors: []string{msgUnreachableOrder}},
				{Path: "/scheduling/upgrade/maximumOverCapacity", Errors: []string{"is less than 0"}},
				{Path: "/scheduling/upgrade/minimumHealthCapacity", Errors: []string{"is greater than 1"}},
			}},
		{name: "resident pod with unreachable strategy and over capacity", body: podBody(`"volumes":[{"name":"d","persistent":{"size":1}}],"scheduling":{"upgrade":{"maximumOverCapacity":0.5},"unreachableStrategy":{"inactiveAfterSeconds":1,"expungeAfterSeconds":2}}`,
			`{"name":"c","volumeMounts":[{"name":"d","mountPath":"d"}]}`),
			want: []Detail{
				{Path: "/", Errors: []string{msgResidentUnreachable}},
				{Path: "/upgrade/maximumOverCapacity", Errors: []string{"got 0.5, expected 0.0"}},
			}},
		{name: "executor resources below the RAML minimums", body: podBody(`"executorResources":{"cpus":0.05,"mem":16,"disk":1}`),
			want: []Detail{
				{Path: "/executorResources/cpus", Errors: []string{"is less than 0.1"}},
				{Path: "/executorResources/disk", Errors: []string{"is less than 10"}},
				{Path: "/executorResources/mem", Errors: []string{"is less than 32"}},
			}},
		{name: "undefined env secret", body: podBody(`"environment":{"A":{"secret":"s"}}`),
			want: []Detail{{Path: "/environment/A", Errors: []string{"references an undefined secret named 's'"}}}},
		{name: "too many containers", body: podBody("", strings.Split(strings.Repeat(`{"name":"c"};`, MaxPodContainers+1), ";")[:MaxPodContainers+1]...),
			want: []Detail{{Path: "/containers", Errors: []string{msgPodContainers, msgContainerNamesUnique}}}},
		{name: "task id over Mesos limit", body: `{"id":"/` + strings.Repeat("a", 150) + `","containers":[{"name":"` + strings.Repeat("c", 63) + `"}]}`,
			want: []Detail{{Path: "/containers(0)/name", Errors: []string{msgPodTaskID}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePod([]byte(tc.body), NormalizeOptions{})
			var e *Error
			if !errors.As(err, &e) || e.Status != 422 {
				t.Fatalf("err = %v, want a 422", err)
			}
			if diff := cmp.Diff(tc.want, e.Details); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodePodTypes checks the Play codes of type errors in pod bodies.
func TestDecodePodTypes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Detail
	}{
		{name: "missing id and containers", body: `{}`, want: []Detail{
			{Path: "/containers", Errors: []string{codeMissing}},
			{Path: "/id", Errors: []string{codeMissing}},
		}},
		{name: "wrong types", body: `{"id":"/p","containers":[{"name":1,"resources":{"cpus":"x"},"resourceLimits":{"mem":"lots"}}],"scaling":{"instances":1.5}}`, want: []Detail{
			{Path: "/containers(0)/name", Errors: []string{codeString}},
			{Path: "/containers(0)/resourceLimits/mem", Errors: []string{codeEnum}},
			{Path: "/containers(0)/resources/cpus", Errors: []string{codeNumber}},
			{Path: "/scaling/instances", Errors: []string{codeInt}},
		}},
		{name: "bad enums", body: `{"id":"/p","containers":[{"name":"c"}],"networks":[{"mode":"overlay"}],"scheduling":{"killSelection":"RANDOM"}}`, want: []Detail{
			{Path: "/networks(0)/mode", Errors: []string{codeEnum}},
			{Path: "/scheduling/killSelection", Errors: []string{codeEnum}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePod([]byte(tc.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if diff := cmp.Diff(tc.want, e.Details); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPodRoundTrip: the echo of an admitted pod decodes to the same pod.
func TestPodRoundTrip(t *testing.T) {
	body := podBody(`"networks":[{"mode":"container/bridge"}],"labels":{"a":"b"},"user":"nobody",
		"volumes":[{"name":"shared"},{"name":"h","host":"/tmp"}],"secrets":{"s":{"source":"consul:x"}},
		"scheduling":{"killSelection":"OLDEST_FIRST","unreachableStrategy":"disabled","placement":{"constraints":[{"fieldName":"hostname","operator":"UNIQUE"}]}},
		"linuxInfo":{"ipcInfo":{"mode":"PRIVATE","shmSize":64}}`,
		`{"name":"web","exec":{"command":{"argv":["/bin/server","-p","80"]},"overrideEntrypoint":true},"image":{"kind":"DOCKER","id":"web:1","forcePull":true},
			"endpoints":[{"name":"http","containerPort":80,"protocol":["tcp"]}],"volumeMounts":[{"name":"shared","mountPath":"/s","readOnly":true}],
			"healthCheck":{"http":{"endpoint":"http","path":"/health"},"intervalSeconds":5,"timeoutSeconds":2},"lifecycle":{"killGracePeriodSeconds":2.5},
			"resourceLimits":{"cpus":"unlimited","mem":256},"artifacts":[{"uri":"http://x/a.tgz"}],"environment":{"P":{"secret":"s"}}}`,
		`{"name":"side","exec":{"command":{"shell":"sleep 1"}},"volumeMounts":[{"name":"shared","mountPath":"/s"},{"name":"h","mountPath":"/h"}],"tty":true}`)
	p := mustPod(t, body)
	back := mustPod(t, string(encode(t, p)))
	if diff := cmp.Diff(asMap(t, p), asMap(t, back)); diff != "" {
		t.Errorf("decode(encode(pod)) differs (-want +got):\n%s", diff)
	}
	if got := *p.Containers[0].Endpoints[0].HostPort; got != 0 {
		t.Errorf("bridge endpoint hostPort = %d, want 0", got)
	}
	if !p.IsBridgeNetworking() || p.IsHostNetworking() {
		t.Errorf("networking: bridge %v host %v", p.IsBridgeNetworking(), p.IsHostNetworking())
	}
}
