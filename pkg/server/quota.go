package server

import (
	"context"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Costs etcd charges against the quota (server/storage/quota.go).
const (
	leaseOverhead = 64
	kvOverhead    = 256
	// quotaRefresh is how old the measured database size may get before a
	// write measures it again. In between, the cost of each admitted write
	// is added to the last measure, so the estimate only errs high.
	quotaRefresh = 500 * time.Millisecond
)

// quota is etcd's backend quota: a write is admitted while the database
// size plus the write's cost stays below the limit.
type quota struct {
	limit int64 // 0: not enforced
	size  Sizer // nil: not enforced

	mu       sync.Mutex
	measured int64     // guarded by mu: last measured size
	at       time.Time // guarded by mu: when it was measured
	charged  int64     // guarded by mu: cost admitted since
}

// available reports whether a write of this cost fits. A failed measure
// admits the write: the quota guards the disk, it must not stop writes
// because the size could not be read.
func (q *quota) available(ctx context.Context, cost int) bool {
	if q.limit <= 0 || q.size == nil || cost == 0 {
		return true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if time.Since(q.at) > quotaRefresh {
		total, _, err := q.size.Size(ctx)
		if err != nil {
			return true
		}
		q.measured, q.at, q.charged = total, time.Now(), 0
	}
	if q.measured+q.charged+int64(cost) >= q.limit {
		return false
	}
	q.charged += int64(cost)
	return true
}

// forget drops the measure, so that the next write measures again (after
// a compaction or defragmentation).
func (q *quota) forget() {
	q.mu.Lock()
	q.at = time.Time{}
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
