package marathon

// PodEvent is pod_created_event, pod_updated_event and pod_deleted_event,
// published by POST, PUT and DELETE /v2/pods (core/event/Events.scala
// PodEvent): the client's address and the request URI, like
// api_post_event, without the definition.
type PodEvent struct {
	ClientIP string `json:"clientIp"`
	URI      string `json:"uri"`
	EventMeta
}
