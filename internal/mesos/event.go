package mesos

import "encoding/json"

// Event is a scheduler event (mesos.v1.scheduler.Event). The payload named by
// Type is set; HEARTBEAT has none.
type Event struct {
	Type                  EventType       `json:"type"`
	Subscribed            *Subscribed     `json:"subscribed,omitempty"`
	Offers                *Offers         `json:"offers,omitempty"`
	InverseOffers         json.RawMessage `json:"inverse_offers,omitempty"`
	Rescind               *Rescind        `json:"rescind,omitempty"`
	RescindInverseOffer   json.RawMessage `json:"rescind_inverse_offer,omitempty"`
	Update                *Update         `json:"update,omitempty"`
	UpdateOperationStatus json.RawMessage `json:"update_operation_status,omitempty"`
	Message               *Message        `json:"message,omitempty"`
	Failure               *Failure        `json:"failure,omitempty"`
	Error                 *ErrorEvent     `json:"error,omitempty"`
}

// Subscribed answers a successful SUBSCRIBE.
type Subscribed struct {
	FrameworkID              FrameworkID `json:"framework_id"`
	HeartbeatIntervalSeconds *float64    `json:"heartbeat_interval_seconds,omitempty"`
	MasterInfo               *MasterInfo `json:"master_info,omitempty"`
}

// Offers carries new offers (the payload is {"offers":[...]}).
type Offers struct {
	Offers []Offer `json:"offers,omitempty"`
}

// Rescind withdraws an offer.
type Rescind struct {
	OfferID OfferID `json:"offer_id"`
}

// Update carries a task status.
type Update struct {
	Status TaskStatus `json:"status"`
}

// Failure reports an executor that exited (both ids) or an agent that was
// removed (agent id only).
type Failure struct {
	AgentID    *AgentID    `json:"agent_id,omitempty"`
	ExecutorID *ExecutorID `json:"executor_id,omitempty"`
	Status     *int32      `json:"status,omitempty"`
}

// ErrorEvent is the ERROR event: the subscription was refused or the
// framework removed; the master closes the stream after it.
type ErrorEvent struct {
	Message string `json:"message"`
}
