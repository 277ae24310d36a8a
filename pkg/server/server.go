package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// Store is what the services need from the engine.
type Store interface {
	Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error)
	Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error)
	DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error)
	Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error)
	Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error)
	CurrentRevision(ctx context.Context) (current, compacted int64, err error)
	Operator
	// Lease reads a lease and the keys attached to it (for the permission
	// checks of the Lease service).
	Lease(ctx context.Context, id int64) (l *kv.Lease, keys [][]byte, rev int64, err error)
}

// Operator runs one logical operation through the engine's writer: the
// auth operations, which have no request method of their own.
type Operator interface {
	Write(ctx context.Context, op *pb.InternalRaftRequest) (proto.Message, error)
}

// Sizer is the optional backend capability that reports its size on disk.
type Sizer interface {
	Size(ctx context.Context) (total, inUse int64, err error)
}

// Config is the identity and limits of one server.
type Config struct {
	ClusterID uint64
	MemberID  uint64
	// Version is the etcd version Status reports.
	Version         string
	MaxRequestBytes int
	MaxTxnOps       int
	// MaxKeyBytes is the longest key the datastore stores (0: no limit).
	MaxKeyBytes int
	// QuotaBackendBytes is the usage (Deps.Usage: the keys and values of
	// every revision kept, plus etcd's per-write overheads) past which
	// writes are refused with "database space exceeded" and the NOSPACE
	// alarm is raised. 0 (or negative) enforces none; Status then reports
	// etcd's default quota.
	QuotaBackendBytes int64
	// ClientCertAuth makes the common name of a verified client certificate
	// the user of a request that carries no token (etcd's
	// --client-cert-auth).
	ClientCertAuth bool
	Logger         *slog.Logger
	// Registerer receives the server's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// raftTerm is the term a freshly started single-member etcd reports.
const raftTerm = 2

// Deps are the parts the services consume.
type Deps struct {
	Store Store
	// Size is optional; Status and the metrics report it.
	Size Sizer
	// Usage is optional; the quota is held against it, and without it no
	// quota is enforced.
	Usage UsageMeter
	// Watch is the watch hub; nil leaves the Watch service unimplemented.
	Watch WatchHub
	// Leases is the lessor; nil leaves the Lease service unimplemented.
	Leases Lessor
	// Hasher, Defrag and Snapshot serve the maintenance RPCs of the same
	// names; each is optional.
	Hasher   Hasher
	Defrag   Defragmenter
	Snapshot Snapshotter
	// Auth is the process's auth store (required).
	Auth *auth.Store
	// Members is the cluster membership (required).
	Members Membership
}

// Server holds the services.
type Server struct {
	cfg     Config
	store   Store
	size    Sizer
	watch   WatchHub
	leases  Lessor
	hasher  Hasher
	defrag  Defragmenter
	snap    Snapshotter
	auth    *auth.Store
	members Membership
	ops     Operator
	log     *slog.Logger
	// alarms are the raised alarms; quota admits writes by usage.
	alarms  *alarms
	quota   *quota
	metrics *metrics
}

// New returns the services over deps.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Store == nil || deps.Auth == nil || deps.Members == nil {
		return nil, errors.New("server: a store, an auth store and a membership are required")
	}
	s := &Server{cfg: cfg, store: deps.Store, size: deps.Size, watch: deps.Watch, leases: deps.Leases,
		hasher: deps.Hasher, defrag: deps.Defrag, snap: deps.Snapshot, auth: deps.Auth, members: deps.Members, ops: deps.Store, log: cfg.Logger,
		quota: &quota{limit: cfg.QuotaBackendBytes, meter: deps.Usage}}
	var err error
	if s.metrics, err = newMetrics(s, cfg.Registerer); err != nil {
		return nil, err
	}
	s.alarms = newAlarms(s.metrics.alarmChanged)
	s.quota.onMeasure = s.metrics.quotaMeasured
	return s, nil
}

// quotaReported is the quota Status and the metrics report: the one set,
// or etcd's default when none is enforced.
func (s *Server) quotaReported() int64 {
	if s.cfg.QuotaBackendBytes > 0 {
		return s.cfg.QuotaBackendBytes
	}
	return DefaultQuotaBytes
}

// Register adds etcd's services to g.
func (s *Server) Register(g *grpc.Server) {
	pb.RegisterKVServer(g, &kvService{s: s})
	pb.RegisterMaintenanceServer(g, authMaintenance{&maintenanceService{s: s}})
	pb.RegisterClusterServer(g, authCluster{&clusterService{s: s}})
	pb.RegisterAuthServer(g, &authService{s: s})
	s.registerWatch(g)
	s.registerLease(g)
}

// fill sets the identity fields of a response header, and its revision when
// the service left it zero.
func (s *Server) fill(ctx context.Context, h *pb.ResponseHeader) error {
	h.ClusterId = s.cfg.ClusterID
	h.MemberId = s.cfg.MemberID
	h.RaftTerm = raftTerm
	if h.Revision == 0 {
		rev, _, err := s.store.CurrentRevision(ctx)
		if err != nil {
			return toGRPC(err)
		}
		h.Revision = rev
	}
	return nil
}

// header returns a filled header at the current revision.
func (s *Server) header(ctx context.Context) (*pb.ResponseHeader, error) {
	h := &pb.ResponseHeader{}
	return h, s.fill(ctx, h)
}
