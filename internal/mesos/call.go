package mesos

import "encoding/json"

// Call is a scheduler call (mesos.v1.scheduler.Call). Exactly the sub-message
// named by Type is set; REVIVE, SUPPRESS and TEARDOWN may have none.
type Call struct {
	FrameworkID                *FrameworkID     `json:"framework_id,omitempty"`
	Type                       CallType         `json:"type"`
	Subscribe                  *Subscribe       `json:"subscribe,omitempty"`
	Accept                     *Accept          `json:"accept,omitempty"`
	Decline                    *Decline         `json:"decline,omitempty"`
	AcceptInverseOffers        json.RawMessage  `json:"accept_inverse_offers,omitempty"`
	DeclineInverseOffers       json.RawMessage  `json:"decline_inverse_offers,omitempty"`
	Revive                     *Revive          `json:"revive,omitempty"`
	Kill                       *Kill            `json:"kill,omitempty"`
	Shutdown                   *Shutdown        `json:"shutdown,omitempty"`
	Acknowledge                *Acknowledge     `json:"acknowledge,omitempty"`
	AcknowledgeOperationStatus json.RawMessage  `json:"acknowledge_operation_status,omitempty"`
	Reconcile                  *Reconcile       `json:"reconcile,omitempty"`
	ReconcileOperations        json.RawMessage  `json:"reconcile_operations,omitempty"`
	Message                    *Message         `json:"message,omitempty"`
	Request                    *Request         `json:"request,omitempty"`
	Suppress                   *Suppress        `json:"suppress,omitempty"`
	UpdateFramework            *UpdateFramework `json:"update_framework,omitempty"`
}

// Subscribe is the SUBSCRIBE call. On resubscription both Call.FrameworkID and
// FrameworkInfo.ID carry the framework id.
type Subscribe struct {
	FrameworkInfo    FrameworkInfo   `json:"framework_info"`
	SuppressedRoles  []string        `json:"suppressed_roles,omitempty"`
	OfferConstraints json.RawMessage `json:"offer_constraints,omitempty"`
}

// Accept is the ACCEPT call; all offers must come from one agent. What the
// operations do not use is declined with Filters.
type Accept struct {
	OfferIDs   []OfferID   `json:"offer_ids,omitempty"`
	Operations []Operation `json:"operations,omitempty"`
	Filters    *Filters    `json:"filters,omitempty"`
}

// Decline is the DECLINE call.
type Decline struct {
	OfferIDs []OfferID `json:"offer_ids,omitempty"`
	Filters  *Filters  `json:"filters,omitempty"`
}

// Revive is the REVIVE call; no roles means every subscribed role.
type Revive struct {
	Roles []string `json:"roles,omitempty"`
}

// Suppress is the SUPPRESS call; no roles means every subscribed role.
type Suppress struct {
	Roles []string `json:"roles,omitempty"`
}

// Kill is the KILL call. KillPolicy overrides the task's own for this kill.
type Kill struct {
	TaskID     TaskID      `json:"task_id"`
	AgentID    *AgentID    `json:"agent_id,omitempty"`
	KillPolicy *KillPolicy `json:"kill_policy,omitempty"`
}

// Shutdown is the SHUTDOWN call for custom executors.
type Shutdown struct {
	ExecutorID ExecutorID `json:"executor_id"`
	AgentID    AgentID    `json:"agent_id"`
}

// Acknowledge is the ACKNOWLEDGE call; UUID is the status's uuid verbatim.
type Acknowledge struct {
	AgentID AgentID `json:"agent_id"`
	TaskID  TaskID  `json:"task_id"`
	UUID    []byte  `json:"uuid"`
}

// Reconcile is the RECONCILE call; no tasks asks for implicit reconciliation.
type Reconcile struct {
	Tasks []ReconcileTask `json:"tasks,omitempty"`
}

// ReconcileTask names one task for explicit reconciliation.
type ReconcileTask struct {
	TaskID  TaskID   `json:"task_id"`
	AgentID *AgentID `json:"agent_id,omitempty"`
}

// Message is the framework message: the MESSAGE call and the MESSAGE event
// have the same shape.
type Message struct {
	AgentID    AgentID    `json:"agent_id"`
	ExecutorID ExecutorID `json:"executor_id"`
	// Data is required by Mesos; a nil Data is sent as "" (empty bytes),
	// since null would read as unset ("Missing required fields:
	// message.data").
	Data []byte `json:"data"`
}

// MarshalJSON encodes m with a nil Data as "" rather than null.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message // no MarshalJSON: no recursion
	if m.Data == nil {
		m.Data = []byte{}
	}
	return json.Marshal(plain(m))
}

// Request is the REQUEST call, ignored by Mesos's built-in allocator.
type Request struct {
	Requests []ResourceRequest `json:"requests,omitempty"`
}

// ResourceRequest is mesos.v1.Request.
type ResourceRequest struct {
	AgentID   *AgentID   `json:"agent_id,omitempty"`
	Resources []Resource `json:"resources,omitempty"`
}

// UpdateFramework is the UPDATE_FRAMEWORK call (Mesos 1.9+).
type UpdateFramework struct {
	FrameworkInfo    FrameworkInfo   `json:"framework_info"`
	SuppressedRoles  []string        `json:"suppressed_roles,omitempty"`
	OfferConstraints json.RawMessage `json:"offer_constraints,omitempty"`
}
