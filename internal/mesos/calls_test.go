package mesos_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/mesostest"
)

// Builders for the call tests.

func offers(ids ...string) []mesos.OfferID {
	var out []mesos.OfferID
	for _, id := range ids {
		out = append(out, mesos.OfferID{Value: id})
	}
	return out
}

func refuse(seconds float64) *mesos.Filters { return &mesos.Filters{RefuseSeconds: &seconds} }

func agent(id string) *mesos.AgentID { return &mesos.AgentID{Value: id} }

func str(s string) *string { return &s }

func uuid(t *testing.T, b64 string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func task(name, id, agentID string) mesos.TaskInfo {
	return mesos.TaskInfo{
		Name:    name,
		TaskID:  mesos.TaskID{Value: id},
		AgentID: mesos.AgentID{Value: agentID},
		Resources: []mesos.Resource{
			{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 0.1}},
			{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: 32}},
			{Name: "ports", Type: mesos.ValueRanges, Ranges: &mesos.Ranges{Range: []mesos.Range{{Begin: 31005, End: 31005}}}},
		},
		Command: &mesos.CommandInfo{Value: str("exec python3 -m http.server 31005")},
	}
}

// TestCallBodies checks each convenience call's JSON against the shapes of
// the scheduler API reference (section 3), with the framework id filled in.
func TestCallBodies(t *testing.T) {
	const fw = `"framework_id":{"value":"fake-framework-0000"}`
	tests := []struct {
		name string
		typ  mesos.CallType
		send func(context.Context, *mesos.Client) error
		want string
	}{
		{
			name: "launch",
			typ:  mesos.CallAccept,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Launch(ctx, offers("O8"), []mesos.TaskInfo{task("probe", "probe-task-1", "S0")}, refuse(5))
			},
			want: `{` + fw + `,"type":"ACCEPT","accept":{
				"offer_ids":[{"value":"O8"}],
				"operations":[{"type":"LAUNCH","launch":{"task_infos":[{
					"name":"probe","task_id":{"value":"probe-task-1"},"agent_id":{"value":"S0"},
					"resources":[
						{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},
						{"name":"mem","type":"SCALAR","scalar":{"value":32}},
						{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31005,"end":31005}]}}],
					"command":{"value":"exec python3 -m http.server 31005"}}]}}],
				"filters":{"refuse_seconds":5.0}}}`,
		},
		{
			name: "accept without operations",
			typ:  mesos.CallAccept,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Accept(ctx, mesos.Accept{OfferIDs: offers("O1", "O2")})
			},
			want: `{` + fw + `,"type":"ACCEPT","accept":{"offer_ids":[{"value":"O1"},{"value":"O2"}]}}`,
		},
		{
			name: "decline with filters",
			typ:  mesos.CallDecline,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Decline(ctx, offers("O1"), refuse(30))
			},
			want: `{` + fw + `,"type":"DECLINE","decline":{"offer_ids":[{"value":"O1"}],"filters":{"refuse_seconds":30}}}`,
		},
		{
			name: "decline without filters",
			typ:  mesos.CallDecline,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Decline(ctx, offers("O1"), nil)
			},
			want: `{` + fw + `,"type":"DECLINE","decline":{"offer_ids":[{"value":"O1"}]}}`,
		},
		{
			name: "revive roles",
			typ:  mesos.CallRevive,
			send: func(ctx context.Context, c *mesos.Client) error { return c.Revive(ctx, "myrole") },
			want: `{` + fw + `,"type":"REVIVE","revive":{"roles":["myrole"]}}`,
		},
		{
			name: "revive all roles",
			typ:  mesos.CallRevive,
			send: func(ctx context.Context, c *mesos.Client) error { return c.Revive(ctx) },
			want: `{` + fw + `,"type":"REVIVE"}`,
		},
		{
			name: "suppress roles",
			typ:  mesos.CallSuppress,
			send: func(ctx context.Context, c *mesos.Client) error { return c.Suppress(ctx, "myrole") },
			want: `{` + fw + `,"type":"SUPPRESS","suppress":{"roles":["myrole"]}}`,
		},
		{
			name: "suppress all roles",
			typ:  mesos.CallSuppress,
			send: func(ctx context.Context, c *mesos.Client) error { return c.Suppress(ctx) },
			want: `{` + fw + `,"type":"SUPPRESS"}`,
		},
		{
			name: "kill with policy",
			typ:  mesos.CallKill,
			send: func(ctx context.Context, c *mesos.Client) error {
				policy := &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: 5000000000}}
				return c.Kill(ctx, mesos.TaskID{Value: "t1"}, agent("S0"), policy)
			},
			want: `{` + fw + `,"type":"KILL","kill":{"task_id":{"value":"t1"},"agent_id":{"value":"S0"},
				"kill_policy":{"grace_period":{"nanoseconds":5000000000}}}}`,
		},
		{
			name: "kill unknown agent",
			typ:  mesos.CallKill,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Kill(ctx, mesos.TaskID{Value: "probe-task-1"}, nil, nil)
			},
			want: `{` + fw + `,"type":"KILL","kill":{"task_id":{"value":"probe-task-1"}}}`,
		},
		{
			name: "acknowledge",
			typ:  mesos.CallAcknowledge,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Acknowledge(ctx, mesos.TaskStatus{
					TaskID:  mesos.TaskID{Value: "probe-task-1"},
					State:   mesos.TaskRunning,
					Source:  mesos.SourceExecutor,
					AgentID: agent("S0"),
					UUID:    uuid(t, "Pwd1O1pZT2+aT7QlFL1+qw=="),
				})
			},
			want: `{` + fw + `,"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"S0"},
				"task_id":{"value":"probe-task-1"},"uuid":"Pwd1O1pZT2+aT7QlFL1+qw=="}}`,
		},
		{
			name: "explicit reconcile",
			typ:  mesos.CallReconcile,
			send: func(ctx context.Context, c *mesos.Client) error {
				return c.Reconcile(ctx, []mesos.ReconcileTask{
					{TaskID: mesos.TaskID{Value: "t1"}, AgentID: agent("S0")},
					{TaskID: mesos.TaskID{Value: "t2"}},
				})
			},
			want: `{` + fw + `,"type":"RECONCILE","reconcile":{"tasks":[
				{"task_id":{"value":"t1"},"agent_id":{"value":"S0"}},{"task_id":{"value":"t2"}}]}}`,
		},
		{
			name: "implicit reconcile",
			typ:  mesos.CallReconcile,
			send: func(ctx context.Context, c *mesos.Client) error { return c.Reconcile(ctx, nil) },
			want: `{` + fw + `,"type":"RECONCILE","reconcile":{}}`,
		},
		{
			name: "teardown",
			typ:  mesos.CallTeardown,
			send: func(ctx context.Context, c *mesos.Client) error { return c.Teardown(ctx) },
			want: `{` + fw + `,"type":"TEARDOWN"}`,
		},
	}

	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	r := run(t, c)
	r.expect(mesos.EventSubscribed)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.send(context.Background(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			checkJSON(t, m.NextCall(tc.typ).Body, tc.want)
		})
	}
}

