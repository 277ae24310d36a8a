// Package postgres is Strata's PostgreSQL backend: the sqlstore Dialect for
// PostgreSQL (github.com/jackc/pgx/v5 through its database/sql adapter), the
// opening of a database from a postgres:// DSN (created if missing), and the
// capabilities of a database shared by several Strata processes: LISTEN/NOTIFY
// to wake the watchers of the other processes (kv.Notifier) and advisory
// locks to elect the one process that runs a singleton job (kv.Locker).
//
// Transactions: writes run at READ COMMITTED and lock the revision row with
// their first statement, so every later statement of the transaction sees
// everything committed before it, and commit order is revision order.
// Snapshot reads run at REPEATABLE READ, READ ONLY.
//
// Keys are bytea (compared as bytes) and limited to MaxKeyBytes, under the
// 2704-byte limit of a btree index row.
package postgres
