package mesos

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotSubscribed is returned by Call while there is no live
	// subscription: before the first SUBSCRIBED and between a lost stream and
	// the next SUBSCRIBED.
	ErrNotSubscribed = errors.New("mesos: not subscribed")

	// ErrHeartbeatTimeout ends a subscription on which no record arrived for
	// MissedHeartbeats heartbeat intervals; Run then resubscribes.
	ErrHeartbeatTimeout = errors.New("mesos: heartbeat timeout")

	// ErrTooManyRedirects is returned when a request was redirected more
	// than maxRedirects times without reaching a master that answers it.
	ErrTooManyRedirects = errors.New("mesos: too many redirects")

	// ErrMissingUUID is returned by Acknowledge for a status without a uuid;
	// such statuses (reconciliation answers, master-generated updates) must
	// not be acknowledged.
	ErrMissingUUID = errors.New("mesos: status has no uuid")
)

// APIError is a non-success HTTP answer of the master to a call.
type APIError struct {
	// Code is the HTTP status code, such as 400 or 503.
	Code int
	// Body is the answer's body, plain text on a Mesos master, trimmed.
	Body string
	// Call is the type of the call that was refused.
	Call CallType
}

func (e *APIError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("mesos: %s answered %d %s", e.Call, e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("mesos: %s answered %d %s: %s", e.Call, e.Code, http.StatusText(e.Code), e.Body)
}

// FrameworkError carries the message of an ERROR event: the master refused
// the subscription or removed the framework. Run returns it and does not
// resubscribe; whether to start over is the caller's decision.
type FrameworkError struct {
	Message string
}

func (e *FrameworkError) Error() string {
	return "mesos: framework error: " + e.Message
}
