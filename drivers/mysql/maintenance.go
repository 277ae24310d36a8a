package mysql

import (
	"context"
	"fmt"
)

// Defragment rebuilds Strata's tables without the space of removed history
// (OPTIMIZE TABLE, which InnoDB runs as an online rebuild).
func (b *Backend) Defragment(ctx context.Context) error {
	rows, err := b.DB().QueryContext(ctx, "OPTIMIZE TABLE strata_log, strata_kv, strata_lease")
	if err != nil {
		return fmt.Errorf("mysql: optimize: %w", Dialect{}.Classify(err))
	}
	return rows.Close()
}
