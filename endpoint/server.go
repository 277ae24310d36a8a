package endpoint

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/compactor"
	"github.com/strata-db/strata/pkg/lease"
	"github.com/strata-db/strata/pkg/member"
	"github.com/strata-db/strata/pkg/mvcc"
	"github.com/strata-db/strata/pkg/server"
	"github.com/strata-db/strata/watchpoll"
)

const (
	// grpcOverheadBytes is what etcd allows above --max-request-bytes for
	// gRPC framing, so that a request slightly too large gets etcd's own
	// "request is too large" rather than a transport error.
	grpcOverheadBytes = 512 * 1024
	// gracefulStopTimeout bounds how long Close waits for in-flight RPCs.
	gracefulStopTimeout = 10 * time.Second
	keepaliveMinTime    = 5 * time.Second
	// streamWorkers is how many goroutines run RPC handlers; an RPC that
	// finds them all busy gets a goroutine of its own, as without workers.
	streamWorkers = 256
	// streamWindowBytes lets a client send a request of etcd's default
	// --max-request-bytes (1.5 MiB) without waiting for a window update;
	// connWindowBytes is four of them in flight on one connection. gRPC's
	// estimation would grow them up to 16 MiB.
	streamWindowBytes = 2 << 20
	connWindowBytes   = 4 * streamWindowBytes
)

// Server is a running Strata server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	be    *backend
	store *mvcc.Store
	// leases is the lessor; it expires leases when it holds the expirer lock.
	leases *lease.Lessor
	// auth is etcd's auth store as this process sees it.
	auth *auth.Store
	grpc *grpc.Server
	lis  net.Listener

	// watch is the watch poller and fan-out.
	watch *watchpoll.Hub
	// compactor is the automatic compaction; nil when off.
	compactor *compactor.Compactor
	// http serves metrics and health on httpLis; nil when off.
	http    *http.Server
	httpLis net.Listener
	tls     bool

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New opens the datastore, starts the engine and serves gRPC on the listen
// address. Close stops it.
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	tlsCfg, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	// reg stays a nil interface when metrics are off: nothing registers.
	var reg prometheus.Registerer
	var registry *prometheus.Registry
	if cfg.MetricsAddress != "" {
		registry = newRegistry()
		reg = registry
	}
	// undo closes, newest first, what was started when a later step fails.
	var undo []func() error
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	be, err := openBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.be = be
	undo = append(undo, be.Close)
	if s.auth, err = auth.New(ctx, auth.Config{Backend: be.Backend, Token: cfg.AuthToken, TokenTTL: cfg.AuthTokenTTL,
		BcryptCost: cfg.BcryptCost, PollInterval: cfg.PollInterval, Logger: cfg.Logger, Registerer: reg}); err != nil {
		return nil, err
	}
	undo = append(undo, s.auth.Close)
	if s.store, err = mvcc.New(ctx, mvcc.Config{Backend: be.Backend, Auth: s.auth, Logger: cfg.Logger, Registerer: reg}); err != nil {
		return nil, err
	}
	undo = append(undo, s.store.Close)
	if s.leases, err = lease.New(ctx, lease.Config{Store: s.store, Backend: be.Backend, Logger: cfg.Logger, Registerer: reg}); err != nil {
		return nil, err
	}
	undo = append(undo, s.leases.Close)
	if s.watch, err = startWatch(ctx, cfg, be, s.store, reg); err != nil {
		return nil, err
	}
	undo = append(undo, func() error { s.watch.Close(); return nil })
	if s.compactor, err = startCompactor(cfg, be, s.store, reg); err != nil {
		return nil, err
	}
	undo = append(undo, func() error { s.closeCompactor(); return nil })
	if s.lis, err = listen(cfg.ListenAddress); err != nil {
		return nil, err
	}
	undo = append(undo, s.lis.Close)
	s.tls = tlsCfg != nil
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes + grpcOverheadBytes),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(math.MaxUint32),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime}),
		// The proto codec, with a fast path for watch events.
		grpc.ForceServerCodecV2(server.Codec()),
		// Handlers run on reused goroutines: a goroutine per RPC grew its
		// stack on every call (6% of the server's CPU under Puts).
		grpc.NumStreamWorkers(streamWorkers),
		// Fixed flow-control windows, which turn off gRPC's bandwidth
		// estimation: with etcd's small requests it never reaches its
		// limit, so it sent a window update and a PING after nearly every
		// request, and read the client's PING ack.
		grpc.InitialWindowSize(streamWindowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
	}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	// The gRPC metrics: the grpc_server_* names and labels etcd exports.
	var grpcMetrics *rpcMetrics
	unary := []grpc.UnaryServerInterceptor{slowRequests(cfg.Logger, cfg.WarningApplyDuration)}
	if reg != nil {
		grpcMetrics = newRPCMetrics()
		unary = append([]grpc.UnaryServerInterceptor{grpcMetrics.unary}, unary...)
		opts = append(opts, grpc.ChainStreamInterceptor(grpcMetrics.stream))
	}
	opts = append(opts, grpc.ChainUnaryInterceptor(unary...))
	s.grpc = grpc.NewServer(opts...)
	self := &pb.Member{ID: idOf("member", be.identity, s.lis.Addr().String()), Name: "strata",
		ClientURLs: []string{clientURL(s.lis, s.tls)}}
	srv, err := server.New(server.Config{
		ClusterID:       idOf("cluster", be.identity),
		MemberID:        self.ID,
		Version:         cfg.EmulatedEtcdVersion,
		MaxRequestBytes: cfg.MaxRequestBytes,
		MaxTxnOps:       cfg.MaxTxnOps,
		MaxKeyBytes:     be.maxKey,
		Logger:          cfg.Logger,
		Registerer:      reg,

		QuotaBackendBytes: cfg.QuotaBackendBytes,
		ClientCertAuth:    cfg.ClientCertAuth || cfg.TrustedCAFile != "",
	}, server.Deps{Store: s.store, Size: be.size, Usage: be.usage, Leases: s.leases, Watch: watchHub{s.watch},
		Hasher: s.store, Defrag: asDefrag(be.size), Snapshot: asSnapshot(be.size), Auth: s.auth,
		Members: member.New(be.Backend, self)})
	if err != nil {
		return nil, err
	}
	srv.Register(s.grpc)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpc, hs)
	if grpcMetrics != nil {
		grpcMetrics.init(s.grpc)
		reg.MustRegister(grpcMetrics)
	}

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("grpc serve stopped", "err", err)
		}
	}()
	if registry != nil {
		// As kine, a metrics address that cannot be bound (taken by another
		// process) does not stop the server: it runs without /metrics and
		// /health, which the error says, and a health probe notices.
		if err := s.serveObserve(observeMux(registry, srv, cfg.EnablePprof)); err != nil {
			s.log.Error("serving without metrics and health endpoints", "err", err)
		}
	}
	s.warnExposed()
	s.log.Info("strata serving", "address", s.Addr(), "endpoint", redact(cfg.Endpoint), "tls", s.tls,
		"metrics", s.MetricsAddr(), "version", cfg.Version)
	return s, nil
}

