package marathon

import (
	"bytes"
	"encoding/json"
	"time"
)

// EventType is an SSE event name, equal to the payload's eventType.
type EventType string

// Event types of Marathon's event stream (core/event/Events.scala).
const (
	EventStatusUpdate              EventType = "status_update_event"
	EventHealthStatusChanged       EventType = "health_status_changed_event"
	EventInstanceHealthChanged     EventType = "instance_health_changed_event"
	EventFailedHealthCheck         EventType = "failed_health_check_event"
	EventAddHealthCheck            EventType = "add_health_check_event"
	EventRemoveHealthCheck         EventType = "remove_health_check_event"
	EventUnhealthyInstanceKill     EventType = "unhealthy_instance_kill_event"
	EventDeploymentInfo            EventType = "deployment_info"
	EventDeploymentSuccess         EventType = "deployment_success"
	EventDeploymentFailed          EventType = "deployment_failed"
	EventDeploymentStepSuccess     EventType = "deployment_step_success"
	EventDeploymentStepFailure     EventType = "deployment_step_failure"
	EventAPIPost                   EventType = "api_post_event"
	EventAppTerminated             EventType = "app_terminated_event"
	EventGroupChangeSuccess        EventType = "group_change_success"
	EventGroupChangeFailed         EventType = "group_change_failed"
	EventInstanceChanged           EventType = "instance_changed_event"
	EventUnknownInstanceTerminated EventType = "unknown_instance_terminated_event"
	EventSchedulerRegistered       EventType = "scheduler_registered_event"
	EventSchedulerReregistered     EventType = "scheduler_reregistered_event"
	EventSchedulerDisconnected     EventType = "scheduler_disconnected_event"
	EventStreamAttached            EventType = "event_stream_attached"
	EventStreamDetached            EventType = "event_stream_detached"
	EventPodCreated                EventType = "pod_created_event"
	EventPodUpdated                EventType = "pod_updated_event"
	EventPodDeleted                EventType = "pod_deleted_event"
)

// Event is a payload of the event stream.
type Event interface {
	// Type is the event's eventType and SSE event name.
	Type() EventType
}

// EventMeta is the eventType and timestamp every event carries.
type EventMeta struct {
	EventType EventType `json:"eventType"`
	Timestamp Timestamp `json:"timestamp"`
}

// Type implements Event.
func (m EventMeta) Type() EventType { return m.EventType }

// Meta returns the EventMeta of an event of type t at now.
func Meta(t EventType, now time.Time) EventMeta {
	return EventMeta{EventType: t, Timestamp: NewTimestamp(now)}
}

// StatusUpdateEvent reports a task status change.
type StatusUpdateEvent struct {
	SlaveID     string    `json:"slaveId"`
	TaskID      string    `json:"taskId"`
	TaskStatus  TaskState `json:"taskStatus"`
	Message     string    `json:"message"`
	AppID       PathID    `json:"appId"`
	Host        string    `json:"host"`
	IPAddresses []IPAddr  `json:"ipAddresses"`
	Ports       []uint32  `json:"ports"`
	Version     Timestamp `json:"version"`
	EventMeta
}

// HealthStatusChangedEvent reports a health change of an instance. Since
// 1.4 Marathon sends InstanceID; TaskID is added for older consumers.
type HealthStatusChangedEvent struct {
	AppID      PathID    `json:"appId"`
	InstanceID string    `json:"instanceId"`
	TaskID     string    `json:"taskId,omitempty"`
	Version    Timestamp `json:"version"`
	Alive      bool      `json:"alive"`
	EventMeta
}

// InstanceHealthChangedEvent reports the aggregated health of an instance.
type InstanceHealthChangedEvent struct {
	InstanceID     string    `json:"instanceId"`
	RunSpecID      PathID    `json:"runSpecId"`
	RunSpecVersion Timestamp `json:"runSpecVersion"`
	Healthy        *bool     `json:"healthy"`
	EventMeta
}

// FailedHealthCheckEvent reports one failed health check.
type FailedHealthCheckEvent struct {
	AppID       PathID      `json:"appId"`
	InstanceID  string      `json:"instanceId"`
	TaskID      string      `json:"taskId,omitempty"`
	HealthCheck HealthCheck `json:"healthCheck"`
	EventMeta
}

// HealthCheckEvent is add_health_check_event and remove_health_check_event.
type HealthCheckEvent struct {
	AppID       PathID       `json:"appId"`
	Version     Timestamp    `json:"version,omitzero"`
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	EventMeta
}

// UnhealthyInstanceKillEvent reports a kill for failed health checks.
type UnhealthyInstanceKillEvent struct {
	AppID      PathID    `json:"appId"`
	TaskID     string    `json:"taskId"`
	InstanceID string    `json:"instanceId"`
	Version    Timestamp `json:"version"`
	Reason     string    `json:"reason"`
	Host       string    `json:"host"`
	SlaveID    string    `json:"slaveId,omitempty"`
	EventMeta
}

// DeploymentPlan is the plan carried by deployment events. Original and
// Target are the heavy fields that plan-format=light drops (Light).
type DeploymentPlan struct {
	ID       string    `json:"id"`
	Original *Group    `json:"original,omitempty"`
	Target   *Group    `json:"target,omitempty"`
	Steps    []Step    `json:"steps"`
	Version  Timestamp `json:"version"`
}

