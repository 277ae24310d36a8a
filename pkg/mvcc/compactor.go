package mvcc

import (
	"context"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

// noteCompaction records that history at or below rev may be removed; prev
// is the compact revision before it.
func (s *Store) noteCompaction(rev, prev int64) {
	s.mu.Lock()
	if rev > s.compactTo {
		s.compactTo = rev
		s.toHash = append(s.toHash, [2]int64{prev, rev})
	}
	s.mu.Unlock()
	s.kickCompactor()
}

// hashPending takes the hashes of new compact revisions before any history
// below them is removed. A failed hash is logged and skipped: HashKV at that
// revision then computes from what is left.
func (s *Store) hashPending(ctx context.Context) {
	s.mu.Lock()
	pending := s.toHash
	s.toHash = nil
	s.mu.Unlock()
	for _, p := range pending {
		if err := s.hashBeforeCompacting(ctx, p[0], p[1]); err != nil {
			s.log.Warn("hash before compaction failed", "revision", p[1], "err", err)
		}
	}
}

func (s *Store) kickCompactor() {
	select {
	case s.compact <- struct{}{}:
	default:
	}
}

// compactor removes history in bounded steps, each its own transaction, so
// writers wait for one step at most.
func (s *Store) compactor() {
	defer s.wg.Done()
	c, ok := s.be.(kv.Compactor)
	if !ok {
		return
	}
	for {
		select {
		case <-s.stop:
			return
		case <-s.compact:
		}
		for {
			s.mu.Lock()
			to := s.compactTo
			s.mu.Unlock()
			if to <= 0 {
				break
			}
			s.hashPending(context.Background())
			done, err := c.CompactStep(context.Background(), to, s.cfg.CompactBatch)
			if err != nil {
				s.log.Warn("compaction step failed; will retry", "to", to, "err", err)
				select {
				case <-s.stop:
					return
				case <-time.After(compactRetryDelay):
				}
				continue
			}
			s.markCompacted(done)
			if done >= to {
				break
			}
			select {
			case <-s.stop:
				return
			default:
			}
		}
	}
}

func (s *Store) markCompacted(done int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if done > s.compacted {
		s.compacted = done
		close(s.compactedC)
		s.compactedC = make(chan struct{})
	}
}

// waitCompacted waits until history through rev is removed.
func (s *Store) waitCompacted(ctx context.Context, rev int64) error {
	for {
		s.mu.Lock()
		done, ch := s.compacted, s.compactedC
		s.mu.Unlock()
		if done >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stop:
			return kv.ErrClosed
		}
	}
}