// warnExposed warns about listeners reachable from other hosts without
// protection.
func (s *Server) warnExposed() {
	if !s.tls && exposed(s.cfg.ListenAddress) {
		s.log.Warn("serving the etcd API without TLS on a non-loopback address: anyone who reaches it can read and write everything; set --server-cert-file/--server-key-file (and --trusted-ca-file)",
			"address", s.Addr())
	}
	if s.cfg.EnablePprof && s.httpLis != nil && exposed(s.cfg.MetricsAddress) {
		s.log.Warn("pprof is served on a non-loopback metrics address", "address", s.MetricsAddr())
	}
}

// startCompactor starts automatic compaction, if it is on.
func startCompactor(cfg Config, be *backend, store *mvcc.Store, reg prometheus.Registerer) (*compactor.Compactor, error) {
	retention, err := cfg.autoCompaction()
	if err != nil || retention == 0 {
		return nil, err
	}
	return compactor.New(compactor.Config{Mode: cfg.AutoCompactionMode, Retention: retention,
		Store: store, Backend: be.Backend, Logger: cfg.Logger, Registerer: reg})
}

func (s *Server) closeCompactor() {
	if s.compactor != nil {
		s.compactor.Close()
	}
}

// Addr is the address the server listens on (host:port, or the socket path).
func (s *Server) Addr() string {
	if s.lis.Addr().Network() == "unix" {
		return "unix://" + s.lis.Addr().String()
	}
	return s.lis.Addr().String()
}

// Close stops accepting, finishes in-flight requests and writes, and closes
// the datastore. It returns the first error.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), gracefulStopTimeout)
			s.http.Shutdown(ctx)
			cancel()
		}
		s.closeCompactor()
		s.watch.Close() // ends the watch streams, which would hold GracefulStop
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(gracefulStopTimeout):
			s.grpc.Stop()
			<-done
		}
		s.wg.Wait()
		s.closeErr = errors.Join(s.leases.Close(), s.store.Close(), s.auth.Close(), s.be.Close())
	})
	return s.closeErr
}

func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("endpoint: remove stale socket: %w", err)
		}
		return net.Listen("unix", path)
	}
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "tcp://")
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("endpoint: listen: %w", err)
	}
	return l, nil
}

func clientURL(l net.Listener, tls bool) string {
	if l.Addr().Network() == "unix" {
		return "unix://" + l.Addr().String()
	}
	if tls {
		return "https://" + l.Addr().String()
	}
	return "http://" + l.Addr().String()
}

// idOf derives a stable non-zero 64-bit ID from the given names.
func idOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	id := h.Sum64() &^ (1 << 63)
	if id == 0 {
		id = 1
	}
	return id
}

// redact hides a password in a DSN for logs.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	cred, host, ok := strings.Cut(rest, "@")
	if !ok {
		return dsn
	}
	user, _, _ := strings.Cut(cred, ":")
	return scheme + "://" + user + ":***@" + host
}
