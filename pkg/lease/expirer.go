package lease

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

const (
	// revokeRetry is how long the expirer waits before it tries again to
	// revoke a lease whose revocation failed.
	revokeRetry = 500 * time.Millisecond
	// revokeParallel is how many revocations the expirer has in flight, so
	// that the engine group-commits them.
	revokeParallel = 64
)

// term is one tenure as the expirer.
type term struct {
	lost    <-chan struct{} // closed if the lock is lost; nil: never
	release func()
}

// elect tries once to take the expirer lock; nil means another process
// holds it (or the attempt failed).
func (l *Lessor) elect(ctx context.Context) *term {
	if l.locker == nil {
		return &term{release: func() {}}
	}
	held, lost, release, err := l.locker.TryLock(ctx, LockName)
	if err != nil {
		l.log.Warn("lease expirer election failed", "err", err)
		return nil
	}
	if !held {
		return nil
	}
	if release == nil {
		release = func() {}
	}
	return &term{lost: lost, release: release}
}

// run is the election loop: it leads while it holds the lock, and tries
// to take it again every ElectionRetry while another process holds it.
func (l *Lessor) run(t *term) {
	defer l.wg.Done()
	retry := time.NewTimer(l.cfg.ElectionRetry)
	defer retry.Stop()
	for {
		if t != nil {
			l.lead(t)
			t.release()
			t = nil
		}
		retry.Reset(l.cfg.ElectionRetry)
		select {
		case <-l.ctx.Done():
			return
		case <-retry.C:
		}
		if t = l.elect(l.ctx); t != nil {
			if err := l.promote(l.ctx); err != nil {
				l.log.Warn("lease expirer takeover failed", "err", err)
				t.release()
				t = nil
			}
		}
	}
}

// promote makes this process the expirer: like a new etcd leader, it
// renews every lease (so none expires early because no process was
// expiring) and queues them all.
func (l *Lessor) promote(ctx context.Context) error {
	l.mu.Lock()
	l.primary = true
	l.queue.Reset()
	l.mu.Unlock()
	now, all, err := l.clock.RenewAllLeases(ctx)
	if err != nil {
		l.demote()
		return err
	}
	l.observe(now, all)
	l.metrics.expirer.Set(1)
	l.log.Info("became the lease expirer", "leases", len(all))
	return nil
}

func (l *Lessor) demote() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.primary = false
	l.queue.Reset()
	l.metrics.expirer.Set(0)
}

// lead expires leases until the lock is lost or the lessor closes.
func (l *Lessor) lead(t *term) {
	ctx, cancel := context.WithCancel(l.ctx)
	var watch sync.WaitGroup
	defer watch.Wait()
	defer cancel()
	defer l.demote()
	watch.Add(1)
	go func() {
		defer watch.Done()
		select {
		case <-t.lost:
			l.log.Warn("lost the lease expirer lock")
			cancel()
		case <-ctx.Done():
		}
	}()
	sweep := time.NewTicker(l.cfg.SweepInterval)
	defer sweep.Stop()
	timer := time.NewTimer(l.untilNext())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-l.sweepNow:
			l.sweep(ctx)
		case <-sweep.C:
			l.sweep(ctx)
		case <-timer.C:
			l.expireDue(ctx)
		}
		timer.Reset(l.untilNext())
	}
}

// untilNext is the local time until the queue's earliest expiry, at most
// the sweep interval.
func (l *Lessor) untilNext() time.Duration {
	l.mu.Lock()
	at, ok := l.queue.Next()
	off := l.offset
	l.mu.Unlock()
	if !ok {
		return l.cfg.SweepInterval
	}
	d := time.Duration(at-off-time.Now().UnixMilli()) * time.Millisecond
	return min(max(d, 0), l.cfg.SweepInterval)
}

// expireDue examines the queued leases whose expiry has passed by the local
// estimate of the database clock, and revokes those the database confirms.
func (l *Lessor) expireDue(ctx context.Context) {
	l.mu.Lock()
	ids := l.queue.PopDue(time.Now().UnixMilli()+l.offset, l.cfg.MaxBatch)
	l.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	now, ls, err := l.clock.LeaseExpiries(ctx, ids)
	if err != nil {
		l.log.Warn("reading lease expiries failed", "err", err)
		l.requeue(ids)
		return
	}
	l.settle(ctx, now, ls)
	if len(ids) == l.cfg.MaxBatch {
		signal(l.wake)
	}
}

// sweep revokes the due leases the database knows and the queue may not
// (granted or renewed by another process), and clocks unclocked ones.
func (l *Lessor) sweep(ctx context.Context) {
	now, due, err := l.clock.DueLeases(ctx, l.cfg.MaxBatch)
	if err != nil {
		l.log.Warn("reading due leases failed", "err", err)
		return
	}
	l.settle(ctx, now, due)
	if len(due) == l.cfg.MaxBatch {
		signal(l.sweepNow)
	}
}

// settle acts on leases read at database time now: it queues the live
// ones, clocks the unclocked ones and revokes the expired ones.
func (l *Lessor) settle(ctx context.Context, now int64, ls []kv.LeaseExpiry) {
	var live []kv.LeaseExpiry
	var unclocked, expired []int64
	for _, e := range ls {
		switch {
		case e.ExpiresAt == 0:
			unclocked = append(unclocked, e.ID)
		case e.ExpiresAt <= now:
			expired = append(expired, e.ID)
		default:
			live = append(live, e)
		}
	}
	l.observe(now, live)
	if len(unclocked) > 0 {
		if now, renewed, err := l.clock.RenewLeases(ctx, unclocked); err != nil {
			l.log.Warn("clocking leases failed", "err", err)
		} else {
			l.observe(now, renewed)
		}
	}
	l.revokeAll(ctx, expired)
}

// revokeAll revokes expired leases through the engine, several at a time.
func (l *Lessor) revokeAll(ctx context.Context, ids []int64) {
	sem := make(chan struct{}, revokeParallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			l.requeue(ids[i:])
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			l.revokeExpired(ctx, id)
		}()
	}
}

func (l *Lessor) revokeExpired(ctx context.Context, id int64) {
	_, err := l.store.LeaseRevoke(ctx, id)
	switch {
	case err == nil:
		l.log.Debug("lease expired", "lease", id)
		l.metrics.revoked.Inc()
		l.metrics.expired.Inc()
		l.forget(id)
	case errors.Is(err, kv.ErrLeaseNotFound):
		l.forget(id)
	default:
		if ctx.Err() == nil {
			l.log.Warn("revoking an expired lease failed", "lease", id, "err", err)
		}
		l.requeue([]int64{id})
	}
}

// requeue queues leases again to be examined after revokeRetry.
func (l *Lessor) requeue(ids []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.primary {
		return
	}
	at := time.Now().Add(revokeRetry).UnixMilli() + l.offset
	for _, id := range ids {
		l.queue.Set(id, at)
	}
}
