package mvcc

import (
	"context"
	"errors"
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// writeReq is one operation waiting for the writer.
type writeReq struct {
	ctx  context.Context
	op   *Op
	resp proto.Message
	err  error
	done chan struct{}
}

// Write submits op to the group-commit writer and waits until it is
// durably committed (or failed).
func (s *Store) Write(ctx context.Context, op *Op) (proto.Message, error) {
	req := &writeReq{ctx: ctx, op: op, done: make(chan struct{})}
	select {
	case s.writes <- req:
	case <-s.stop:
		return nil, kv.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-req.done:
		return req.resp, req.err
	case <-ctx.Done():
		// The operation may still commit, as a proposal in etcd may.
		return nil, ctx.Err()
	}
}

// writer gathers the operations that are waiting into one transaction.
// It is the only goroutine that writes the log. Committed batches go to the
// acker, which acknowledges them once durable, while the writer goes on
// with the next batch.
func (s *Store) writer() {
	defer s.wg.Done()
	defer close(s.acks)
	batch := make([]*writeReq, 0, s.cfg.MaxBatch)
	// synced is closed once the previous batch is durable and acknowledged.
	closed := make(chan struct{})
	close(closed)
	var synced <-chan struct{} = closed
	for {
		select {
		case req := <-s.writes:
			batch = append(batch[:0], req)
		case <-s.stop:
			s.drain()
			return
		}
	more:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break more
			}
		}
		synced = s.commitBatch(batch, synced)
	}
}

// drain fails every operation still queued after stop.
func (s *Store) drain() {
	for {
		select {
		case req := <-s.writes:
			s.commitBatch([]*writeReq{req}, nil)
		default:
			return
		}
	}
}

// committed is one backend commit of some operations of a batch, not yet
// acknowledged.
type committed struct {
	reqs    []*writeReq
	changed bool
	// wait returns once the commit is durable; finish then records it.
	wait   func() error
	finish func()
}

// ackBatch is a batch whose transactions are committed (or failed): the
// acker waits for each commit to be durable, then acknowledges every
// operation of the batch.
type ackBatch struct {
	reqs    []*writeReq
	commits []committed
	changed bool
	acked   chan struct{} // closed once every operation is acknowledged
}

// commitBatch applies the batch in one transaction and hands it to the
// acker; the returned channel is closed once it is acknowledged. Until
// synced (the previous batch's) is closed, the transaction stays open and
// takes in the operations that arrive: they would wait for the sync in
// flight anyway, and the next sync then covers them all. If the transaction
// fails as a whole, each operation is retried alone so that one operation's
// failure is not charged to the others.
func (s *Store) commitBatch(batch []*writeReq, synced <-chan struct{}) <-chan struct{} {
	live := make([]*writeReq, 0, len(batch))
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			close(req.done)
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return synced
	}
	c, live, err := s.applyAll(live, synced)
	a := &ackBatch{reqs: live, acked: make(chan struct{})}
	if err != nil && len(live) > 1 && !errors.Is(err, errCommitUnknown) {
		// The transaction failed before its commit and was rolled back:
		// retry each operation alone so one cannot fail the others. A
		// failed commit is not retried: it may have been applied.
		for _, req := range live {
			if c, _, err := s.applyAll([]*writeReq{req}, nil); err == nil {
				a.add(c)
			}
		}
	} else if err != nil {
		live[0].err = err
	} else {
		a.add(c)
	}
	s.acks <- a
	return a.acked
}

func (a *ackBatch) add(c *committed) {
	a.commits = append(a.commits, *c)
	a.changed = a.changed || c.changed
}

// acker acknowledges committed batches in commit order, each once its
// commits are durable, and then wakes the watch poller.
func (s *Store) acker() {
	defer s.wg.Done()
	for a := range s.acks {
		for _, c := range a.commits {
			if err := c.wait(); err != nil {
				// Committed, but not known to be on disk: the outcome is
				// unknown, as for a failed commit.
				for _, req := range c.reqs {
					req.resp, req.err = nil, fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
				}
				continue
			}
			c.finish()
		}
		if a.changed {
			select {
			case s.commits <- struct{}{}:
			default:
			}
		}
		for _, req := range a.reqs {
			close(req.done)
		}
		close(a.acked)
	}
}

