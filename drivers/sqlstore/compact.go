package sqlstore

import (
	"context"
	"fmt"
)

// CompactStep removes, in one transaction, the history made obsolete by
// revisions (done, min(to, done+batch)], where done is the durable mark of the
// previous step.
func (s *Store) CompactStep(ctx context.Context, to, batch int64) (int64, error) {
	tx, err := s.d.BeginWrite(ctx, s.wdb)
	if err != nil {
		return 0, s.d.Classify(err)
	}
	defer tx.Rollback()
	var done int64
	if err := tx.QueryRowContext(ctx, s.d.Rebind("SELECT value FROM strata_meta WHERE name = 'compact_done'"+s.d.ForUpdate())).Scan(&done); err != nil {
		return 0, fmt.Errorf("sqlstore: compact mark: %w", s.d.Classify(err))
	}
	if done >= to {
		return done, nil
	}
	upto := min(to, done+batch)
	// Rows superseded by a row in the window go first: the tombstones of the
	// window are still needed to find the rows they superseded. Tombstones
	// go for [done, upto): the one at exactly the target stays (see
	// deleteTombstones).
	if _, err := tx.ExecContext(ctx, s.q.deleteSuperseded, done, upto); err != nil {
		return 0, fmt.Errorf("sqlstore: compact superseded: %w", s.d.Classify(err))
	}
	if _, err := tx.ExecContext(ctx, s.q.deleteTombstones, done, upto); err != nil { // [done, upto)
		return 0, fmt.Errorf("sqlstore: compact tombstones: %w", s.d.Classify(err))
	}
	if _, err := tx.ExecContext(ctx, s.q.setMeta, upto, "compact_done"); err != nil {
		return 0, fmt.Errorf("sqlstore: compact mark: %w", s.d.Classify(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, s.d.Classify(err)
	}
	return upto, nil
}
