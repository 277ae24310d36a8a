package endpoint

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// testCA is a certificate authority made in the test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for 127.0.0.1 usable by servers and
// clients, and returns it as a tls.Certificate and as PEM files.
func (ca *testCA) issue(t *testing.T, name string) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writeFile(t, cf, certPEM)
	writeFile(t, kf, keyPEM)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, cf, kf
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTest runs a server on a fresh SQLite file with cfg's TLS and
// metrics settings, logging to t.
func startTest(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.Endpoint = "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// tryPut dials addr with tlsCfg (nil: plaintext) and puts a key.
func tryPut(addr string, tlsCfg *tls.Config) error {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{addr}, TLS: tlsCfg,
		DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.Put(ctx, "k", "v")
	return err
}

// TestMutualTLS: with a server certificate and a trusted CA, a client
// without TLS, and one whose certificate another CA signed, are refused;
// a client with a certificate of the trusted CA is served.
func TestMutualTLS(t *testing.T) {
	ca, other := newCA(t, "strata-ca"), newCA(t, "other-ca")
	_, certFile, keyFile := ca.issue(t, "server")
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	writeFile(t, caFile, ca.pem)
	s := startTest(t, Config{ServerCertFile: certFile, ServerKeyFile: keyFile, TrustedCAFile: caFile, ClientCertAuth: true})

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	good, _, _ := ca.issue(t, "client")
	bad, _, _ := other.issue(t, "intruder")
	cases := []struct {
		name   string
		tls    *tls.Config
		served bool
	}{
		{"plaintext client", nil, false},
		{"TLS without a client certificate", &tls.Config{RootCAs: roots}, false},
		{"client certificate of another CA", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{bad}}, false},
		{"client certificate of the trusted CA", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{good}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tryPut(s.Addr(), c.tls)
			if c.served && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.served && err == nil {
				t.Fatal("served")
			}
		})
	}
}

// TestServerTLSOnly: without a trusted CA, TLS clients need no
// certificate, and plaintext ones are still refused.
func TestServerTLSOnly(t *testing.T) {
	ca := newCA(t, "strata-ca")
	_, certFile, keyFile := ca.issue(t, "server")
	s := startTest(t, Config{ServerCertFile: certFile, ServerKeyFile: keyFile})
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	if err := tryPut(s.Addr(), &tls.Config{RootCAs: roots}); err != nil {
		t.Fatalf("TLS client refused: %v", err)
	}
	if err := tryPut(s.Addr(), nil); err == nil {
		t.Fatal("plaintext client served by a TLS server")
	}
}

func TestTLSConfigValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"cert without key":             {ServerCertFile: "a"},
		"trusted CA without TLS":       {TrustedCAFile: "ca"},
		"client-cert-auth without CA":  {ServerCertFile: "a", ServerKeyFile: "b", ClientCertAuth: true},
		"unknown auto compaction mode": {AutoCompactionMode: "hourly", AutoCompactionRetention: "1"},
		"revision mode with duration":  {AutoCompactionMode: "revision", AutoCompactionRetention: "1h"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := cfg.WithDefaults().Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestExposed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:2379": false, "localhost:2379": false, "[::1]:2379": false, "unix:///tmp/s": false,
		":2379": true, "0.0.0.0:2379": true, "10.0.0.5:2379": true, "http://192.168.1.1:2379": true,
	} {
		if got := exposed(addr); got != want {
			t.Errorf("exposed(%q) = %v, want %v", addr, got, want)
		}
	}
}
