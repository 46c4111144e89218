package mesos

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fixtures in testdata/wire are the call and event examples of the
// Mesos v1 scheduler API reference (sections 3, 4 and 7), most of them
// captured from a live master. Files named call_*.json decode into Call,
// event_*.json into Event.

const (
	fixtureFramework = "2edcfd4a-d2e6-40b8-899a-133331d69354-0006"
	fixtureAgent     = "2edcfd4a-d2e6-40b8-899a-133331d69354-S0"
)

func TestWireFixtures(t *testing.T) {
	tests := []struct {
		name  string // file name in testdata/wire without .json
		call  func(t *testing.T, c *Call)
		event func(t *testing.T, e *Event)
	}{
		{name: "call_subscribe", call: func(t *testing.T, c *Call) {
			wantFact(t, "type", c.Type, CallSubscribe)
			wantFact(t, "framework_id", c.FrameworkID, (*FrameworkID)(nil))
			fi := c.Subscribe.FrameworkInfo
			wantFact(t, "user", fi.User, "root")
			wantFact(t, "failover_timeout", *fi.FailoverTimeout, 3600.0)
			wantFact(t, "checkpoint", *fi.Checkpoint, true)
			wantFact(t, "roles", fi.Roles, []string{"*"})
			wantFact(t, "MULTI_ROLE", fi.HasCapability(CapabilityMultiRole), true)
			wantFact(t, "GPU_RESOURCES", fi.HasCapability(CapabilityGPUResources), false)
		}},
		{name: "call_subscribe_resubscribe", call: func(t *testing.T, c *Call) {
			wantFact(t, "framework_id", c.FrameworkID.Value, fixtureFramework)
			wantFact(t, "framework_info.id", *c.Subscribe.FrameworkInfo.ID, *c.FrameworkID)
			wantFact(t, "capabilities", len(c.Subscribe.FrameworkInfo.Capabilities), 8)
			wantFact(t, "labels", c.Subscribe.FrameworkInfo.Labels.Labels, []Label{{Key: "k", Value: "v"}})
			wantFact(t, "offer_filters set", len(c.Subscribe.FrameworkInfo.OfferFilters) > 0, true)
			wantFact(t, "offer_constraints set", len(c.Subscribe.OfferConstraints) > 0, true)
		}},
		{name: "event_subscribed", event: func(t *testing.T, e *Event) {
			wantFact(t, "type", e.Type, EventSubscribed)
			wantFact(t, "framework_id", e.Subscribed.FrameworkID.Value, fixtureFramework)
			wantFact(t, "heartbeat", *e.Subscribed.HeartbeatIntervalSeconds, 15.0)
			mi := e.Subscribed.MasterInfo
			wantFact(t, "packed ip", UnpackIP(mi.IP).String(), "127.0.0.1")
			wantFact(t, "endpoint", mi.Endpoint(), "127.0.0.1:5050")
			wantFact(t, "capabilities", mi.Capabilities, []Capability{
				{Type: MasterCapabilityAgentUpdate}, {Type: MasterCapabilityAgentDraining}, {Type: MasterCapabilityQuotaV2},
			})
		}},
		{name: "event_heartbeat", event: func(t *testing.T, e *Event) {
			wantFact(t, "event", *e, Event{Type: EventHeartbeat})
		}},
		{name: "event_offers", event: func(t *testing.T, e *Event) {
			wantFact(t, "offers", len(e.Offers.Offers), 1)
			o := e.Offers.Offers[0]
			wantFact(t, "offer id", o.ID.Value, "2edcfd4a-d2e6-40b8-899a-133331d69354-O8")
			wantFact(t, "agent id", o.AgentID.Value, fixtureAgent)
			wantFact(t, "url port", o.URL.Address.Port, int32(5051))
			wantFact(t, "resources", len(o.Resources), 4)
			res := Resources(o.Resources)
			wantFact(t, "ports", res.Ranges("ports"), []Range{{Begin: 31000, End: 32000}})
			wantFact(t, "cpus", res.Scalar("cpus"), 2.0)
			wantFact(t, "mem", res.Scalar("mem"), 23081.0)
			wantFact(t, "disk", res.Scalar("disk"), 252899.0)
			wantFact(t, "allocation role", o.AllocationInfo.Role, "*")
			wantFact(t, "resource allocation role", o.Resources[0].AllocationInfo.Role, "*")
			// Task resources come without a role (reference 7.3) and must
			// fit the offer's unreserved "*" resources.
			task := Resources{
				{Name: "cpus", Type: ValueScalar, Scalar: &Scalar{Value: 0.5}},
				{Name: "ports", Type: ValueRanges, Ranges: &Ranges{Range: []Range{{Begin: 31005, End: 31005}}}},
			}
			wantFact(t, "offer contains task", res.Contains(task), true)
			wantFact(t, "offer minus task", res.Minus(task).String(),
				"ports(*):[31000-31004, 31006-32000]; cpus(*):1.5; mem(*):23081; disk(*):252899")
		}},
		{name: "event_offers_full", event: func(t *testing.T, e *Event) {
			o := e.Offers.Offers[0]
			wantFact(t, "resources", Resources(o.Resources).String(),
				"cpus(*):4; mem(*):15023; disk(*):102400; ports(*):[31000-32000]; gpus(*):1; foo(*):{a, b}; cpus(myrole):1; mem(myrole):512")
			wantFact(t, "cpus over roles", Resources(o.Resources).Scalar("cpus"), 5.0)
			wantFact(t, "attributes", o.Attributes, []Attribute{
				{Name: "rack", Type: ValueText, Text: &Text{Value: "r1"}},
				{Name: "level", Type: ValueScalar, Scalar: &Scalar{Value: 2}},
			})
			wantFact(t, "executor ids", o.ExecutorIDs, []ExecutorID{{Value: "custom-executor-1"}})
			wantFact(t, "domain set", len(o.Domain) > 0, true)
			wantFact(t, "unavailability set", len(o.Unavailability) > 0, true)
		}},
		{name: "call_accept_docker", call: func(t *testing.T, c *Call) {
			wantFact(t, "type", c.Type, CallAccept)
			wantFact(t, "refuse", *c.Accept.Filters.RefuseSeconds, 5.0)
			wantFact(t, "operations", len(c.Accept.Operations), 1)
			op := c.Accept.Operations[0]
			wantFact(t, "op type", op.Type, OperationLaunch)
			task := op.Launch.TaskInfos[0]
			wantFact(t, "task id", task.TaskID.Value, "web.7c2b9a")
			wantFact(t, "shell", task.Command.IsShell(), false)
			wantFact(t, "command value", task.Command.Value, (*string)(nil))
			wantFact(t, "resources", Resources(task.Resources).String(), "cpus(*):0.5; mem(*):128; ports(*):[31005-31005]")
			d := task.Container.Docker
			wantFact(t, "container type", task.Container.Type, ContainerDocker)
			wantFact(t, "network", d.Network, NetworkBridge)
			wantFact(t, "port mappings", d.PortMappings, []PortMapping{{HostPort: 31005, ContainerPort: 80, Protocol: "tcp"}})
			wantFact(t, "force pull", *d.ForcePullImage, false)
			wantFact(t, "parameters", d.Parameters, []Parameter{{Key: "label", Value: "owner=go-docker-sched"}})
			hc := task.HealthCheck
			wantFact(t, "health type", hc.Type, HealthCheckHTTP)
			wantFact(t, "health http", *hc.HTTP, HTTPCheckInfo{Scheme: "http", Port: 80, Path: "/"})
			wantFact(t, "consecutive failures", *hc.ConsecutiveFailures, uint32(3))
			wantFact(t, "grace period seconds", *hc.GracePeriodSeconds, 30.0)
			wantFact(t, "kill grace", task.KillPolicy.GracePeriod.Nanoseconds, int64(10_000_000_000))
			wantFact(t, "discovery visibility", task.Discovery.Visibility, "EXTERNAL")
			wantFact(t, "discovery ports", task.Discovery.Ports.Ports, []Port{{Number: 31005, Name: "http", Protocol: "tcp"}})
		}},
		{name: "call_accept_command", call: func(t *testing.T, c *Call) {
			task := c.Accept.Operations[0].Launch.TaskInfos[0]
			wantFact(t, "shell", task.Command.IsShell(), true)
			wantFact(t, "value", *task.Command.Value, "exec python3 -m http.server 31005 --bind 127.0.0.1")
			wantFact(t, "health type", task.HealthCheck.Type, HealthCheckTCP)
			wantFact(t, "tcp port", task.HealthCheck.TCP.Port, uint32(31005))
			wantFact(t, "timeout unset", task.HealthCheck.TimeoutSeconds, (*float64)(nil))
		}},
		{name: "call_accept_mesos_container", call: func(t *testing.T, c *Call) {
			task := c.Accept.Operations[0].Launch.TaskInfos[0]
			vars := task.Command.Environment.Variables
			wantFact(t, "variables", len(vars), 3)
			wantFact(t, "plain value", *vars[0].Value, "hi")
			wantFact(t, "empty value kept", *vars[1].Value, "")
			wantFact(t, "secret has no value", vars[2].Value, (*string)(nil))
			wantFact(t, "secret set", len(vars[2].Secret) > 0, true)
			wantFact(t, "uri extract", *task.Command.URIs[0].Extract, true)
			wantFact(t, "container type", task.Container.Type, ContainerMesos)
			wantFact(t, "volume", task.Container.Volumes[0], Volume{ContainerPath: "/data", HostPath: "/srv/data", Mode: "RW"})
			wantFact(t, "network name", task.Container.NetworkInfos[0].Name, "cni-net")
			wantFact(t, "data", string(task.Data), "hello")
			wantFact(t, "max completion", task.MaxCompletionTime.Nanoseconds, int64(86_400_000_000_000))
			wantFact(t, "limits set", len(task.Limits) > 0, true)
			wantFact(t, "check set", len(task.Check) > 0, true)
		}},
		{name: "call_accept_launch_group", call: func(t *testing.T, c *Call) {
			op := c.Accept.Operations[0]
			wantFact(t, "op type", op.Type, OperationLaunchGroup)
			wantFact(t, "launch", op.Launch, (*Launch)(nil))
			wantFact(t, "launch group set", len(op.LaunchGroup) > 0, true)
		}},
		{name: "event_update_running", event: func(t *testing.T, e *Event) {
			s := e.Update.Status
			wantFact(t, "state", s.State, TaskRunning)
			wantFact(t, "source", s.Source, SourceExecutor)
			wantFact(t, "uuid", s.UUID, mustB64(t, "Pwd1O1pZT2+aT7QlFL1+qw=="))
			wantFact(t, "uuid length", len(s.UUID), 16)
			wantFact(t, "timestamp", s.Timestamp, 1795314161.899716)
			wantFact(t, "ip", s.ContainerStatus.NetworkInfos[0].IPAddresses[0], IPAddress{Protocol: "IPv4", IPAddress: "127.0.0.1"})
			wantFact(t, "executor pid", s.ContainerStatus.ExecutorPID, uint32(24674))
			wantFact(t, "healthy", s.Healthy, (*bool)(nil))
		}},
		{name: "call_acknowledge", call: func(t *testing.T, c *Call) {
			wantFact(t, "type", c.Type, CallAcknowledge)
			wantFact(t, "uuid", c.Acknowledge.UUID, mustB64(t, "Pwd1O1pZT2+aT7QlFL1+qw=="))
			wantFact(t, "uuid length", len(c.Acknowledge.UUID), 16)
			wantFact(t, "agent", c.Acknowledge.AgentID.Value, fixtureAgent)
			wantFact(t, "task", c.Acknowledge.TaskID.Value, "probe-task-1")
		}},
		{name: "event_update_healthy", event: func(t *testing.T, e *Event) {
			s := e.Update.Status
			wantFact(t, "healthy", *s.Healthy, true)
			wantFact(t, "reason", s.Reason, ReasonTaskHealthCheckStatusUpdated)
			wantFact(t, "uuid length", len(s.UUID), 16)
		}},
		{name: "event_update_reconciliation", event: func(t *testing.T, e *Event) {
			s := e.Update.Status
			wantFact(t, "uuid", s.UUID, []byte(nil))
			wantFact(t, "source", s.Source, SourceMaster)
			wantFact(t, "reason", s.Reason, ReasonReconciliation)
			wantFact(t, "executor id", s.ExecutorID, (*ExecutorID)(nil))
			wantFact(t, "message", s.Message, "Reconciliation: Latest task state")
		}},
		{name: "call_kill", call: func(t *testing.T, c *Call) {
			wantFact(t, "kill", *c.Kill, Kill{TaskID: TaskID{Value: "probe-task-1"}})
		}},
		{name: "event_update_killing", event: func(t *testing.T, e *Event) {
			wantFact(t, "state", e.Update.Status.State, TaskKilling)
			wantFact(t, "terminal", e.Update.Status.State.Terminal(), false)
		}},
		{name: "event_update_killed", event: func(t *testing.T, e *Event) {
			wantFact(t, "state", e.Update.Status.State, TaskKilled)
			wantFact(t, "terminal", e.Update.Status.State.Terminal(), true)
			wantFact(t, "message", e.Update.Status.Message, "Command terminated with signal Terminated")
		}},
		{name: "event_update_failed_docker", event: func(t *testing.T, e *Event) {
			s := e.Update.Status
			wantFact(t, "state", s.State, TaskFailed)
			wantFact(t, "source", s.Source, SourceAgent)
			wantFact(t, "reason", s.Reason, ReasonExecutorTerminated)
			wantFact(t, "uuid length", len(s.UUID), 16)
			wantFact(t, "container status", s.ContainerStatus, (*ContainerStatus)(nil))
		}},
		{name: "event_update_docker_running", event: func(t *testing.T, e *Event) {
			s := e.Update.Status
			wantFact(t, "data", string(s.Data), `[{"Id": "abc"}]`)
			wantFact(t, "ip", s.ContainerStatus.NetworkInfos[0].IPAddresses[0].IPAddress, "172.17.0.2")
			wantFact(t, "labels", s.Labels.Labels, []Label{{Key: "app", Value: "web"}})
		}},
		{name: "event_update_unreachable", event: func(t *testing.T, e *Event) {
			s := e.Update.Status
			wantFact(t, "state", s.State, TaskUnreachable)
			wantFact(t, "unreachable time", s.UnreachableTime.Nanoseconds, int64(1470820172046531840))
		}},
		{name: "call_decline", call: func(t *testing.T, c *Call) {
			wantFact(t, "decline", *c.Decline, Decline{
				OfferIDs: []OfferID{{Value: "2edcfd4a-d2e6-40b8-899a-133331d69354-O8"}},
				Filters:  &Filters{RefuseSeconds: ptrTo(30.0)},
			})
		}},
		{name: "call_revive", call: func(t *testing.T, c *Call) {
			wantFact(t, "revive", *c.Revive, Revive{Roles: []string{"myrole"}})
		}},
		{name: "call_revive_all", call: func(t *testing.T, c *Call) {
			wantFact(t, "call", *c, Call{FrameworkID: &FrameworkID{Value: fixtureFramework}, Type: CallRevive})
		}},
		{name: "call_suppress", call: func(t *testing.T, c *Call) {
			wantFact(t, "suppress", *c.Suppress, Suppress{Roles: []string{"myrole"}})
		}},
		{name: "call_kill_policy", call: func(t *testing.T, c *Call) {
			wantFact(t, "agent", c.Kill.AgentID.Value, fixtureAgent)
			wantFact(t, "grace", c.Kill.KillPolicy.GracePeriod.Nanoseconds, int64(5_000_000_000))
		}},
		{name: "call_shutdown", call: func(t *testing.T, c *Call) {
			wantFact(t, "shutdown", *c.Shutdown, Shutdown{ExecutorID: ExecutorID{Value: "e1"}, AgentID: AgentID{Value: fixtureAgent}})
		}},
		{name: "call_reconcile_explicit", call: func(t *testing.T, c *Call) {
			wantFact(t, "tasks", c.Reconcile.Tasks, []ReconcileTask{
				{TaskID: TaskID{Value: "t1"}, AgentID: &AgentID{Value: fixtureAgent}},
				{TaskID: TaskID{Value: "t2"}},
			})
		}},
		{name: "call_reconcile_implicit", call: func(t *testing.T, c *Call) {
			wantFact(t, "reconcile", c.Reconcile, &Reconcile{})
		}},
		{name: "call_message", call: func(t *testing.T, c *Call) {
			wantFact(t, "data", string(c.Message.Data), "hello")
			wantFact(t, "executor", c.Message.ExecutorID.Value, "e1")
		}},
		{name: "call_request", call: func(t *testing.T, c *Call) {
			wantFact(t, "requests", len(c.Request.Requests), 1)
			wantFact(t, "cpus", Resources(c.Request.Requests[0].Resources).Scalar("cpus"), 1.0)
		}},
		{name: "call_teardown", call: func(t *testing.T, c *Call) {
			wantFact(t, "call", *c, Call{FrameworkID: &FrameworkID{Value: fixtureFramework}, Type: CallTeardown})
		}},
		{name: "call_update_framework", call: func(t *testing.T, c *Call) {
			u := c.UpdateFramework
			wantFact(t, "id", u.FrameworkInfo.ID.Value, fixtureFramework)
			wantFact(t, "roles", u.FrameworkInfo.Roles, []string{"myrole", "other"})
			wantFact(t, "suppressed", u.SuppressedRoles, []string{"other"})
			wantFact(t, "constraints set", len(u.OfferConstraints) > 0, true)
		}},
		{name: "call_accept_inverse_offers", call: func(t *testing.T, c *Call) {
			wantFact(t, "type", c.Type, CallAcceptInverseOffers)
			wantFact(t, "payload set", len(c.AcceptInverseOffers) > 0, true)
		}},
		{name: "call_decline_inverse_offers", call: func(t *testing.T, c *Call) {
			wantFact(t, "type", c.Type, CallDeclineInverseOffers)
			wantFact(t, "payload set", len(c.DeclineInverseOffers) > 0, true)
		}},
		{name: "call_acknowledge_operation_status", call: func(t *testing.T, c *Call) {
			wantFact(t, "type", c.Type, CallAcknowledgeOperationStatus)
			wantFact(t, "payload set", len(c.AcknowledgeOperationStatus) > 0, true)
		}},
		{name: "event_rescind", event: func(t *testing.T, e *Event) {
			wantFact(t, "offer", e.Rescind.OfferID.Value, "2edcfd4a-d2e6-40b8-899a-133331d69354-O8")
		}},
		{name: "event_rescind_inverse_offer", event: func(t *testing.T, e *Event) {
			wantFact(t, "payload set", len(e.RescindInverseOffer) > 0, true)
		}},
		{name: "event_failure_executor", event: func(t *testing.T, e *Event) {
			wantFact(t, "failure", *e.Failure, Failure{
				AgentID:    &AgentID{Value: fixtureAgent},
				ExecutorID: &ExecutorID{Value: "e1"},
				Status:     ptrTo(int32(256)),
			})
		}},
		{name: "event_failure_agent", event: func(t *testing.T, e *Event) {
			wantFact(t, "failure", *e.Failure, Failure{AgentID: &AgentID{Value: fixtureAgent}})
		}},
		{name: "event_error", event: func(t *testing.T, e *Event) {
			wantFact(t, "message", e.Error.Message, "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable")
		}},
		{name: "event_message", event: func(t *testing.T, e *Event) {
			wantFact(t, "message", *e.Message, Message{
				AgentID:    AgentID{Value: fixtureAgent},
				ExecutorID: ExecutorID{Value: "e1"},
				Data:       []byte("hello"),
			})
		}},
		{name: "event_update_operation_status", event: func(t *testing.T, e *Event) {
			wantFact(t, "payload set", len(e.UpdateOperationStatus) > 0, true)
		}},
		{name: "event_inverse_offers", event: func(t *testing.T, e *Event) {
			wantFact(t, "payload set", len(e.InverseOffers) > 0, true)
		}},
	}

	files, err := filepath.Glob(filepath.Join("testdata", "wire", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, tc := range tests {
		listed[tc.name] = true
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !listed[name] {
			t.Errorf("fixture %s has no test case", f)
		}
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "wire", tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			switch {
			case strings.HasPrefix(tc.name, "call_"):
				var c Call
				decodeStrict(t, data, &c)
				if tc.call != nil {
					tc.call(t, &c)
				}
				out = mustMarshal(t, c)
			case strings.HasPrefix(tc.name, "event_"):
				var e Event
				decodeStrict(t, data, &e)
				if tc.event != nil {
					tc.event(t, &e)
				}
				out = mustMarshal(t, e)
			default:
				t.Fatalf("fixture %s is neither call_ nor event_", tc.name)
			}
			if diff := cmp.Diff(genericJSON(t, data), genericJSON(t, out), cmp.Comparer(numbersEqual)); diff != "" {
				t.Errorf("round trip changed the document (-fixture +encoded):\n%s\nencoded: %s", diff, out)
			}
		})
	}
}

