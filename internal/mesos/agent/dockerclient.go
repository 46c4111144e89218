package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// dockerAPIVersion is the Engine API version the agent speaks; Docker 20.10
// and later serve it.
const dockerAPIVersion = "v1.41"

// dockerClient is a minimal Docker Engine API client over net/http.
type dockerClient struct {
	hc   *http.Client
	base string // http://docker/v1.41
}

// newDockerClient returns a client of host, unix:///path or tcp://host:port.
func newDockerClient(host string) *dockerClient {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	base := ""
	if sock, ok := strings.CutPrefix(host, "unix://"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		base = "http://docker/" + dockerAPIVersion
	} else {
		base = "http://" + strings.TrimPrefix(host, "tcp://") + "/" + dockerAPIVersion
	}
	return &dockerClient{hc: &http.Client{Transport: tr}, base: base}
}

// DockerError is a non-2xx answer of the Docker Engine.
type DockerError struct {
	Code    int
	Message string
}

func (e *DockerError) Error() string {
	return fmt.Sprintf("docker: %d: %s", e.Code, e.Message)
}

// isNotFound reports whether err is the engine's 404.
func isNotFound(err error) bool {
	var de *DockerError
	return errors.As(err, &de) && de.Code == http.StatusNotFound
}

// request sends a request and returns the response of a 2xx answer; the
// caller closes its body. in is JSON-encoded unless it is an io.Reader.
func (c *dockerClient) request(ctx context.Context, method, path string, query url.Values, in any) (*http.Response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	contentType := ""
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body, contentType = v, "application/x-tar"
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode docker request: %w", err)
		}
		body, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var msg struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &msg) != nil || msg.Message == "" {
			msg.Message = strings.TrimSpace(string(data))
		}
		return nil, &DockerError{Code: resp.StatusCode, Message: msg.Message}
	}
	return resp, nil
}

// do sends a request and decodes a JSON answer into out when out is not nil.
func (c *dockerClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.request(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode docker %s %s answer: %w", method, path, err)
	}
	return nil
}

// progress reads a JSON message stream (image pull, build) and returns the
// first error it reports.
func progress(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read docker progress: %w", err)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		if m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
	}
}

// demux splits the engine's multiplexed stdout/stderr stream (used when a
// container has no TTY): frames of an 8-byte header, stream type in byte 0
// and big-endian length in bytes 4-7, then the payload.
func demux(r io.Reader, stdout, stderr io.Writer) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		w := stdout
		if hdr[0] == 2 {
			w = stderr
		}
		if _, err := io.CopyN(w, r, n); err != nil {
			return err
		}
	}
}
