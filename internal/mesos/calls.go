package mesos

import (
	"context"
	"fmt"
)

// The convenience calls build one Call each and send it with Client.Call.
// Their JSON shapes are those of the Mesos scheduler API reference (section 3).

// Launch accepts offerIDs (all from one agent) with one LAUNCH operation
// running tasks; what the tasks leave unused is declined with filters.
func (c *Client) Launch(ctx context.Context, offerIDs []OfferID, tasks []TaskInfo, filters *Filters) error {
	return c.Accept(ctx, Accept{
		OfferIDs:   offerIDs,
		Operations: []Operation{{Type: OperationLaunch, Launch: &Launch{TaskInfos: tasks}}},
		Filters:    filters,
	})
}

// Accept sends ACCEPT.
func (c *Client) Accept(ctx context.Context, accept Accept) error {
	return c.Call(ctx, Call{Type: CallAccept, Accept: &accept})
}

// Decline declines offerIDs; filters.RefuseSeconds keeps them away for a
// while (the master's default is 5 s).
func (c *Client) Decline(ctx context.Context, offerIDs []OfferID, filters *Filters) error {
	return c.Call(ctx, Call{Type: CallDecline, Decline: &Decline{OfferIDs: offerIDs, Filters: filters}})
}

// Revive asks for offers again and clears every refuse filter, for roles or,
// with none, for every subscribed role.
func (c *Client) Revive(ctx context.Context, roles ...string) error {
	call := Call{Type: CallRevive}
	if len(roles) > 0 {
		call.Revive = &Revive{Roles: roles}
	}
	return c.Call(ctx, call)
}

// Suppress stops offers for roles or, with none, for every subscribed role.
// Status updates keep coming.
func (c *Client) Suppress(ctx context.Context, roles ...string) error {
	call := Call{Type: CallSuppress}
	if len(roles) > 0 {
		call.Suppress = &Suppress{Roles: roles}
	}
	return c.Call(ctx, call)
}

// Kill kills a task. agentID may be nil when unknown; policy, when set,
// overrides the task's own kill policy for this kill. The master answers an
// unknown task with a reconciliation update.
func (c *Client) Kill(ctx context.Context, taskID TaskID, agentID *AgentID, policy *KillPolicy) error {
	return c.Call(ctx, Call{Type: CallKill, Kill: &Kill{TaskID: taskID, AgentID: agentID, KillPolicy: policy}})
}

// Acknowledge acknowledges a status update. It refuses, without calling the
// master, a status that has no uuid (ErrMissingUUID) or no agent id: those
// must not be acknowledged.
func (c *Client) Acknowledge(ctx context.Context, status TaskStatus) error {
	if len(status.UUID) == 0 {
		return fmt.Errorf("acknowledge task %s: %w", status.TaskID.Value, ErrMissingUUID)
	}
	if status.AgentID == nil || status.AgentID.Value == "" {
		return fmt.Errorf("acknowledge task %s: status has no agent id", status.TaskID.Value)
	}
	return c.Call(ctx, Call{Type: CallAcknowledge, Acknowledge: &Acknowledge{
		AgentID: *status.AgentID,
		TaskID:  status.TaskID,
		UUID:    status.UUID,
	}})
}

// Reconcile asks for the latest state of tasks (explicit reconciliation) or,
// with none, of every task the master knows for the framework (implicit).
// The answers arrive as UPDATE events without uuid.
func (c *Client) Reconcile(ctx context.Context, tasks []ReconcileTask) error {
	return c.Call(ctx, Call{Type: CallReconcile, Reconcile: &Reconcile{Tasks: tasks}})
}

// Teardown removes the framework: the master kills all its tasks and closes
// the subscription. Run then gets an ERROR event or the end of the stream.
func (c *Client) Teardown(ctx context.Context) error {
	return c.Call(ctx, Call{Type: CallTeardown})
}
