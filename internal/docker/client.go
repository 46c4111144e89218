package docker

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
	"os"
	"strings"
)

// APIVersion is the Engine API version the client speaks; Docker 20.10
// and later serve it.
const APIVersion = "v1.41"

// DefaultHost is the engine's address when DOCKER_HOST is unset.
const DefaultHost = "unix:///var/run/docker.sock"

// HostFromEnv returns $DOCKER_HOST, else DefaultHost.
func HostFromEnv() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return DefaultHost
}

// ValidHost reports whether host is an address NewClient understands.
func ValidHost(host string) bool {
	return strings.HasPrefix(host, "unix://") || strings.HasPrefix(host, "tcp://")
}

// Client is a minimal Docker Engine API client over net/http.
type Client struct {
	hc   *http.Client
	base string // http://docker/v1.41
}

// NewClient returns a client of host, unix:///path or tcp://host:port.
func NewClient(host string) *Client {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	base := ""
	if sock, ok := strings.CutPrefix(host, "unix://"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		base = "http://docker/" + APIVersion
	} else {
		base = "http://" + strings.TrimPrefix(host, "tcp://") + "/" + APIVersion
	}
	return &Client{hc: &http.Client{Transport: tr}, base: base}
}

// Error is a non-2xx answer of the Docker Engine.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("docker: %d: %s", e.Code, e.Message)
}

// IsNotFound reports whether err is the engine's 404.
func IsNotFound(err error) bool {
	var de *Error
	return errors.As(err, &de) && de.Code == http.StatusNotFound
}

// Request sends a request and returns the response of a 2xx answer; the
// caller closes its body. in is JSON-encoded unless it is an io.Reader.
func (c *Client) Request(ctx context.Context, method, path string, query url.Values, in any) (*http.Response, error) {
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
		return nil, &Error{Code: resp.StatusCode, Message: msg.Message}
	}
	return resp, nil
}

// Do sends a request and decodes a JSON answer into out when out is not nil.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.Request(ctx, method, path, query, in)
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

// Progress reads a JSON message stream (image pull, build) and returns the
// first error it reports.
func Progress(r io.Reader) error {
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

// Demux splits the engine's multiplexed stdout/stderr stream (used when a
// container has no TTY): frames of an 8-byte header, stream type in byte 0
// and big-endian length in bytes 4-7, then the payload.
func Demux(r io.Reader, stdout, stderr io.Writer) error {
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

// Ping checks that the engine answers.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.Request(ctx, http.MethodGet, "/_ping", nil, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