// applyAll runs reqs in one backend transaction and commits it; on success
// each req holds its response or its own logical error, to be acknowledged
// once the returned commit is durable. While synced is open (nil: closed)
// the transaction takes in more queued operations, up to MaxBatch; all the
// operations it ran are returned.
func (s *Store) applyAll(reqs []*writeReq, synced <-chan struct{}) (*committed, []*writeReq, error) {
	var compactTo, compactPrev int64
	applied, changed := false, false
	wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	var fnDone time.Time
	wait, err := s.write(wctx, func(tx kv.WriteTxn) error {
		defer func() { fnDone = time.Now() }()
		tx = s.withAuth(s.metrics.writeTxn(tx))
		ops := make([]*Op, len(reqs))
		for i, req := range reqs {
			ops[i] = req.op
		}
		b, err := NewBatch(wctx, tx, ops)
		if err != nil {
			return err
		}
		apply := func(req *writeReq) error {
			var err error
			req.resp, req.err, err = b.Apply(req.op)
			return err
		}
		for _, req := range reqs {
			if err := apply(req); err != nil {
				return err
			}
		}
		for synced != nil && len(reqs) < s.cfg.MaxBatch {
			select {
			case req := <-s.writes:
				if err := req.ctx.Err(); err != nil {
					req.err = err
					close(req.done)
					continue
				}
				reqs = append(reqs, req)
				if err := apply(req); err != nil {
					return err
				}
				continue
			case <-synced:
			case <-s.stop:
			}
			break
		}
		changed, compactTo, compactPrev, err = b.Finish()
		if err != nil {
			return err
		}
		applied = true
		return nil
	})
	if err != nil && applied {
		// Everything was applied and the commit failed: whether it took
		// effect is unknown (a lost reply from a remote database).
		err = fmt.Errorf("%w: %v", errCommitUnknown, err)
	}
	if err != nil {
		for _, req := range reqs {
			req.resp, req.err = nil, fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
		}
		return nil, reqs, err
	}
	finish := func() {
		// The commit histogram covers COMMIT and the sync it waited for.
		s.metrics.commit.Observe(time.Since(fnDone).Seconds())
		s.metrics.batch.Observe(float64(len(reqs)))
		for _, req := range reqs {
			if req.err == nil {
				s.metrics.countOp(req.op, req.resp)
			}
		}
		if compactTo > 0 {
			s.noteCompaction(compactTo, compactPrev)
		}
	}
	return &committed{reqs: reqs, wait: wait, finish: finish, changed: changed}, reqs, nil
}

// write commits fn through the backend; wait returns once the commit is
// durable (at once for a backend whose commits are durable by themselves).
func (s *Store) write(ctx context.Context, fn func(kv.WriteTxn) error) (wait func() error, err error) {
	if aw, ok := s.be.(kv.AsyncWriter); ok {
		return aw.WriteAsync(ctx, fn)
	}
	if err := s.be.Write(ctx, fn); err != nil {
		return nil, err
	}
	return noWait, nil
}

func noWait() error { return nil }

// writeTimeout bounds one write transaction, so a database that stops
// answering (a network cut without a reset) fails the writes instead of
// stalling the writer.
const writeTimeout = 30 * time.Second

// errCommitUnknown marks a batch whose commit failed after every operation
// was applied: it may have committed, so it is never retried.
var errCommitUnknown = errors.New("mvcc: commit outcome unknown")

// isLogical reports whether err is an etcd-level refusal of the operation
// (detected before it wrote anything), as opposed to a storage failure.
func isLogical(err error) bool {
	for _, e := range []error{kv.ErrCompacted, kv.ErrFutureRev, kv.ErrKeyNotFound, kv.ErrLeaseNotFound, kv.ErrLeaseExists, errNoOp} {
		if errors.Is(err, e) {
			return true
		}
	}
	return auth.IsLogical(err)
}

// prefetchKeys lists the single keys whose latest value the operations
// read (a Put reads the key it replaces; a Txn its compared keys and the
// keys of its operations), so the backend can load them at once.
func prefetchKeys(ops []*Op) [][]byte {
	var keys [][]byte
	for _, op := range ops {
		switch {
		case op.Put != nil:
			keys = append(keys, op.Put.Key)
		case op.DeleteRange != nil && len(op.DeleteRange.RangeEnd) == 0:
			keys = append(keys, op.DeleteRange.Key)
		case op.Txn != nil:
			keys = txnKeys(keys, op.Txn)
		}
	}
	return keys
}

func txnKeys(keys [][]byte, t *pb.TxnRequest) [][]byte {
	for _, c := range t.Compare {
		if len(c.RangeEnd) == 0 {
			keys = append(keys, c.Key)
		}
	}
	for _, ops := range [][]*pb.RequestOp{t.Success, t.Failure} {
		for _, u := range ops {
			switch r := u.Request.(type) {
			case *pb.RequestOp_RequestRange:
				if len(r.RequestRange.RangeEnd) == 0 {
					keys = append(keys, r.RequestRange.Key)
				}
			case *pb.RequestOp_RequestPut:
				keys = append(keys, r.RequestPut.Key)
			case *pb.RequestOp_RequestDeleteRange:
				if len(r.RequestDeleteRange.RangeEnd) == 0 {
					keys = append(keys, r.RequestDeleteRange.Key)
				}
			case *pb.RequestOp_RequestTxn:
				keys = txnKeys(keys, r.RequestTxn)
			}
		}
	}
	return keys
}
