package deployer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/stadionhq/stadion/internal/zk"
)

// DefaultMarathonPort is where the original script looked for Marathon:
// on the leading Mesos master's host, port 8080.
const DefaultMarathonPort = "8080"

// ErrNoFramework is returned by MarathonFromState when no active framework
// of the name gives a web UI URL.
var ErrNoFramework = errors.New("no active framework of that name with a webui_url")

// ResolveConfig configures ResolveMarathon.
type ResolveConfig struct {
	// ZK is the Mesos masters' ZooKeeper URL, zk://host:port[,host:port]/mesos;
	// required.
	ZK string
	// FrameworkName is the name Marathon registers with; default "marathon".
	FrameworkName string
	// Timeout bounds the whole lookup; default 30s.
	Timeout time.Duration
	// HTTP reads the master's state; nil means a client with Timeout.
	HTTP *http.Client
	// Logger receives the detector's logs and the fallback warning; nil
	// discards them.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c ResolveConfig) Validate() error {
	if _, _, err := zk.ParseURL(c.ZK); err != nil {
		return fmt.Errorf("resolve marathon: %w", err)
	}
	if c.Timeout < 0 {
		return errors.New("resolve marathon: timeout must not be negative")
	}
	return nil
}

// ResolveMarathon finds Marathon's URL from the leading Mesos master in
// ZooKeeper, as the original did with mesos-resolve: it reads the
// leader's /master/state and takes the webui_url of the active framework
// named cfg.FrameworkName (Marathon and Stadion register their API URL
// there); when there is none it falls back to the original's guess,
// http://<leader host>:8080.
func ResolveMarathon(ctx context.Context, cfg ResolveConfig) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	if cfg.FrameworkName == "" {
		cfg.FrameworkName = "marathon"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: cfg.Timeout}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	servers, path, _ := zk.ParseURL(cfg.ZK)
	det, err := zk.NewMasterDetector(zk.MasterDetectorConfig{Servers: servers, Path: path, Logger: cfg.Logger})
	if err != nil {
		return "", fmt.Errorf("resolve marathon: %w", err)
	}
	defer det.Close()
	info, err := det.LeaderInfo(ctx)
	if err != nil {
		return "", fmt.Errorf("resolve marathon: %w", err)
	}
	master := "http://" + info.Endpoint()
	url, err := marathonFromMaster(ctx, cfg.HTTP, master, cfg.FrameworkName)
	if err == nil {
		return url, nil
	}
	host, _, splitErr := net.SplitHostPort(info.Endpoint())
	if splitErr != nil {
		return "", fmt.Errorf("resolve marathon: master %s: %w", info.Endpoint(), splitErr)
	}
	guess := "http://" + net.JoinHostPort(host, DefaultMarathonPort)
	cfg.Logger.Warn("no marathon framework in the master's state; trying the leader's host",
		"master", master, "framework", cfg.FrameworkName, "url", guess, "error", err)
	return guess, nil
}

// marathonFromMaster reads master/state of the master at base and finds
// the framework's web UI URL.
func marathonFromMaster(ctx context.Context, hc *http.Client, base, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/master/state", nil)
	if err != nil {
		return "", err
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("read master state: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return "", fmt.Errorf("read master state: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("read master state: %s", res.Status)
	}
	return MarathonFromState(body, name)
}

// MarathonFromState returns the webui_url of the active framework called
// name in a Mesos /master/state document, without a trailing slash.
func MarathonFromState(state []byte, name string) (string, error) {
	var st struct {
		Frameworks []struct {
			Name   string `json:"name"`
			Active bool   `json:"active"`
			WebUI  string `json:"webui_url"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal(state, &st); err != nil {
		return "", fmt.Errorf("read master state: %w", err)
	}
	for _, f := range st.Frameworks {
		if f.Name == name && f.Active && f.WebUI != "" {
			return strings.TrimRight(f.WebUI, "/"), nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrNoFramework, name)
}
