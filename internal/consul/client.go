package consul

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/clientauth"
)

// Config overrides what api.DefaultConfig reads from the environment; an
// empty field keeps the environment's value.
type Config struct {
	// Address is "host:port" or a URL ("https://host:8501"); empty is
	// CONSUL_HTTP_ADDR, else 127.0.0.1:8500.
	Address string
	// Token is the ACL token (over CONSUL_HTTP_TOKEN and
	// CONSUL_HTTP_TOKEN_FILE); it is never logged.
	Token string
	// CAFile, CertFile and KeyFile are PEM files for TLS (over
	// CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY); ServerName is
	// the name to verify in the server's certificate (over
	// CONSUL_TLS_SERVER_NAME).
	CAFile, CertFile, KeyFile, ServerName string
	// TLSSkipVerify accepts any server certificate, as
	// CONSUL_HTTP_SSL_VERIFY=false does.
	TLSSkipVerify bool
}

// boolEnv are the environment variables api.DefaultConfig reads as
// booleans; it only logs a bad value and ignores it.
var boolEnv = []string{api.HTTPSSLEnvName, api.HTTPSSLVerifyEnvName}

// APIConfig returns the api.Config for cfg: the environment's settings
// with cfg's over them. A bad boolean in CONSUL_HTTP_SSL or
// CONSUL_HTTP_SSL_VERIFY, or a client certificate without its key, is an
// error.
func APIConfig(cfg Config) (*api.Config, error) {
	var errs []error
	for _, name := range boolEnv {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: not a boolean", name, v))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("consul environment: %w", err)
	}
	c := api.DefaultConfig()
	if addr := cfg.Address; addr != "" {
		if scheme, rest, ok := strings.Cut(addr, "://"); ok {
			c.Scheme, addr = scheme, rest
		}
		c.Address = strings.TrimSuffix(addr, "/")
	}
	if cfg.Token != "" {
		c.Token = cfg.Token
	}
	if cfg.CAFile != "" {
		c.TLSConfig.CAFile = cfg.CAFile
	}
	if cfg.CertFile != "" {
		c.TLSConfig.CertFile = cfg.CertFile
	}
	if cfg.KeyFile != "" {
		c.TLSConfig.KeyFile = cfg.KeyFile
	}
	if cfg.ServerName != "" {
		c.TLSConfig.Address = cfg.ServerName
	}
	if cfg.TLSSkipVerify {
		c.TLSConfig.InsecureSkipVerify = true
	}
	if (c.TLSConfig.CertFile == "") != (c.TLSConfig.KeyFile == "") {
		return nil, errors.New("consul: a client certificate needs its key: give both CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY (or the flags)")
	}
	return c, nil
}

// NewClient returns a Consul API client for cfg.
func NewClient(cfg Config) (*api.Client, error) {
	c, err := APIConfig(cfg)
	if err != nil {
		return nil, err
	}
	client, err := api.NewClient(c)
	if err != nil {
		// api's errors name files (token file, certificates), never the
		// token itself.
		return nil, fmt.Errorf("create consul client: %w", err)
	}
	return client, nil
}

// HasToken reports whether a client of cfg sends an ACL token (from cfg,
// CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE).
func HasToken(cfg Config) bool {
	c, err := APIConfig(cfg)
	return err == nil && (c.Token != "" || c.TokenFile != "")
}

// Address is the URL the client of cfg uses, for logs: never with a
// password, and never the token.
func Address(cfg Config) string {
	c, err := APIConfig(cfg)
	if err != nil {
		return clientauth.Redact(cfg.Address)
	}
	addr := c.Address
	if !strings.Contains(addr, "://") {
		addr = c.Scheme + "://" + addr
	}
	return clientauth.Redact(addr)
}
