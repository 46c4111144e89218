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