// Light returns the plan without the original and target group trees.
func (p DeploymentPlan) Light() DeploymentPlan {
	p.Original, p.Target = nil, nil
	return p
}

// DeploymentInfoEvent is deployment_info, and deployment_step_success and
// deployment_step_failure with their own EventType.
type DeploymentInfoEvent struct {
	Plan        DeploymentPlan `json:"plan"`
	CurrentStep Step           `json:"currentStep"`
	EventMeta
}

// DeploymentStatusEvent is deployment_success and deployment_failed.
type DeploymentStatusEvent struct {
	ID     string         `json:"id"`
	Plan   DeploymentPlan `json:"plan"`
	Reason string         `json:"reason,omitempty"`
	EventMeta
}

// APIPostEvent reports an app change through the API.
type APIPostEvent struct {
	ClientIP      string `json:"clientIp"`
	URI           string `json:"uri"`
	AppDefinition App    `json:"appDefinition"`
	EventMeta
}

// AppTerminatedEvent reports that an app was removed.
type AppTerminatedEvent struct {
	AppID PathID `json:"appId"`
	EventMeta
}

// GroupChangeEvent is group_change_success and group_change_failed.
type GroupChangeEvent struct {
	GroupID PathID    `json:"groupId"`
	Version Timestamp `json:"version"`
	Reason  string    `json:"reason,omitempty"`
	EventMeta
}

// InstanceChangedEvent reports an instance condition change.
type InstanceChangedEvent struct {
	InstanceID     string    `json:"instanceId"`
	Condition      string    `json:"condition"`
	RunSpecID      PathID    `json:"runSpecId"`
	AgentID        string    `json:"agentId"`
	Host           string    `json:"host"`
	RunSpecVersion Timestamp `json:"runSpecVersion"`
	Goal           string    `json:"goal,omitempty"`
	EventMeta
}

// UnknownInstanceTerminatedEvent reports the end of an instance we did not
// know.
type UnknownInstanceTerminatedEvent struct {
	InstanceID string `json:"instanceId"`
	RunSpecID  PathID `json:"runSpecId"`
	Condition  string `json:"condition"`
	EventMeta
}

// SchedulerEvent is scheduler_registered_event,
// scheduler_reregistered_event and scheduler_disconnected_event.
type SchedulerEvent struct {
	FrameworkID string `json:"frameworkId,omitempty"`
	Master      string `json:"master,omitempty"`
	EventMeta
}

// StreamEvent is event_stream_attached and event_stream_detached.
type StreamEvent struct {
	RemoteAddress string `json:"remoteAddress"`
	EventMeta
}

// EncodeSSE renders e as one server-sent event:
//
//	event: <eventType>
//	data: <json>
//
// followed by a blank line.
func EncodeSSE(e Event) ([]byte, error) {
	data, err := marshalPlain(e)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(data) + 32)
	b.WriteString("event: ")
	b.WriteString(string(e.Type()))
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes(), nil
}

// DecodeEvent decodes an SSE data payload into its event type (client
// side). Unknown types come back as *RawEvent.
func DecodeEvent(data []byte) (Event, error) {
	var meta EventMeta
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, err
	}
	var e Event
	switch meta.EventType {
	case EventStatusUpdate:
		e = &StatusUpdateEvent{}
	case EventHealthStatusChanged:
		e = &HealthStatusChangedEvent{}
	case EventInstanceHealthChanged:
		e = &InstanceHealthChangedEvent{}
	case EventFailedHealthCheck:
		e = &FailedHealthCheckEvent{}
	case EventAddHealthCheck, EventRemoveHealthCheck:
		e = &HealthCheckEvent{}
	case EventUnhealthyInstanceKill:
		e = &UnhealthyInstanceKillEvent{}
	case EventDeploymentInfo, EventDeploymentStepSuccess, EventDeploymentStepFailure:
		e = &DeploymentInfoEvent{}
	case EventDeploymentSuccess, EventDeploymentFailed:
		e = &DeploymentStatusEvent{}
	case EventAPIPost:
		e = &APIPostEvent{}
	case EventAppTerminated:
		e = &AppTerminatedEvent{}
	case EventGroupChangeSuccess, EventGroupChangeFailed:
		e = &GroupChangeEvent{}
	case EventInstanceChanged:
		e = &InstanceChangedEvent{}
	case EventUnknownInstanceTerminated:
		e = &UnknownInstanceTerminatedEvent{}
	case EventSchedulerRegistered, EventSchedulerReregistered, EventSchedulerDisconnected:
		e = &SchedulerEvent{}
	case EventStreamAttached, EventStreamDetached:
		e = &StreamEvent{}
	case EventPodCreated, EventPodUpdated, EventPodDeleted:
		e = &PodEvent{}
	default:
		return &RawEvent{EventMeta: meta, Data: append(json.RawMessage(nil), data...)}, nil
	}
	if err := json.Unmarshal(data, e); err != nil {
		return nil, err
	}
	return e, nil
}

// RawEvent is an event of a type this package does not model.
type RawEvent struct {
	EventMeta
	Data json.RawMessage
}

// MarshalJSON writes the raw payload.
func (r RawEvent) MarshalJSON() ([]byte, error) { return r.Data, nil }
