// Package testserver starts the servers that Strata's tests talk to: a real
// etcd embedded in the test process (the oracle) and a Strata server on a
// chosen backend, each on a fresh data directory and a free loopback port.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/strata-db/strata/endpoint"
)

// Server is one running etcd-API server.
type Server struct {
	// Name is "etcd" or "strata-<backend>".
	Name string
	// Endpoint is host:port for clientv3.
	Endpoint string
	// Close stops the server; it is also registered with t.Cleanup.
	Close func()
}

// Client returns a clientv3 client for s, closed at the end of the test.
func (s *Server) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{s.Endpoint},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("%s: client: %v", s.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// StartEtcd runs a single-member etcd in this process on a temp directory.
func StartEtcd(t testing.TB) *Server {
	t.Helper()
	return StartEtcdWith(t, nil)
}

// StartEtcdWith is StartEtcd with configure, if set, changing the
// embed.Config before start (e.g. QuotaBackendBytes).
func StartEtcdWith(t testing.TB, configure func(*embed.Config)) *Server {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"/dev/null"}
	cu, _ := url.Parse("http://127.0.0.1:0")
	pu, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	if configure != nil {
		configure(cfg)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcd: start: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		t.Fatal("etcd: not ready after 30s")
	}
	s := &Server{Name: "etcd", Endpoint: e.Clients[0].Addr().String()}
	closed := false
	s.Close = func() {
		if !closed {
			closed = true
			e.Close()
		}
	}
	t.Cleanup(s.Close)
	return s
}

// Options tune a Strata test server.
type Options struct {
	// Backend is "sqlite" (default), "postgres" or "mysql". A backend that
	// is not enabled skips the test (see RequireBackend).
	Backend string
	// DSN, if set, is the datastore to use instead of a fresh one (to run
	// several servers on one database: see FreshDSN).
	DSN string
	// Configure, if set, may change the endpoint.Config before start.
	Configure func(*endpoint.Config)
}

// StartStrata runs a Strata server in this process on a fresh database.
func StartStrata(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Backend == "" {
		opts.Backend = "sqlite"
	}
	dsn := opts.DSN
	if dsn == "" {
		dsn = FreshDSN(t, opts.Backend)
	}
	cfg := endpoint.Config{
		ListenAddress: "127.0.0.1:0",
		Endpoint:      dsn,
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	srv, err := endpoint.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("strata-%s: start: %v", opts.Backend, err)
	}
	s := &Server{Name: "strata-" + opts.Backend, Endpoint: srv.Addr()}
	closed := false
	s.Close = func() {
		if !closed {
			closed = true
			if err := srv.Close(); err != nil {
				t.Errorf("strata: close: %v", err)
			}
		}
	}
	t.Cleanup(s.Close)
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

var _ io.Writer = testWriter{}
