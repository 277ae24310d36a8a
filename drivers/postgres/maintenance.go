package postgres

import (
	"context"
	"fmt"

	"github.com/strata-db/strata/drivers/internal/usage"
	"github.com/strata-db/strata/pkg/kv"
)

// Usage measures what the database holds for its users; the quota is held
// against it.
func (b *Backend) Usage(ctx context.Context) (kv.Usage, error) { return usage.Measure(ctx, b.DB()) }

// Defragment gives the space of removed history back to the database:
// VACUUM of Strata's tables (run outside a transaction, as VACUUM must).
// Writes go on while it runs.
func (b *Backend) Defragment(ctx context.Context) error {
	if _, err := b.DB().ExecContext(ctx, "VACUUM strata_log, strata_kv, strata_lease"); err != nil {
		return fmt.Errorf("postgres: vacuum: %w", Dialect{}.Classify(err))
	}
	return nil
}
