package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestEnvFlagsUnknown(t *testing.T) {
	t.Setenv("TESTPFX_KNOWN", "1")
	t.Setenv("TESTPFX_TYPO", "1")
	t.Setenv("TESTPFX_SKIP_ME", "1")
	t.Setenv("OTHER_THING", "1")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f := newEnvFlags(fs, "TESTPFX_")
	var known string
	f.String(&known, "known", "", "a flag")
	got := f.Unknown(func(key string) bool { return strings.HasPrefix(key, "TESTPFX_SKIP_") })
	if !slices.Equal(got, []string{"TESTPFX_TYPO"}) {
		t.Fatalf("Unknown = %v, want [TESTPFX_TYPO]", got)
	}
}

func TestEnvFlagsSecretNeverShown(t *testing.T) {
	t.Setenv("TESTPFX_PASSWORD", "hunter2")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var help bytes.Buffer
	fs.SetOutput(&help)
	f := newEnvFlags(fs, "TESTPFX_")
	var secret string
	f.Secret(&secret, "password", "", "a secret")
	fs.PrintDefaults()
	if secret != "hunter2" || strings.Contains(help.String(), "hunter2") {
		t.Fatalf("secret %q; help:\n%s", secret, help.String())
	}
	if err := fs.Parse([]string{"--password", "other"}); err != nil || secret != "other" {
		t.Fatalf("--password: %q, %v", secret, err)
	}
}

// TestServeSecurityFlags checks the refusals of `stadion serve` that come
// before anything starts: each is a usage error that names the problem
// and never prints a credential.
func TestServeSecurityFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		contains []string
	}{
		{name: "unknown MARATHON_ variables listed", args: []string{"serve", "--master", "local"},
			env:      map[string]string{"MARATHON_HTTP_CREDENTAILS": "u:typo-secret", "MARATHON_NO_SUCH_FLAG": "1"},
			contains: []string{"unknown environment variables MARATHON_HTTP_CREDENTAILS, MARATHON_NO_SUCH_FLAG"}},
		{name: "task and client variables pass", args: []string{"serve", "--max_instances_per_app", "0"},
			env:      map[string]string{"MARATHON_APP_ID": "/serve", "MARATHON_APP_LABEL_X": "y", "MARATHON_URL": "http://m:8080", "MARATHON_CREDENTIALS": "a:b"},
			contains: []string{"--max_instances_per_app must be at least 1"}},
		{name: "keystore named with the conversion", args: []string{"serve", "--master", "local", "--ssl_keystore_path", "/etc/marathon.jks"},
			contains: []string{"/etc/marathon.jks", "keytool -importkeystore -srckeystore /etc/marathon.jks", "openssl pkcs12", "--ssl_cert_file"}},
		{name: "keystore from Marathon's environment", args: []string{"serve", "--master", "local"},
			env:      map[string]string{"MESOSPHERE_KEYSTORE_PATH": "/ks.jks"},
			contains: []string{"keytool -importkeystore -srckeystore /ks.jks"}},
		{name: "keystore password alone", args: []string{"serve", "--master", "local"},
			env:      map[string]string{"MARATHON_SSL_KEYSTORE_PASSWORD": "typo-secret"},
			contains: []string{"--ssl_keystore_password", "openssl pkcs12"}},
		{name: "cert without key", args: []string{"serve", "--master", "local", "--ssl_cert_file", "c.pem"},
			contains: []string{"--ssl_cert_file and --ssl_key_file go together"}},
		{name: "disable_http without TLS", args: []string{"serve", "--master", "local", "--disable_http"},
			contains: []string{"--disable_http needs --ssl_cert_file"}},
		{name: "credentials without colon", args: []string{"serve", "--master", "local"},
			env:      map[string]string{"MARATHON_HTTP_CREDENTIALS": "typo-secret"},
			contains: []string{"--http_credentials: want user:password"}},
		{name: "credentials with empty password", args: []string{"serve", "--master", "local", "--http_credentials", "typo-secret:"},
			contains: []string{"--http_credentials: want user:password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			code := run(context.Background(), tc.args, io.Discard, &out)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; output:\n%s", code, exitUsage, out.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
			if strings.Contains(out.String(), "typo-secret") {
				t.Errorf("output shows a credential:\n%s", out.String())
			}
		})
	}
}
