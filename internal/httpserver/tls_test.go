package httpserver

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stadionhq/stadion/internal/httpserver/httpservertest"
)

func TestTLSConfigServesHTTPS(t *testing.T) {
	cert := httpservertest.NewCert(t)
	cfg, err := TLSConfig(cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, capped := Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "pong")
	}), ln, Limits{})
	srv.TLSConfig = cfg
	go srv.ServeTLS(capped, "", "")
	t.Cleanup(func() { srv.Close() })

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}
	res, err := client.Get("https://" + ln.Addr().String() + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "pong" || res.TLS == nil {
		t.Fatalf("GET = %d %q (tls %v), want 200 pong over TLS", res.StatusCode, b, res.TLS != nil)
	}

	// A client that does not trust the certificate is refused.
	if _, err := http.Get("https://" + ln.Addr().String() + "/ping"); err == nil {
		t.Fatal("a client without the certificate in its roots connected")
	}
	// Plain HTTP on the TLS port gets no answer of the API.
	if res, err := http.Get("http://" + ln.Addr().String() + "/ping"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}

func TestTLSConfigErrors(t *testing.T) {
	cert := httpservertest.NewCert(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cert, key string
	}{
		{name: "missing cert", cert: filepath.Join(t.TempDir(), "none.pem"), key: cert.KeyFile},
		{name: "missing key", cert: cert.CertFile, key: filepath.Join(t.TempDir(), "none.pem")},
		{name: "not pem", cert: garbage, key: cert.KeyFile},
		{name: "key for cert swapped", cert: cert.KeyFile, key: cert.CertFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := TLSConfig(tc.cert, tc.key); err == nil {
				t.Fatal("TLSConfig succeeded")
			}
		})
	}
}
