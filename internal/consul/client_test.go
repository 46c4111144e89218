package consul

import (
	"strings"
	"testing"
)

// consulEnv are the variables api.DefaultConfig reads; each case starts
// with all of them unset.
var consulEnv = []string{
	"CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_TOKEN_FILE", "CONSUL_HTTP_AUTH", "CONSUL_HTTP_SSL",
	"CONSUL_CACERT", "CONSUL_CAPATH", "CONSUL_CLIENT_CERT", "CONSUL_CLIENT_KEY", "CONSUL_TLS_SERVER_NAME", "CONSUL_HTTP_SSL_VERIFY",
}

func TestAPIConfig(t *testing.T) {
	type want struct {
		scheme, address, token, tokenFile, ca, cert, key, serverName string
		skipVerify                                                   bool
	}
	cases := []struct {
		name    string
		env     map[string]string
		cfg     Config
		want    want
		wantErr string
	}{
		{name: "defaults", want: want{scheme: "http", address: "localhost:8500"}},
		{
			name: "environment",
			env: map[string]string{
				"CONSUL_HTTP_ADDR": "consul:8501", "CONSUL_HTTP_SSL": "true", "CONSUL_HTTP_TOKEN_FILE": "/run/token",
				"CONSUL_CACERT": "/ca.pem", "CONSUL_CLIENT_CERT": "/c.pem", "CONSUL_CLIENT_KEY": "/k.pem",
				"CONSUL_TLS_SERVER_NAME": "consul.internal", "CONSUL_HTTP_SSL_VERIFY": "false",
			},
			want: want{scheme: "https", address: "consul:8501", tokenFile: "/run/token", ca: "/ca.pem", cert: "/c.pem", key: "/k.pem", serverName: "consul.internal", skipVerify: true},
		},
		{
			name: "flags over the environment",
			env:  map[string]string{"CONSUL_HTTP_ADDR": "consul:8500", "CONSUL_HTTP_TOKEN": "env-token", "CONSUL_CACERT": "/env-ca.pem"},
			cfg:  Config{Address: "https://other:8501/", Token: "flag-token", CAFile: "/flag-ca.pem", ServerName: "other.internal"},
			want: want{scheme: "https", address: "other:8501", token: "flag-token", ca: "/flag-ca.pem", serverName: "other.internal"},
		},
		{name: "bad CONSUL_HTTP_SSL", env: map[string]string{"CONSUL_HTTP_SSL": "yes please"}, wantErr: "CONSUL_HTTP_SSL="},
		{name: "bad CONSUL_HTTP_SSL_VERIFY", env: map[string]string{"CONSUL_HTTP_SSL_VERIFY": "nope"}, wantErr: "CONSUL_HTTP_SSL_VERIFY="},
		{name: "certificate without key", cfg: Config{CertFile: "/c.pem"}, wantErr: "needs its key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range consulEnv {
				t.Setenv(k, tc.env[k])
			}
			c, err := APIConfig(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				scheme: c.Scheme, address: c.Address, token: c.Token, tokenFile: c.TokenFile,
				ca: c.TLSConfig.CAFile, cert: c.TLSConfig.CertFile, key: c.TLSConfig.KeyFile,
				serverName: c.TLSConfig.Address, skipVerify: c.TLSConfig.InsecureSkipVerify,
			}
			if got != tc.want {
				t.Errorf("config %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAddressNeverShowsSecrets(t *testing.T) {
	for _, k := range consulEnv {
		t.Setenv(k, "")
	}
	t.Setenv("CONSUL_HTTP_TOKEN", "tok-secret-1")
	got := Address(Config{Address: "https://u:pw-secret-2@consul:8501"})
	for _, secret := range []string{"tok-secret-1", "pw-secret-2"} {
		if strings.Contains(got, secret) {
			t.Errorf("Address = %q shows a secret", got)
		}
	}
	if got := Address(Config{Address: "consul:8500"}); got != "http://consul:8500" {
		t.Errorf("Address = %q, want http://consul:8500", got)
	}
}
