package httpserver

import (
	"crypto/tls"
	"fmt"
)

// TLSConfig returns the server TLS configuration of a PEM certificate
// chain and its PEM private key (Marathon's --ssl_keystore_path holds a
// Java keystore instead; see docs/security.md for the conversion). TLS
// 1.2 is the least version offered. Serve with srv.TLSConfig set and
// srv.ServeTLS(capped, "", "").
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load tls certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
