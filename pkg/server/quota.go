package server

import (
	"context"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/strata-db/strata/pkg/kv"
)

// Costs etcd charges against the quota (server/storage/quota.go). Strata
// also charges them for what is stored: kvOverhead per log row, leaseOverhead
// per lease.
const (
	leaseOverhead = 64
	kvOverhead    = 256
	// quotaRefresh is how old the measure may get before a write that does
	// not fit measures again. In between, the cost of each admitted write is
	// added to the last measure, so the estimate errs high, never low.
	quotaRefresh = 500 * time.Millisecond
	// quotaResync is how old the measure may get before a write that fits
	// measures again anyway: it brings in the writes of other servers
	// sharing the database, which this one does not charge.
	quotaResync = 10 * time.Second
	// quotaCostShare bounds the time spent measuring: a measure that took d
	// is not repeated for quotaCostShare*d, whatever the intervals above.
	quotaCostShare = 10
)

// UsageMeter is the optional backend capability the quota is held against:
// what the store holds for its users (see kv.Usage).
type UsageMeter interface {
	Usage(ctx context.Context) (kv.Usage, error)
}

// usageBytes is the usage as the quota counts it: the keys and values of
// every revision kept plus etcd's overheads, so that a write's cost and
// what it adds to the measure are the same.
func usageBytes(u kv.Usage) int64 {
	return u.Bytes + u.Rows*kvOverhead + u.Leases*leaseOverhead
}

// quota is etcd's backend quota: a write is admitted while the usage plus
// the write's cost stays below the limit. The usage is what users stored
// (history not yet compacted included), not the database's size on disk:
// that depends on the engine's pages, indexes and free space, and on
// PostgreSQL and MySQL does not shrink when history is compacted.
type quota struct {
	limit int64      // 0: not enforced
	meter UsageMeter // nil: not enforced

	mu        sync.Mutex
	known     bool          // guarded by mu: measured at least once
	measured  int64         // guarded by mu: last measure
	at        time.Time     // guarded by mu: when it was taken (zero: forgotten)
	took      time.Duration // guarded by mu: how long it took
	charged   int64         // guarded by mu: cost admitted since
	gen       int           // guarded by mu: bumped by forget
	measuring chan struct{} // guarded by mu: closed when the measure under way ends
	// onMeasure, if set, is called (under mu) with each new measure; it
	// feeds the metrics.
	onMeasure func(bytes int64)
}

// available reports whether a write of this cost fits. One write measures
// at a time, without holding mu: others go on with the last measure, or
// wait for the new one when the last does not admit them. A failed measure
// admits the write: the quota guards the store, it must not stop writes
// because the usage could not be read.
func (q *quota) available(ctx context.Context, cost int) bool {
	if q.limit <= 0 || q.meter == nil || cost == 0 {
		return true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		age := time.Since(q.at)
		fits := q.known && q.measured+q.charged+int64(cost) < q.limit
		switch {
		case fits && (age < q.every(quotaResync) || q.measuring != nil):
		case !fits && q.known && age < q.every(quotaRefresh):
			return false
		case q.measuring != nil:
			if !q.wait(ctx) {
				return true
			}
			continue
		default:
			if !q.measure(ctx) {
				return true
			}
			continue
		}
		q.charged += int64(cost)
		return true
	}
}

// every is interval, or longer when measuring is slow (quotaCostShare).
func (q *quota) every(interval time.Duration) time.Duration {
	return max(interval, quotaCostShare*q.took)
}

// wait waits, without mu, for the measure under way. It reports false if
// ctx ended first.
func (q *quota) wait(ctx context.Context) bool {
	done := q.measuring
	q.mu.Unlock()
	defer q.mu.Lock()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// measure takes a new measure, without mu, and reports whether it could.
// The cost admitted while it runs stays charged: those writes may be
// missing from it.
func (q *quota) measure(ctx context.Context) bool {
	done := make(chan struct{})
	q.measuring = done
	chargedBefore, gen := q.charged, q.gen
	q.mu.Unlock()
	start := time.Now()
	u, err := q.meter.Usage(ctx)
	took := time.Since(start)
	q.mu.Lock()
	q.measuring = nil
	close(done)
	if err != nil {
		return false
	}
	q.known, q.measured, q.took = true, usageBytes(u), took
	q.charged -= chargedBefore
	q.at = start
	if gen != q.gen { // forgotten meanwhile: the next write that does not fit measures again
		q.at = time.Time{}
	}
	if q.onMeasure != nil {
		q.onMeasure(q.measured)
	}
	return true
}

// forget drops the measure's age, so that the next write that does not fit
// measures again (after a compaction or defragmentation). The measure
// itself stays: it can only be too high.
func (q *quota) forget() {
	q.mu.Lock()
	q.at = time.Time{}
	q.gen++
	q.mu.Unlock()
}

func costPut(r *pb.PutRequest) int { return kvOverhead + len(r.Key) + len(r.Value) }

func costTxn(r *pb.TxnRequest) int {
	branch := func(ops []*pb.RequestOp) (n int) {
		for _, u := range ops {
			if p := u.GetRequestPut(); p != nil {
				n += costPut(p)
			} else if t := u.GetRequestTxn(); t != nil {
				n += costTxn(t)
			}
		}
		return n
	}
	return max(branch(r.Success), branch(r.Failure))
}

// checkQuota is etcd's quotaAlarmer.check: a write that does not fit is
// refused and raises the NOSPACE alarm.
func (s *Server) checkQuota(ctx context.Context, cost int) error {
	if s.quota.available(ctx, cost) {
		return nil
	}
	if !s.alarms.active(pb.AlarmType_NOSPACE) {
		s.log.Warn("write exceeded the backend quota; raising the NOSPACE alarm", "quota-size-bytes", s.quota.limit)
	}
	s.alarms.activate(s.cfg.MemberID, pb.AlarmType_NOSPACE)
	return rpctypes.ErrGRPCNoSpace
}

// checkCapped is etcd's capped applier: while NOSPACE is raised, writes
// that cost space are refused even when the quota has room again, until an
// operator clears the alarm.
func (s *Server) checkCapped(cost int) error {
	if cost > 0 && s.alarms.active(pb.AlarmType_NOSPACE) {
		return rpctypes.ErrGRPCNoSpace
	}
	return nil
}
