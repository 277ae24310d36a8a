package lease

import (
	"context"
	"errors"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

const (
	// revokeWait bounds how long a keepalive of an expired lease waits for
	// its revocation before answering that the lease is gone.
	revokeWait = 1 * time.Second
	// revokePoll is the period of that wait's checks.
	revokePoll = 20 * time.Millisecond
)

// renewReq is one renewal waiting for the renewer.
type renewReq struct {
	id   int64
	exp  kv.LeaseExpiry
	ok   bool
	err  error
	done chan struct{}
}

// Renew renews a lease and returns its TTL, as a keepalive does. A lease
// that does not exist or has expired gives kv.ErrLeaseNotFound; for an
// expired one it first waits (briefly) until the revocation has deleted its
// keys, as etcd does.
func (l *Lessor) Renew(ctx context.Context, id int64) (int64, error) {
	e, ok, err := l.renew(ctx, id)
	if err != nil {
		return -1, err
	}
	if !ok {
		l.waitRevoked(ctx, id)
		return 0, kv.ErrLeaseNotFound
	}
	l.metrics.renewed.Inc()
	return e.TTL, nil
}

// renew submits id to the renewer and waits for the write.
func (l *Lessor) renew(ctx context.Context, id int64) (kv.LeaseExpiry, bool, error) {
	req := &renewReq{id: id, done: make(chan struct{})}
	select {
	case l.renews <- req:
	case <-ctx.Done():
		return kv.LeaseExpiry{}, false, ctx.Err()
	case <-l.ctx.Done():
		return kv.LeaseExpiry{}, false, kv.ErrClosed
	}
	select {
	case <-req.done:
		return req.exp, req.ok, req.err
	case <-ctx.Done():
		return kv.LeaseExpiry{}, false, ctx.Err()
	case <-l.ctx.Done():
		return kv.LeaseExpiry{}, false, kv.ErrClosed
	}
}

// renewer writes the renewals that arrive together in one transaction
// (group commit): a keepalive is acknowledged only once its expiry is
// durable, so a process that takes over expiry sees it.
func (l *Lessor) renewer() {
	defer l.wg.Done()
	batch := make([]*renewReq, 0, l.cfg.MaxBatch)
	for {
		select {
		case req := <-l.renews:
			batch = append(batch[:0], req)
		case <-l.ctx.Done():
			return
		}
	more:
		for len(batch) < l.cfg.MaxBatch {
			select {
			case req := <-l.renews:
				batch = append(batch, req)
			default:
				break more
			}
		}
		l.renewBatch(batch)
	}
}

func (l *Lessor) renewBatch(batch []*renewReq) {
	ids := make([]int64, len(batch))
	for i, req := range batch {
		ids[i] = req.id
	}
	now, renewed, err := l.clock.RenewLeases(l.ctx, ids)
	if err == nil {
		l.observe(now, renewed)
	}
	got := make(map[int64]kv.LeaseExpiry, len(renewed))
	for _, e := range renewed {
		got[e.ID] = e
	}
	for _, req := range batch {
		req.exp, req.ok = got[req.id]
		req.err = err
		close(req.done)
	}
}

// waitRevoked waits until lease id no longer exists, at most revokeWait.
func (l *Lessor) waitRevoked(ctx context.Context, id int64) {
	signal(l.sweepNow)
	deadline := time.NewTimer(revokeWait)
	defer deadline.Stop()
	tick := time.NewTicker(revokePoll)
	defer tick.Stop()
	for {
		if _, _, _, err := l.store.Lease(ctx, id); errors.Is(err, kv.ErrLeaseNotFound) || err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		case <-l.ctx.Done():
			return
		}
	}
}
