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
	HTTPPort  int `json:"http_port"`
	HTTPSPort int `json:"https_port"`
}

// Leader is the body of GET /v2/leader: {"leader": "host:port"}.
type Leader struct {
	Leader string `json:"leader"`
}

// Message is a body made of a message only, such as DELETE /v2/leader's.
type Message struct {
	Message string `json:"message"`
}
