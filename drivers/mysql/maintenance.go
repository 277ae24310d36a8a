package mysql

import (
	"context"
	"fmt"

	"github.com/strata-db/strata/drivers/internal/usage"
	"github.com/strata-db/strata/pkg/kv"
)

// Usage measures what the database holds for its users; the quota is held
// against it.
func (b *Backend) Usage(ctx context.Context) (kv.Usage, error) { return usage.Measure(ctx, b.DB()) }

// Defragment rebuilds Strata's tables without the space of removed history
// (OPTIMIZE TABLE, which InnoDB runs as an online rebuild).
func (b *Backend) Defragment(ctx context.Context) error {
	rows, err := b.DB().QueryContext(ctx, "OPTIMIZE TABLE strata_log, strata_kv, strata_lease")
	if err != nil {
		return fmt.Errorf("mysql: optimize: %w", Dialect{}.Classify(err))
	}
	return rows.Close()
}
