package mvcc

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// metrics are the engine's counters and histograms, under etcd's names
// where the meaning is the same.
type metrics struct {
	ranges, puts, deletes, txns prometheus.Counter
	// commit is the time of the backend's COMMIT alone (etcd's
	// backend commit); batch is the operations in one group commit.
	commit prometheus.Histogram
	batch  prometheus.Histogram
	// sql is the time of each backend call, by kind: about one SQL
	// statement each.
	sql *prometheus.HistogramVec
	// timed is false when nothing is registered: calls are not wrapped.
	timed bool
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		ranges:  counter("etcd_mvcc_range_total", "Total number of ranges seen by this member."),
		puts:    counter("etcd_mvcc_put_total", "Total number of puts seen by this member."),
		deletes: counter("etcd_mvcc_delete_total", "Total number of deletes seen by this member."),
		txns:    counter("etcd_mvcc_txn_total", "Total number of txns seen by this member."),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "etcd_disk_backend_commit_duration_seconds",
			Help:    "The latency distributions of commit called by backend.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strata_mvcc_group_commit_operations",
			Help:    "Operations committed together in one backend transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		sql: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strata_sql_duration_seconds",
			Help:    "Time of each backend call, by kind: about one SQL statement (PostgreSQL queues the writes and sends them with the commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	m.timed = true
	for _, c := range []prometheus.Collector{m.ranges, m.puts, m.deletes, m.txns, m.commit, m.batch, m.sql} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("mvcc: register metrics: %w", err)
		}
	}
	return m, nil
}

// countOp counts a committed operation as etcd's metricsTxnWrite does: one
// per Put and DeleteRange call, and one txn for a Txn.
func (m *metrics) countOp(op *Op, resp any) {
	switch {
	case op.Put != nil:
		m.puts.Inc()
	case op.DeleteRange != nil:
		m.deletes.Inc()
	case op.Txn != nil:
		m.txns.Inc()
		if r, ok := resp.(*pb.TxnResponse); ok {
			m.countTxn(op.Txn, r.Succeeded)
		}
	}
}

func (m *metrics) countTxn(t *pb.TxnRequest, succeeded bool) {
	ops := t.Failure
	if succeeded {
		ops = t.Success
	}
	for _, u := range ops {
		switch {
		case u.GetRequestRange() != nil:
			m.ranges.Inc()
		case u.GetRequestPut() != nil:
			m.puts.Inc()
		case u.GetRequestDeleteRange() != nil:
			m.deletes.Inc()
		case u.GetRequestTxn() != nil:
			m.countTxn(u.GetRequestTxn(), true)
		}
	}
}

// readTxn wraps tx so that each call is timed, when metrics are on.
func (m *metrics) readTxn(tx kv.ReadTxn) kv.ReadTxn {
	if !m.timed {
		return tx
	}
	return &timedRead{tx: tx, m: m}
}

// writeTxn wraps tx so that each call is timed, when metrics are on.
func (m *metrics) writeTxn(tx kv.WriteTxn) kv.WriteTxn {
	if !m.timed {
		return tx
	}
	return &timedWrite{timedRead: timedRead{tx: tx, m: m}, w: tx}
}

func (m *metrics) since(kind string, start time.Time) {
	m.sql.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// timedRead times each call of a kv.ReadTxn by kind.
type timedRead struct {
	tx kv.ReadTxn
	m  *metrics
}

func (t *timedRead) Revisions(ctx context.Context) (int64, int64, error) {
	defer t.m.since("revisions", time.Now())
	return t.tx.Revisions(ctx)
}

func (t *timedRead) Range(ctx context.Context, r kv.Range, rev, limit int64, keysOnly bool) ([]*kv.KeyValue, error) {
	defer t.m.since("range", time.Now())
	return t.tx.Range(ctx, r, rev, limit, keysOnly)
}

func (t *timedRead) Count(ctx context.Context, r kv.Range, rev int64) (int64, error) {
	defer t.m.since("count", time.Now())
	return t.tx.Count(ctx, r, rev)
}

func (t *timedRead) Lease(ctx context.Context, id int64) (*kv.Lease, error) {
	defer t.m.since("lease", time.Now())
	return t.tx.Lease(ctx, id)
}

func (t *timedRead) Leases(ctx context.Context) ([]kv.Lease, error) {
	defer t.m.since("leases", time.Now())
	return t.tx.Leases(ctx)
}

func (t *timedRead) LeaseKeys(ctx context.Context, id int64) ([][]byte, error) {
	defer t.m.since("lease_keys", time.Now())
	return t.tx.LeaseKeys(ctx, id)
}

func (t *timedRead) Events(ctx context.Context, after, through int64, limit int, withPrev bool) ([]kv.Event, int64, error) {
	defer t.m.since("events", time.Now())
	return t.tx.Events(ctx, after, through, limit, withPrev)
}

// timedWrite times each call of a kv.WriteTxn by kind.
type timedWrite struct {
	timedRead
	w kv.WriteTxn
}

func (t *timedWrite) Append(ctx context.Context, rev int64, changes []kv.Change) error {
	defer t.m.since("append", time.Now())
	return t.w.Append(ctx, rev, changes)
}

func (t *timedWrite) SetRevision(ctx context.Context, rev int64) error {
	defer t.m.since("set_revision", time.Now())
	return t.w.SetRevision(ctx, rev)
}

func (t *timedWrite) SetCompacted(ctx context.Context, rev int64) error {
	defer t.m.since("set_compacted", time.Now())
	return t.w.SetCompacted(ctx, rev)
}

func (t *timedWrite) PutLease(ctx context.Context, l kv.Lease) error {
	defer t.m.since("put_lease", time.Now())
	return t.w.PutLease(ctx, l)
}

func (t *timedWrite) DeleteLease(ctx context.Context, id int64) error {
	defer t.m.since("delete_lease", time.Now())
	return t.w.DeleteLease(ctx, id)
}

func (t *timedWrite) Prefetch(ctx context.Context, keys [][]byte) error {
	defer t.m.since("prefetch", time.Now())
	return t.w.Prefetch(ctx, keys)
}

var (
	_ kv.ReadTxn  = (*timedRead)(nil)
	_ kv.WriteTxn = (*timedWrite)(nil)
)
