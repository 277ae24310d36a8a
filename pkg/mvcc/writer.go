package mvcc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

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
// It is the only goroutine that writes the log.
func (s *Store) writer() {
	defer s.wg.Done()
	batch := make([]*writeReq, 0, s.cfg.MaxBatch)
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
		s.commitBatch(batch)
	}
}

// drain fails every operation still queued after stop.
func (s *Store) drain() {
	for {
		select {
		case req := <-s.writes:
			s.commitBatch([]*writeReq{req})
		default:
			return
		}
	}
}

// commitBatch applies the batch in one transaction. If the transaction
// fails as a whole, each operation is retried alone so that one operation's
// failure is not charged to the others.
func (s *Store) commitBatch(batch []*writeReq) {
	live := batch[:0:0]
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			close(req.done)
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return
	}
	changed, err := s.applyAll(live)
	if err != nil && len(live) > 1 && !errors.Is(err, errCommitUnknown) {
		// The transaction failed before its commit and was rolled back:
		// retry each operation alone so one cannot fail the others. A
		// failed commit is not retried: it may have been applied.
		for _, req := range live {
			c, _ := s.applyAll([]*writeReq{req})
			changed = changed || c
		}
	} else if err != nil {
		live[0].err = err
	}
	if changed {
		select {
		case s.commits <- struct{}{}:
		default:
		}
	}
	for _, req := range live {
		close(req.done)
	}
}

// applyAll runs reqs in one backend transaction; on success each req holds
// its response or its own logical error.
func (s *Store) applyAll(reqs []*writeReq) (changed bool, err error) {
	var compactTo, compactPrev int64
	applied := false
	wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	var fnDone time.Time
	err = s.be.Write(wctx, func(tx kv.WriteTxn) error {
		defer func() { fnDone = time.Now() }()
		tx = s.metrics.writeTxn(tx)
		ctx := wctx
		rev, compacted, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		start, startCompacted := rev, compacted
		for _, req := range reqs {
			req.resp, req.err = nil, nil
			resp, newRev, newCompacted, err := Apply(ctx, tx, rev, compacted, req.op)
			if err != nil {
				if !isLogical(err) {
					return err
				}
				req.err = err
				continue
			}
			req.resp, rev, compacted = resp, newRev, newCompacted
		}
		if rev != start {
			if err := tx.SetRevision(ctx, rev); err != nil {
				return err
			}
		}
		if compacted != startCompacted {
			compactTo, compactPrev = compacted, startCompacted
		}
		changed = rev != start
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
		return false, err
	}
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
	return changed, nil
}

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
	return false
}
