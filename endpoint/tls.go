package endpoint

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
)

// serverTLS builds the TLS configuration for clients, or nil when TLS is
// off. With a trusted CA every client must present a certificate it signed.
func serverTLS(cfg Config) (*tls.Config, error) {
	if cfg.ServerCertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.ServerCertFile, cfg.ServerKeyFile)
	if err != nil {
		return nil, fmt.Errorf("endpoint: server certificate: %w", err)
	}
	t := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TrustedCAFile != "" {
		pem, err := os.ReadFile(cfg.TrustedCAFile)
		if err != nil {
			return nil, fmt.Errorf("endpoint: trusted CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("endpoint: trusted CA %s holds no PEM certificate", cfg.TrustedCAFile)
		}
		t.ClientCAs = pool
		t.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return t, nil
}

// exposed reports whether a listen address is reachable from other hosts:
// a TCP address whose host is not loopback (an empty host is every
// interface). Unix sockets are local.
func exposed(addr string) bool {
	if strings.HasPrefix(addr, "unix://") {
		return false
	}
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "tcp://")
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
