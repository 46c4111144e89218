package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// ContainerSummary is one entry of GET /containers/json.
type ContainerSummary struct {
	ID     string            `json:"Id"`
	Names  []string          `json:"Names"`
	Image  string            `json:"Image"`
	State  string            `json:"State"`
	Labels map[string]string `json:"Labels"`
}

// Container is what GET /containers/{id}/json tells of a container, the
// fields a registrator needs.
type Container struct {
	ID              string          `json:"Id"`
	Name            string          `json:"Name"`
	Config          ContainerConfig `json:"Config"`
	HostConfig      HostConfig      `json:"HostConfig"`
	NetworkSettings NetworkSettings `json:"NetworkSettings"`
	State           State           `json:"State"`
}

// ContainerConfig is the container's configuration.
type ContainerConfig struct {
	Hostname     string              `json:"Hostname"`
	Image        string              `json:"Image"`
	Env          []string            `json:"Env"`
	Labels       map[string]string   `json:"Labels"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	StopSignal   string              `json:"StopSignal"`
	StopTimeout  *int                `json:"StopTimeout"`
}

// HostConfig is the container's host configuration.
type HostConfig struct {
	NetworkMode string `json:"NetworkMode"`
}

// NetworkSettings are the container's networks and published ports.
type NetworkSettings struct {
	IPAddress string `json:"IPAddress"`
	// Ports maps "80/tcp" to its host bindings; an exposed port that is
	// not published maps to none.
	Ports    map[string][]PortBinding   `json:"Ports"`
	Networks map[string]EndpointSetting `json:"Networks"`
}

// PortBinding is one host binding of a container port.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// EndpointSetting is the container's endpoint on one network.
type EndpointSetting struct {
	IPAddress string `json:"IPAddress"`
}

// State is the container's run state.
type State struct {
	Status     string  `json:"Status"`
	Running    bool    `json:"Running"`
	Paused     bool    `json:"Paused"`
	Restarting bool    `json:"Restarting"`
	ExitCode   int     `json:"ExitCode"`
	Health     *Health `json:"Health"`
}

// Health is the state of the container's HEALTHCHECK.
type Health struct {
	// Status is "starting", "healthy" or "unhealthy".
	Status string      `json:"Status"`
	Log    []HealthLog `json:"Log"`
}

// HealthLog is one run of the HEALTHCHECK.
type HealthLog struct {
	ExitCode int    `json:"ExitCode"`
	Output   string `json:"Output"`
}

// Health statuses.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// Containers lists the running containers, or all of them.
func (c *Client) Containers(ctx context.Context, all bool) ([]ContainerSummary, error) {
	var out []ContainerSummary
	q := url.Values{"all": {strconv.FormatBool(all)}}
	if err := c.Do(ctx, http.MethodGet, "/containers/json", q, nil, &out); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return out, nil
}

// Inspect returns a container; IsNotFound tells a container that is gone.
func (c *Client) Inspect(ctx context.Context, id string) (Container, error) {
	var out Container
	if err := c.Do(ctx, http.MethodGet, "/containers/"+url.PathEscape(id)+"/json", nil, nil, &out); err != nil {
		return Container{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	return out, nil
}

// Event is one message of GET /events.
type Event struct {
	Type   string `json:"Type"`
	Action string `json:"Action"`
	Actor  struct {
		ID         string            `json:"ID"`
		Attributes map[string]string `json:"Attributes"`
	} `json:"Actor"`
	TimeNano int64 `json:"timeNano"`
}

// Events follows the event stream with the given filters ({"type":
// ["container"]}), calling connected once the engine accepted it and fn
// for every event, until ctx ends or the stream fails. It returns
// ctx.Err() or the stream's error (io.EOF when the engine closed it).
func (c *Client) Events(ctx context.Context, filters map[string][]string, connected func(), fn func(Event)) error {
	f, err := json.Marshal(filters)
	if err != nil {
		return fmt.Errorf("encode event filters: %w", err)
	}
	resp, err := c.Request(ctx, http.MethodGet, "/events", url.Values{"filters": {string(f)}}, nil)
	if err != nil {
		return fmt.Errorf("follow events: %w", err)
	}
	defer resp.Body.Close()
	connected()
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var e Event
		if err := dec.Decode(&e); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return fmt.Errorf("read events: %w", err)
		}
		fn(e)
	}
}
