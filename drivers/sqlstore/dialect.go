package sqlstore

import (
	"context"
	"database/sql"

	"github.com/strata-db/strata/migrations"
)

// Dialect is what differs between SQL databases.
type Dialect interface {
	// Name is the backend's name in logs and errors.
	Name() string
	// Types fills the schema's templates.
	Types() migrations.Types
	// Rebind turns the canonical "?" placeholders into the dialect's.
	Rebind(query string) string
	// ForUpdate is appended to the SELECT of the revision row in a write
	// transaction to lock it (" FOR UPDATE"), or "" where the transaction
	// already holds the database's write lock (SQLite BEGIN IMMEDIATE).
	ForUpdate() string
	// UpsertKV is the clause that follows "INSERT INTO strata_kv (name,
	// value, create_revision, mod_revision, version, lease) VALUES (...), ..."
	// to replace the rows of keys that exist: every column, or every column
	// but lease when lease is false (the row is known to have that lease
	// already, and an index on lease is then left alone).
	UpsertKV(lease bool) string
	// DeleteSuperseded removes the live rows (deleted = 0) superseded by
	// rows whose revision lies in (?, ?]: the rows their prev_revision names.
	// Tombstones are never removed by it.
	DeleteSuperseded() string
	// Classify translates a driver error into the kv sentinels where it has
	// a meaning of its own (unavailable, conflict); others pass unchanged.
	Classify(err error) error
	// BeginRead starts a read-only snapshot transaction on db.
	BeginRead(ctx context.Context, db *sql.DB) (*sql.Tx, error)
	// BeginWrite starts a write transaction on db.
	BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error)
}

// UpsertExcluded is UpsertKV for the dialects that write ON CONFLICT ... DO
// UPDATE with the excluded row (SQLite, PostgreSQL).
func UpsertExcluded(lease bool) string {
	set := ` ON CONFLICT (name) DO UPDATE SET value = excluded.value, create_revision = excluded.create_revision,
		mod_revision = excluded.mod_revision, version = excluded.version`
	if lease {
		set += ", lease = excluded.lease"
	}
	return set
}
