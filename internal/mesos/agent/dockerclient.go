package agent

import (
	"context"
	"net/http"
	"net/url"

	"github.com/stadionhq/stadion/internal/docker"
)

// dockerClient is the agent's view of the shared Docker Engine client.
type dockerClient struct{ *docker.Client }

// DockerError is a non-2xx answer of the Docker Engine.
type DockerError = docker.Error

func newDockerClient(host string) *dockerClient { return &dockerClient{docker.NewClient(host)} }

func (c *dockerClient) request(ctx context.Context, method, path string, query url.Values, in any) (*http.Response, error) {
	return c.Request(ctx, method, path, query, in)
}

func (c *dockerClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.Do(ctx, method, path, query, in, out)
}

var (
	isNotFound = docker.IsNotFound
	progress   = docker.Progress
	demux      = docker.Demux
)
