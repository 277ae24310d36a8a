package endpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestClientCertAuthUser: with --client-cert-auth, a request without a
// token is the user its certificate's common name names, as in etcd: a
// certificate for root may do anything, one for an unknown user nothing.
func TestClientCertAuthUser(t *testing.T) {
	ca := newCA(t, "strata-ca")
	_, certFile, keyFile := ca.issue(t, "server")
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	writeFile(t, caFile, ca.pem)
	s := startTest(t, Config{ServerCertFile: certFile, ServerKeyFile: keyFile, TrustedCAFile: caFile, ClientCertAuth: true})
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	client := func(cn string) *clientv3.Client {
		cert, _, _ := ca.issue(t, cn)
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Addr()}, DialTimeout: time.Second, Logger: zap.NewNop(),
			TLS: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root, stranger := client("root"), client("stranger")
	if _, err := root.UserAdd(ctx, "root", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("root by certificate: %v", err)
	}
	if _, err := root.UserList(ctx); err != nil {
		t.Fatalf("root by certificate, an admin call: %v", err)
	}
	if _, err := stranger.Put(ctx, "k", "v"); err == nil || rpctypes.Error(err) != rpctypes.ErrPermissionDenied {
		t.Fatalf("unknown user by certificate: %v, want permission denied", err)
	}
}
