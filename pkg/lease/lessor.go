package lease

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// maxIDAttempts bounds the retries of a server-chosen ID that is taken.
const maxIDAttempts = 8

// Lessor grants, renews, revokes and expires leases. Its methods are safe
// for concurrent use.
type Lessor struct {
	cfg    Config
	store  Store
	clock  kv.LeaseClock
	locker kv.Locker // nil: this is the only process
	log    *slog.Logger

	metrics *metrics

	renews   chan *renewReq
	wake     chan struct{} // the queue's head moved earlier (never blocks)
	sweepNow chan struct{} // a due lease waits for revocation (never blocks)

	ctx    context.Context // lifecycle: cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards the expirer state below. It is never held across a
	// database call.
	mu      sync.Mutex
	primary bool         // this process is the expirer
	queue   *expiryQueue // leases by expiry, while primary
	offset  int64        // database clock minus local clock, in ms
}

// New starts a lessor: it tries once, before returning, to become the
// expirer (a backend without kv.Locker always does), then keeps trying in
// the background. Close stops it.
func New(ctx context.Context, cfg Config) (*Lessor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Lessor{
		cfg: cfg, store: cfg.Store, log: cfg.Logger,
		clock:    cfg.Backend.(kv.LeaseClock),
		renews:   make(chan *renewReq, cfg.MaxBatch),
		wake:     make(chan struct{}, 1),
		sweepNow: make(chan struct{}, 1),
		queue:    newExpiryQueue(),
	}
	l.locker, _ = cfg.Backend.(kv.Locker)
	var err error
	if l.metrics, err = newMetrics(cfg.Registerer, l.queued); err != nil {
		return nil, err
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	t := l.elect(ctx)
	var promoted error
	if t != nil {
		if promoted = l.promote(ctx); promoted != nil {
			t.release()
			t = nil
		}
	}
	if promoted != nil && l.locker == nil {
		l.cancel()
		return nil, promoted
	}
	l.wg.Add(2)
	go l.renewer()
	go l.run(t)
	return l, nil
}

// Close stops the expirer (giving up its lock) and the renewer, and waits
// for them.
func (l *Lessor) Close() error {
	l.cancel()
	l.wg.Wait()
	return nil
}

// Grant creates a lease, as etcd: a TTL above MaxTTL is refused, one below
// the minimum raised to it, and an ID of 0 replaced by a fresh one.
func (l *Lessor) Grant(ctx context.Context, id, ttl int64) (*pb.LeaseGrantResponse, error) {
	if ttl > MaxTTL {
		return nil, kv.ErrLeaseTTLTooLarge
	}
	ttl = max(ttl, l.cfg.MinTTL)
	pick := id == 0
	for attempt := 1; ; attempt++ {
		if pick {
			id = newID()
		}
		resp, err := l.store.LeaseGrant(ctx, id, ttl)
		if pick && errors.Is(err, kv.ErrLeaseExists) && attempt < maxIDAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		l.metrics.granted.Inc()
		// Start the lease's clock. If this fails the lease stays unclocked
		// until the expirer's sweep clocks it: later, never earlier.
		if _, _, err := l.renew(ctx, id); err != nil {
			l.log.Warn("lease granted but its expiry not written yet", "lease", id, "err", err)
		}
		return resp, nil
	}
}

// newID returns a random positive lease ID, unique across processes with
// overwhelming probability (a collision is retried).
func newID() int64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		if id := int64(binary.BigEndian.Uint64(b[:]) &^ (1 << 63)); id != 0 {
			return id
		}
	}
}

// Revoke deletes a lease and its keys in one revision.
func (l *Lessor) Revoke(ctx context.Context, id int64) (*pb.LeaseRevokeResponse, error) {
	resp, err := l.store.LeaseRevoke(ctx, id)
	if err == nil {
		l.metrics.revoked.Inc()
		l.forget(id)
	}
	return resp, err
}

// queued is the length of the expiry queue, for the metrics.
func (l *Lessor) queued() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.queue.Len())
}

// TimeToLive reports a lease's granted and remaining TTL and, with keys, its
// keys in key order. It returns kv.ErrLeaseNotFound for an unknown lease.
// The header's revision is left 0 for the caller to fill, as etcd does.
func (l *Lessor) TimeToLive(ctx context.Context, id int64, keys bool) (*pb.LeaseTimeToLiveResponse, error) {
	ls, ks, _, err := l.store.Lease(ctx, id)
	if err != nil {
		return nil, err
	}
	now, exp, err := l.clock.LeaseExpiries(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(exp) == 0 {
		return nil, kv.ErrLeaseNotFound
	}
	resp := &pb.LeaseTimeToLiveResponse{Header: &pb.ResponseHeader{}, ID: id, TTL: remaining(exp[0], now), GrantedTTL: ls.TTL}
	if keys {
		resp.Keys = ks
	}
	return resp, nil
}

// remaining is etcd's int64(Remaining().Seconds()): truncated toward zero.
// An unclocked lease has its whole TTL left.
func remaining(e kv.LeaseExpiry, now int64) int64 {
	if e.ExpiresAt == 0 {
		return e.TTL
	}
	return int64((time.Duration(e.ExpiresAt-now) * time.Millisecond).Seconds())
}

// Leases lists every lease, soonest expiry first, as etcd does.
func (l *Lessor) Leases(ctx context.Context) (*pb.LeaseLeasesResponse, error) {
	_, all, err := l.clock.LeaseExpiries(ctx, nil)
	if err != nil {
		return nil, err
	}
	resp := &pb.LeaseLeasesResponse{Header: &pb.ResponseHeader{}, Leases: make([]*pb.LeaseStatus, len(all))}
	for i, e := range all {
		resp.Leases[i] = &pb.LeaseStatus{ID: e.ID}
	}
	return resp, nil
}

// observe records the database time now and, on the expirer, the expiries
// just read or written.
func (l *Lessor) observe(now int64, ls []kv.LeaseExpiry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Measured after the database answered, the offset errs low, which
	// makes the expirer wake late rather than early.
	l.offset = now - time.Now().UnixMilli()
	if !l.primary {
		return
	}
	head, had := l.queue.Next()
	for _, e := range ls {
		if e.ExpiresAt != 0 {
			l.queue.Set(e.ID, e.ExpiresAt)
		}
	}
	if next, _ := l.queue.Next(); !had || next < head {
		signal(l.wake)
	}
}

// forget drops a revoked lease from the expirer's queue.
func (l *Lessor) forget(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queue.Remove(id)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
