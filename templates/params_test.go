package templates

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// certPlaceholder stands for the test certificate's path in the golden
// renders, which would otherwise hold a temporary directory.
const certPlaceholder = "/etc/stadion/tls.pem"

// TestRenderParams renders both templates with every env parameter set
// (the e2e's Docker bridge address, a remote Consul agent, a run directory,
// a TLS certificate) and the nginx worker_connections key, compares them
// with testdata/<file>.params.golden and validates them.
func TestRenderParams(t *testing.T) {
	consulTemplate := testenv.Binary(t, "consul-template")
	haproxy := testenv.Binary(t, "haproxy")
	nginx := testenv.Binary(t, "nginx")
	consul := testenv.StartConsul(t)
	for _, in := range catalog {
		register(t, consul.HTTPAddr, in)
	}
	putKV(t, consul.HTTPAddr, "service/haproxy/maxconn", "2048")
	putKV(t, consul.HTTPAddr, "service/nginx/worker_connections", "1024")
	cert := selfSigned(t, "web.test")

	out := t.TempDir()
	env := []string{
		"STADION_LB_ADDRESS=172.17.0.1",
		"STADION_LB_CONSUL=10.0.0.2:8500",
		"STADION_LB_RUN_DIR=/var/run/stadion-lb/",
		"STADION_LB_TLS_CERT=" + cert,
	}
	renders := renderEnv(t, consulTemplate, consul.HTTPAddr, out, env, "haproxy.cfg", "nginx.conf")

	tests := []struct {
		name     string
		file     string
		contains []string
		absent   []string
		check    func(t *testing.T, path string)
	}{
		{
			name: "haproxy",
			file: "haproxy.cfg",
			contains: []string{
				"stats socket /var/run/stadion-lb/admin.sock mode 660",
				"bind 172.17.0.1:3000\n", "bind 172.17.0.1:13000\n", "bind 172.17.0.1:18080\n", "bind 172.17.0.1:18500\n",
				"bind 172.17.0.1:80\n    bind 172.17.0.1:443 ssl crt " + certPlaceholder + "\n",
				"server local 10.0.0.2:8500 check",
				"http-request set-header X-Forwarded-Proto https if { ssl_fc }\n",
				"http-request set-header X-Forwarded-Proto http if !{ ssl_fc }\n",
			},
			absent: []string{"bind :", "127.0.0.1:8500", "/run/haproxy/", "error-invalid-env"},
			check:  func(t *testing.T, path string) { checkHAProxy(t, haproxy, path) },
		},
		{
			name: "nginx",
			file: "nginx.conf",
			contains: []string{
				"worker_connections 1024;",
				"listen 172.17.0.1:3000;", "listen 172.17.0.1:13000;", "listen 172.17.0.1:18080;", "listen 172.17.0.1:18500;",
				"listen 172.17.0.1:80 default_server;\n        listen 172.17.0.1:443 ssl default_server;\n        add_header Strict-Transport-Security",
				"listen 172.17.0.1:80;\n        listen 172.17.0.1:443 ssl;\n        server_name mesos-test.domain.com;",
				"ssl_certificate " + certPlaceholder + ";\n    ssl_certificate_key " + certPlaceholder + ";",
				"server 10.0.0.2:8500;",
				"proxy_set_header X-Forwarded-Proto $scheme;",
			},
			absent: []string{"listen 80", "listen 3000", "127.0.0.1:8500", "error_invalid_env"},
			check:  func(t *testing.T, path string) { checkNginx(t, nginx, path) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.ReplaceAll(renders[tc.file], cert, certPlaceholder)
			golden := filepath.Join("testdata", tc.file+".params.golden")
			checkRender(t, got, golden, tc.contains, tc.absent)
			// Validated with the real certificate path.
			tc.check(t, filepath.Join(out, tc.file))
		})
	}
}

// TestInvalidParams checks that a bad env parameter never reaches a
// configuration: the render names it on a line its validator rejects.
func TestInvalidParams(t *testing.T) {
	consulTemplate := testenv.Binary(t, "consul-template")
	haproxy := testenv.Binary(t, "haproxy")
	nginx := testenv.Binary(t, "nginx")
	consul := testenv.StartConsul(t)
	tests := []struct {
		name   string
		env    string
		file   string
		marker string
	}{
		{name: "haproxy address", env: "STADION_LB_ADDRESS=1.2.3.4:80\n    stats socket /tmp/evil.sock", file: "haproxy.cfg", marker: "error-invalid-env STADION_LB_ADDRESS"},
		{name: "haproxy consul", env: "STADION_LB_CONSUL=consul evil.sock:1", file: "haproxy.cfg", marker: "error-invalid-env STADION_LB_CONSUL"},
		{name: "haproxy run dir", env: "STADION_LB_RUN_DIR=relative/evil.sock", file: "haproxy.cfg", marker: "error-invalid-env STADION_LB_RUN_DIR"},
		{name: "haproxy cert", env: "STADION_LB_TLS_CERT=/a b/evil.sock", file: "haproxy.cfg", marker: "error-invalid-env STADION_LB_TLS_CERT"},
		{name: "nginx address", env: "STADION_LB_ADDRESS=localhost; include /tmp/evil.sock", file: "nginx.conf", marker: "error_invalid_env STADION_LB_ADDRESS;"},
		{name: "nginx consul", env: "STADION_LB_CONSUL=127.0.0.1:8500; evil.sock", file: "nginx.conf", marker: "error_invalid_env STADION_LB_CONSUL;"},
		{name: "nginx cert", env: "STADION_LB_TLS_CERT=cert.pem;evil.sock", file: "nginx.conf", marker: "error_invalid_env STADION_LB_TLS_CERT;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			got := renderEnv(t, consulTemplate, consul.HTTPAddr, dir, []string{tc.env}, tc.file)[tc.file]
			if !strings.Contains(got, "\n"+tc.marker) && !strings.Contains(got, "\n    "+tc.marker) {
				t.Errorf("render lacks %q:\n%s", tc.marker, got)
			}
			if strings.Contains(got, "evil.sock") {
				t.Errorf("the bad value reached the render")
			}
			path := filepath.Join(dir, tc.file)
			var args []string
			bin := haproxy
			if tc.file == "haproxy.cfg" {
				args = []string{"-c", "-f", path} // -q would hide the reason
			} else {
				bin = nginx
				prefix := t.TempDir()
				if err := os.Mkdir(filepath.Join(prefix, "logs"), 0o755); err != nil {
					t.Fatal(err)
				}
				args = []string{"-t", "-q", "-p", prefix + "/", "-c", path}
			}
			out, err := runOutput(bin, args...)
			if err == nil {
				t.Fatalf("%s accepted a render with an invalid parameter", bin)
			}
			name := strings.Fields(tc.marker)[1]
			if !strings.Contains(out, strings.Fields(tc.marker)[0]) {
				t.Errorf("%s rejects the render for another reason than %s:\n%s", bin, name, out)
			}
		})
	}
}

// selfSigned writes a self-signed ECDSA certificate for host and its key
// into one PEM file, as STADION_LB_TLS_CERT takes it, and returns its path.
func selfSigned(t *testing.T, host string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	path := filepath.Join(t.TempDir(), "tls.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
