package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// CompactStep removes, in one transaction, the history made obsolete by
// revisions (done, min(to, done+batch)], where done is the durable mark of the
// previous step.
func (s *Store) CompactStep(ctx context.Context, to, batch int64) (upto int64, err error) {
	// The step need not be durable before the next: a step lost to a crash
	// is redone from the durable mark.
	_, err = s.writeTx(ctx, func(tx *sql.Tx) error {
		t := &txn{s: s, tx: tx, write: true}
		var done int64
		if err := t.queryRow(ctx, s.q.lockCompactMark).Scan(&done); err != nil {
			return fmt.Errorf("sqlstore: compact mark: %w", err)
		}
		upto = done
		if done >= to {
			return nil
		}
		next := min(to, done+batch)
		// Rows superseded by a row in the window go first: the tombstones of
		// the window are still needed to find the rows they superseded.
		// Tombstones go for [done, next): the one at exactly the target
		// stays (see deleteTombstones).
		if _, err := t.exec(ctx, s.q.deleteSuperseded, done, next); err != nil {
			return fmt.Errorf("sqlstore: compact superseded: %w", err)
		}
		if _, err := t.exec(ctx, s.q.deleteTombstones, done, next); err != nil {
			return fmt.Errorf("sqlstore: compact tombstones: %w", err)
		}
		if err := t.setMeta(ctx, "compact_done", next); err != nil {
			return err
		}
		upto = next
		return nil
	})
	if err == nil && upto == to && s.hist != nil {
		// The log holds nothing below to that a read at to or above
		// needs: the index drops the same.
		s.hist.prune(to)
	}
	return upto, err
}
