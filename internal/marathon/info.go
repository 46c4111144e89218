package marathon

// Info is the body of GET /v2/info. MarathonConfig carries the scheduler
// flags under Marathon's names; keys Stadion does not have are left out.
type Info struct {
	Name            string         `json:"name"`
	Version         string         `json:"version"`
	Buildref        string         `json:"buildref"`
	Elected         bool           `json:"elected"`
	Leader          string         `json:"leader"`
	FrameworkID     string         `json:"frameworkId,omitempty"`
	MarathonConfig  map[string]any `json:"marathon_config"`
	ZookeeperConfig map[string]any `json:"zookeeper_config"`
	HTTPConfig      HTTPConfig     `json:"http_config"`
	// EventSubscriber is the pre-1.5 key of the HTTP callback
	// subscribers, null as Marathon wrote it without --event_subscriber:
	// Stadion has only the event stream.
	EventSubscriber *EventSubscriber `json:"event_subscriber"`
	// Store is Stadion's own: whether the state store takes writes.
	Store *StoreInfo `json:"store,omitempty"`
}

// StoreInfo is info.store, Stadion's addition to /v2/info: while a write of
// the state store fails, changes are refused with 503.
type StoreInfo struct {
	Writable      bool      `json:"writable"`
	Error         string    `json:"error,omitempty"`
	FailingSince  Timestamp `json:"failingSince,omitzero"`
	WriteFailures uint64    `json:"writeFailures"`
}

// HTTPConfig is info.http_config.
type HTTPConfig struct {
	// AssetsPath is the pre-1.5 --assets_path, null: the UI is not served.
	AssetsPath *string `json:"assets_path"`
	HTTPPort   int     `json:"http_port"`
	HTTPSPort  int     `json:"https_port"`
}

// EventSubscriber is info.event_subscriber of Marathon before 1.5.
type EventSubscriber struct {
	Type          string   `json:"type"`
	HTTPEndpoints []string `json:"http_endpoints,omitempty"`
}

// Leader is the body of GET /v2/leader: {"leader": "host:port"}.
type Leader struct {
	Leader string `json:"leader"`
}

// Message is a body made of a message only, such as DELETE /v2/leader's.
type Message struct {
	Message string `json:"message"`
}