func TestNumbersEqual(t *testing.T) {
	tests := []struct {
		name  string
		x, y  json.Number
		equal bool
	}{
		{name: "double with trailing zero", x: "15.0", y: "15", equal: true},
		{name: "exponent", x: "1e3", y: "1000", equal: true},
		{name: "int64 exact", x: "1470820172046531840", y: "1470820172046531840", equal: true},
		{name: "int64 off by one", x: "1470820172046531841", y: "1470820172046531840", equal: false},
		{name: "int64 through float64", x: "1470820172046531840", y: "1470820172046531800", equal: false},
		{name: "double shortest form", x: "0.30000000000000000", y: "0.3", equal: true},
		{name: "different doubles", x: "0.5", y: "0.25", equal: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := numbersEqual(tc.x, tc.y); got != tc.equal {
				t.Fatalf("numbersEqual(%s, %s) = %t, want %t", tc.x, tc.y, got, tc.equal)
			}
		})
	}
}

// decodeStrict decodes one JSON document into v, failing on any field v's
// type lacks and on trailing data.
func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("trailing data after the document (err %v)", err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return out
}

// genericJSON parses data into maps, slices and json.Numbers, and drops
// object members that are null or empty arrays: in Mesos's JSON mapping both
// mean "not set", and Mesos itself omits empty repeated fields.
func genericJSON(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("parse %s: %v", data, err)
	}
	return dropUnset(v)
}

