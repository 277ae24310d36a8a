package mvcc

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// Defaults of Config.
const (
	DefaultMaxBatch     = 512
	DefaultCompactBatch = 1000
	compactRetryDelay   = 500 * time.Millisecond
	// ackDepth is how many committed batches may wait for their sync
	// while the writer applies the next.
	ackDepth = 16
)

// Config is one Store's settings.
type Config struct {
	Backend kv.Backend
	// MaxBatch is the most operations group-committed in one transaction.
	MaxBatch int
	// CompactBatch is how many revisions one compaction step covers.
	CompactBatch int64
	// Auth is the process's auth store: key writes from clients are
	// checked against it, and auth operations keep it current. Nil checks
	// nothing but the database (tests).
	Auth   *auth.Store
	Logger *slog.Logger
	// Registerer receives the engine's metrics; nil registers none (and
	// leaves backend calls untimed).
	Registerer prometheus.Registerer
}

// Store is the etcd engine over one backend.
type Store struct {
	be      kv.Backend
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	counts  countCache // counts of next pages of listings (counts.go)

	writes  chan *writeReq
	acks    chan *ackBatch // committed batches, from the writer to the acker
	commits chan struct{}  // signalled (never blocking) after each commit with changes
	compact chan struct{}  // wakes the compactor

	stop chan struct{}
	wg   sync.WaitGroup

	mu         sync.Mutex
	compactTo  int64         // guarded by mu: newest compact revision recorded
	toHash     [][2]int64    // guarded by mu: (previous, new) compact revisions whose hash is due
	hashes     []cachedHash  // guarded by mu: hashes taken at compaction, newest last
	compacted  int64         // guarded by mu: history removed through here
	compactedC chan struct{} // guarded by mu: closed and replaced on progress
}

// New starts the writer and compactor of a store over cfg.Backend.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Backend == nil {
		return nil, errors.New("mvcc: a backend is required")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.CompactBatch <= 0 {
		cfg.CompactBatch = DefaultCompactBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		be: cfg.Backend, cfg: cfg, log: cfg.Logger,
		writes:     make(chan *writeReq, cfg.MaxBatch),
		acks:       make(chan *ackBatch, ackDepth),
		commits:    make(chan struct{}, 1),
		compact:    make(chan struct{}, 1),
		stop:       make(chan struct{}),
		compactedC: make(chan struct{}),
	}
	var err error
	if s.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	var compactRev int64
	err = s.be.Read(ctx, func(tx kv.ReadTxn) error {
		var err error
		_, compactRev, err = tx.Revisions(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.compactTo = compactRev
	s.wg.Add(3)
	go s.writer()
	go s.acker()
	go s.compactor()
	s.kickCompactor()
	return s, nil
}

// Close stops accepting writes, finishes the queued ones and joins the
// writer and compactor. It does not close the backend.
func (s *Store) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	s.wg.Wait()
	return nil
}

// Commits is signalled after every commit that created a revision. It has
// one reader: the watch poller.
func (s *Store) Commits() <-chan struct{} { return s.commits }

// Backend returns the store's backend, for readers such as the watch poller.
func (s *Store) Backend() kv.Backend { return s.be }

// CurrentRevision reads the current and compact revision.
func (s *Store) CurrentRevision(ctx context.Context) (current, compacted int64, err error) {
	err = s.be.Read(ctx, func(tx kv.ReadTxn) error {
		current, compacted, err = s.metrics.readTxn(tx).Revisions(ctx)
		return err
	})
	return current, compacted, err
}

// read runs fn in a read-only view of the latest state.
func (s *Store) read(ctx context.Context, fn func(*view) error) error {
	return s.be.Read(ctx, func(tx kv.ReadTxn) error {
		tx = s.metrics.readTxn(tx)
		cur, comp, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		return fn(&view{ctx: ctx, tx: tx, rev: cur, compacted: comp})
	})
}

// Range answers a RangeRequest from a snapshot.
func (s *Store) Range(ctx context.Context, r *pb.RangeRequest) (resp *pb.RangeResponse, err error) {
	s.metrics.ranges.Inc()
	if resp, ok, err := s.rangePoint(ctx, r); ok {
		return resp, err
	}
	err = s.read(ctx, func(v *view) error {
		v.counts = &s.counts
		resp, err = v.rangeOp(r)
		return err
	})
	return resp, err
}

// Put writes one key.
func (s *Store) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	resp, err := s.Write(ctx, opFor(ctx, &Op{Put: r}))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.PutResponse), nil
}

// DeleteRange deletes a key or range.
func (s *Store) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	resp, err := s.Write(ctx, opFor(ctx, &Op{DeleteRange: r}))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.DeleteRangeResponse), nil
}

// Txn runs a transaction; a read-only one runs on a snapshot, outside the
// writer.
func (s *Store) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if isTxnReadOnly(r) {
		var resp *pb.TxnResponse
		err := s.read(ctx, func(v *view) error {
			var err error
			resp, err = v.txnOp(r)
			return err
		})
		if err == nil {
			s.metrics.countOp(&Op{Txn: r}, resp)
		}
		return resp, err
	}
	resp, err := s.Write(ctx, opFor(ctx, &Op{Txn: r}))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.TxnResponse), nil
}

func isTxnReadOnly(r *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, u := range ops {
			if u.GetRequestRange() == nil {
				return false
			}
		}
	}
	return true
}

// Compact records a compact revision; with physical set it also waits until
// the history at or below it is removed.
func (s *Store) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := s.Write(ctx, &Op{Compaction: r})
	if err != nil {
		return nil, err
	}
	if r.Physical {
		if err := s.waitCompacted(ctx, r.Revision); err != nil {
			return nil, err
		}
	}
	return resp.(*pb.CompactionResponse), nil
}

// LeaseGrant creates a lease with the ID and TTL given (the ID chosen by
// the caller, so that the operation stays deterministic).
func (s *Store) LeaseGrant(ctx context.Context, id, ttl int64) (*pb.LeaseGrantResponse, error) {
	resp, err := s.Write(ctx, &Op{LeaseGrant: &pb.LeaseGrantRequest{ID: id, TTL: ttl}})
	if err != nil {
		return nil, err
	}
	return resp.(*pb.LeaseGrantResponse), nil
}

// LeaseRevoke deletes a lease and its keys.
func (s *Store) LeaseRevoke(ctx context.Context, id int64) (*pb.LeaseRevokeResponse, error) {
	resp, err := s.Write(ctx, opFor(ctx, &Op{LeaseRevoke: &pb.LeaseRevokeRequest{ID: id}}))
	if err != nil {
		return nil, err
	}
	return resp.(*pb.LeaseRevokeResponse), nil
}

// Lease reads a lease and its attached keys.
func (s *Store) Lease(ctx context.Context, id int64) (l *kv.Lease, keys [][]byte, rev int64, err error) {
	err = s.be.Read(ctx, func(tx kv.ReadTxn) error {
		if rev, _, err = tx.Revisions(ctx); err != nil {
			return err
		}
		if l, err = tx.Lease(ctx, id); err != nil {
			return err
		}
		keys, err = tx.LeaseKeys(ctx, id)
		return err
	})
	return l, keys, rev, err
}

// Leases lists every lease.
func (s *Store) Leases(ctx context.Context) (ls []kv.Lease, rev int64, err error) {
	err = s.be.Read(ctx, func(tx kv.ReadTxn) error {
		if rev, _, err = tx.Revisions(ctx); err != nil {
			return err
		}
		ls, err = tx.Leases(ctx)
		return err
	})
	return ls, rev, err
}