func TestAcknowledgeRefusesStatusWithoutUUID(t *testing.T) {
	m := mesostest.NewMaster(t, mesostest.Config{})
	c := newClient(t, m.URL(), nil)
	r := run(t, c)
	r.expect(mesos.EventSubscribed)

	tests := []struct {
		name    string
		status  mesos.TaskStatus
		wantErr error
	}{
		{
			name: "reconciliation answer",
			status: mesos.TaskStatus{TaskID: mesos.TaskID{Value: "t1"}, State: mesos.TaskRunning,
				Source: mesos.SourceMaster, Reason: mesos.ReasonReconciliation, AgentID: agent("S0")},
			wantErr: mesos.ErrMissingUUID,
		},
		{
			name:   "no agent id",
			status: mesos.TaskStatus{TaskID: mesos.TaskID{Value: "t1"}, State: mesos.TaskLost, UUID: []byte("0123456789abcdef")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Acknowledge(context.Background(), tc.status)
			if err == nil {
				t.Fatal("Acknowledge succeeded, want a refusal")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Acknowledge = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if calls := m.Calls(mesos.CallAcknowledge); len(calls) != 0 {
		t.Fatalf("%d ACKNOWLEDGE calls reached the master, want none", len(calls))
	}
}

// TestMessageData checks that MESSAGE always carries data: Mesos answers a
// null (unset) data with 400 "Missing required fields: message.data".
func TestMessageData(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "nil", data: nil, want: `""`},
		{name: "empty", data: []byte{}, want: `""`},
		{name: "bytes", data: []byte("hi"), want: `"aGk="`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := mesos.Message{AgentID: mesos.AgentID{Value: "S0"}, ExecutorID: mesos.ExecutorID{Value: "e1"}, Data: tc.data}
			for _, v := range []any{msg, &msg, mesos.Call{Type: mesos.CallMessage, Message: &msg}} {
				got, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("marshal %T: %v", v, err)
				}
				if want := `"data":` + tc.want; !strings.Contains(string(got), want) {
					t.Errorf("%T encodes as %s, want %s", v, got, want)
				}
			}
		})
	}
}
