// Package usage measures what a Strata database holds for its users (the
// quota is held against it), with one statement for every dialect.
package usage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/strata-db/strata/pkg/kv"
)

// query counts the log rows and the bytes of their keys and values, and the
// leases, in one statement (one snapshot). LENGTH is in bytes for SQLite
// BLOB, PostgreSQL BYTEA and MySQL VARBINARY/LONGBLOB, and reads no value:
// SQLite and PostgreSQL take a blob's length from its header.
const query = `SELECT
	(SELECT COUNT(*) FROM strata_log),
	(SELECT COALESCE(SUM(LENGTH(name) + LENGTH(value)), 0) FROM strata_log),
	(SELECT COUNT(*) FROM strata_lease)`

// Measure returns the usage of the Strata database db.
func Measure(ctx context.Context, db *sql.DB) (kv.Usage, error) {
	var u kv.Usage
	if err := db.QueryRowContext(ctx, query).Scan(&u.Rows, &u.Bytes, &u.Leases); err != nil {
		return kv.Usage{}, fmt.Errorf("usage: %w", err)
	}
	return u, nil
}