func dropUnset(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, member := range v {
			if arr, ok := member.([]any); member == nil || ok && len(arr) == 0 {
				delete(v, k)
				continue
			}
			v[k] = dropUnset(member)
		}
	case []any:
		for i := range v {
			v[i] = dropUnset(v[i])
		}
	}
	return v
}

// numbersEqual compares JSON numbers by value. Integers compare exactly (so
// a 64-bit value that went through a float64 shows up); when either side is
// written as a decimal fraction or with an exponent the field is a double,
// and the two are equal when they denote the same float64.
func numbersEqual(x, y json.Number) bool {
	rx, okx := new(big.Rat).SetString(string(x))
	ry, oky := new(big.Rat).SetString(string(y))
	if okx && oky && rx.Cmp(ry) == 0 {
		return true
	}
	if isIntegerLiteral(x) && isIntegerLiteral(y) {
		return false
	}
	fx, errx := x.Float64()
	fy, erry := y.Float64()
	return errx == nil && erry == nil && fx == fy
}

func isIntegerLiteral(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

// wantFact reports a mismatch of one typed fact of a fixture.
func wantFact[T any](t *testing.T, what string, got, wantV T) {
	t.Helper()
	if diff := cmp.Diff(wantV, got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptrTo[T any](v T) *T { return &v }
